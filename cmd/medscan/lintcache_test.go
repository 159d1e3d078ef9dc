package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
)

// runUID and stamp find the parts of a run's JSON that differ between two runs of the
// same capture or files into copies of the same store: its uid, and the times of the
// run (when it started and finished; when a file was read), told apart from the times
// a certificate or capture holds by being no earlier than the test.
var (
	runUID   = regexp.MustCompile(`"uid": "[0-9a-f]*"`)
	someLint = regexp.MustCompile(`"lints": \[\s*\{`)
	stamp    = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+Z"`)
)

// sameRun is a run's JSON with its uid and the times of the run left out.
func sameRun(t *testing.T, b []byte, since time.Time) string {
	t.Helper()
	s := runUID.ReplaceAllString(string(b), `"uid": ""`)
	return stamp.ReplaceAllStringFunc(s, func(q string) string {
		at, err := time.Parse(time.RFC3339Nano, strings.Trim(q, `"`))
		if err == nil && !at.Before(since) {
			return `"(this run)"`
		}
		return q
	})
}

func lintCacheRows(t *testing.T, db string) (rows int, versions []string) {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.QueryRow("SELECT count(*) FROM lint_cache").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	rs, err := conn.Query("SELECT DISTINCT lint_version FROM lint_cache")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var v string
		if err := rs.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	return rows, versions
}

func copyStore(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLintCacheSameOutput: the ward scanned again into the store of its first scan
// takes every certificate's examination from the lint cache, and writes the same JSON,
// byte for byte but for the run's times and uid, as the same scan of a copy of that
// store with the cache off (MEDSCAN_NO_LINT_CACHE=1); the same for a lint run of a
// certificate file. A record of the cache is what the scan reads: a lint written into
// it shows in the next scan.
func TestLintCacheSameOutput(t *testing.T) {
	start := time.Now().Add(-time.Second)
	dir := t.TempDir()
	ward := filepath.Join(testproc.RepoRoot(t), "fixtures", "ward.pcapng")
	pem := filepath.Join(testproc.RepoRoot(t), "lint", "testdata", "ward-pump-0013.pem")
	minted := filepath.Join(testproc.RepoRoot(t), "lint", "testdata", "zlint-emudhra-ov-g3c-minted.pem")
	db := filepath.Join(dir, "m.db")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"scan", []string{"scan", "--pcap", ward}},
		{"lint", []string{"lint", pem, minted}},
	} {
		run := func(db string, env ...string) string {
			t.Helper()
			out := filepath.Join(dir, "out.json")
			r := medscanEnv(t, dir, append([]string{"MEDSCAN_DB=", "NO_COLOR=1"}, env...), nil,
				append(c.args, "--db", db, "-q", "-f", "json", "-o", out)...)
			if r.code != 0 {
				t.Fatalf("%s: exit %d: %s", c.name, r.code, r.stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			return sameRun(t, b, start)
		}
		first := run(db)
		rows, versions := lintCacheRows(t, db)
		if rows == 0 || len(versions) != 1 || !strings.HasPrefix(versions[0], "medscan-lint/1 zlint/v3.7.3 ") {
			t.Fatalf("%s: the first run kept %d rows, versions %q", c.name, rows, versions)
		}
		plain := filepath.Join(dir, c.name+"-plain.db")
		copyStore(t, db, plain)
		cached := run(db)
		uncached := run(plain, "MEDSCAN_NO_LINT_CACHE=1")
		if cached != uncached {
			t.Errorf("%s: the JSON with the cache (%d bytes) is not that without (%d bytes)", c.name, len(cached), len(uncached))
		}
		if c.name == "lint" && !someLint.MatchString(first) {
			t.Errorf("%s: no certificate has a lint in the report: the test shows nothing", c.name)
		}
		if again, _ := lintCacheRows(t, db); again != rows {
			t.Errorf("%s: the second run kept %d rows more; want every certificate from the cache", c.name, again-rows)
		}
		if off, _ := lintCacheRows(t, plain); off != rows {
			t.Errorf("%s: with the cache off, %d rows were kept", c.name, off-rows)
		}
	}

	// The cache is read: a lint written into every record shows.
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	const written = `{"name":"e_written_in","status":"error","source":"RFC5280","citation":"","description":"x","details":""}`
	if _, err := conn.Exec(`UPDATE lint_cache SET record = replace(replace(record, '"lints":[{', '"lints":[` + written + `,{'),
		'"lints":[]', '"lints":[` + written + `]')`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if r := medscan(t, dir, nil, "scan", "--pcap", ward, "--db", db, "-q", "-f", "json"); !strings.Contains(r.stdout, "e_written_in") {
		t.Errorf("a lint written into the cache does not show in the next scan (exit %d: %s)", r.code, r.stderr)
	}
}
