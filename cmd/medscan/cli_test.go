package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medscan/medscan/fixtures/ward"
	"github.com/medscan/medscan/rules"

	"github.com/medscan/medscan/internal/testproc"
)

func wardCapture(t *testing.T) string {
	t.Helper()
	return filepath.Join(testproc.RepoRoot(t), "fixtures", "ward.pcapng")
}

// TestREADMEMainCommand runs the README's first command the way a user does: from the
// repository root's layout, with the default store in the working directory.
func TestREADMEMainCommand(t *testing.T) {
	work := t.TempDir()
	res := medscan(t, work, nil, "scan", "--pcap", wardCapture(t))
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "medscan.db")); err != nil {
		t.Fatalf("medscan.db not written in the working directory: %v", err)
	}
	for _, want := range []string{"cleartext-hl7", "cleartext-dicom", "cleartext-credentials", "key-weak", "CRITICAL"} {
		if !strings.Contains(strings.ToUpper(res.stdout), strings.ToUpper(want)) {
			t.Errorf("table report lacks %q:\n%s", want, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "medscan: scan 1 stored in") {
		t.Errorf("stderr lacks the summary line: %q", res.stderr)
	}
}

func TestWardFindings(t *testing.T) {
	work := t.TempDir()
	res := medscan(t, work, nil, "scan", "--pcap", wardCapture(t), "--format", "json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	rep := parseReport(t, res.stdout)
	for _, f := range ward.ExpectedFindings {
		if _, ok := rules.Lookup(f.Rule); !ok {
			continue // a rule of a later release: the ward already plants what it will find
		}
		if !rep.hasFinding(f.Rule, f.Host, f.Port) {
			t.Errorf("missing %s on %s:%d; raised:\n%s", f.Rule, f.Host, f.Port, rep.rules())
		}
	}
	for _, q := range ward.QuietEndpoints {
		for _, f := range rep.Findings {
			if f.Host == q.Host && f.Port == q.Port {
				t.Errorf("well-configured %s:%d got finding %s: %s", q.Host, q.Port, f.Rule, f.Message)
			}
		}
	}
	// Secrets and patient data never reach a report or the store.
	db, err := os.ReadFile(filepath.Join(work, "medscan.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(work, "medscan.db-wal"))
	for _, secret := range ward.PlantedSecrets {
		for name, blob := range map[string][]byte{"JSON report": []byte(res.stdout), "store": db, "store WAL": wal} {
			if bytes.Contains(blob, []byte(secret)) {
				t.Errorf("planted secret %q found in the %s", secret, name)
			}
		}
	}
}

func TestScanTwiceSameFindings(t *testing.T) {
	work := t.TempDir()
	first := parseReport(t, medscan(t, work, nil, "scan", "--pcap", wardCapture(t), "--format", "json").stdout)
	second := parseReport(t, medscan(t, work, nil, "scan", "--pcap", wardCapture(t), "--format", "json").stdout)
	if second.Scan.ID != first.Scan.ID+1 {
		t.Errorf("scan ids %d then %d", first.Scan.ID, second.Scan.ID)
	}
	if len(first.Findings) == 0 || len(first.Findings) != len(second.Findings) {
		t.Fatalf("findings %d then %d", len(first.Findings), len(second.Findings))
	}
	for i := range first.Findings {
		if first.Findings[i].Fingerprint != second.Findings[i].Fingerprint {
			t.Errorf("finding %d: fingerprint %s then %s", i, first.Findings[i].Fingerprint, second.Findings[i].Fingerprint)
		}
	}
	// Re-rendering the latest scan from the store gives the same JSON as the scan did.
	again := medscan(t, work, nil, "report", "--scan", "latest", "--format", "json")
	if again.code != 0 {
		t.Fatalf("report exit %d: %s", again.code, again.stderr)
	}
	rescan := medscan(t, work, nil, "report", "--scan", "2", "--format", "json")
	if again.stdout != rescan.stdout {
		t.Error("report --scan latest differs from report --scan 2")
	}
}

func TestStdinGzipAndSeveralSources(t *testing.T) {
	work := t.TempDir()
	raw, err := os.ReadFile(wardCapture(t))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	gzPath := filepath.Join(work, "ward.pcapng.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := parseReport(t, medscan(t, work, nil, "scan", "--db", "a.db", "--pcap", wardCapture(t), "--format", "json").stdout)
	fromGz := parseReport(t, medscan(t, work, nil, "scan", "--db", "b.db", "--pcap", gzPath, "--format", "json").stdout)
	fromStdin := parseReport(t, medscan(t, work, raw, "scan", "--db", "c.db", "--pcap", "-", "--format", "json").stdout)
	for name, r := range map[string]jsonReport{"gzip": fromGz, "stdin": fromStdin} {
		if len(r.Findings) != len(plain.Findings) || len(r.Certificates) != len(plain.Certificates) {
			t.Errorf("%s: %d findings, %d certificates; plain file: %d, %d", name,
				len(r.Findings), len(r.Certificates), len(plain.Findings), len(plain.Certificates))
		}
	}
	out := filepath.Join(work, "out.json")
	res := medscan(t, work, nil, "scan", "--db", "d.db", "--pcap", wardCapture(t), "--pcap", gzPath, "--format", "json", "-o", out)
	if res.code != 0 || res.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", res.code, res.stdout, res.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	both := parseReport(t, string(b))
	if len(both.Scan.Sources) != 2 {
		t.Errorf("sources = %v", both.Scan.Sources)
	}
}

func TestFailOnGate(t *testing.T) {
	work := t.TempDir()
	if res := medscan(t, work, nil, "scan", "-q", "--pcap", wardCapture(t), "--fail-on", "high"); res.code != 3 {
		t.Errorf("--fail-on high: exit %d, want 3 (stderr %s)", res.code, res.stderr)
	}
	// With every rule of the ward disabled by policy, nothing is left to trip the gate.
	policy := filepath.Join(work, "p.yaml")
	var ids []string
	for _, m := range rules.Catalog() {
		ids = append(ids, m.ID)
	}
	os.WriteFile(policy, []byte("version: 1\ndisabled: ["+strings.Join(ids, ", ")+"]\n"), 0o644)
	if res := medscan(t, work, nil, "scan", "-q", "--pcap", wardCapture(t), "--policy", policy, "--fail-on", "info"); res.code != 0 {
		t.Errorf("all rules disabled: exit %d, want 0 (stderr %s)", res.code, res.stderr)
	}
	if res := medscan(t, work, nil, "report", "--scan", "1", "--fail-on", "critical"); res.code != 3 {
		t.Errorf("report --fail-on critical: exit %d, want 3", res.code)
	}
}

func TestUsageErrors(t *testing.T) {
	work := t.TempDir()
	for _, args := range [][]string{
		{"frobnicate"},
		{"scan"},
		{"scan", "--pcap", "x", "--format", "xml"},
		{"scan", "--pcap", "x", "--fail-on", "severe"},
		{"scan", "--bogus"},
		{"scan", "--pcap", "-", "--pcap", "-"},
	} {
		res := medscan(t, work, nil, args...)
		if res.code != 2 {
			t.Errorf("%v: exit %d, want 2", args, res.code)
		}
		if !strings.HasPrefix(res.stderr, "medscan: ") || strings.Count(res.stderr, "\n") > 2 {
			t.Errorf("%v: stderr should be a short medscan: line, got %q", args, res.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "medscan.db")); err == nil {
		t.Error("a usage error created a store")
	}
}

func TestBadInputKeepsWhatWasRead(t *testing.T) {
	work := t.TempDir()
	raw, err := os.ReadFile(wardCapture(t))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(work, "cut.pcapng")
	os.WriteFile(cut, raw[:len(raw)*2/3+5], 0o644)
	// A capture cut inside its first block is still a capture: read, and told.
	early := filepath.Join(work, "early.pcapng")
	os.WriteFile(early, raw[:40], 0o644)

	res := medscan(t, work, nil, "scan", "--pcap", early, "--pcap", cut, "--format", "json")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	var sawEarly, sawCut bool
	for _, l := range lines {
		sawEarly = sawEarly || (strings.Contains(l, "early.pcapng") && strings.Contains(l, "offset "))
		sawCut = sawCut || (strings.Contains(l, "cut.pcapng") && strings.Contains(l, "offset "))
	}
	if !sawEarly || !sawCut {
		t.Errorf("want one line per bad file naming it and the offset:\n%s", res.stderr)
	}
	rep := parseReport(t, res.stdout)
	if rep.Scan.Complete {
		t.Error("scan of a truncated file is marked complete")
	}
	if len(rep.Scan.Problems) < 2 {
		t.Errorf("problems not reported: %+v", rep.Scan.Problems)
	}
	if len(rep.Findings) == 0 {
		t.Error("what was read before the truncation was not kept")
	}
}

// TestNoCaptureStoresNothing is defect 9 of issue 12: an empty file or a text file given
// as --pcap was stored as an incomplete scan and became latest. Now it is one line naming
// the file and what it holds, exit 1, and no store is created, or the one there is left
// as it was, even when a good capture is given beside it.
func TestNoCaptureStoresNothing(t *testing.T) {
	work := t.TempDir()
	write := func(name string, b []byte) string {
		os.WriteFile(filepath.Join(work, name), b, 0o644)
		return name
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte("ward 7 notes\n"))
	zw.Close()
	const kinds = "not a capture file (pcap or pcapng, optionally gzip-compressed): "
	cases := []struct {
		name  string
		args  []string
		stdin []byte
		want  string
	}{
		{"empty", []string{"--pcap", write("empty.pcap", nil)}, nil, "medscan: capture: empty.pcap: " + kinds + "the file is empty\n"},
		{"text", []string{"--pcap", write("notes.txt", []byte("hello\x1b[2J\n"))}, nil,
			"medscan: capture: notes.txt: " + kinds + `starts with "hello\x1b[2J\x0a"` + "\n"},
		{"gzip of text", []string{"--pcap", write("notes.txt.gz", zipped.Bytes())}, nil,
			"medscan: capture: notes.txt.gz: " + kinds + `the gzip stream starts with "ward 7 notes\x0a"` + "\n"},
		{"good and empty", []string{"--pcap", wardCapture(t), "--pcap", "empty.pcap"}, nil,
			"medscan: capture: empty.pcap: " + kinds + "the file is empty\n"},
		{"stdin text", []string{"--pcap", "-"}, []byte("GET / HTTP/1.1\r\n"), "medscan: capture: -: " + kinds + `starts with "GET / HTTP/1.1\x0d\x0a"` + "\n"},
		{"stdin empty", []string{"--pcap", "-"}, []byte{}, "medscan: capture: -: " + kinds + "the file is empty\n"},
	}
	for _, tc := range cases {
		res := medscan(t, work, tc.stdin, append([]string{"scan"}, tc.args...)...)
		if res.code != 1 || res.stderr != tc.want || res.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr\n got %q\nwant %q", tc.name, res.code, res.stdout, res.stderr, tc.want)
		}
		if _, err := os.Stat(filepath.Join(work, "medscan.db")); err == nil {
			t.Fatalf("%s: a store was created", tc.name)
		}
	}
	// With a store: the latest scan stays the one there was.
	if res := medscan(t, work, nil, "scan", "-q", "--pcap", wardCapture(t), "--format", "json"); res.code != 0 {
		t.Fatalf("ward: exit %d %s", res.code, res.stderr)
	}
	for _, tc := range cases {
		if res := medscan(t, work, tc.stdin, append([]string{"scan"}, tc.args...)...); res.code != 1 {
			t.Errorf("%s with a store: exit %d", tc.name, res.code)
		}
	}
	res := medscan(t, work, nil, "scans", "--format", "json")
	var scans []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &scans); err != nil || len(scans) != 1 || scans[0].ID != 1 {
		t.Errorf("scans after the refused ones: %v %s", err, res.stdout)
	}
}

// TestPolicyTypeErrorInUsersTerms is the policy part of defect 13 of issue 12: a value
// of the wrong type in a policy leaked YAML internals ("cannot unmarshal !!str `lots`
// into int"). It names the file, line, key path, what is wanted and what was given.
func TestPolicyTypeErrorInUsersTerms(t *testing.T) {
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "site.yaml"), []byte("version: 1\nthresholds:\n  leaf_max_days: lots\n"), 0o644)
	res := medscan(t, work, nil, "scan", "--pcap", wardCapture(t), "--policy", "site.yaml")
	const want = "medscan: rules: site.yaml: line 3: thresholds.leaf_max_days: want a whole number, got \"lots\"\n"
	if res.code != 1 || res.stderr != want {
		t.Errorf("exit %d, stderr\n got %q\nwant %q", res.code, res.stderr, want)
	}
	if _, err := os.Stat(filepath.Join(work, "medscan.db")); err == nil {
		t.Error("a bad policy created a store")
	}
}

// TestOutputCheckedFirst is part of defect 8 of issue 12: "-o out/" naming a folder was
// found only after the whole scan ran. An -o that cannot be a file is a usage error
// before any work, for every command that writes a document, and creates nothing.
func TestOutputCheckedFirst(t *testing.T) {
	work := t.TempDir()
	os.Mkdir(filepath.Join(work, "out"), 0o755)
	os.WriteFile(filepath.Join(work, "file"), nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--pcap", wardCapture(t), "-o", "out/"}, "medscan: scan: -o out/: names a directory; give a file name\n"},
		{[]string{"scan", "--pcap", wardCapture(t), "-o", "out"}, "medscan: scan: -o out: is a directory; give a file name\n"},
		{[]string{"scan", "--pcap", wardCapture(t), "-o", "nosuch/r.json"}, "medscan: scan: -o nosuch/r.json: directory nosuch: no such file or directory\n"},
		{[]string{"scan", "--pcap", wardCapture(t), "-o", "file/r.json"}, "medscan: scan: -o file/r.json: file is not a directory\n"},
		{[]string{"report", "-o", "out"}, "medscan: report: -o out: is a directory; give a file name\n"},
		{[]string{"rules", "-o", "out/"}, "medscan: rules: -o out/: names a directory; give a file name\n"},
	} {
		res := medscan(t, work, nil, tc.args...)
		if res.code != 2 || !strings.HasPrefix(res.stderr, tc.want) || res.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr\n got %q\nwant %q", tc.args, res.code, res.stdout, res.stderr, tc.want)
		}
	}
	if entries, _ := os.ReadDir(work); len(entries) != 2 {
		t.Errorf("files were created: %v", entries)
	}
	if entries, _ := os.ReadDir(filepath.Join(work, "out")); len(entries) != 0 {
		t.Errorf("files were created in out: %v", entries)
	}
	// A file that can be written still is.
	if res := medscan(t, work, nil, "scan", "-q", "--pcap", wardCapture(t), "--format", "json", "-o", "out/r.json"); res.code != 0 {
		t.Fatalf("exit %d %s", res.code, res.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(work, "out", "r.json")); err != nil || !bytes.HasPrefix(b, []byte("{")) {
		t.Errorf("out/r.json: %v %.40q", err, b)
	}
}

func TestRulesCommand(t *testing.T) {
	work := t.TempDir()
	res := medscan(t, work, nil, "rules")
	if res.code != 0 || !strings.Contains(res.stdout, "cleartext-hl7") || !strings.Contains(res.stdout, "tls-weak-dh") {
		t.Errorf("rules: exit %d\n%s", res.code, res.stdout)
	}
	ex := medscan(t, work, nil, "rules", "--example-policy")
	if ex.code != 0 || !strings.Contains(ex.stdout, "thresholds:") {
		t.Fatalf("--example-policy: exit %d\n%s", ex.code, ex.stdout)
	}
	p := filepath.Join(work, "p.yaml")
	os.WriteFile(p, []byte(ex.stdout), 0o644)
	if res := medscan(t, work, nil, "scan", "-q", "--pcap", wardCapture(t), "--policy", p); res.code != 0 {
		t.Errorf("the example policy does not load back: exit %d %s", res.code, res.stderr)
	}
	bad := filepath.Join(work, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nthresholds:\n  leaf_max_dayz: 10\n"), 0o644)
	res = medscan(t, work, nil, "scan", "--pcap", wardCapture(t), "--policy", bad)
	if res.code == 0 || !strings.Contains(res.stderr, "leaf_max_dayz") || !strings.Contains(res.stderr, "bad.yaml") {
		t.Errorf("wrong key: exit %d, stderr %q", res.code, res.stderr)
	}
}

// A mistyped file or store name is an error before anything is recorded.
func TestMissingInputsTouchNothing(t *testing.T) {
	work := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--pcap", "nosuch.pcap"}, "medscan: nosuch.pcap: no such file or directory"},
		{[]string{"scan", "--pcap", "."}, "medscan: .: is a directory"},
		{[]string{"report", "--db", "nosuch.db"}, "medscan: no store at nosuch.db"},
	} {
		res := medscan(t, work, nil, tt.args...)
		if res.code != 1 || !strings.HasPrefix(res.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
	entries, _ := os.ReadDir(work)
	if len(entries) != 0 {
		t.Errorf("files were created: %v", entries)
	}
}

// A policy may come from a pipe (--policy /dev/stdin, or a shell's <(…)): it is read once.
func TestPolicyFromPipe(t *testing.T) {
	work := t.TempDir()
	res := medscan(t, work, []byte("version: 1\ndisabled: [cert-self-signed]\n"),
		"scan", "-q", "--pcap", wardCapture(t), "--policy", "/dev/stdin", "--format", "json")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	rep := parseReport(t, res.stdout)
	if len(rep.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range rep.Findings {
		if f.Rule == "cert-self-signed" {
			t.Fatalf("the piped policy was not applied: %s on %s", f.Rule, f.Host)
		}
	}
}

// The ward's CT sends a patient's data set to the PACS: medscan names the SOP class and
// counts the patient attributes, and copies none of them.
func TestWardDICOMDepth(t *testing.T) {
	work := t.TempDir()
	res := medscan(t, work, nil, "scan", "-q", "--pcap", wardCapture(t), "--format", "json")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	rep := parseReport(t, res.stdout)
	var found bool
	for _, d := range rep.DICOM {
		if d["calling_ae"] != "CT01" || d["called_ae"] != "PACS" {
			continue
		}
		found = true
		names, _ := d["abstract_syntax_names"].([]any)
		var ct bool
		for _, n := range names {
			ct = ct || n == "CT Image Storage"
		}
		if !ct || d["result"] != "released" {
			t.Errorf("CT01 association: names %v, result %v", names, d["result"])
		}
		if n, _ := d["patient_attributes"].(float64); n < 1 {
			t.Errorf("patient_attributes = %v, want at least 1", d["patient_attributes"])
		}
	}
	if !found {
		t.Fatalf("no CT01 -> PACS association in %v", rep.DICOM)
	}
}
