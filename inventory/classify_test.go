package inventory

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func ep(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func flow(c, s string) observe.Flow { return observe.Flow{Client: ep(c), Server: ep(s)} }

func hl7(c, s, typ, trig string) observe.HL7Message {
	return observe.HL7Message{Flow: flow(c, s), FirstSeen: t0, SendingApp: "APP", MessageType: typ, TriggerEvent: trig}
}

// macs of real registrants (observe/oui's table names them).
const (
	macBaxter  = "58:42:e4:3a:7c:11"
	macDell    = "f8:bc:12:6a:03:10"
	macPhilips = "00:09:fb:5d:a2:21"
	macCisco   = "00:1b:54:00:00:01"
	macVMware  = "00:50:56:8a:10:10"
)

func TestClassifyKinds(t *testing.T) {
	tests := []struct {
		name   string
		build  func(s *observe.Set)
		ip     string
		kind   string
		reason string // a substring of the first reason
		maker  string
		model  string
		// quiet: the address earns no asset, only the compact record of the host
		// table (findings.QuietHost); kind and reason are then unused.
		quiet bool
	}{
		{
			name: "HL7 observation sender is a medical device",
			build: func(s *observe.Set) {
				s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
			},
			ip: "10.0.1.5", kind: observe.KindMedicalDevice, reason: "sends HL7 ORU^R01 to 10.0.0.10:6661",
		},
		{
			name: "interface engine is middleware by behaviour",
			build: func(s *observe.Set) {
				s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
				s.AddHL7(hl7("10.0.1.6:40000", "10.0.0.10:6661", "ORU", "R01"))
				s.AddHL7(hl7("10.0.0.10:50000", "10.0.0.20:2575", "ORU", "R01"))
			},
			ip: "10.0.0.10", kind: observe.KindMiddleware,
			reason: "receives HL7 ORU^R01 from 2 hosts (10.0.1.5, 10.0.1.6) and sends on to 10.0.0.20:2575 (HL7)",
		},
		{
			name: "a tunnel's outer endpoint is infrastructure, not a host of the network inside",
			build: func(s *observe.Set) {
				s.AddTunnelEndpoint(netip.MustParseAddr("192.0.2.1"), t0)
				s.AddHostVia(netip.MustParseAddr("10.0.1.5"), "GRE 192.0.2.1↔192.0.2.2", t0)
			},
			ip: "192.0.2.1", kind: observe.KindInfrastructure, reason: "outer endpoint of a tunnel",
		},
		{
			name: "behaviour outweighs being a tunnel endpoint",
			build: func(s *observe.Set) {
				s.AddTunnelEndpoint(netip.MustParseAddr("10.0.1.5"), t0)
				s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
			},
			ip: "10.0.1.5", kind: observe.KindMedicalDevice, reason: "sends HL7 ORU^R01 to 10.0.0.10:6661",
		},
		{
			name: "one source is not enough for middleware",
			build: func(s *observe.Set) {
				s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
				s.AddHL7(hl7("10.0.0.10:50000", "10.0.0.20:2575", "ORU", "R01"))
			},
			ip: "10.0.0.10", kind: observe.KindMedicalDevice, reason: "sends HL7 ORU^R01 to 10.0.0.20:2575",
		},
		{
			name: "receiving without sending on is a clinical server",
			build: func(s *observe.Set) {
				s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
				s.AddHL7(hl7("10.0.1.6:40000", "10.0.0.10:6661", "ORU", "R01"))
			},
			ip: "10.0.0.10", kind: observe.KindClinicalServer, reason: "receives HL7 ORU^R01 from 10.0.1.5, 10.0.1.6",
		},
		{
			name: "EHR receives from middleware",
			build: func(s *observe.Set) {
				s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
				s.AddHL7(hl7("10.0.1.6:40000", "10.0.0.10:6661", "ORU", "R01"))
				s.AddTLS(observe.TLSSession{Flow: flow("10.0.0.10:50000", "10.0.0.20:443"), FirstSeen: t0, SNI: "ehr.example"}, nil, nil)
			},
			ip: "10.0.0.20", kind: observe.KindClinicalServer, reason: "receives from 10.0.0.10 (middleware) over TLS",
		},
		{
			name: "DICOM modality stores images",
			build: func(s *observe.Set) {
				s.AddDICOM(observe.DICOMAssociation{Flow: flow("10.0.2.5:40000", "10.0.0.30:104"), FirstSeen: t0, CallingAE: "CT01",
					CalledAE: "PACS", ImplClassUID: "1.2.840.113619.6.374", ImplVersion: "REVO_CT_27",
					AbstractSyntaxNames: []string{"CT Image Storage", "Verification"}})
			},
			ip: "10.0.2.5", kind: observe.KindMedicalDevice, reason: "stores images on 10.0.0.30:104 as a DICOM SCU (CT Image Storage, AE CT01)",
			maker: "GE Healthcare", model: "REVO_CT_27",
		},
		{
			name: "PACS stores images",
			build: func(s *observe.Set) {
				s.AddDICOM(observe.DICOMAssociation{Flow: flow("10.0.2.5:40000", "10.0.0.30:104"), FirstSeen: t0, CallingAE: "CT01",
					CalledAE: "PACS", AbstractSyntaxNames: []string{"CT Image Storage"}})
			},
			ip: "10.0.0.30", kind: observe.KindClinicalServer, reason: "DICOM SCP storing images from 10.0.2.5 (CT Image Storage)",
		},
		{
			name: "FHIR server",
			build: func(s *observe.Set) {
				s.AddHTTP(observe.HTTPRequest{Flow: flow("10.0.3.10:40000", "10.0.0.60:8080"), FirstSeen: t0, Method: "GET",
					Path: "/fhir/Patient/4711", RespContentType: "application/fhir+json", Status: 200}.AsEmitted())
			},
			ip: "10.0.0.60", kind: observe.KindClinicalServer, reason: "FHIR server (GET /fhir/Patient/{id})",
		},
		{
			name: "DHCP vendor class names a maker",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.1.7"), "02:00:00:00:00:07", t0)
				s.AddDHCP(observe.DHCPLease{MAC: "02:00:00:00:00:07", Addr: netip.MustParseAddr("10.0.1.7"),
					Server: netip.MustParseAddr("10.0.0.2"), Hostname: "PCU-7", VendorClass: "BD Alaris PCU 8015", Acked: true, FirstSeen: t0})
			},
			ip: "10.0.1.7", kind: observe.KindMedicalDevice, reason: "DHCP vendor class 'BD Alaris PCU 8015' names BD (Becton Dickinson)",
			maker: "BD (Becton Dickinson)", model: "BD Alaris PCU 8015",
		},
		{
			name: "DHCP server is infrastructure",
			build: func(s *observe.Set) {
				s.AddDHCP(observe.DHCPLease{MAC: "02:00:00:00:00:07", Addr: netip.MustParseAddr("10.0.1.7"),
					Server: netip.MustParseAddr("10.0.0.2"), Acked: true, FirstSeen: t0})
			},
			ip: "10.0.0.2", kind: observe.KindInfrastructure, reason: "DHCP server (1 lease seen)",
		},
		{
			name: "DNS server is infrastructure",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.0.2"), macVMware, t0)
				s.AddService(observe.Service{Server: ep("10.0.0.2:53"), Transport: "udp", Protocol: "dns", FirstSeen: t0})
				s.AddService(observe.Service{Server: ep("10.0.255.255:137"), Transport: "udp", Protocol: "netbios-ns", FirstSeen: t0})
			},
			ip: "10.0.0.2", kind: observe.KindInfrastructure, reason: "DNS server",
		},
		{
			name: "HSRP gateway",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.0.1"), "00:00:0c:07:ac:14", t0)
			},
			ip: "10.0.0.1", kind: observe.KindInfrastructure, reason: "HSRP/VRRP virtual router address",
		},
		{
			name: "SNMP agent of a network maker",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.0.3"), macCisco, t0)
				s.AddCredential(observe.Credential{Flow: flow("10.0.3.50:40000", "10.0.0.3:161"), FirstSeen: t0, Protocol: "snmp",
					Kind: "snmp-community", Hash: "aa"})
			},
			ip: "10.0.0.3", kind: observe.KindInfrastructure, reason: "SNMP agent on an interface registered to 'Cisco Systems, Inc'",
		},
		{
			name: "browser is a workstation",
			build: func(s *observe.Set) {
				s.AddHTTP(observe.HTTPRequest{Flow: flow("10.0.3.10:40000", "10.0.0.70:80"), FirstSeen: t0, Method: "GET", Path: "/",
					UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}.AsEmitted())
			},
			ip: "10.0.3.10", kind: observe.KindWorkstation, reason: "browser User-Agent 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)'",
		},
		{
			name: "Windows DHCP vendor class and NetBIOS name",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.3.11"), "02:00:00:00:03:11", t0)
				s.AddDHCP(observe.DHCPLease{MAC: "02:00:00:00:03:11", Addr: netip.MustParseAddr("10.0.3.11"), VendorClass: "MSFT 5.0", Acked: true, FirstSeen: t0})
				s.AddName(observe.HostName{Addr: netip.MustParseAddr("10.0.3.11"), Name: "WS-4WEST-02", Source: "netbios", FirstSeen: t0})
			},
			ip: "10.0.3.11", kind: observe.KindWorkstation, reason: "DHCP vendor class 'MSFT 5.0' (Windows)",
		},
		{
			name: "nothing known",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.9.9"), macVMware, t0)
			},
			ip: "10.0.9.9", quiet: true,
		},
		{
			name: "nothing known but a name",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.9.9"), macVMware, t0)
				s.AddName(observe.HostName{Addr: netip.MustParseAddr("10.0.9.9"), Name: "lab-pc", Source: "mdns", FirstSeen: t0})
			},
			ip: "10.0.9.9", kind: observe.KindUnknown, reason: "seen on the network, doing nothing that tells what it is",
		},
		// Conflicting evidence.
		{
			name: "behaviour beats a medical maker's interface: middleware on a Baxter appliance",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.0.10"), macBaxter, t0)
				s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
				s.AddHL7(hl7("10.0.1.6:40000", "10.0.0.10:6661", "ORU", "R01"))
				s.AddHTTP(observe.HTTPRequest{Flow: flow("10.0.0.10:50000", "10.0.0.60:8080"), FirstSeen: t0, Method: "POST", Path: "/fhir/Observation"}.AsEmitted())
			},
			ip: "10.0.0.10", kind: observe.KindMiddleware, reason: "sends on to 10.0.0.60:8080 (HTTP)", maker: "Baxter",
		},
		{
			name: "sending observations beats a PC maker's interface",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.1.5"), macDell, t0)
				s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
			},
			ip: "10.0.1.5", kind: observe.KindMedicalDevice, reason: "sends HL7 ORU^R01",
		},
		{
			name: "a maker's interface and product beat a browser token",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.1.21"), macPhilips, t0)
				s.AddHTTP(observe.HTTPRequest{Flow: flow("10.0.1.21:40000", "10.0.0.70:80"), FirstSeen: t0, Method: "GET", Path: "/",
					UserAgent: "Mozilla/5.0 (X11; Linux armv7l)"}.AsEmitted())
			},
			ip: "10.0.1.21", kind: observe.KindMedicalDevice, reason: "OUI 00:09:fb registered to 'Philips Patient Monitoring'",
			maker: "Philips Healthcare",
		},
		{
			name: "a router's MAC names none of the routed addresses",
			build: func(s *observe.Set) {
				for _, a := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"} {
					s.AddHost(netip.MustParseAddr(a), macBaxter, t0)
				}
				s.AddService(observe.Service{Server: ep("192.0.2.1:8080"), Transport: "tcp", Protocol: "http", FirstSeen: t0})
			},
			ip: "192.0.2.1", kind: observe.KindUnknown, reason: "MAC 58:42:e4:3a:7c:11 is used by 4 or more addresses (a router's)",
		},
		{
			name: "a routed address that does nothing else is quiet",
			build: func(s *observe.Set) {
				for _, a := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"} {
					s.AddHost(netip.MustParseAddr(a), macBaxter, t0)
				}
			},
			ip: "192.0.2.2", quiet: true,
		},
		{
			name: "a medical maker's interface that does nothing else is an asset",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.0.10"), macBaxter, t0)
			},
			ip: "10.0.0.10", kind: observe.KindMedicalDevice, reason: "OUI 58:42:e4 registered to", maker: "Baxter",
		},
		{
			name: "an IPv4 address the host table holds as IPv4-mapped is judged as its IPv4 host",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("::ffff:10.0.0.11"), macBaxter, t0)
			},
			ip: "10.0.0.11", kind: observe.KindMedicalDevice, reason: "OUI 58:42:e4 registered to", maker: "Baxter",
		},
		{
			name: "the router's own address is on a local subnet",
			build: func(s *observe.Set) {
				s.AddHost(netip.MustParseAddr("10.0.0.254"), macCisco, t0)
				s.AddHost(netip.MustParseAddr("10.0.0.7"), macVMware, t0)
				for _, a := range []string{"192.0.2.1", "192.0.2.2", "198.51.100.3", "198.51.100.4"} {
					s.AddHost(netip.MustParseAddr(a), macCisco, t0)
				}
			},
			ip: "10.0.0.254", kind: observe.KindInfrastructure,
			reason: "its MAC 00:1b:54:00:00:01 carries 5 addresses, the others outside the local subnets: a router's interface",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := observe.NewSet()
			tt.build(s)
			out := Classify(s, Options{})
			var a *observe.Asset
			for _, x := range out {
				if x.Addr.String() == tt.ip {
					a = x
				}
			}
			if tt.quiet {
				if a != nil {
					t.Fatalf("quiet %s has an asset: %+v", tt.ip, a)
				}
				return
			}
			if a == nil {
				t.Fatalf("no asset %s in %d", tt.ip, len(out))
			}
			if a.Kind != tt.kind {
				t.Fatalf("kind %q, want %q; reasons %q", a.Kind, tt.kind, a.Reasons)
			}
			if len(a.Reasons) == 0 || !strings.Contains(a.Reasons[0], tt.reason) {
				t.Errorf("first reason of %q lacks %q", a.Reasons, tt.reason)
			}
			if a.Manufacturer != tt.maker || a.Model != tt.model {
				t.Errorf("maker/model %q/%q, want %q/%q", a.Manufacturer, a.Model, tt.maker, tt.model)
			}
		})
	}
}

