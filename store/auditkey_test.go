package store

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
)

// testAuditKey is a fixed Ed25519 key (from a seed: deterministic without a custom
// random source).
func testAuditKey(seed byte) *AuditKey {
	return NewAuditKey(ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), ed25519.SeedSize))))
}

// rechain is what someone with write access to the store but not the key can do after
// an edit: recompute every hash from record from on, so that the plain chain is whole.
func rechain(t *testing.T, s *Store, from int64) {
	t.Helper()
	rows, err := s.db.Query(`SELECT seq, at, os_user, host, command, version, policy, run_scan, prev_hash FROM audit_runs ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var all []auditFields
	for rows.Next() {
		var f auditFields
		var cmd string
		if err := rows.Scan(&f.Seq, &f.At, &f.User, &f.Host, &cmd, &f.Version, &f.Policy, &f.ScanID, &f.PrevHash); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(cmd), &f.Command); err != nil {
			t.Fatal(err)
		}
		all = append(all, f)
	}
	rows.Close()
	prev := auditGenesis
	for _, f := range all {
		if f.Seq >= from {
			f.PrevHash = prev
			if _, err := s.db.Exec("UPDATE audit_runs SET prev_hash = ?, hash = ? WHERE seq = ?", prev, f.hash(), f.Seq); err != nil {
				t.Fatal(err)
			}
		}
		prev = f.hash()
	}
}

// TestAuditChainKeyed is the keyed chain against what someone who can write the store
// but does not hold the key can do: each tampering is named with the key, and the edits
// that rewrite the chain whole pass the plain check (which is why the key matters).
func TestAuditChainKeyed(t *testing.T) {
	ctx := context.Background()
	key, other := testAuditKey(0), testAuditKey(1)
	cases := []struct {
		name      string
		unsigned  int // the first records are written without the key (before it was set up)
		tamper    func(t *testing.T, s *Store)
		head      bool   // check against the head kept when the five records were written
		want      string // in a problem with the key; "" for intact
		plainPass bool   // the plain check (no key) finds nothing
	}{
		{name: "intact", want: "", plainPass: true},
		{name: "intact, the first two records older than the key", unsigned: 2, want: "", plainPass: true},
		{name: "edited and re-chained", tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "UPDATE audit_runs SET os_user = 'someone' WHERE seq = 3")
			rechain(t, s, 3)
		}, want: "record 3: its signature does not verify", plainPass: true},
		{name: "edited before the key, re-chained", unsigned: 2, tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "UPDATE audit_runs SET host = 'elsewhere' WHERE seq = 1")
			rechain(t, s, 1)
		}, want: "record 3: its signature does not verify", plainPass: true},
		{name: "deleted in the middle and re-chained", tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "DELETE FROM audit_runs WHERE seq = 3")
			execSQL(t, s, "UPDATE audit_runs SET seq = seq - 1 WHERE seq > 3")
			rechain(t, s, 3)
		}, want: "record 3: its signature does not verify", plainPass: true},
		{name: "re-chained with the signatures removed", tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "UPDATE audit_runs SET os_user = 'someone' WHERE seq = 4")
			execSQL(t, s, "UPDATE audit_runs SET sig = '', sig_key = '' WHERE seq >= 4")
			rechain(t, s, 4)
		}, want: "record 4: not signed, though record 1 before it is", plainPass: true},
		{name: "every signature removed", tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "UPDATE audit_runs SET sig = '', sig_key = ''")
		}, want: "no record is signed by the audit key", plainPass: true},
		{name: "truncated and re-chained with a run of its own", tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "DELETE FROM audit_runs WHERE seq >= 4")
			if _, err := s.RecordRun(ctx, testRun(9)); err != nil {
				t.Fatal(err)
			}
		}, want: "record 4: not signed, though record 1 before it is", plainPass: true},
		{name: "truncated and re-chained, signed by another key", tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "DELETE FROM audit_runs WHERE seq >= 4")
			r := testRun(9)
			r.Key = other
			if _, err := s.RecordRun(ctx, r); err != nil {
				t.Fatal(err)
			}
		}, want: "record 4: signed by another key (" + other.ID()[:16] + ")", plainPass: true},
		{name: "a signature moved to another record", tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "UPDATE audit_runs SET sig = (SELECT sig FROM audit_runs WHERE seq = 1) WHERE seq = 2")
		}, want: "record 2: its signature does not verify", plainPass: true},
		{name: "truncated: only the head kept elsewhere tells", tamper: func(t *testing.T, s *Store) {
			execSQL(t, s, "DELETE FROM audit_runs WHERE seq = 5")
		}, head: true, want: "is not on the chain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTemp(t)
			var head string
			for i := 1; i <= 5; i++ {
				r := testRun(i)
				if i > c.unsigned {
					r.Key = key
				}
				rec, err := s.RecordRun(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				if want := r.Key != nil; (rec.SignedBy == key.ID()) != want {
					t.Fatalf("record %d signed by %q, want signed %v", i, rec.SignedBy, want)
				}
				head = rec.Hash
			}
			if c.tamper != nil {
				c.tamper(t, s)
			}
			if !c.head {
				head = ""
			}
			plain, err := s.AuditTrail(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if c.plainPass && !plain.Check.Intact {
				t.Fatalf("the plain check should not tell (the chain was rewritten whole): %q", plain.Check.Problems)
			}
			if plain.Check.Key != "" || plain.Check.Signed != 0 {
				t.Fatalf("a check without the key reports signatures: %+v", plain.Check)
			}
			// The public half is all the check needs.
			trail, err := s.AuditTrailKeyed(ctx, head, key.Public())
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(trail.Check.Problems, "\n")
			if trail.Check.Key != key.ID() {
				t.Fatalf("checked against %q, want %q", trail.Check.Key, key.ID())
			}
			if c.want == "" {
				if !trail.Check.Intact || trail.Check.Signed != 5-c.unsigned {
					t.Fatalf("intact keyed chain judged %+v", trail.Check)
				}
				return
			}
			if trail.Check.Intact || !strings.Contains(got, c.want) {
				t.Fatalf("problems %q, want one with %q", got, c.want)
			}
		})
	}
}

// TestAuditKeyPublicCannotSign refuses to record a run with only the public key: a
// record that claims a signature it cannot carry would be worse than none.
func TestAuditKeyPublicCannotSign(t *testing.T) {
	s, _ := openTemp(t)
	r := testRun(1)
	r.Key = testAuditKey(0).Public()
	if _, err := s.RecordRun(context.Background(), r); err == nil || !strings.Contains(err.Error(), "needs the private key") {
		t.Fatalf("recording with a public key: %v", err)
	}
}

// TestParseAuditKey reads both halves of an Ed25519 key and refuses anything else with
// an error naming the file and never quoting it.
func TestParseAuditKey(t *testing.T) {
	k := testAuditKey(0)
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		t.Fatal(err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	for _, c := range []struct {
		name    string
		in      []byte
		canSign bool
		want    string // in the error; "" for a key
	}{
		{"private", privPEM, true, ""},
		{"public", pubPEM, false, ""},
		{"not PEM", []byte("hunter2hunter2"), false, "k.pem: not a PEM key"},
		{"certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), false, `a PEM "CERTIFICATE" block`},
		{"broken private", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("hunter2")}), false, "does not parse as PKCS #8"},
		{"broken public", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("hunter2")}), false, "PUBLIC KEY block that does not parse"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseAuditKey("k.pem", c.in)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %v, want one with %q and without the file's bytes", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID() != k.ID() || got.CanSign() != c.canSign || strings.Contains(got.String(), string(privPEM)) {
				t.Fatalf("key %v: id %s, can sign %v", got, got.ID(), got.CanSign())
			}
		})
	}
}

// FuzzParseAuditKey: a key file is read from disk as given; whatever it holds, parsing
// returns a key or an error, and a key it returns checks its own signatures.
func FuzzParseAuditKey(f *testing.F) {
	k := testAuditKey(0)
	der, _ := x509.MarshalPKCS8PrivateKey(k.priv)
	pubDER, _ := x509.MarshalPKIXPublicKey(k.pub)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := ParseAuditKey("fuzz.pem", b)
		if err != nil {
			return
		}
		if len(key.ID()) != 64 {
			t.Fatalf("id %q", key.ID())
		}
		if key.CanSign() {
			sig, err := key.sign("abc")
			if err != nil || !key.Public().verify("abc", sig) || key.verify("abd", sig) {
				t.Fatalf("a parsed private key does not sign and verify: %v", err)
			}
		}
	})
}

func execSQL(t *testing.T, s *Store, q string) {
	t.Helper()
	if _, err := s.db.Exec(q); err != nil {
		t.Fatal(q, err)
	}
}
