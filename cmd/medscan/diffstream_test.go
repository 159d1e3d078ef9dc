package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
	"github.com/medscan/medscan/internal/pgtest"
	"github.com/medscan/medscan/store"
)

// TestDiffStreamsAsWhole: "medscan diff" computes its comparison in the store
// (store.Store.Compare) without loading either scan whole, and what it writes, says
// and exits with is what the scans loaded whole give (MEDSCAN_REPORT_WHOLE=1): in
// every format, for scans with new, fixed, persisting and not-assessed findings, with
// suppressions, -s, the gate, EARLIER and LATER given, nothing to compare with, and
// two runs of different kinds; in an SQLite file and in PostgreSQL.
func TestDiffStreamsAsWhole(t *testing.T) { onBothStores(t, diffStreamsAsWhole) }

// onBothStores runs test on a store in an SQLite file and on one in PostgreSQL.
func onBothStores(t *testing.T, test func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "medscan.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.Database(t)) })
}

// saveAll saves the reports into the store db, in order (their ids 1, 2, ...).
func saveAll(t *testing.T, db string, reps ...*findings.Report) {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, r := range reps {
		if _, err := st.Save(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// suppressions writes a policy of the suppression entries given (YAML, each "  - ..."
// with its fields), each expiring in a month, into dir; it returns the file's path.
func suppressions(t *testing.T, dir string, entries ...string) string {
	t.Helper()
	until := time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
	text := "version: 1\nsuppressions:\n"
	for _, e := range entries {
		text += e + "\n    expires: " + until + "\n"
	}
	path := filepath.Join(dir, "ignore.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameAsWhole runs medscan with args in dir twice, as users run it and with the scans
// loaded whole (MEDSCAN_REPORT_WHOLE=1), and reports a difference in exit code, stdout
// or stderr, or an exit 1; it returns the first run.
func sameAsWhole(t *testing.T, dir string, args ...string) result {
	t.Helper()
	streamed := medscan(t, dir, nil, args...)
	whole := medscanEnv(t, dir, []string{"MEDSCAN_DB=", "NO_COLOR=1", "MEDSCAN_REPORT_WHOLE=1"}, nil, args...)
	if streamed.code != whole.code || streamed.stdout != whole.stdout || streamed.stderr != whole.stderr || streamed.code == 1 {
		t.Errorf("%s %v: streamed exit %d, %d bytes; whole exit %d, %d bytes (%s%s)", args[0], args[3:], streamed.code,
			len(streamed.stdout), whole.code, len(whole.stdout), streamed.stderr, whole.stderr)
	}
	return streamed
}

func diffStreamsAsWhole(t *testing.T, db string) {
	dir := t.TempDir()
	first := densescan.Report(12)
	// Scan 2: scan 1 a day on, with one finding in seven gone besides Later's few, and
	// without half of its TLS sessions and HL7 messages: the findings gone from where
	// it saw no TLS or HL7 are not assessed, the others fixed.
	later := densescan.Later(first, 1)
	kept := later.Findings[:0:0]
	for i, f := range later.Findings {
		if i%7 != 3 {
			kept = append(kept, f)
		}
	}
	later.Findings = kept
	later.TLSSessions = later.TLSSessions[:len(later.TLSSessions)/2]
	later.HL7 = later.HL7[:len(later.HL7)/2]
	// One server presents another certificate: its change is part of the comparison.
	later.Certificates = slices.Clone(later.Certificates)
	renewed := &later.Certificates[slices.IndexFunc(later.Certificates, func(c findings.Certificate) bool {
		return len(c.SeenOn) > 0 && c.SeenOn[0].Role == "server" && c.SeenOn[0].Position == 0 && c.SeenOn[0].Host != ""
	})]
	renewed.DER = append(slices.Clone(renewed.DER), " renewed"...)
	renewed.SHA256 = fmt.Sprintf("%x", sha256.Sum256(renewed.DER))
	// Scan 3: another label, so that it has no previous scan; scan 4: a lint run.
	other := densescan.Later(first, 2)
	other.Scan.Label = "other"
	lint := densescan.Later(first, 3)
	lint.Scan.Kind, lint.Scan.Label = findings.KindLint, "lint"
	saveAll(t, db, first, later, other, lint)
	ignore := suppressions(t, dir, "  - rule: cert-expired\n    host: 10.1.0.0/23\n    reason: replaced in June",
		"  - port: 40001\n    reason: a new finding accepted")
	var (
		counts findings.ChangeCounts
		certs  int
	)
	codes := map[int]int{}
	suppressed := 0
	for _, scans := range [][]string{{"2"}, {"1", "2"}, {"2", "1"}, {"1", "3"}, {"3"}, {"1", "4"}} {
		for _, args := range [][]string{{"-f", "json"}, {"-f", "table"}, {"-f", "json", "-s", "high,critical"},
			{"-f", "json", "--policy", ignore}, {"-f", "table", "--policy", ignore, "-s", "medium"},
			{"-f", "json", "--fail-on", "high"}, {"-f", "table", "--fail-on-new"},
			{"-f", "json", "--policy", ignore, "--fail-on", "high", "--fail-on-new"},
			{"-f", "table", "--policy", ignore, "--fail-on", "critical", "-s", "low"}} {
			base := append(append([]string{"diff", "--db", db}, scans...), args...)
			streamed := sameAsWhole(t, dir, base...)
			codes[streamed.code]++
			if strings.Contains(streamed.stdout, `"suppressed": true`) {
				suppressed++
			}
			if len(scans) == 2 && scans[1] == "2" && len(args) == 2 && args[1] == "json" {
				var doc findings.Comparison
				if err := json.Unmarshal([]byte(streamed.stdout), &doc); err != nil || doc.Change == nil {
					t.Fatalf("diff %v: %v: %.200s", base[3:], err, streamed.stdout)
				}
				counts, certs = doc.Change.Counts, len(doc.Change.CertificatesChanged)
			}
		}
	}
	// The scans and arguments are not too thin to tell a wrong comparison.
	if counts.New == 0 || counts.Fixed == 0 || counts.Persisting == 0 || counts.NotAssessed == 0 {
		t.Errorf("diff 1 2: %+v; want some of each", counts)
	}
	if certs != 1 {
		t.Errorf("diff 1 2: %d endpoints' certificates changed; want 1", certs)
	}
	if suppressed == 0 {
		t.Error("no new or persisting finding was suppressed")
	}
	if codes[0] == 0 || codes[2] == 0 || codes[3] == 0 {
		t.Errorf("exit codes %v: want some passes (0), usage errors (2) and failed gates (3)", codes)
	}
}
