package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/medscan/medscan/internal/secretkey"
	"github.com/medscan/medscan/observe"
)

// wardPassword is the ward's MQTT password of issue 13's reproduction.
const wardPassword = "Bedside!Mqtt#4West2026"

// credentialSet is a set holding one MQTT password, hashed under key.
func credentialSet(key []byte) *observe.Set {
	preview, hash := observe.NewSecretHasher(key).Hide([]byte(wardPassword))
	set := observe.NewSet()
	set.AddCredential(observe.Credential{Flow: observe.Flow{Client: ap("10.20.0.31:40000"), Server: ap("10.20.0.50:1883")},
		FirstSeen: t0, Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT", User: "monitor", Preview: preview, Hash: hash})
	return set
}

// storedHash is the hash of the only credential of a scan, as loaded.
func storedHash(t *testing.T, s *Store, id int64) string {
	t.Helper()
	rep, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Credentials) != 1 {
		t.Fatalf("scan %d has %d credentials, want 1", id, len(rep.Credentials))
	}
	return rep.Credentials[0].Hash
}

// v3Store writes a store as medscan kept it before migration 0004: the key in
// meta.secret_key (none when key is nil) and one scan whose credential was hashed under
// oldKey. It returns the scan's id.
func v3Store(t *testing.T, path string, key, oldKey []byte) int64 {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, err := save(context.Background(), s, testInfo(), credentialSet(oldKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Undo 0004 and every migration after it (a table each adds is dropped).
	for _, q := range append(append([]string{}, undo0005...), "ALTER TABLE scans DROP COLUMN key_id",
		"DELETE FROM schema_migrations WHERE version >= 4", "PRAGMA user_version = 3") {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if key != nil {
		if _, err := s.db.Exec("INSERT INTO meta(key, value) VALUES ('secret_key', ?)", key); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// undo0011 takes a current store back to before 0011: the lint cache goes.
var undo0011 = []string{"DROP TABLE lint_cache"}

// undo0010 takes a current store back to before 0010 (undoing 0011 first): findings get
// their evidence column back, filled as an older medscan kept it (the newest scan's copy).
var undo0010 = append(slices.Clone(undo0011), "ALTER TABLE findings ADD COLUMN evidence TEXT NOT NULL DEFAULT '{}'",
	`UPDATE findings SET evidence = coalesce((SELECT sf.evidence FROM scan_findings sf
		WHERE sf.fingerprint = findings.fingerprint ORDER BY sf.scan_id DESC LIMIT 1), '{}')`)

// undo0009 takes a current store back to before 0009 (undoing 0010 first): findings lose host_order.
var undo0009 = append(slices.Clone(undo0010), "ALTER TABLE findings DROP COLUMN host_order")

// undo0008 takes a current store back to before 0008 (undoing 0009 first): audit records lose their
// signature columns.
var undo0008 = append(slices.Clone(undo0009), "ALTER TABLE audit_runs DROP COLUMN sig", "ALTER TABLE audit_runs DROP COLUMN sig_key")

// undo0007 takes a current store back to before 0007 (undoing 0008 first): the finding
// rows get their remediation and references back, rule_texts goes, and the two indexes
// come back.
var undo0007 = append(slices.Clone(undo0008),
	"ALTER TABLE findings ADD COLUMN remediation TEXT NOT NULL DEFAULT ''",
	"ALTER TABLE findings ADD COLUMN refs TEXT NOT NULL DEFAULT '[]'",
	"ALTER TABLE scan_findings ADD COLUMN remediation TEXT NOT NULL DEFAULT ''",
	"ALTER TABLE scan_findings ADD COLUMN refs TEXT NOT NULL DEFAULT '[]'",
	"UPDATE findings SET remediation = (SELECT remediation FROM rule_texts WHERE hash = text_hash), refs = (SELECT refs FROM rule_texts WHERE hash = text_hash)",
	"UPDATE scan_findings SET remediation = (SELECT remediation FROM rule_texts WHERE hash = text_hash), refs = (SELECT refs FROM rule_texts WHERE hash = text_hash)",
	"ALTER TABLE findings DROP COLUMN text_hash", "ALTER TABLE scan_findings DROP COLUMN text_hash", "DROP TABLE rule_texts",
	"CREATE INDEX findings_rule ON findings(rule, severity)", "CREATE INDEX findings_host ON findings(host, port)",
)

// undo0005 takes a current store back to before 0005, undoing 0007 and dropping 0006's audit table too (the asset
// tables keep their new shape, which 0005's rebuild reads as it reads the old one).
var undo0005 = slices.Clip(append(slices.Clone(undo0007), "DROP TABLE audit_runs", "DROP INDEX scans_uid", "DROP INDEX scans_site", "ALTER TABLE scans DROP COLUMN uid",
	"ALTER TABLE scans DROP COLUMN site", "ALTER TABLE cert_sightings DROP COLUMN site",
	"ALTER TABLE scan_findings DROP COLUMN site"))

// storeBytes is every file of the store (the database, its write-ahead log and index).
func storeBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// keyInBytes reports whether some 32 bytes of b, taken as a key, reproduce hash for the
// password: whether a copy of the store alone lets one test guesses of it.
func keyInBytes(b []byte, password, hash string) bool {
	for i := 0; i+secretkey.Size <= len(b); i++ {
		m := hmac.New(sha256.New, b[i:i+secretkey.Size])
		m.Write([]byte(password))
		if hex.EncodeToString(m.Sum(nil)[:16]) == hash {
			return true
		}
	}
	return false
}

func TestOpenKeyedSharesTheKeyFileAcrossStores(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "cfg", "medscan", "secret.key")
	hashIn := func(db, keyFile string) (string, *Store) {
		s, err := OpenKeyed(filepath.Join(dir, db), keyFile)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		id, err := save(context.Background(), s, testInfo(), credentialSet(s.SecretKey()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if kid, err := s.ScanKeyID(context.Background(), id); err != nil || kid != s.KeyID() || kid == "" {
			t.Fatalf("scan key id %q, %v; want the store's %q", kid, err, s.KeyID())
		}
		return storedHash(t, s, id), s
	}
	a, sa := hashIn("a.db", keyFile)
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: mode %v, %v; want 0600", keyFile, fi.Mode(), err)
	}
	b, sb := hashIn("b.db", keyFile)
	if a != b || sa.KeyID() != sb.KeyID() {
		t.Fatalf("one key file, two stores: hashes %s and %s differ", a, b)
	}
	c, sc := hashIn("c.db", filepath.Join(dir, "other.key"))
	if c == a || sc.KeyID() == sa.KeyID() {
		t.Fatalf("two key files gave the same hash %s", c)
	}
	for _, s := range []*Store{sa, sb, sc} {
		if n := count(t, s, "SELECT count(*) FROM meta WHERE key = 'secret_key'"); n != 0 {
			t.Fatalf("%s keeps a secret key", s.Path())
		}
	}
}

func TestOpenKeyedRefusesABadKeyFile(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "secret.key")
	if err := os.WriteFile(keyFile, bytes.Repeat([]byte{1}, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeyed(filepath.Join(dir, "m.db"), keyFile); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
}

// TestMigrationMovesTheKeyOut is issue 13's reproduction: with a copy of the store alone,
// the stored hash of the ward's MQTT password must not be checkable.
func TestMigrationMovesTheKeyOut(t *testing.T) {
	dir := t.TempDir()
	path, keyFile := filepath.Join(dir, "medscan.db"), filepath.Join(dir, "cfg", "secret.key")
	old := bytes.Repeat([]byte{0x5a}, 32)
	id := v3Store(t, path, old, old)
	_, hash := observe.NewSecretHasher(old).Hide([]byte(wardPassword))
	if !keyInBytes(storeBytes(t, path), wardPassword, hash) {
		t.Fatal("the old store's key is not found in its bytes: the test cannot fail")
	}
	s, err := OpenKeyed(path, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := secretkey.Read(keyFile); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("key file holds %x, %v; want the store's old key", got, err)
	}
	if n := count(t, s, "SELECT count(*) FROM meta WHERE key = 'secret_key'"); n != 0 {
		t.Fatal("the key is still in meta")
	}
	// The old hashes stay verifiable: made under the key the file now holds.
	if kid, err := s.ScanKeyID(context.Background(), id); err != nil || kid != s.KeyID() {
		t.Fatalf("old scan's key id %q, %v; want %q", kid, err, s.KeyID())
	}
	if got := storedHash(t, s, id); got != hash {
		t.Fatalf("stored hash %s, want %s", got, hash)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	all := storeBytes(t, path)
	if bytes.Contains(all, old) || keyInBytes(all, wardPassword, hash) {
		t.Fatal("with the store alone, the password's hash can still be checked: the key lingers in its bytes")
	}
}

// TestMigrationKeepsAnotherKeyFile: a site's key file already exists with another key
// (the store was made before the site shared one): the file's key stays, the store's is
// deleted, and the old hashes are marked as made under another key.
func TestMigrationKeepsAnotherKeyFile(t *testing.T) {
	dir := t.TempDir()
	path, keyFile := filepath.Join(dir, "medscan.db"), filepath.Join(dir, "secret.key")
	old, site := bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32)
	if err := secretkey.Create(keyFile, site); err != nil {
		t.Fatal(err)
	}
	id := v3Store(t, path, old, old)
	s, err := OpenKeyed(path, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := secretkey.Read(keyFile); !bytes.Equal(got, site) {
		t.Fatal("the site's key file was replaced")
	}
	if !bytes.Equal(s.SecretKey(), site) {
		t.Fatal("the store does not hash with the key file's key")
	}
	kid, err := s.ScanKeyID(context.Background(), id)
	if err != nil || kid != secretkey.Fingerprint(old) || kid == s.KeyID() {
		t.Fatalf("old scan's key id %q, %v; want the old key's %q, not the file's", kid, err, secretkey.Fingerprint(old))
	}
	_, oldHash := observe.NewSecretHasher(old).Hide([]byte(wardPassword))
	if storedHash(t, s, id) != oldHash {
		t.Fatal("the old hash was not kept")
	}
	newID, err := save(context.Background(), s, testInfo(), credentialSet(s.SecretKey()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if storedHash(t, s, newID) == oldHash {
		t.Fatal("the new scan hashed with the old key")
	}
	if kid, _ := s.ScanKeyID(context.Background(), newID); kid != s.KeyID() {
		t.Fatalf("new scan's key id %q, want %q", kid, s.KeyID())
	}
	if bytes.Contains(storeBytes(t, path), old) {
		t.Fatal("the old key lingers in the store's bytes")
	}
}

// TestMigrationOfAStoreWhoseKeyIsGone: no key in the store and no key file: a new key,
// the old hashes kept, marked as made under an unknown key.
func TestMigrationOfAStoreWhoseKeyIsGone(t *testing.T) {
	dir := t.TempDir()
	path, keyFile := filepath.Join(dir, "medscan.db"), filepath.Join(dir, "secret.key")
	lost := bytes.Repeat([]byte{0x33}, 32)
	id := v3Store(t, path, nil, lost)
	s, err := OpenKeyed(path, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key, err := secretkey.Read(keyFile)
	if err != nil || bytes.Equal(key, lost) || !bytes.Equal(key, s.SecretKey()) {
		t.Fatalf("key file: %v; want a new key, the one the store hashes with", err)
	}
	if kid, err := s.ScanKeyID(context.Background(), id); err != nil || kid != "" {
		t.Fatalf("old scan's key id %q, %v; want \"\" (unknown)", kid, err)
	}
	_, lostHash := observe.NewSecretHasher(lost).Hide([]byte(wardPassword))
	if storedHash(t, s, id) != lostHash {
		t.Fatal("the old hash was not kept")
	}
}

func TestScanKeyIDOfNoScan(t *testing.T) {
	s, _ := openTemp(t)
	if _, err := s.ScanKeyID(context.Background(), 42); err == nil {
		t.Fatal("ScanKeyID of a missing scan: no error")
	}
}
