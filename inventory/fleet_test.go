package inventory

import (
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
)

// TestMiddlewareAcrossSites: an interface engine with one sender at this site and one
// at another (observe.Fleet) is middleware, naming the sites; the other site's sender
// counts only when it addressed the same receiving application or AE title (two sites
// number their networks alike: an address alone is not one host).
func TestMiddlewareAcrossSites(t *testing.T) {
	build := func(fleet *observe.Fleet) *observe.Set {
		s := observe.NewSet()
		m := hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01")
		m.ReceivingApp = "ENGINE"
		s.AddHL7(m)
		s.AddHL7(hl7("10.0.0.10:50000", "10.0.0.20:2575", "ORU", "R01"))
		d := observe.DICOMAssociation{Flow: flow("10.0.1.7:41000", "10.0.0.30:104"), FirstSeen: t0, CallingAE: "CT1",
			CalledAE: "ROUTER", Result: "accepted"}
		s.AddDICOM(d)
		s.AddDICOM(observe.DICOMAssociation{Flow: flow("10.0.0.30:42000", "10.0.0.40:104"), FirstSeen: t0,
			CallingAE: "ROUTER", CalledAE: "PACS", Result: "accepted"})
		s.Fleet = fleet
		return s
	}
	sender := func(site, client, server, proto, app string) observe.FleetSender {
		return observe.FleetSender{Site: site, Client: client, Server: server, Protocol: proto, App: app}
	}
	tests := []struct {
		name   string
		fleet  *observe.Fleet
		ip     string
		kind   string
		reason string
	}{
		{"alone: one sender is not middleware", nil, "10.0.0.10", observe.KindMedicalDevice, "sends HL7"},
		{"an HL7 sender at another site to the same engine: middleware across sites",
			&observe.Fleet{Site: "north", Senders: []observe.FleetSender{sender("west", "10.0.1.5", "10.0.0.10", "hl7", "ENGINE")}},
			"10.0.0.10", observe.KindMiddleware,
			"receives HL7 ORU^R01 from 2 hosts (10.0.1.5, 10.0.1.5 (site west)) and sends on to 10.0.0.20:2575 (HL7); across sites north, west"},
		{"another application at the same address elsewhere: another host",
			&observe.Fleet{Site: "north", Senders: []observe.FleetSender{sender("west", "10.0.1.5", "10.0.0.10", "hl7", "LIS")}},
			"10.0.0.10", observe.KindMedicalDevice, "sends HL7"},
		{"a DICOM router fed at two sites",
			&observe.Fleet{Site: "north", Senders: []observe.FleetSender{sender("south", "10.0.1.9", "10.0.0.30", "dicom", "ROUTER")}},
			"10.0.0.30", observe.KindMiddleware, "across sites north, south"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := build(tc.fleet)
			Classify(set, Options{})
			for _, a := range set.Assets {
				if a.Addr.String() != tc.ip {
					continue
				}
				if a.Kind != tc.kind || len(a.Reasons) == 0 || !strings.Contains(a.Reasons[0], tc.reason) {
					t.Fatalf("%s: kind %s, reasons %q; want %s with %q", tc.ip, a.Kind, a.Reasons, tc.kind, tc.reason)
				}
				return
			}
			t.Fatalf("no asset %s", tc.ip)
		})
	}
}
