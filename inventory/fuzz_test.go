package inventory

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
)

// FuzzClassifyStrings: the strings from the wire that classification reads (a DHCP
// vendor class and host name, a User-Agent and Server header, a certificate subject, HL7
// sending application and facility, DICOM AE titles and implementation, a host name and
// its source) never panic Classify, and give every asset a known kind, at least one
// reason, and only clean text (observe.Clean) that quotes a wire string at most
// maxQuoteRune runes long.
func FuzzClassifyStrings(f *testing.F) {
	f.Add("MSFT 5.0", "WS-4WEST-02", "IntelliVue-MX450/M.00.03 (bm-0021)", "nginx/1.24", "CN=Baxter Sigma Spectrum,O=Baxter",
		"PHILIPS_IX", "ICU", "CT01", "1.2.840.113619.6.374", "GE_DCM_3.0", "netbios", macBaxter)
	f.Add("Hospira Plum 360", "pump-7", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "", "CN=pacs.example",
		"EPIC", "", "", "1.2.276.0.7230010.3.0.3.6.8", "OFFIS_DCMTK_368", "dhcp", macDell)
	f.Add("\x1b[31mventilator\x1b[0m", "=cmd|' /C calc'!A0", "infusion pump\r\n", "<script>", "CN=\u202eevil",
		"A^B", "\x00", strings.Repeat("é", 200), "1.3.46.670589.\xff", "", "mdns", "00:00:0c:07:ac:14")
	f.Fuzz(func(t *testing.T, vendorClass, dhcpName, ua, server, subject, hl7App, hl7Fac, ae, implUID, implVer, nameSource, mac string) {
		dev, mw := netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("10.0.0.20")
		s := observe.NewSet()
		s.AddHost(dev, mac, t0)
		s.AddDHCP(observe.DHCPLease{MAC: mac, Addr: dev, Server: netip.MustParseAddr("10.0.0.2"), VendorClass: vendorClass,
			Hostname: dhcpName, Acked: true, FirstSeen: t0})
		s.AddName(observe.HostName{Addr: dev, Name: dhcpName, Source: nameSource, FirstSeen: t0})
		s.AddHTTP(observe.HTTPRequest{Flow: flow("10.0.1.5:40000", "10.0.0.10:80"), FirstSeen: t0, Method: "POST",
			Path: "/api/" + ae, UserAgent: ua, Server: server}.AsEmitted())
		s.AddHL7(observe.HL7Message{Flow: flow("10.0.1.5:40001", "10.0.0.10:6661"), FirstSeen: t0, SendingApp: hl7App,
			SendingFacility: hl7Fac, MessageType: "ORU", TriggerEvent: hl7Fac})
		s.AddHL7(observe.HL7Message{Flow: flow("10.0.1.6:40001", "10.0.0.10:6661"), FirstSeen: t0, SendingApp: hl7App,
			MessageType: hl7App, TriggerEvent: "R01"})
		s.AddHL7(observe.HL7Message{Flow: flow("10.0.0.10:50000", "10.0.0.20:2575"), FirstSeen: t0, SendingApp: hl7App,
			MessageType: "ORU", TriggerEvent: "R01", IsAck: hl7Fac == ""})
		s.AddDICOM(observe.DICOMAssociation{Flow: flow("10.0.1.5:40002", "10.0.0.20:104"), FirstSeen: t0, CallingAE: ae,
			CalledAE: server, ImplClassUID: implUID, ImplVersion: implVer, AbstractSyntaxNames: []string{subject, "CT Image Storage"}})
		s.AddTLS(observe.TLSSession{Flow: flow("10.0.1.5:40003", "10.0.0.10:443"), FirstSeen: t0, SNI: dhcpName}, nil, nil)
		for _, a := range Classify(s, Options{}) {
			if !slices.Contains(kindOrder, a.Kind) && a.Kind != observe.KindUnknown {
				t.Fatalf("%s: unknown kind %q", a.Addr, a.Kind)
			}
			if len(a.Reasons) == 0 {
				t.Fatalf("%s: %s without a reason", a.Addr, a.Kind)
			}
			texts := slices.Concat(a.Reasons, a.DHCPVendorClass, a.UserAgents, a.Servers, a.CertSubjects, a.HL7Apps,
				a.DICOMAETitles, a.DICOMImplementations, a.Roles, []string{a.Manufacturer, a.Model, a.Vendor})
			for _, n := range a.Names {
				texts = append(texts, n.Name)
			}
			for _, s := range texts {
				if observe.Clean(s) != s {
					t.Fatalf("%s: text from the wire not cleaned: %q", a.Addr, s)
				}
			}
			for _, r := range a.Reasons {
				for _, q := range strings.Split(r, "'")[1:] {
					if n := len([]rune(q)); n > 4*(maxQuoteRune+1) {
						t.Fatalf("%s: reason quotes %d runes: %q", a.Addr, n, r)
					}
				}
			}
			if a.Addr == dev && a.Kind == observe.KindUnknown {
				t.Fatalf("a host sending HL7 observations and storing images is unknown: %v", a.Reasons)
			}
			if a.Addr == mw && a.Kind == observe.KindUnknown {
				t.Fatalf("the receiver of images is unknown: %v", a.Reasons)
			}
		}
	})
}
