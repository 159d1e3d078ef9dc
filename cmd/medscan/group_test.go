package main

import (
	"context"
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

// TestReportStreamsAsWhole: "medscan report" streams its findings from the store
// (store.StreamWith) for the formats that stream them, with the change since the
// previous comparable scan and the suppressions in force applied as they are read; the
// bytes and the gate are those of the scan loaded whole (MEDSCAN_REPORT_WHOLE=1), for
// a first scan, and for a later one with new, fixed and suppressed findings, with and
// without a baseline, in an SQLite file and in PostgreSQL. The HTML page folds the
// stream into its sections (report.htmlFindings): listed and grouped, it must be the page
// of the scan loaded whole.
func TestReportStreamsAsWhole(t *testing.T) { onBothStores(t, reportStreamsAsWhole) }

func reportStreamsAsWhole(t *testing.T, db string) {
	dir := t.TempDir()
	first := densescan.Report(12)
	later := densescan.Later(first, 1)
	// A third of the later scan's findings are seen again a day on (the others keep the
	// first scan's times): their first and last seen then straddle a --since between
	// the scans.
	for i := range later.Findings {
		if i%3 == 0 {
			later.Findings[i].Time = later.Findings[i].Time.Add(24 * time.Hour)
		}
	}
	saveAll(t, db, first, later)
	ignore := suppressions(t, dir, "  - rule: cert-expired\n    host: 10.1.0.0/23\n    reason: replaced in June",
		"  - port: 40001\n    reason: a new finding accepted",
		"  - rule: cleartext-hl7\n    host: 192.0.2.1\n    reason: matches no host of the scan")
	baseline := filepath.Join(dir, "baseline.json")
	if r := medscan(t, dir, nil, "report", "--db", db, "--scan", "latest~1", "-f", "json", "-o", baseline); r.code != 0 {
		t.Fatalf("writing the baseline: exit %d: %s", r.code, r.stderr)
	}
	// --since before both scans (everything), between them (the findings seen again, and
	// for the later scan what it found new or fixed), within the later scan's findings'
	// times (some of those seen again) and after both (nothing).
	t0 := densescan.T0
	before, between, within, after := t0.Add(-time.Hour), t0.Add(12*time.Hour), t0.Add(24*time.Hour+5*time.Second),
		t0.Add(72*time.Hour)
	since := map[string][]string{} // the events of each --since case, by scan and time
	suppressed := 0
	for _, scan := range []string{"latest", "latest~1"} {
		for _, args := range [][]string{{"-f", "json"}, {"-f", "csv"}, {"-f", "table"}, {"-f", "table", "-v"},
			{"-f", "json", "-s", "high", "--fail-on", "critical"}, {"-f", "json", "--fail-on", "high", "--fail-on-new"},
			{"-f", "json", "--policy", ignore}, {"-f", "table", "--policy", ignore, "--group-above", "10"},
			{"-f", "csv", "--policy", ignore, "--fail-on", "high", "--fail-on-new"},
			{"-f", "ocsf"}, {"-f", "ocsf", "--policy", ignore, "-s", "critical,medium"}, {"-f", "ocsf", "--since", "2026-03-05"},
			{"-f", "defectdojo"}, {"-f", "defectdojo", "--policy", ignore},
			{"-f", "sarif"}, {"-f", "sarif", "--policy", ignore, "-s", "high"},
			{"-f", "json", "--baseline", baseline, "--policy", ignore}, {"-f", "ocsf", "--baseline", baseline},
			{"-f", "table", "--baseline", baseline, "--fail-on", "high", "--fail-on-new"},
			{"-f", "html"}, {"-f", "html", "--group-above", "10"}, {"-f", "html", "--policy", ignore, "--group-above", "10"},
			{"-f", "html", "--policy", ignore, "-s", "high,critical", "--fail-on", "high", "--fail-on-new"},
			{"-f", "html", "--baseline", baseline, "--policy", ignore}, {"-f", "html", "--baseline", baseline, "--group-above", "10"},
			{"-f", "svg"}, {"-f", "svg", "--policy", ignore, "-s", "high"},
			{"-f", "csv-assets"}, {"-f", "csv-assets", "--policy", ignore, "--fail-on", "high", "--fail-on-new"},
			{"-f", "ocsf", "--since", before.Format(time.RFC3339)}, {"-f", "ocsf", "--since", between.Format(time.RFC3339)},
			{"-f", "ocsf", "--since", within.Format(time.RFC3339)}, {"-f", "ocsf", "--since", after.Format(time.RFC3339)},
			{"-f", "ocsf", "--since", between.Format(time.RFC3339), "--policy", ignore, "-s", "high,critical"},
			{"-f", "ocsf", "--since", within.Format(time.RFC3339), "--policy", ignore, "--fail-on", "high", "--fail-on-new"},
			{"-f", "ocsf", "--since", between.Format(time.RFC3339), "--baseline", baseline, "--policy", ignore},
			{"-f", "ocsf", "--since", within.Format(time.RFC3339), "--baseline", baseline}} {
			base := append([]string{"report", "--db", db, "--scan", scan}, args...)
			streamed := sameAsWhole(t, dir, base...)
			if strings.Contains(streamed.stdout, `"suppressed": true`) {
				suppressed++
			}
			if len(args) == 4 && args[2] == "--since" {
				since[scan+" "+args[3]] = strings.Split(strings.TrimSpace(streamed.stdout), "\n")
			}
		}
	}
	if suppressed == 0 {
		t.Error("no new or persisting finding of the later scan was suppressed: the test scans are too thin")
	}
	// The times chosen keep all, some and none of each scan's findings: the test cannot
	// pass on a filter that keeps everything or nothing.
	for _, scan := range []string{"latest", "latest~1"} {
		n := func(at time.Time) int {
			events := since[scan+" "+at.Format(time.RFC3339)]
			if len(events) == 1 && events[0] == "" {
				return 0
			}
			return len(events)
		}
		if all, b, w, none := n(before), n(between), n(within), n(after); !(all > b && b > w && w > 0 && none == 0) {
			t.Errorf("report --scan %s -f ocsf --since: %d events before the scans, %d between them, %d within the "+
				"later one's times, %d after; want fewer each time, and none after", scan, all, b, w, none)
		}
	}
}
