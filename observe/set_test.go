package observe

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var (
	t0     = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	server = netip.MustParseAddrPort("10.20.0.50:1883")
)

func flowFrom(client string) Flow {
	return Flow{Client: netip.MustParseAddrPort(client), Server: server}
}

// TestSetAggregates checks that repeated observations of one shape become one entry with a
// count, which is what keeps memory flat over a long capture.
func TestSetAggregates(t *testing.T) {
	s := NewSet()
	for i := range 1000 {
		at := t0.Add(time.Duration(i) * time.Second)
		client := flowFrom("10.20.1.21:" + []string{"40000", "40001", "40002"}[i%3])
		s.AddMQTT(MQTTConnect{Flow: client, FirstSeen: at, ProtocolLevel: 4, ClientID: "mon-21", HasPassword: true})
		s.AddDICOM(DICOMAssociation{Flow: client, FirstSeen: at, CallingAE: "CT01", CalledAE: "PACS"})
		s.AddHL7(HL7Message{Flow: client, FirstSeen: at, MessageType: "ORU", TriggerEvent: "R01", PatientSegments: 1})
		s.AddHTTP(HTTPRequest{Flow: client, FirstSeen: at, Method: "POST", Path: "/vitals"})
		s.AddCredential(Credential{Flow: client, FirstSeen: at, Kind: "mqtt-password", Hash: "h"})
		s.AddTLS(TLSSession{Flow: client, FirstSeen: at, Version: 0x0303, Suite: 0xc02f}, [][]byte{[]byte("leaf")}, nil)
	}
	s.AddMQTT(MQTTConnect{Flow: flowFrom("10.20.1.22:40000"), FirstSeen: t0, ProtocolLevel: 4, ClientID: "mon-22"})
	checks := []struct {
		name  string
		n     int
		count int
	}{
		{"mqtt", len(s.MQTT), s.MQTT[0].Count},
		{"dicom", len(s.DICOM), s.DICOM[0].Count},
		{"hl7", len(s.HL7), s.HL7[0].Count},
		{"http", len(s.HTTP), s.HTTP[0].Count},
		{"credentials", len(s.Credentials), s.Credentials[0].Count},
		{"tls", len(s.TLSSessions), s.TLSSessions[0].Count},
	}
	for _, c := range checks {
		want := 1
		if c.name == "mqtt" {
			want = 2 // a second client id is a second shape
		}
		if c.n != want || c.count != 1000 {
			t.Errorf("%s: %d entries, first counted %d; want %d entries, 1000", c.name, c.n, c.count, want)
		}
	}
	if got := s.MQTT[0]; !got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(t0.Add(999*time.Second)) {
		t.Errorf("mqtt span %v .. %v", got.FirstSeen, got.LastSeen)
	}
	if s.HL7[0].PatientSegments != 1000 {
		t.Errorf("patient segments = %d", s.HL7[0].PatientSegments)
	}
	if len(s.Certificates) != 1 || len(s.Certificates[s.TLSSessions[0].ServerChain[0]].Seen) != 1 {
		t.Errorf("certificates = %d", len(s.Certificates))
	}
}

func TestSetMerge(t *testing.T) {
	a, b := NewSet(), NewSet()
	for _, s := range []*Set{a, b} {
		s.AddMQTT(MQTTConnect{Flow: flowFrom("10.20.1.21:40000"), FirstSeen: t0, ClientID: "mon"})
		s.AddTLS(TLSSession{Flow: flowFrom("10.20.1.21:40001"), FirstSeen: t0, Version: 0x0303}, [][]byte{[]byte("leaf")}, nil)
		s.AddHost(server.Addr(), "00:11:22:33:44:55", t0)
		s.AddCounter("packets", 10)
	}
	b.Problem(Problem{Source: "b.pcap", Offset: 24, Message: "truncated"})
	a.Merge(b)
	if len(a.MQTT) != 1 || a.MQTT[0].Count != 2 || len(a.TLSSessions) != 1 || a.TLSSessions[0].Count != 2 {
		t.Errorf("merge did not aggregate: mqtt %+v tls %d", a.MQTT, len(a.TLSSessions))
	}
	if len(a.Hosts) != 1 || len(a.Hosts[server.Addr()].MACs) != 1 {
		t.Errorf("hosts = %+v", a.Hosts)
	}
	if len(a.Counters) != 1 || a.Counters[0].Value != 20 || len(a.Problems) != 1 {
		t.Errorf("counters %+v problems %+v", a.Counters, a.Problems)
	}
	if got := a.Problems[0].Error(); got != "b.pcap: offset 24: truncated" {
		t.Errorf("problem text %q", got)
	}
}