// TestClassifyConflictShown checks that losing evidence stays visible.
func TestClassifyConflictShown(t *testing.T) {
	s := observe.NewSet()
	s.AddHost(netip.MustParseAddr("10.0.1.5"), macDell, t0)
	s.AddHL7(hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"))
	out := Classify(s, Options{})
	if len(out) != 2 || out[1].Addr.String() != "10.0.1.5" {
		t.Fatalf("assets %+v", out)
	}
	a := out[1]
	last := a.Reasons[len(a.Reasons)-1]
	if !strings.HasPrefix(last, "outweighed: ") || !strings.Contains(last, "Dell") || !strings.HasSuffix(last, "(suggests workstation)") {
		t.Errorf("reasons %q do not show the losing evidence", a.Reasons)
	}
}

// TestClassifyDHCPFollowsMAC checks that a device DHCP moved keeps its evidence at both
// addresses, and lists the other.
func TestClassifyDHCPFollowsMAC(t *testing.T) {
	s := observe.NewSet()
	mac := "02:00:00:00:00:07"
	for i, ip := range []string{"10.0.1.7", "10.0.1.9"} {
		s.AddHost(netip.MustParseAddr(ip), mac, t0.Add(time.Duration(i)*time.Hour))
		s.AddDHCP(observe.DHCPLease{MAC: mac, Addr: netip.MustParseAddr(ip), Server: netip.MustParseAddr("10.0.0.2"),
			Hostname: "PCU-7", VendorClass: "BD Alaris PCU", Acked: true, FirstSeen: t0.Add(time.Duration(i) * time.Hour)})
	}
	out := Classify(s, Options{})
	got := map[string]*observe.Asset{}
	for _, a := range out {
		got[a.Addr.String()] = a
	}
	for ip, other := range map[string]string{"10.0.1.7": "10.0.1.9", "10.0.1.9": "10.0.1.7"} {
		a := got[ip]
		if a == nil || a.Kind != observe.KindMedicalDevice {
			t.Fatalf("%s: %+v", ip, a)
		}
		if !reflect.DeepEqual(a.LeasedAddrs, []netip.Addr{netip.MustParseAddr(other)}) {
			t.Errorf("%s: leased %v", ip, a.LeasedAddrs)
		}
		if !reflect.DeepEqual(a.Names, []observe.AssetName{{Name: "PCU-7", Source: "dhcp"}}) {
			t.Errorf("%s: names %v", ip, a.Names)
		}
		if !reflect.DeepEqual(a.DHCPVendorClass, []string{"BD Alaris PCU"}) || !reflect.DeepEqual(a.Roles, []string{"dhcp-client"}) {
			t.Errorf("%s: vendor class %q, roles %q", ip, a.DHCPVendorClass, a.Roles)
		}
	}
}

// TestClassifyDeterministic classifies the same observations added in two orders.
func TestClassifyDeterministic(t *testing.T) {
	msgs := []observe.HL7Message{
		hl7("10.0.1.5:40000", "10.0.0.10:6661", "ORU", "R01"), hl7("10.0.1.6:40000", "10.0.0.10:6661", "ORU", "R40"),
		hl7("10.0.1.7:40000", "10.0.0.10:6661", "OUL", "R22"), hl7("10.0.0.10:50000", "10.0.0.20:2575", "ORU", "R01"),
		hl7("10.0.0.10:50001", "10.0.0.21:2575", "ADT", "A01"),
	}
	a, b := observe.NewSet(), observe.NewSet()
	for i := range msgs {
		a.AddHL7(msgs[i])
		b.AddHL7(msgs[len(msgs)-1-i])
	}
	x, y := Classify(a, Options{}), Classify(b, Options{})
	if !reflect.DeepEqual(x, y) {
		t.Errorf("order changed the inventory:\n%+v\n%+v", x[0], y[0])
	}
}

// TestShort checks that strings from the network are cleaned and bounded where the
// inventory quotes them.
func TestShort(t *testing.T) {
	if got := short("a\x1b[31mb\xff"); got != `a\x1b[31mb\xff` {
		t.Errorf("short: %q", got)
	}
	if got := short(strings.Repeat("x", 200)); len([]rune(got)) != maxQuoteRune+1 {
		t.Errorf("short did not cut: %d runes", len([]rune(got)))
	}
	if got := fold("B. Braun Melsungen AG"); got != " b braun melsungen ag " {
		t.Errorf("fold: %q", got)
	}
	if n, _ := matchMaker(medicalMakers, "Zollner Elektronik AG"); n != "" {
		t.Errorf("Zollner matched %q", n)
	}
}

// TestMakerTables checks the curated tables: every keyword folds to something, and no
// keyword is listed twice (a second entry would never match).
func TestMakerTables(t *testing.T) {
	seen := map[string]string{}
	for _, table := range [][]maker{medicalMakers, networkMakers, pcMakers} {
		for _, m := range table {
			for _, k := range m.Keywords {
				f := fold(k)
				if strings.TrimSpace(f) == "" {
					t.Errorf("%s: keyword %q folds to nothing", m.Name, k)
				}
				if o, dup := seen[f]; dup {
					t.Errorf("keyword %q of %s already names %s", k, m.Name, o)
				}
				seen[f] = m.Name
			}
		}
	}
}

// BenchmarkClassify classifies a ward of 1000 devices reporting to one engine.
func BenchmarkClassify(b *testing.B) {
	s := observe.NewSet()
	for i := range 1000 {
		a := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		s.AddHost(a, macBaxter, t0)
		s.AddHL7(observe.HL7Message{Flow: observe.Flow{Client: netip.AddrPortFrom(a, 40000), Server: ep("10.0.0.10:6661")},
			FirstSeen: t0, SendingApp: "PUMP", MessageType: "ORU", TriggerEvent: "R01"})
	}
	s.AddHL7(hl7("10.0.0.10:50000", "10.0.0.20:2575", "ORU", "R01"))
	b.ReportAllocs()
	for b.Loop() {
		Classify(s, Options{RouterMACAddrs: 2000})
	}
}

// TestClassifyIgnoresProber checks that the client of an active handshake (medscan
// itself) does not become an asset, while the server probed is one, named by the
// host name it was probed as.
func TestClassifyIgnoresProber(t *testing.T) {
	s := observe.NewSet()
	s.AddTLS(observe.TLSSession{Flow: flow("10.9.9.9:50000", "10.0.0.20:443"), FirstSeen: t0, Source: observe.SourceActive,
		SNI: "ehr.example.local", SawServerHello: true, Version: 0x0303, Suite: 0xc02f}, nil, nil)
	out := Classify(s, Options{})
	if len(out) != 1 || out[0].Addr.String() != "10.0.0.20" {
		t.Fatalf("assets %+v: want only the probed server", out)
	}
	if !reflect.DeepEqual(out[0].Roles, []string{"tls-server"}) ||
		!reflect.DeepEqual(out[0].Names, []observe.AssetName{{Name: "ehr.example.local", Source: "tls-sni"}}) {
		t.Errorf("server asset %+v", out[0])
	}
}

// TestClassifySeenVia checks that an asset carries the sensor paths of its host, sorted,
// and that the tunnel endpoint gets its role while the inner host does not.
func TestClassifySeenVia(t *testing.T) {
	s := observe.NewSet()
	inner, outer := netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("192.0.2.1")
	s.AddHostVia(inner, "VXLAN VNI 100 192.0.2.1↔192.0.2.2", t0)
	s.AddHostVia(inner, "ERSPAN session 7 from 10.1.1.1 to 10.9.9.9", t0)
	s.AddTunnelEndpoint(outer, t0)
	by := map[netip.Addr]*observe.Asset{}
	for _, a := range Classify(s, Options{}) {
		by[a.Addr] = a
	}
	if a := by[inner]; a == nil || !reflect.DeepEqual(a.SeenVia, []string{"ERSPAN session 7 from 10.1.1.1 to 10.9.9.9",
		"VXLAN VNI 100 192.0.2.1↔192.0.2.2"}) || slices.Contains(a.Roles, "tunnel-endpoint") {
		t.Errorf("inner asset %+v", a)
	}
	if a := by[outer]; a == nil || len(a.SeenVia) != 0 || !slices.Contains(a.Roles, "tunnel-endpoint") {
		t.Errorf("outer asset %+v", a)
	}
}
