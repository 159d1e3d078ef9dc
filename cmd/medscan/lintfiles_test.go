package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// findingsOf decodes the findings of a JSON report as generic maps, so that a test reads
// exactly what a consumer of the JSON would.
func findingsOf(t *testing.T, out string) []map[string]any {
	t.Helper()
	var doc struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("report is not JSON: %v\n%.2000s", err, out)
	}
	return doc.Findings
}

// Issue 12, defects 11 and 12, through the binary on the ward capture: the cleartext-hl7
// evidence lists the HL7 device identities as [] (never null) under a name that says
// what they are, in JSON and HTML; a pump's self-signed certificate is reported as
// self-signed, not also by zlint for lacking the authority key identifier a self-signed
// certificate may omit.
func TestWardHL7DeviceIDsAndSelfSignedPumps(t *testing.T) {
	work := t.TempDir()
	db := filepath.Join(work, "m.db")
	res := medscan(t, work, nil, "scan", "--pcap", wardCapture(t), "--db", db, "--format", "json")
	if res.code != 0 {
		t.Fatalf("scan: exit %d\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, `"devices": null`) || strings.Contains(res.stdout, `"devices":null`) {
		t.Errorf("a null devices list in the JSON report")
	}
	hl7, selfSigned := 0, 0
	for _, f := range findingsOf(t, res.stdout) {
		ev, _ := f["evidence"].(map[string]any)
		switch f["rule"] {
		case "cleartext-hl7":
			hl7++
			ids, ok := ev["hl7_device_ids"].([]any)
			if !ok || ids == nil {
				t.Errorf("cleartext-hl7 hl7_device_ids %#v, want a list", ev["hl7_device_ids"])
			}
			if _, old := ev["devices"]; old {
				t.Errorf("cleartext-hl7 still names its HL7 device identities \"devices\"")
			}
		case "cert-self-signed":
			selfSigned++
		case "cert-lint":
			if ev["lint"] == "e_ext_authority_key_identifier_no_key_identifier" {
				t.Errorf("a self-signed certificate failed for lacking an AKI: %v", f["message"])
			}
		}
	}
	if hl7 == 0 || selfSigned != 4 {
		t.Errorf("%d cleartext-hl7 findings, %d cert-self-signed (want the 4 pumps)", hl7, selfSigned)
	}
	res = medscan(t, work, nil, "report", "--scan", "latest", "--db", db, "--format", "html")
	if res.code != 0 {
		t.Fatalf("report html: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "hl7_device_ids") || strings.Contains(res.stdout, ">devices<") {
		t.Errorf("the HTML evidence does not name the HL7 device identities as such")
	}
}