func TestPreviewNeverShowsShortSecrets(t *testing.T) {
	for secret, want := range map[string]string{
		"hunter2":                           "**** (7 chars)",
		"wv-telemetry-8f3KqZ71xLmP0sTa9vRb": "wv****Rb (33 chars)",
		"ab\x00\x01cdefgh\n":                "ab****h? (11 chars)",
	} {
		if got := Preview([]byte(secret)); got != want {
			t.Errorf("Preview(%q) = %q, want %q", secret, got, want)
		}
	}
	h1 := NewSecretHasher([]byte("0123456789abcdef"))
	h2 := NewSecretHasher([]byte("fedcba9876543210"))
	if h1.Hash([]byte("k")) == h2.Hash([]byte("k")) || h1.Hash([]byte("k")) != h1.Hash([]byte("k")) {
		t.Error("the hash must depend on the store's key and be stable under it")
	}
}

func TestText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"CT01", 16, "CT01"},
		{"pacs\x1b[2J", 16, `pacs\x1b[2J`},
		{"caf\xc3\xa9\r\n", 16, `café\x0d\x0a`},
		{"abcdefgh", 4, "abcd"},
		{"", 4, ""},
	} {
		if got := Text([]byte(tt.in), tt.max); got != tt.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestSetMergeKeepsChainsWhole merges a worker's set that had no room for a session's
// leaf: the merged session still names the whole chain, and the intermediate it kept is
// still the certificate at position 1, never taken for the leaf.
func TestSetMergeKeepsChainsWhole(t *testing.T) {
	o := NewSet()
	inter := []byte("intermediate")
	o.AddCertificate(inter, CertSighting{Time: t0, Source: SourceFile})
	for i := len(o.Certificates); i < MaxCertificates; i++ {
		o.AddCertificate([]byte(fmt.Sprint("filler ", i)), CertSighting{Time: t0, Source: SourceFile})
	}
	leaf := []byte("leaf")
	o.AddTLS(TLSSession{Flow: flowFrom("10.20.1.7:40000"), FirstSeen: t0, Source: SourcePassive, Version: 0x0303},
		[][]byte{leaf, inter}, nil)
	if o.Certificates[certRefOf(leaf)] != nil {
		t.Fatal("the full set kept the leaf")
	}
	s := NewSet()
	s.Merge(o)
	if len(s.TLSSessions) != 1 || !slices.Equal(s.TLSSessions[0].ServerChain, []CertRef{certRefOf(leaf), certRefOf(inter)}) {
		t.Fatalf("merged chain %v; want the leaf's and the intermediate's references", s.TLSSessions[0].ServerChain)
	}
	for _, sg := range s.Certificates[certRefOf(inter)].Seen {
		if sg.Role == "server" && sg.Position != 1 {
			t.Errorf("the intermediate is seen at position %d", sg.Position)
		}
	}
}

func certRefOf(der []byte) CertRef { return CertRef(sha256.Sum256(der)) }

// TestKeyFilesMerge: a key file is kept once per file and position, through Merge too,
// with the certificates that carry its key joined and its earliest reading time.
func TestKeyFilesMerge(t *testing.T) {
	a, b := NewSet(), NewSet()
	k := KeyFile{File: "certs/dev.key", Path: "/w/certs/dev.key", KeyType: "rsa", KeyBits: 2048, Time: t0.Add(time.Minute),
		Certificates: []string{"bb"}}
	a.AddKeyFile(k)
	k2 := k
	k2.Certificates, k2.Time = []string{"aa", "bb"}, t0
	b.AddKeyFile(k2)
	b.AddKeyFile(KeyFile{File: "certs/dev.key", Path: "/w/certs/dev.key", Position: 1, KeyType: "ecdsa"})
	a.Merge(b)
	if len(a.KeyFiles) != 2 {
		t.Fatalf("%d key files, want 2 (two positions of one file)", len(a.KeyFiles))
	}
	got := a.KeyFiles[0]
	if !slices.Equal(got.Certificates, []string{"aa", "bb"}) || !got.Time.Equal(t0) || a.KeyFiles[1].KeyType != "ecdsa" {
		t.Errorf("merged %+v", *got)
	}
	if !slices.Equal(k.Certificates, []string{"bb"}) {
		t.Errorf("the caller's list was changed: %v", k.Certificates)
	}
}

// TestAddServiceDetails checks how what servers say of themselves merges: the first
// software name stays, and an offer of STARTTLS outweighs a refusal or silence.
func TestAddServiceDetails(t *testing.T) {
	ep := netip.MustParseAddrPort("10.2.2.2:5432")
	for _, tc := range []struct {
		in           []Service
		software, tl string
	}{
		{[]Service{{Protocol: "postgresql"}, {Software: "15.18", StartTLS: StartTLSRefused}}, "15.18", StartTLSRefused},
		{[]Service{{StartTLS: StartTLSRefused}, {StartTLS: StartTLSOffered}, {StartTLS: StartTLSRefused}}, "", StartTLSOffered},
		{[]Service{{Software: "a"}, {Software: "b", StartTLS: StartTLSNotOffered}, {}}, "a", StartTLSNotOffered},
	} {
		s := NewSet()
		for _, v := range tc.in {
			v.Server, v.Transport, v.Source = ep, "tcp", SourcePassive
			s.AddService(v)
		}
		if len(s.Services) != 1 {
			t.Fatalf("services %v", s.Services)
		}
		for _, v := range s.Services {
			if v.Software != tc.software || v.StartTLS != tc.tl {
				t.Errorf("%+v: software %q, starttls %q; want %q, %q", tc.in, v.Software, v.StartTLS, tc.software, tc.tl)
			}
		}
	}
}

// TestVolumes checks a client's connections to one server port add up whatever its
// ports, apart from another server port and from a proxy's tunnel, and survive a merge.
func TestVolumes(t *testing.T) {
	srv := netip.MustParseAddrPort("10.0.0.9:443")
	a, b := NewSet(), NewSet()
	a.AddVolume(Volume{Flow: Flow{Client: netip.MustParseAddrPort("10.0.0.1:1000"), Server: srv}, Packets: 5, Bytes: 100})
	b.AddVolume(Volume{Flow: Flow{Client: netip.MustParseAddrPort("10.0.0.1:2000"), Server: srv}, Packets: 7, Bytes: 50})
	b.AddVolume(Volume{Flow: Flow{Client: netip.MustParseAddrPort("10.0.0.1:2001"), Server: netip.MustParseAddrPort("10.0.0.9:80")}, Packets: 1})
	b.AddVolume(Volume{Flow: Flow{Client: netip.MustParseAddrPort("10.0.0.1:2002"), Server: srv,
		Via: netip.MustParseAddrPort("10.0.0.5:3128")}, Packets: 2})
	a.Merge(b)
	if len(a.Volumes) != 3 {
		t.Fatalf("%d volumes; want 3", len(a.Volumes))
	}
	v := a.Volumes[0]
	if v.Connections != 2 || v.Packets != 12 || v.Bytes != 150 || v.Flow.Client.Port() != 0 {
		t.Errorf("volume %+v", *v)
	}
}

// TestHostTrafficMerges checks that what a host sent adds up across the Sets of the
// capture workers (and the checkpoints of a live scan), rather than the last one
// winning.
func TestHostTrafficMerges(t *testing.T) {
	a := netip.MustParseAddr("172.16.0.1")
	x, y := NewSet(), NewSet()
	x.AddHostTraffic(a, 2, 120, time.Unix(10, 0))
	y.AddHostTraffic(a, 3, 200, time.Unix(20, 0))
	y.AddHost(netip.MustParseAddr("172.16.0.2"), "", time.Unix(20, 0))
	x.Merge(y)
	h := x.Hosts[a]
	if h == nil || h.Packets != 5 || h.Bytes != 320 || !h.FirstSeen.Equal(time.Unix(10, 0)) || !h.LastSeen.Equal(time.Unix(20, 0)) {
		t.Fatalf("merged host = %+v; want 5 packets, 320 bytes, seen from 10 to 20", h)
	}
	if h := x.Hosts[netip.MustParseAddr("172.16.0.2")]; h == nil || h.Packets != 0 {
		t.Errorf("host only sent to = %+v; want present, 0 packets", h)
	}
}
