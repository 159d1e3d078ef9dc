package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in, format string
		want       time.Time
		usage      bool
	}{
		{"", "table", time.Time{}, false},
		{"1h", "ocsf", now.Add(-time.Hour), false},
		{"90m", "OCSF", now.Add(-90 * time.Minute), false},
		{"7d", "ocsf", now.Add(-7 * 24 * time.Hour), false},
		{"2026-12-01", "ocsf", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-12-01T08:00:00+01:00", "ocsf", time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC), false},
		{"1h", "json", time.Time{}, true},
		{"1h", "defectdojo", time.Time{}, true},
		{"yesterday", "ocsf", time.Time{}, true},
		{"-1h", "ocsf", time.Time{}, true},
		{"7x", "ocsf", time.Time{}, true},
		{"d", "ocsf", time.Time{}, true},
	} {
		got, err := parseSince(tc.in, tc.format, now)
		if _, isUsage := err.(usageError); isUsage != tc.usage || (err != nil && !tc.usage) {
			t.Errorf("parseSince(%q, %s): error %v, want usage error %v", tc.in, tc.format, err, tc.usage)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("parseSince(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestExportsThroughCLI runs the exports the way the scheduled export does: a scan
// creates every finding, a second scan of the same capture updates them, an
// incremental export after it has nothing new, and DefectDojo's file holds every
// finding still open.
func TestExportsThroughCLI(t *testing.T) {
	dir := t.TempDir()
	pcap := wardCapture(t)
	activities := func(out string) map[string]int {
		t.Helper()
		m := map[string]int{}
		for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
			if line == "" {
				continue
			}
			var e struct {
				ActivityName string `json:"activity_name"`
				ClassUID     int    `json:"class_uid"`
			}
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("not an OCSF event line: %q: %v", line, err)
			}
			m[e.ActivityName]++
		}
		return m
	}
	first := medscan(t, dir, nil, "scan", "--pcap", pcap, "--label", "4-west", "-q", "-f", "ocsf")
	if first.code != 0 {
		t.Fatalf("first scan: %d %s", first.code, first.stderr)
	}
	created := activities(first.stdout)
	if created["Create"] == 0 || len(created) != 1 {
		t.Fatalf("first scan: %v, want only Create", created)
	}
	second := medscan(t, dir, nil, "scan", "--pcap", pcap, "--label", "4-west", "-q", "-f", "ocsf")
	if got := activities(second.stdout); got["Update"] != created["Create"] || len(got) != 1 {
		t.Fatalf("second scan: %v, want %d Update", got, created["Create"])
	}
	// The capture is months old and the second scan changed nothing.
	if r := medscan(t, dir, nil, "report", "-f", "ocsf", "--since", "1h"); r.code != 0 || r.stdout != "" {
		t.Fatalf("incremental export: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := medscan(t, dir, nil, "report", "-f", "ocsf", "--since", "2020-01-01"); len(activities(r.stdout)) == 0 {
		t.Fatalf("export since 2020: %q %s", r.stdout, r.stderr)
	}
	dd := medscan(t, dir, nil, "report", "-f", "defectdojo", "-o", "dd.json")
	if dd.code != 0 {
		t.Fatalf("defectdojo: %d %s", dd.code, dd.stderr)
	}
	for _, args := range [][]string{
		{"report", "-f", "defectdojo", "-s", "high"},
		{"report", "-f", "json", "--since", "1h"},
		{"report", "-f", "ocsf", "--since", "soon"},
	} {
		if r := medscan(t, dir, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
}
