package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/pgtest"
)

// TestPostgresStoreLikeSQLite: the ward capture scanned twice into an SQLite file and
// twice into a PostgreSQL database gives, command for command (report in JSON, table
// and CSV, scans, diff, inventory, a baseline gate), the same output from either store,
// once the times the scans ran at are masked. PostgreSQL comes from internal/pgtest: a
// throwaway cluster, or MEDSCAN_TEST_POSTGRES; the test skips without one unless
// MEDSCAN_REQUIRE_POSTGRES=1.
func TestPostgresStoreLikeSQLite(t *testing.T) {
	dsn := pgtest.Database(t)
	dir := t.TempDir()
	stores := map[string]string{"sqlite": filepath.Join(dir, "medscan.db"), "postgres": dsn}
	for _, db := range stores {
		for range 2 {
			if r := medscan(t, dir, nil, "scan", "--pcap", wardCapture(t), "--db", db, "-q"); r.code != 0 {
				t.Fatalf("scan --db %s: exit %d: %s", db, r.code, r.stderr)
			}
		}
	}
	commands := [][]string{
		{"report", "--scan", "1", "-f", "json"},
		{"report"},
		{"report", "-f", "csv"},
		{"scans"},
		{"scans", "-f", "json"},
		{"diff"},
		{"diff", "-f", "json"},
		{"inventory", "-f", "json"},
		{"report", "--fail-on", "high", "--fail-on-new", "--baseline", stores["sqlite"], "--baseline-scan", "1", "-f", "json"},
	}
	for _, args := range commands {
		out := map[string]result{}
		for name, db := range stores {
			out[name] = medscan(t, dir, nil, append(slices.Clone(args), "--db", db)...)
		}
		sq, pg := out["sqlite"], out["postgres"]
		if sq.code != pg.code || maskRun(sq.stdout) != maskRun(pg.stdout) || sq.stderr != pg.stderr {
			t.Errorf("medscan %s: SQLite and PostgreSQL differ:\nexit %d / %d\nstderr %q / %q\n--- sqlite\n%s\n--- postgres\n%s",
				strings.Join(args, " "), sq.code, pg.code, sq.stderr, pg.stderr, maskRun(sq.stdout), maskRun(pg.stdout))
		}
		if strings.TrimSpace(sq.stdout) == "" {
			t.Errorf("medscan %s: no output", strings.Join(args, " "))
		}
	}
	// The password of a URL is never printed: not in a message about the store.
	bad := strings.Replace(dsn, "postgres@", "postgres:S3cret-pw@", 1)
	bad = strings.Replace(bad, "/medscan_", "/no_such_db_", 1)
	r := medscan(t, dir, nil, "scans", "--db", bad)
	if r.code == 0 || strings.Contains(r.stdout+r.stderr, "S3cret-pw") || !strings.Contains(r.stderr, "xxxxx") {
		t.Errorf("scans of a missing database: exit %d, stderr %q: want an error naming the URL without its password", r.code, r.stderr)
	}
}

// maskRun masks what differs between two runs of the same scan: the times the scans
// ran at (today's date; the capture's are years earlier), their random uids, and the order in which the
// engine happened to list its counters, which the JSON report keeps as it was given.
func maskRun(s string) string {
	today := regexp.QuoteMeta(time.Now().UTC().Format("2006-01-02"))
	s = regexp.MustCompile(today+`[T ][0-9:.]+Z`).ReplaceAllString(s, "<ran>")
	// Each scan's uid is drawn at random when it is stored.
	s = regexp.MustCompile(`("uid":\s*)"[0-9a-f]{32}"`).ReplaceAllString(s, `$1"<uid>"`)
	if !strings.HasPrefix(strings.TrimSpace(s), "{") {
		return s
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return s
	}
	if sc, ok := doc["scan"].(map[string]any); ok {
		if cs, ok := sc["counters"].([]any); ok {
			slices.SortFunc(cs, func(a, b any) int {
				return strings.Compare(a.(map[string]any)["name"].(string), b.(map[string]any)["name"].(string))
			})
		}
	}
	b, _ := json.MarshalIndent(doc, "", " ")
	return string(b)
}
