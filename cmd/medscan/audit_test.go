package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/medscan/medscan/internal/testproc"
)

func TestRedactArgs(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"scan", "--pcap", "ward.pcapng"}, []string{"scan", "--pcap", "ward.pcapng"}},
		{[]string{"--db", "postgres://medscan:hunter2@db.example/medscan"}, []string{"--db", "postgres://medscan:REDACTED@db.example/medscan"}},
		{[]string{"--db=postgres://medscan:hunter2@db/m?sslmode=require"}, []string{"--db=postgres://medscan:REDACTED@db/m?sslmode=require"}},
		{[]string{"--db", "postgres://db/m?password=hunter2&sslmode=require"}, []string{"--db", "postgres://db/m?password=REDACTED&sslmode=require"}},
		{[]string{"--db", "host=db user=m password=hunter2 dbname=m"}, []string{"--db", "host=db user=m password=REDACTED dbname=m"}},
		{[]string{"--api-token", "abc123", "-q"}, []string{"--api-token", "REDACTED", "-q"}},
		{[]string{"--password=abc123"}, []string{"--password=REDACTED"}},
		{[]string{"--secret-key-file", "/etc/medscan/secret.key"}, []string{"--secret-key-file", "/etc/medscan/secret.key"}},
		{[]string{"--label", "ward 3"}, []string{"--label", "ward 3"}},
	} {
		if got := redactArgs(c.in); !slices.Equal(got, c.want) {
			t.Errorf("redactArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// auditJSON is medscan audit -f json.
type auditJSON struct {
	Records []struct {
		Seq     int64    `json:"seq"`
		User    string   `json:"user"`
		Host    string   `json:"host"`
		Command []string `json:"command"`
		Version string   `json:"version"`
		Policy  string   `json:"policy_sha256"`
		ScanID  int64    `json:"scan_id"`
		Hash    string   `json:"hash"`
	} `json:"records"`
	Check *struct {
		Intact   bool     `json:"intact"`
		Records  int      `json:"records"`
		Head     string   `json:"head"`
		Problems []string `json:"problems"`
	} `json:"check"`
}

// TestAuditTrail is issue 19's audit check through the binary: scans and a lint run are
// recorded with who, where, the command without its secrets and the policy's hash;
// --verify passes on the store as written and fails, naming the record, once the store is
// edited, and once its newest record is deleted when the head was kept.
func TestAuditTrail(t *testing.T) {
	work := t.TempDir()
	db := filepath.Join(work, "m.db")
	policy := filepath.Join(work, "site.yaml")
	policyBytes := []byte("version: 1\nthresholds:\n  leaf_max_days: 400\n")
	if err := os.WriteFile(policy, policyBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(policyBytes)
	secretLabel := "postgres://m:hunter2@central/m"
	if res := medscan(t, work, nil, "scan", "-q", "--db", db, "--pcap", wardCapture(t), "--policy", policy,
		"--label", secretLabel, "-o", filepath.Join(work, "r.json")); res.code != 0 {
		t.Fatalf("scan: %d %s", res.code, res.stderr)
	}
	certs := filepath.Join(testproc.RepoRoot(t), "fixtures", "certs")
	if res := medscan(t, work, nil, "lint", "-q", "--db", db, certs, "-o", filepath.Join(work, "l.json")); res.code > 3 {
		t.Fatalf("lint: %d %s", res.code, res.stderr)
	}
	res := medscan(t, work, nil, "audit", "--db", db, "-f", "json", "--verify")
	if res.code != 0 {
		t.Fatalf("audit --verify of an untouched store: %d %s %s", res.code, res.stdout, res.stderr)
	}
	var trail auditJSON
	if err := json.Unmarshal([]byte(res.stdout), &trail); err != nil {
		t.Fatal(err, res.stdout)
	}
	if len(trail.Records) != 2 || trail.Check == nil || !trail.Check.Intact || trail.Check.Records != 2 {
		t.Fatalf("trail of two runs: %s", res.stdout)
	}
	host, _ := os.Hostname()
	scan, lint := trail.Records[0], trail.Records[1]
	if scan.ScanID != 1 || lint.ScanID != 2 || scan.User == "" || scan.Host != host || scan.Version == "" {
		t.Fatalf("records: %+v", trail.Records)
	}
	if scan.Policy != hex.EncodeToString(sum[:]) || lint.Policy != "" {
		t.Fatalf("policy hashes %q, %q; want %x and none", scan.Policy, lint.Policy, sum)
	}
	line := strings.Join(scan.Command, " ")
	if !strings.Contains(line, "medscan scan -q --db "+db+" --pcap") || strings.Contains(res.stdout, "hunter2") ||
		!strings.Contains(line, "postgres://m:REDACTED@central/m") {
		t.Fatalf("recorded command %q (the password must be gone, the rest kept)", line)
	}
	head := trail.Check.Head
	if head != lint.Hash {
		t.Fatalf("head %s, want the last record's hash %s", head, lint.Hash)
	}
	table := medscan(t, work, nil, "audit", "--db", db)
	if table.code != 0 || !strings.Contains(table.stdout, "Head: "+head) || !strings.Contains(table.stdout, "built-in") {
		t.Fatalf("audit table: %d\n%s", table.code, table.stdout)
	}

	tamper := func(q string) {
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
	// Nothing changed yet: the head kept is reached.
	if res := medscan(t, work, nil, "audit", "--db", db, "--verify", "--head", head); res.code != 0 {
		t.Fatalf("--head of the untouched chain: %d %s %s", res.code, res.stdout, res.stderr)
	}
	tamper("UPDATE audit_runs SET os_user = 'somebody-else' WHERE seq = 1")
	res = medscan(t, work, nil, "audit", "--db", db, "--verify")
	if res.code != 1 || !strings.Contains(res.stdout, "record 1: its content does not match its hash") ||
		!strings.Contains(res.stderr, "tampered with") {
		t.Fatalf("an edited record: %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	tamper("UPDATE audit_runs SET os_user = '" + scan.User + "' WHERE seq = 1")
	tamper("DELETE FROM audit_runs WHERE seq = 2")
	if res := medscan(t, work, nil, "audit", "--db", db, "--verify"); res.code != 0 {
		t.Fatalf("a chain cut at its end is whole without a head to check: %d %s", res.code, res.stdout)
	}
	res = medscan(t, work, nil, "audit", "--db", db, "--verify", "--head", head)
	if res.code != 1 || !strings.Contains(res.stdout, "is not on the chain") {
		t.Fatalf("the newest record deleted, checked against the head kept: %d\n%s", res.code, res.stdout)
	}
	if res := medscan(t, work, nil, "audit", "--db", db, "--head", head); res.code != 2 {
		t.Fatalf("--head without --verify: %d, want a usage error", res.code)
	}
}
