package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medscan/medscan/internal/testproc"
)

// writeAuditKeys writes an Ed25519 key pair as openssl would (PKCS #8 and PKIX PEM) and
// returns the two files' paths.
func writeAuditKeys(t *testing.T, dir string, seed byte) (priv, pub string) {
	t.Helper()
	k := ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('k'+seed)), ed25519.SeedSize)))
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub")
	if seed != 0 {
		priv, pub = filepath.Join(dir, "other.key"), filepath.Join(dir, "other.pub")
	}
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// forgeRechain is what someone with write access to the store and medscan's source, but
// not the audit key, does after an edit: recompute every hash of the plain chain (the
// format is store/audit.go's auditFields), leaving the signatures as they were.
func forgeRechain(t *testing.T, db string) {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	type fields struct {
		Seq      int64    `json:"seq"`
		At       string   `json:"at"`
		User     string   `json:"user"`
		Host     string   `json:"host"`
		Command  []string `json:"command"`
		Version  string   `json:"version"`
		Policy   string   `json:"policy"`
		ScanID   int64    `json:"scan_id"`
		PrevHash string   `json:"prev_hash"`
	}
	rows, err := conn.Query(`SELECT seq, at, os_user, host, command, version, policy, run_scan FROM audit_runs ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var all []fields
	for rows.Next() {
		var f fields
		var cmd string
		if err := rows.Scan(&f.Seq, &f.At, &f.User, &f.Host, &cmd, &f.Version, &f.Policy, &f.ScanID); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(cmd), &f.Command); err != nil {
			t.Fatal(err)
		}
		all = append(all, f)
	}
	rows.Close()
	prev := strings.Repeat("0", 64)
	for _, f := range all {
		f.PrevHash = prev
		b, _ := json.Marshal(f)
		sum := sha256.Sum256(append([]byte("medscan-audit-v1\n"), b...))
		h := hex.EncodeToString(sum[:])
		if _, err := conn.Exec("UPDATE audit_runs SET prev_hash = ?, hash = ? WHERE seq = ?", prev, h, f.Seq); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
}

// TestAuditTrailKeyed is the keyed audit trail through the binary: runs given the
// private key (by flag or by MEDSCAN_AUDIT_KEY_FILE) sign their records, audit --verify
// with the public key passes on the store as written, and fails on what a plain check
// cannot see: an edit with the chain recomputed, and a chain cut and continued by a run
// without the key or with another key. The key appears nowhere in the store or output.
func TestAuditTrailKeyed(t *testing.T) {
	work := t.TempDir()
	db := filepath.Join(work, "m.db")
	priv, pub := writeAuditKeys(t, work, 0)
	otherPriv, _ := writeAuditKeys(t, work, 1)
	if res := medscan(t, work, nil, "scan", "-q", "--db", db, "--pcap", wardCapture(t), "--audit-key-file", priv,
		"-o", filepath.Join(work, "r.json")); res.code != 0 {
		t.Fatalf("scan: %d %s", res.code, res.stderr)
	}
	certs := filepath.Join(testproc.RepoRoot(t), "fixtures", "certs")
	if res := medscanEnv(t, work, []string{"MEDSCAN_DB=", "MEDSCAN_AUDIT_KEY_FILE=" + priv}, nil, "lint", "-q", "--db", db, certs,
		"-o", filepath.Join(work, "l.json")); res.code > 3 {
		t.Fatalf("lint: %d %s", res.code, res.stderr)
	}
	verify := func(key string, extra ...string) result {
		t.Helper()
		return medscan(t, work, nil, append([]string{"audit", "--db", db, "--verify", "--audit-key-file", key}, extra...)...)
	}
	res := verify(pub, "-f", "json")
	if res.code != 0 {
		t.Fatalf("audit --verify with the key, untouched store: %d %s %s", res.code, res.stdout, res.stderr)
	}
	var trail struct {
		Records []struct {
			SignedBy string `json:"signed_by"`
			Hash     string `json:"hash"`
		} `json:"records"`
		Check struct {
			Intact bool   `json:"intact"`
			Key    string `json:"key"`
			Signed int    `json:"signed"`
		} `json:"check"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &trail); err != nil {
		t.Fatal(err, res.stdout)
	}
	if len(trail.Records) != 2 || !trail.Check.Intact || trail.Check.Signed != 2 || trail.Check.Key == "" ||
		trail.Records[0].SignedBy != trail.Check.Key || trail.Records[1].SignedBy != trail.Check.Key {
		t.Fatalf("two signed runs: %s", res.stdout)
	}
	if res := verify(priv); res.code != 0 || !strings.Contains(res.stdout, "every one signed by the audit key "+trail.Check.Key[:12]) {
		t.Fatalf("the private key checks too: %d %s %s", res.code, res.stdout, res.stderr)
	}
	// The key is in no file of the store and in no output.
	keyPEM, _ := os.ReadFile(priv)
	block, _ := pem.Decode(keyPEM)
	seed := block.Bytes[len(block.Bytes)-ed25519.SeedSize:]
	for _, suffix := range []string{"", "-wal"} {
		if b, err := os.ReadFile(db + suffix); err == nil && strings.Contains(string(b), string(seed)) {
			t.Fatalf("the audit key's seed is in %s%s", db, suffix)
		}
	}

	copyDB := func(name string) string {
		t.Helper()
		dst := filepath.Join(work, name)
		conn, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Exec("VACUUM INTO ?", dst); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	tamper := func(db, q string) {
		t.Helper()
		conn, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		forge  func(db string)
		want   string
		plain0 bool // the plain check (no key) passes: the rewrite is invisible without the key
	}{
		{"edited and re-chained", func(db string) {
			tamper(db, "UPDATE audit_runs SET os_user = 'somebody-else' WHERE seq = 1")
			forgeRechain(t, db)
		}, "record 1: its signature does not verify", true},
		{"cut and continued by a run without the key", func(db string) {
			tamper(db, "DELETE FROM audit_runs WHERE seq = 2")
			if res := medscan(t, work, nil, "lint", "-q", "--db", db, certs, "-o", filepath.Join(work, "l2.json")); res.code > 3 {
				t.Fatalf("lint: %d %s", res.code, res.stderr)
			}
		}, "record 2: not signed, though record 1 before it is", true},
		{"cut and continued with another key", func(db string) {
			tamper(db, "DELETE FROM audit_runs WHERE seq = 2")
			if res := medscan(t, work, nil, "lint", "-q", "--db", db, "--audit-key-file", otherPriv, certs,
				"-o", filepath.Join(work, "l3.json")); res.code > 3 {
				t.Fatalf("lint: %d %s", res.code, res.stderr)
			}
		}, "record 2: signed by another key", true},
		{"every signature removed", func(db string) {
			tamper(db, "UPDATE audit_runs SET sig = '', sig_key = ''")
		}, "no record is signed by the audit key", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			forged := copyDB(strings.ReplaceAll(c.name, " ", "-") + ".db")
			c.forge(forged)
			if res := medscan(t, work, nil, "audit", "--db", forged, "--verify"); c.plain0 && res.code != 0 {
				t.Fatalf("the plain check should pass a chain rewritten whole: %d %s", res.code, res.stdout)
			}
			res := medscan(t, work, nil, "audit", "--db", forged, "--verify", "--audit-key-file", pub)
			if res.code != 1 || !strings.Contains(res.stdout, c.want) || !strings.Contains(res.stderr, "tampered with") {
				t.Fatalf("checked with the key: %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
		})
	}

	// Bad keys are refused before any work, naming the file; the public key cannot sign.
	notKey := filepath.Join(work, "notakey.pem")
	if err := os.WriteFile(notKey, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"scan", "--db", db, "--pcap", wardCapture(t), "--audit-key-file", pub}, 1, pub + ": a public key: signing this run's audit record needs the private key"},
		{[]string{"scan", "--db", db, "--pcap", wardCapture(t), "--audit-key-file", notKey}, 1, notKey + ": not a PEM key"},
		{[]string{"audit", "--db", db, "--verify", "--audit-key-file", filepath.Join(work, "absent.pub")}, 1, "absent.pub"},
		{[]string{"audit", "--db", db, "--audit-key-file", pub}, 2, "give --verify with it"},
	} {
		res := medscan(t, work, nil, c.args...)
		if res.code != c.code || !strings.Contains(res.stderr, c.want) || strings.Contains(res.stderr, "hunter2") {
			t.Errorf("%q: %d %s, want %d and %q", c.args, res.code, res.stderr, c.code, c.want)
		}
	}
	if res := verify(pub); res.code != 0 {
		t.Fatalf("the refused runs recorded something: %d %s", res.code, res.stdout)
	}
}
