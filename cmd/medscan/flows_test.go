package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
)

// TestFlowsWard scans the ward capture and reads its flows back the way a user does: as
// JSON with the pumps' HL7 in clear to the engine, as a table, and as the map, dot and
// mermaid chosen by -o's extension; a mistyped format is a usage error naming the
// formats, before the store is opened.
func TestFlowsWard(t *testing.T) {
	work := t.TempDir()
	if res := medscan(t, work, nil, "scan", "--pcap", wardCapture(t)); res.code != 0 && res.code != exitFindings {
		t.Fatalf("scan: exit %d\n%s", res.code, res.stderr)
	}
	res := medscan(t, work, nil, "flows", "--format", "json")
	if res.code != 0 {
		t.Fatalf("flows: exit %d\n%s", res.code, res.stderr)
	}
	var flows []findings.Flow
	if err := json.Unmarshal([]byte(res.stdout), &flows); err != nil {
		t.Fatalf("flows JSON: %v\n%s", err, res.stdout)
	}
	byKey := map[string]findings.Flow{}
	for _, f := range flows {
		byKey[f.Key()] = f
	}
	if f := byKey["10.20.1.11 -> 10.20.0.10:6661|"]; f.Protection != findings.ProtectionClear || f.ClientRole != findings.RoleDevice ||
		f.ServerRole != findings.RoleMiddleware || !strings.Contains(strings.Join(f.Findings.Rules, " "), "cleartext-hl7") {
		t.Errorf("pump to engine: %+v", f)
	}

	res = medscan(t, work, nil, "flows")
	if res.code != 0 || !strings.Contains(res.stdout, "hl7-mllp") || !strings.Contains(res.stdout, "tls-unknown-client-auth") ||
		!strings.Contains(res.stdout, "flows: ") {
		t.Errorf("flows table: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	for ext, head := range map[string]string{".svg": "<?xml", ".dot": "digraph flows {", ".mmd": "---\ntitle:"} {
		out := filepath.Join(work, "flows"+ext)
		if res := medscan(t, work, nil, "flows", "-o", out); res.code != 0 {
			t.Fatalf("flows -o %s: exit %d\n%s", out, res.code, res.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil || !strings.HasPrefix(string(b), head) {
			t.Errorf("flows -o flows%s starts %.40q, want %q (%v)", ext, b, head, err)
		}
	}
	// The report's svg is the same map.
	if res := medscan(t, work, nil, "report", "-o", filepath.Join(work, "report.svg")); res.code != 0 && res.code != exitFindings {
		t.Fatalf("report -o report.svg: exit %d\n%s", res.code, res.stderr)
	}
	a, _ := os.ReadFile(filepath.Join(work, "flows.svg"))
	b, _ := os.ReadFile(filepath.Join(work, "report.svg"))
	if len(a) == 0 || string(a) != string(b) {
		t.Errorf("report -o report.svg differs from flows -o flows.svg")
	}

	res = medscan(t, work, nil, "flows", "-f", "png", "--db", filepath.Join(work, "absent", "x.db"))
	if res.code != exitUsage || !strings.Contains(res.stderr, `flows: --format: unknown format "png" (want one of csv, dot, json, mermaid, svg, table)`) {
		t.Errorf("flows -f png: exit %d\n%s", res.code, res.stderr)
	}
}
