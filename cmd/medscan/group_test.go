package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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
	rep := densescan.Report(5)
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
		if want := map[bool]int{true: 1, false: 25}[tc.grouped]; rows != want {
			t.Errorf("report %v: %d tls-weak-cipher rows; want %d", tc.args, rows, want)
		}
	}
	r := medscan(t, dir, nil, "report", "--db", db, "-f", "json")
	if got := strings.Count(r.stdout, `"fingerprint"`); r.code != 0 || got != n {
		t.Errorf("report -f json: exit %d, %d findings; want %d", r.code, got, n)
	}
}
