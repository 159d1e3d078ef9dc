package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// partialReport is what the partial-scan tests read of a JSON report.
type partialReport struct {
	Scan struct {
		Complete bool `json:"complete"`
		Problems []struct {
			Source  string `json:"source"`
			Message string `json:"message"`
		} `json:"problems"`
	} `json:"scan"`
	Probes []struct {
		Port        int    `json:"port"`
		Outcome     string `json:"outcome"`
		Profile     string `json:"profile"`
		Connections int    `json:"connections"`
	} `json:"probes"`
}

func parsePartial(t *testing.T, s string) partialReport {
	t.Helper()
	var r partialReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%.2000s", err, s)
	}
	return r
}

// problems joins a report's problems, one per line, as "source: message".
func (r partialReport) problems() string {
	var b strings.Builder
	for _, p := range r.Scan.Problems {
		fmt.Fprintf(&b, "%s: %s\n", p.Source, p.Message)
	}
	return b.String()
}

// TestScanAllExcluded: a scan whose every target is excluded probed nothing, so it is
// incomplete with the reason in every format, and fails the gate unless --allow-partial.
func TestScanAllExcluded(t *testing.T) {
	dir := t.TempDir()
	res := medscan(t, dir, nil, "scan", "127.0.0.1", "-p", "443", "--exclude", "127.0.0.1", "-f", "json", "--db", "m.db")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	r := parsePartial(t, res.stdout)
	if r.Scan.Complete || !strings.Contains(r.problems(), "probe: all targets excluded: nothing was probed") {
		t.Errorf("complete %v, problems %q", r.Scan.Complete, r.problems())
	}
	if !strings.Contains(res.stderr, "some targets were not assessed") || !strings.Contains(res.stderr, "--allow-partial") {
		t.Errorf("stderr does not say why it failed:\n%s", res.stderr)
	}
	for _, f := range []string{"table", "html", "sarif"} {
		out := medscan(t, dir, nil, "report", "-f", f, "--db", "m.db")
		if out.code != 0 || !strings.Contains(out.stdout, "all targets excluded: nothing was probed") {
			t.Errorf("report -f %s: exit %d, the problem is missing\n%.3000s", f, out.code, out.stdout)
		}
	}

	res = medscan(t, dir, nil, "scan", "127.0.0.1", "-p", "443", "--exclude", "127.0.0.1", "--allow-partial", "--db", "m.db")
	if res.code != 0 || !strings.Contains(res.stdout, "all targets excluded") || !strings.Contains(res.stderr, "accepted by --allow-partial") {
		t.Errorf("--allow-partial: exit %d, want 0 with the problem shown\n%s\n%s", res.code, res.stderr, res.stdout)
	}
	// An unreadable capture is not what --allow-partial accepts.
	res = medscan(t, dir, []byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00\x01\x00"),
		"scan", "--pcap", "-", "--allow-partial", "--db", "m.db")
	if res.code != 1 {
		t.Errorf("truncated capture with --allow-partial: exit %d, want 1\n%s", res.code, res.stderr)
	}
}

// TestScanThoroughCutByCap probes a loopback TLS server with the thorough profile under
// a connection cap that leaves room for the standard checks only: the scan is incomplete,
// the port is recorded as examined with the standard profile, and the problem names the
// checks the cap cut. Uncapped, the same scan is complete.
func TestScanThoroughCutByCap(t *testing.T) {
	dir := t.TempDir()
	port, _ := tlsListener(t, "127.0.0.1:0")
	scan := func(args ...string) (result, partialReport) {
		res := medscan(t, dir, nil, append([]string{"scan", "127.0.0.1", "-p", strconv.Itoa(port), "--pause", "0",
			"-f", "json", "--db", "m.db"}, args...)...)
		return res, parsePartial(t, res.stdout)
	}
	res, std := scan("--profile", "standard")
	if res.code != 0 || !std.Scan.Complete || len(std.Probes) != 1 {
		t.Fatalf("standard: exit %d, %+v\n%s", res.code, std, res.stderr)
	}
	res, th := scan("--profile", "thorough")
	if res.code != 0 || !th.Scan.Complete || th.Probes[0].Profile != "thorough" {
		t.Fatalf("uncapped thorough: exit %d, %+v\n%s", res.code, th, res.stderr)
	}
	limit := std.Probes[0].Connections
	if limit >= th.Probes[0].Connections {
		t.Fatalf("thorough makes %d connections, standard %d: no cap between them", th.Probes[0].Connections, limit)
	}
	res, cut := scan("--profile", "thorough", "--max-conns-per-host", strconv.Itoa(limit))
	if res.code != 1 || cut.Scan.Complete {
		t.Fatalf("capped thorough: exit %d, complete %v, want 1, incomplete\n%s", res.code, cut.Scan.Complete, res.stderr)
	}
	want := fmt.Sprintf("127.0.0.1:%d: the thorough checks were cut by --max-conns-per-host %d (", port, limit)
	if p := cut.problems(); !strings.Contains(p, want) || !strings.Contains(p, "not assessed)") {
		t.Errorf("problems %q, want %q...", p, want)
	}
	if cut.Probes[0].Outcome != "tls" || cut.Probes[0].Profile != "standard" {
		t.Errorf("capped port %+v: want tls, examined with the standard profile only", cut.Probes[0])
	}
	res, _ = scan("--profile", "thorough", "--max-conns-per-host", strconv.Itoa(limit), "--allow-partial")
	if res.code != 0 {
		t.Errorf("capped thorough with --allow-partial: exit %d, want 0\n%s", res.code, res.stderr)
	}
}
