package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/densescan"
	"github.com/medscan/medscan/store"
)

// TestReportGroupsLargeScans: "medscan report" of a stored scan above the threshold
// groups its findings in the table, --group-above raises the threshold or (0) turns it
// off, -v lists every finding, and -f json always has every finding.
func TestReportGroupsLargeScans(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "medscan.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	rep := densescan.Report(6) // 234 findings, above the default threshold of 200
	if _, err := st.SaveAsStored(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	st.Close()
	n := len(rep.Findings)
	const note = "grouped by rule and severity; every finding, one row each"
	for _, tc := range []struct {
		args    []string
		grouped bool
	}{
		{nil, true},
		{[]string{"--group-above", "1000"}, false},
		{[]string{"--group-above", "0"}, false},
		{[]string{"-v"}, false},
	} {
		r := medscan(t, dir, nil, append([]string{"report", "--db", db}, tc.args...)...)
		if r.code != 0 {
			t.Fatalf("report %v: exit %d: %s", tc.args, r.code, r.stderr)
		}
		if got := strings.Contains(r.stdout, note); got != tc.grouped {
			t.Errorf("report %v: grouped = %v; want %v", tc.args, got, tc.grouped)
		}
		rows := strings.Count(r.stdout, "| tls-weak-cipher ")
		if want := map[bool]int{true: 1, false: 30}[tc.grouped]; rows != want {
			t.Errorf("report %v: %d tls-weak-cipher rows; want %d", tc.args, rows, want)
		}
	}
	r := medscan(t, dir, nil, "report", "--db", db, "-f", "json")
	if got := strings.Count(r.stdout, `"fingerprint"`); r.code != 0 || got != n {
		t.Errorf("report -f json: exit %d, %d findings; want %d", r.code, got, n)
	}
}

// TestReportStreamsAsWhole: "medscan report" of a scan with nothing to compare it with
// and no suppression in force streams its findings from the store (store.Stream); one
// with a suppression in force, even one matching nothing, reads the scan whole. The two
// give the same bytes in every format that streams, and the same gate.
func TestReportStreamsAsWhole(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "medscan.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(context.Background(), densescan.Report(7)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ignore := filepath.Join(dir, "ignore.yaml")
	if err := os.WriteFile(ignore, []byte("version: 1\nsuppressions:\n  - rule: cleartext-hl7\n    host: 192.0.2.1\n"+
		"    reason: matches no host of the scan\n    expires: "+time.Now().AddDate(0, 1, 0).Format(time.DateOnly)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-f", "json"}, {"-f", "csv"}, {"-f", "table"}, {"-f", "table", "-v"},
		{"-f", "json", "-s", "high", "--fail-on", "critical"}} {
		base := append([]string{"report", "--db", db}, args...)
		streamed := medscan(t, dir, nil, base...)
		whole := medscan(t, dir, nil, append(base, "--policy", ignore)...)
		if streamed.code != whole.code || streamed.stdout != whole.stdout || streamed.code == 1 {
			t.Errorf("report %v: streamed exit %d, %d bytes; whole exit %d, %d bytes (%s%s)", args, streamed.code,
				len(streamed.stdout), whole.code, len(whole.stdout), streamed.stderr, whole.stderr)
		}
	}
}
