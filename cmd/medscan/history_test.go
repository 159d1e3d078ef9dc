package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// jsonChange is the change object of the JSON report and of medscan diff.
type jsonChange struct {
	PreviousScan int64  `json:"previous_scan"`
	Baseline     string `json:"baseline"`
	Counts       struct {
		New, Fixed, Persisting int
		NotAssessed            int `json:"not_assessed"`
	} `json:"counts"`
	New         []changedFinding `json:"new"`
	Fixed       []changedFinding `json:"fixed"`
	Persisting  []changedFinding `json:"persisting"`
	NotAssessed []changedFinding `json:"not_assessed"`
}

type changedFinding struct {
	Fingerprint string `json:"fingerprint"`
	Rule        string `json:"rule"`
	Severity    string `json:"severity"`
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Reason      string `json:"reason"`
	Suppressed  bool   `json:"suppressed"`
}

// historyReport is the part of the JSON report history adds.
type historyReport struct {
	Summary struct {
		Total, Critical, Suppressed int
	} `json:"summary"`
	Findings []struct {
		Rule        string `json:"rule"`
		Fingerprint string `json:"fingerprint"`
	} `json:"findings"`
	Suppressed []struct {
		Rule        string `json:"rule"`
		Fingerprint string `json:"fingerprint"`
		Suppression struct {
			Reason, Expires, Source string
		} `json:"suppression"`
	} `json:"suppressed"`
	Change *jsonChange `json:"change"`
}

func parseHistory(t *testing.T, s string) historyReport {
	t.Helper()
	var r historyReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not JSON: %v\n%.1000s", err, s)
	}
	return r
}

