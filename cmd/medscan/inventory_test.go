package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
)

// TestInventoryWard scans the ward capture and lists its inventory the way a user does:
// the pumps are medical devices and the interface engine is middleware, each with the
// reasons that say why.
func TestInventoryWard(t *testing.T) {
	work := t.TempDir()
	if res := medscan(t, work, nil, "scan", "--pcap", wardCapture(t)); res.code != 0 && res.code != exitFindings {
		t.Fatalf("scan: exit %d\n%s", res.code, res.stderr)
	}
	res := medscan(t, work, nil, "inventory", "--format", "json")
	if res.code != 0 {
		t.Fatalf("inventory: exit %d\n%s", res.code, res.stderr)
	}
	var assets []findings.Asset
	if err := json.Unmarshal([]byte(res.stdout), &assets); err != nil {
		t.Fatalf("inventory JSON: %v\n%s", err, res.stdout)
	}
	by := map[string]findings.Asset{}
	for _, a := range assets {
		by[a.IP()] = a
	}
	for _, ip := range []string{"10.20.1.11", "10.20.1.12", "10.20.1.13", "10.20.1.14"} {
		a := by[ip]
		if a.Kind != "medical-device" || len(a.Reasons) == 0 || !strings.HasPrefix(a.Reasons[0], "sends HL7 ORU^R01 to 10.20.0.10:6661") {
			t.Errorf("pump %s: kind %q, reasons %q", ip, a.Kind, a.Reasons)
		}
	}
	engine := by["10.20.0.10"]
	if engine.Kind != "middleware" || len(engine.Reasons) == 0 ||
		!strings.Contains(engine.Reasons[0], "receives HL7 ORU^R01 from 4 hosts") || !strings.Contains(engine.Reasons[0], "sends on to 10.20.0.20:443") {
		t.Errorf("engine: kind %q, reasons %q", engine.Kind, engine.Reasons)
	}

	res = medscan(t, work, nil, "inventory", "--kind", "medical-device")
	if res.code != 0 {
		t.Fatalf("inventory --kind: exit %d\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"10.20.1.11", "10.20.1.14", "medical-device", "Baxter", "sends HL7 ORU^R01"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, res.stdout)
		}
	}
	for _, not := range []string{"10.20.0.10 ", "middleware"} {
		if strings.Contains(res.stdout, not) {
			t.Errorf("--kind medical-device lists %q:\n%s", not, res.stdout)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n") {
		if n := len([]rune(line)); n > report.DefaultWidth {
			t.Errorf("table line of %d columns: %q", n, line)
		}
	}

	res = medscan(t, work, nil, "inventory", "--kind", "middleware", "--format", "csv")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "ip,mac,") || !strings.Contains(res.stdout, "\n10.20.0.10,") ||
		strings.Contains(res.stdout, "\n10.20.1.11,") {
		t.Errorf("csv: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

func TestInventoryUsage(t *testing.T) {
	work := t.TempDir()
	for _, args := range [][]string{{"inventory", "--kind", "toaster"}, {"inventory", "--format", "xml"}, {"inventory", "extra"}} {
		if res := medscan(t, work, nil, args...); res.code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, res.code, exitUsage, res.stderr)
		}
	}
	if res := medscan(t, work, nil, "inventory"); res.code != exitError || !strings.Contains(res.stderr, "no store") {
		t.Errorf("inventory without a store: exit %d\n%s", res.code, res.stderr)
	}
}
