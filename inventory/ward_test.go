package inventory_test

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medscan/medscan/capture"
	"github.com/medscan/medscan/capture/protocols"
	"github.com/medscan/medscan/inventory"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
)

// TestWardInventory reads the ward capture as a scan does and checks the kinds a
// security team relies on: the pumps are medical devices, the HL7 interface engine is
// middleware because of what it does, and the EHR it forwards to is a clinical server.
// It asserts kinds and reasons, not totals, so that dissectors added later (DHCP, DNS)
// may add evidence without breaking it.
func TestWardInventory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a capture")
	}
	set := observe.NewSet()
	eng := capture.NewEngine(capture.Config{Dissectors: protocols.All(), Datagrams: protocols.Datagrams(), Secrets: observe.NewSecretHasher(make([]byte, 32)),
		Source: observe.SourcePassive}, set)
	if err := eng.ReadFile(filepath.Join("..", "fixtures", "ward.pcapng")); err != nil {
		t.Fatal(err)
	}
	eng.Finish()
	lint.ExamineWith(set, lint.Options{})
	assets := inventory.Classify(set, inventory.Options{})
	if len(set.Assets) != len(assets) {
		t.Fatalf("set.Assets has %d assets, Classify returned %d", len(set.Assets), len(assets))
	}
	by := map[string]*observe.Asset{}
	for i, a := range assets {
		by[a.Addr.String()] = a
		if i > 0 && assets[i-1].Addr.Compare(a.Addr) >= 0 {
			t.Errorf("assets out of order at %s", a.Addr)
		}
	}
	want := []struct {
		ip, kind, reason, maker string
	}{
		{"10.20.1.11", observe.KindMedicalDevice, "sends HL7 ORU^R01 to 10.20.0.10:6661", "Baxter"},
		{"10.20.1.12", observe.KindMedicalDevice, "sends HL7 ORU^R01", "Baxter"},
		{"10.20.1.13", observe.KindMedicalDevice, "sends HL7 ORU^R01", "Baxter"},
		{"10.20.1.14", observe.KindMedicalDevice, "registered to 'Baxter International Inc'", "Baxter"},
		{"10.20.1.21", observe.KindMedicalDevice, "IntelliVue", "Philips Healthcare"},
		{"10.20.1.31", observe.KindMedicalDevice, "Roche", "Roche Diagnostics"},
		{"10.20.2.5", observe.KindMedicalDevice, "stores images on 10.20.0.30:104", "GE Healthcare"},
		{"10.20.0.10", observe.KindMiddleware, "receives HL7 ORU^R01 from 4 hosts (10.20.1.11, 10.20.1.12, 10.20.1.13, 10.20.1.14) and sends on to 10.20.0.20:443 (TLS)", ""},
		{"10.20.0.20", observe.KindClinicalServer, "receives from 10.20.0.10 (middleware) over TLS", ""},
		{"10.20.0.30", observe.KindClinicalServer, "DICOM SCP storing images from 10.20.2.5", ""},
		{"10.20.0.40", observe.KindClinicalServer, "for 3 medical devices", ""},
		{"10.20.0.50", observe.KindClinicalServer, "MQTT broker for 3 medical devices", ""},
		{"10.20.0.1", observe.KindInfrastructure, "HSRP/VRRP", ""},
		{"10.20.3.10", observe.KindWorkstation, "PC maker", ""},
		{"10.20.3.50", observe.KindWorkstation, "PC maker", ""},
	}
	for _, w := range want {
		a := by[w.ip]
		if a == nil {
			t.Errorf("%s: no asset", w.ip)
			continue
		}
		if a.Kind != w.kind {
			t.Errorf("%s: kind %q, want %q; reasons %q", w.ip, a.Kind, w.kind, a.Reasons)
			continue
		}
		if len(a.Reasons) == 0 || !strings.Contains(strings.Join(a.Reasons, "\n"), w.reason) {
			t.Errorf("%s: reasons %q lack %q", w.ip, a.Reasons, w.reason)
		}
		if a.Manufacturer != w.maker {
			t.Errorf("%s: manufacturer %q, want %q", w.ip, a.Manufacturer, w.maker)
		}
	}
	if a := by["10.20.2.5"]; a != nil && (a.Model != "REVO_CT_27" || !contains(a.DICOMAETitles, "CT01")) {
		t.Errorf("CT: model %q, AE titles %q", a.Model, a.DICOMAETitles)
	}
	if a := by["10.20.1.21"]; a != nil && a.Model != "IntelliVue-MX450 M.00.03" {
		t.Errorf("monitor: model %q", a.Model)
	}
	if a := by["10.20.1.11"]; a != nil && (!contains(a.HL7Apps, "pump-0011^4WEST") || !contains(a.Roles, "hl7-sender")) {
		t.Errorf("pump: HL7 apps %q, roles %q", a.HL7Apps, a.Roles)
	}
	if a := by["10.20.0.10"]; a != nil && (!contains(a.Roles, "hl7-receiver") || !contains(a.HL7Apps, "HL7ENGINE^EXAMPLEHEALTH")) {
		t.Errorf("engine: roles %q, HL7 apps %q", a.Roles, a.HL7Apps)
	}
	if a := by["10.20.0.20"]; a != nil && !containsName(a.Names, "ehr.hospital.example.org") {
		t.Errorf("EHR names %v lack its SNI", a.Names)
	}
	if a := by[netip.MustParseAddr("10.20.1.11").String()]; a != nil && a.Vendor != "Baxter International Inc" {
		t.Errorf("pump vendor %q", a.Vendor)
	}
}

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

func containsName(v []observe.AssetName, s string) bool {
	for _, x := range v {
		if x.Name == s {
			return true
		}
	}
	return false
}
