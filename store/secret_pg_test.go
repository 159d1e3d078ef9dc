package store

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
)

// TestPostgresCredentialSecretNeverStored is TestCredentialSecretNeverStored for a
// PostgreSQL store, which has no file to read: every row of every table of the
// database, as PostgreSQL prints it (bytea as hex), is searched for the planted
// password, a piece of it and the key its hash was made under; the hash and the
// preview must be found, so that the search is known to look where rows are kept.
func TestPostgresCredentialSecretNeverStored(t *testing.T) {
	if !onPostgres() {
		t.Skip("the PostgreSQL counterpart of a file test")
	}
	ctx := context.Background()
	s, _ := openTemp(t)
	secret := "Pl4nted-Secret-Value-7781"
	preview, hash := observe.NewSecretHasher(s.SecretKey()).Hide([]byte(secret))
	set := observe.NewSet()
	set.AddCredential(observe.Credential{Flow: observe.Flow{Client: ap("10.1.1.1:1000"), Server: ap("10.1.1.2:1883")},
		FirstSeen: t0, Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT", User: "device", Preview: preview, Hash: hash})
	if _, err := save(ctx, s, testInfo(), set, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("found %d tables (%v): the search looks in the wrong schema", len(tables), tables)
	}
	var all strings.Builder
	for _, table := range tables {
		var text *string
		q := `SELECT string_agg(t::text, E'\n') FROM "` + table + `" t`
		if err := s.db.QueryRowContext(ctx, q).Scan(&text); err != nil {
			t.Fatal(q, err)
		}
		if text != nil {
			all.WriteString(*text)
		}
	}
	dump := all.String()
	key := s.SecretKey()
	for _, needle := range []string{secret, secret[2 : len(secret)-2], "Secret-Value", hex.EncodeToString([]byte(secret)),
		hex.EncodeToString([]byte("Secret-Value")), string(key), hex.EncodeToString(key)} {
		if strings.Contains(dump, needle) {
			t.Fatalf("a table of the PostgreSQL store holds %q", needle)
		}
	}
	for _, needle := range []string{hash, preview} {
		if !strings.Contains(dump, needle) {
			t.Fatalf("no table holds %q: the test looks in the wrong place", needle)
		}
	}
}