func rulesOf(l []changedFinding) []string {
	var out []string
	for _, f := range l {
		if !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	slices.Sort(out)
	return out
}

func mustRun(t *testing.T, dir string, want int, args ...string) result {
	t.Helper()
	res := medscan(t, dir, nil, args...)
	if res.code != want {
		t.Fatalf("medscan %v: exit %d, want %d\nstderr: %s", args, res.code, want, res.stderr)
	}
	return res
}

func writeFile(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Two scans of the ward with a changed policy: a rule the later policy disabled is not
// assessed (not fixed); a finding the later scan judged and did not raise is fixed.
func TestDiffAfterPolicyChange(t *testing.T) {
	work := t.TempDir()
	ward := wardCapture(t)
	noSelfSigned := writeFile(t, filepath.Join(work, "p1.yaml"), "version: 1\ndisabled: [cert-self-signed]\n")
	longer := writeFile(t, filepath.Join(work, "p2.yaml"), "version: 1\nthresholds:\n  leaf_max_days: 20000\n  leaf_high_days: 20000\n")
	mustRun(t, work, 0, "scan", "-q", "--pcap", ward, "--label", "ward-7")
	mustRun(t, work, 0, "scan", "-q", "--pcap", ward, "--label", "icu") // another label, in between
	mustRun(t, work, 0, "scan", "-q", "--pcap", ward, "--label", "ward-7", "--policy", noSelfSigned)
	mustRun(t, work, 0, "scan", "-q", "--pcap", ward, "--label", "ward-7", "--policy", longer)

	// Default: the latest scan (4) against the previous one with its label (3).
	var doc struct {
		Previous struct{ ID int64 } `json:"previous"`
		Scan     struct{ ID int64 } `json:"scan"`
		Change   jsonChange         `json:"change"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, work, 0, "diff", "--format", "json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Previous.ID != 3 || doc.Scan.ID != 4 {
		t.Fatalf("compared %d with %d, want 4 with 3", doc.Scan.ID, doc.Previous.ID)
	}
	c := doc.Change
	if got := rulesOf(c.New); !slices.Equal(got, []string{"cert-self-signed"}) {
		t.Errorf("new = %v, want the findings of the re-enabled rule", got)
	}
	if got := rulesOf(c.Fixed); !slices.Equal(got, []string{"cert-long-lived"}) {
		t.Errorf("fixed = %v, want cert-long-lived (judged again under the longer limit, not raised)", got)
	}
	if len(c.NotAssessed) != 0 || len(c.Persisting) == 0 {
		t.Errorf("not assessed %v, persisting %d", c.NotAssessed, len(c.Persisting))
	}

	// Scan 3 against scan 1: the disabled rule's findings are not assessed, nothing fixed.
	if err := json.Unmarshal([]byte(mustRun(t, work, 0, "diff", "1", "3", "--format", "json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	c = doc.Change
	if got := rulesOf(c.NotAssessed); !slices.Equal(got, []string{"cert-self-signed"}) || len(c.Fixed) != 0 || len(c.New) != 0 {
		t.Fatalf("not assessed %v, fixed %v, new %v", got, c.Fixed, c.New)
	}
	for _, f := range c.NotAssessed {
		if f.Reason != "the later scan's policy did not assess cert-self-signed" {
			t.Errorf("reason = %q", f.Reason)
		}
	}
	if c.Counts.NotAssessed != 4 || c.Counts.Persisting != len(c.Persisting) {
		t.Errorf("counts = %+v", c.Counts)
	}

	// The table says the same; the gate trips on new findings only.
	tab := mustRun(t, work, 0, "diff", "1", "3").stdout
	for _, want := range []string{"Comparing scan 3", "with scan 1", "0 new, 0 fixed", "4 not assessed", "NOT ASSESSED", "cert-self-signed"} {
		if !strings.Contains(tab, want) {
			t.Errorf("diff table lacks %q:\n%s", want, tab)
		}
	}
	for _, line := range strings.Split(tab, "\n") {
		if len([]rune(line)) > 100 {
			t.Errorf("line wider than 100 columns: %q", line)
		}
	}
	mustRun(t, work, 0, "diff", "1", "3", "--fail-on-new")
	res := mustRun(t, work, 3, "diff", "--fail-on-new")
	if !strings.Contains(res.stderr, "4 new finding(s) (the CI gate, against scan 3)") {
		t.Errorf("gate message: %q", res.stderr)
	}
	mustRun(t, work, 0, "diff", "--fail-on-new", "--fail-on", "high") // the new ones are medium

	// The JSON report of a scan carries the same change.
	rep := parseHistory(t, mustRun(t, work, 0, "report", "--format", "json").stdout)
	if rep.Change == nil || rep.Change.PreviousScan != 3 || rep.Change.Counts.New != 4 || rep.Change.Counts.Fixed != 4 {
		t.Errorf("report change = %+v", rep.Change)
	}
	if first := parseHistory(t, mustRun(t, work, 0, "report", "--scan", "1", "--format", "json").stdout); first.Change != nil {
		t.Errorf("the first scan has a change: %+v", first.Change)
	}

	// medscan scans lists them with labels and counts.
	var scans []struct {
		ID      int64  `json:"id"`
		Label   string `json:"label"`
		Summary struct {
			Total, Medium int
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, work, 0, "scans", "--format", "json").stdout), &scans); err != nil {
		t.Fatal(err)
	}
	if len(scans) != 4 || scans[1].Label != "icu" || scans[2].Summary.Total+4 != scans[0].Summary.Total {
		t.Errorf("scans = %+v", scans)
	}
	if tab := mustRun(t, work, 0, "scans", "--label", "icu").stdout; !strings.Contains(tab, "icu") || strings.Contains(tab, "ward-7") {
		t.Errorf("scans --label icu:\n%s", tab)
	}

	// An incomplete later scan fixes nothing.
	raw, _ := os.ReadFile(ward)
	cut := writeFile(t, filepath.Join(work, "cut.pcapng"), string(raw[:len(raw)/3]))
	mustRun(t, work, 1, "scan", "-q", "--pcap", cut, "--label", "ward-7")
	if err := json.Unmarshal([]byte(mustRun(t, work, 0, "diff", "--format", "json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Change.Fixed) != 0 || len(doc.Change.NotAssessed) == 0 || doc.Change.NotAssessed[0].Reason != "the later scan is incomplete" {
		t.Errorf("after an incomplete scan: fixed %v, not assessed %v", doc.Change.Fixed, doc.Change.NotAssessed)
	}
}

// A suppressed finding leaves the gate and the totals but stays in the report and the
// store; an expired suppression warns and the finding counts again.
func TestSuppressionsAndTheGate(t *testing.T) {
	work := t.TempDir()
	ward := wardCapture(t)
	ahead := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
	writeFile(t, filepath.Join(work, ".medscanignore.yaml"), `# the ward's accepted risks
- rule: cleartext-hl7
  host: 10.20.0.0/24
  reason: interface engine on an isolated VLAN until the TLS upgrade
  expires: `+ahead+"\n")
	res := mustRun(t, work, 0, "scan", "--pcap", ward, "--format", "json", "--fail-on", "critical")
	rep := parseHistory(t, res.stdout)
	if rep.Summary.Critical != 0 || rep.Summary.Suppressed != 1 || len(rep.Suppressed) != 1 {
		t.Fatalf("summary %+v, suppressed %+v", rep.Summary, rep.Suppressed)
	}
	s := rep.Suppressed[0]
	if s.Rule != "cleartext-hl7" || s.Suppression.Expires != ahead || s.Suppression.Source != ".medscanignore.yaml:2" ||
		!strings.Contains(s.Suppression.Reason, "isolated VLAN") {
		t.Errorf("suppressed = %+v", s)
	}
	for _, f := range rep.Findings {
		if f.Rule == "cleartext-hl7" {
			t.Error("the suppressed finding is still among the findings")
		}
	}
	if !strings.Contains(res.stderr, ", 1 suppressed") {
		t.Errorf("summary line lacks the suppressed count: %q", res.stderr)
	}
	// Kept in the store: without the suppressions it is back, and trips the gate.
	empty := writeFile(t, filepath.Join(work, "none.yaml"), "")
	all := parseHistory(t, mustRun(t, work, 3, "report", "--ignore-file", empty, "--format", "json", "--fail-on", "critical").stdout)
	if all.Summary.Critical != 1 || len(all.Suppressed) != 0 {
		t.Errorf("without suppressions: %+v", all.Summary)
	}
	// A column of its own on a wide terminal, words in the counts on a narrower one.
	if tab := mustRun(t, work, 0, "scans").stdout; !strings.Contains(tab, "SUPPR") && !strings.Contains(tab, "1 suppressed") {
		t.Errorf("scans table:\n%s", tab)
	}

	// Expired yesterday: a warning naming file and line, and the finding counts again.
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	writeFile(t, filepath.Join(work, ".medscanignore.yaml"), `- rule: cleartext-dicom
  reason: replaced last year
  expires: 2099-01-01
`)
	if res := mustRun(t, work, 1, "report"); !strings.Contains(res.stderr, ".medscanignore.yaml: line 1: expires 2099-01-01 is more than 366 days ahead") {
		t.Errorf("far expiry: %q", res.stderr)
	}
	writeFile(t, filepath.Join(work, ".medscanignore.yaml"), `
- rule: cleartext-hl7
  reason: isolated VLAN
  expires: `+yesterday+"\n")
	res = mustRun(t, work, 3, "report", "--fail-on", "critical", "--format", "json")
	want := "medscan: .medscanignore.yaml: line 2: suppression expired on " + yesterday + "; the finding counts again\n"
	if !strings.HasPrefix(res.stderr, want) {
		t.Errorf("stderr = %q, want it to start with %q", res.stderr, want)
	}
	if rep := parseHistory(t, res.stdout); rep.Summary.Critical != 1 || len(rep.Suppressed) != 0 {
		t.Errorf("expired suppression still applies: %+v", rep.Summary)
	}
}

// A pipeline replaying a capture into a fresh store fails only on what the baseline lacks.
func TestBaselineGate(t *testing.T) {
	work := t.TempDir()
	ward := wardCapture(t)
	mustRun(t, work, 0, "scan", "-q", "--pcap", ward, "--db", "base.db")
	mustRun(t, work, 0, "report", "--db", "base.db", "--format", "json", "-o", "baseline.json")
	baseHash := hashFile(t, filepath.Join(work, "base.db"))

	// Same capture, fresh store: nothing new against the JSON or the store.
	for i, base := range []string{"baseline.json", "base.db"} {
		db := []string{"ci1.db", "ci2.db"}[i]
		res := mustRun(t, work, 0, "scan", "--pcap", ward, "--db", db, "--fail-on", "high", "--fail-on-new", "--baseline", base, "--format", "json")
		rep := parseHistory(t, res.stdout)
		if rep.Change == nil || rep.Change.Baseline != base || rep.Change.Counts.New != 0 || rep.Change.Counts.Persisting == 0 {
			t.Errorf("%s: change = %+v", base, rep.Change)
		}
	}
	if hashFile(t, filepath.Join(work, "base.db")) != baseHash {
		t.Error("reading the baseline store changed it")
	}
	// Without the baseline, a first scan has nothing to compare with: all is new.
	if res := mustRun(t, work, 3, "scan", "-q", "--pcap", ward, "--db", "ci3.db", "--fail-on-new"); !strings.Contains(res.stderr, "with nothing to compare with") {
		t.Errorf("stderr = %q", res.stderr)
	}
	// ... and the next scan of the store compares with it.
	mustRun(t, work, 0, "scan", "-q", "--pcap", ward, "--db", "ci3.db", "--fail-on-new")

	// A baseline that lacks the HL7 finding: that one is new, and critical.
	var doc map[string]any
	raw, _ := os.ReadFile(filepath.Join(work, "baseline.json"))
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, f := range doc["findings"].([]any) {
		if f.(map[string]any)["rule"] != "cleartext-hl7" {
			kept = append(kept, f)
		}
	}
	doc["findings"] = kept
	older, _ := json.Marshal(doc)
	writeFile(t, filepath.Join(work, "older.json"), string(older))
	res := mustRun(t, work, 3, "scan", "-q", "--pcap", ward, "--db", "ci4.db", "--fail-on", "high", "--fail-on-new", "--baseline", "older.json")
	if !strings.Contains(res.stderr, "medscan: 1 new finding(s) at or above high (the CI gate, against older.json)") {
		t.Errorf("stderr = %q", res.stderr)
	}
	// Suppressed, the new finding no longer trips the gate.
	ahead := time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
	ign := writeFile(t, filepath.Join(work, "ign.yaml"), "- rule: cleartext-hl7\n  reason: accepted\n  expires: "+ahead+"\n")
	mustRun(t, work, 0, "report", "--db", "ci4.db", "--fail-on", "high", "--fail-on-new", "--baseline", "older.json", "--ignore-file", ign)

	// The baseline store's scans can be chosen; a wrong one is a clear error.
	mustRun(t, work, 0, "report", "--db", "ci4.db", "--fail-on-new", "--baseline", "base.db", "--baseline-scan", "1")
	if res := mustRun(t, work, 1, "report", "--db", "ci4.db", "--baseline", "base.db", "--baseline-scan", "7"); !strings.Contains(res.stderr, "baseline: store: base.db: no scan with id 7") {
		t.Errorf("stderr = %q", res.stderr)
	}
	if res := mustRun(t, work, 2, "report", "--db", "ci4.db", "--baseline", "baseline.json", "--baseline-scan", "1"); !strings.Contains(res.stderr, "--baseline-scan applies to a store") {
		t.Errorf("stderr = %q", res.stderr)
	}
}

func hashFile(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// Bad input names what and where, and leaves the store byte-identical.
func TestBadInputLeavesStoreUnchanged(t *testing.T) {
	work := t.TempDir()
	ward := wardCapture(t)
	mustRun(t, work, 0, "scan", "-q", "--pcap", ward)
	good := filepath.Join(work, "medscan.db")
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	newer := slices.Clone(raw)
	binary.BigEndian.PutUint32(newer[60:], 42) // the header's user_version: the schema
	writeFile(t, filepath.Join(work, "newer.db"), string(newer))
	damaged := slices.Clone(raw)
	for i := 4096; i < len(damaged) && i < 4096*8; i++ {
		damaged[i] = 0xA5
	}
	writeFile(t, filepath.Join(work, "damaged.db"), string(damaged))
	writeFile(t, filepath.Join(work, "wrongkey.yaml"), "- rule: cleartext-hl7\n  reason: r\n  expires: 2026-01-31\n  rulez: x\n")
	writeFile(t, filepath.Join(work, "baddate.yaml"), "- rule: cleartext-hl7\n  reason: r\n  expires: 2026-13-01\n")
	writeFile(t, filepath.Join(work, "badcidr.yaml"), "- host: 10.20.0.0/40\n  reason: r\n  expires: 2026-01-31\n")
	writeFile(t, filepath.Join(work, "future.json"), `{"schema_version": 9, "findings": []}`)

	for _, tt := range []struct {
		db   string
		args []string
		want string
	}{
		{"newer.db", []string{"report"}, "medscan: store: newer.db: schema version 42 is newer than this medscan"},
		{"newer.db", []string{"scans"}, "schema version 42 is newer"},
		{"newer.db", []string{"diff"}, "schema version 42 is newer"},
		{"newer.db", []string{"scan", "-q", "--pcap", ward}, "schema version 42 is newer"},
		{"damaged.db", []string{"report"}, "medscan: store: damaged.db: "},
		{"damaged.db", []string{"scans"}, "medscan: store: damaged.db: "},
		{"damaged.db", []string{"diff", "1", "1"}, "medscan: store: damaged.db: "},
		{"medscan.db", []string{"report", "--scan", "99"}, "medscan: store: medscan.db: no scan with id 99"},
		{"medscan.db", []string{"diff", "1", "99"}, "medscan: store: medscan.db: no scan with id 99"},
		{"medscan.db", []string{"scan", "-q", "--pcap", ward, "--ignore-file", "wrongkey.yaml"},
			`medscan: rules: wrongkey.yaml: line 4: unknown key "rulez"`},
		{"medscan.db", []string{"scan", "-q", "--pcap", ward, "--ignore-file", "baddate.yaml"},
			`medscan: rules: baddate.yaml: line 3: expires: bad date "2026-13-01" (want YYYY-MM-DD)`},
		{"medscan.db", []string{"scan", "-q", "--pcap", ward, "--ignore-file", "badcidr.yaml"},
			`medscan: rules: badcidr.yaml: line 1: host: bad CIDR "10.20.0.0/40"`},
		{"medscan.db", []string{"report", "--ignore-file", "wrongkey.yaml"}, `wrongkey.yaml: line 4: unknown key "rulez"`},
		{"medscan.db", []string{"scan", "-q", "--pcap", ward, "--fail-on-new", "--baseline", "future.json"},
			"medscan: baseline future.json: schema_version 9, want 1"},
		{"medscan.db", []string{"scan", "-q", "--pcap", ward, "--baseline", "newer.db"},
			"medscan: baseline: store: newer.db: schema version 42 is newer"},
		{"medscan.db", []string{"scan", "-q", "--pcap", ward, "--baseline", "nosuch.json"},
			"medscan: baseline nosuch.json: no such file or directory"},
	} {
		path := filepath.Join(work, tt.db)
		before := hashFile(t, path)
		res := medscan(t, work, nil, append(tt.args, "--db", tt.db)...)
		if res.code != 1 || !strings.HasPrefix(res.stderr, tt.want) && !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%s %v: exit %d, stderr %q; want exit 1 and %q", tt.db, tt.args, res.code, res.stderr, tt.want)
		}
		if strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 {
			t.Errorf("%s %v: want one line, got %q", tt.db, tt.args, res.stderr)
		}
		if hashFile(t, path) != before {
			t.Errorf("%s %v changed the store", tt.db, tt.args)
		}
		for _, suffix := range []string{"-wal", "-journal"} {
			if fi, err := os.Stat(path + suffix); err == nil && fi.Size() > 0 {
				t.Errorf("%s %v left %s with %d bytes", tt.db, tt.args, suffix, fi.Size())
			}
		}
	}
	// A scan with nothing comparable before it is no error: diff says so and exits 0.
	{
		path := filepath.Join(work, "medscan.db")
		before := hashFile(t, path)
		res := medscan(t, work, nil, "diff", "--db", "medscan.db")
		if res.code != 0 || !strings.Contains(res.stdout, "Nothing to compare: scan 1 has no label and no earlier network run read the same sources") {
			t.Errorf("diff with nothing before: exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
		if hashFile(t, path) != before {
			t.Error("diff changed the store")
		}
	}
	if res := medscan(t, work, nil, "scans", "--format", "json"); res.code != 0 || strings.Count(res.stdout, `"id"`) != 1 {
		t.Errorf("a scan was recorded despite bad input: %s", res.stdout)
	}
}
