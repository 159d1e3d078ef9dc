package dnswire

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// name encodes a dotted name without compression.
func name(s string) []byte {
	var b []byte
	for _, l := range strings.Split(s, ".") {
		b = append(append(b, byte(len(l))), l...)
	}
	return append(b, 0)
}

func hdr(id uint16, flags uint16, qd, an, ns, ar int) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	for _, n := range []int{qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	return b
}

func rr(owner []byte, typ uint16, data []byte) []byte {
	b := append([]byte{}, owner...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = append(b, 0, 1, 0, 0, 0x0e, 0x10)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// answerA is a DNS response to an A query for n, answered with addr through a
// compression pointer to the question.
func answerA(n string, addr string) []byte {
	b := hdr(0x5a5a, 0x8580, 1, 1, 0, 0)
	b = append(b, name(n)...)
	b = append(b, 0, 1, 0, 1)
	a := netip.MustParseAddr(addr).AsSlice()
	return append(b, rr([]byte{0xc0, 12}, typeA, a)...)
}

func nbName(n string, suffix byte) []byte {
	var raw [16]byte
	copy(raw[:], []byte(n + strings.Repeat(" ", 15))[:15])
	raw[15] = suffix
	b := []byte{32}
	for _, c := range raw {
		b = append(b, 'A'+c>>4, 'A'+c&0xf)
	}
	return append(b, 0)
}

func TestParse(t *testing.T) {
	loop := hdr(1, 0x8400, 0, 1, 0, 0)
	loop = append(loop, 0xc0, 12) // points at itself
	loop = append(loop, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4)
	forward := hdr(1, 0x8400, 0, 1, 0, 0)
	forward = append(forward, 0xc0, 14, 0) // points forward
	forward = append(forward, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4)
	aaaa := hdr(2, 0x8400, 0, 1, 0, 0)
	aaaa = append(aaaa, rr(name("EHR.Hospital.example.org"), typeAAAA, netip.MustParseAddr("2001:db8::20").AsSlice())...)
	nb := hdr(0x1234, 0x2910, 1, 0, 0, 1)
	nb = append(nb, nbName("WS-4WEST-01", 0)...)
	nb = append(nb, 0, 0x20, 0, 1)
	nb = append(nb, rr([]byte{0xc0, 12}, typeNB, []byte{0, 0, 10, 20, 3, 10})...)
	group := hdr(0x1235, 0x2910, 1, 0, 0, 1)
	group = append(group, nbName("HOSPITAL", 0)...)
	group = append(group, 0, 0x20, 0, 1)
	group = append(group, rr([]byte{0xc0, 12}, typeNB, []byte{0x80, 0, 10, 20, 3, 10})...)
	tests := []struct {
		name    string
		b       []byte
		netbios bool
		ok      bool
		want    []Record
	}{
		{"A answer through a pointer", answerA("ehr.hospital.example.org", "10.20.0.20"), false, true,
			[]Record{{Name: "ehr.hospital.example.org", Type: typeA, Addr: netip.MustParseAddr("10.20.0.20")}}},
		{"AAAA lowercased", aaaa, false, true,
			[]Record{{Name: "ehr.hospital.example.org", Type: typeAAAA, Addr: netip.MustParseAddr("2001:db8::20")}}},
		{"pointer loop", loop, false, false, nil},
		{"forward pointer", forward, false, false, nil},
		{"NetBIOS registration", nb, true, true,
			[]Record{{Name: "WS-4WEST-01", Type: typeNB, Addr: netip.MustParseAddr("10.20.3.10")}}},
		{"NetBIOS group", group, true, true,
			[]Record{{Name: "HOSPITAL", Type: typeNB, Addr: netip.MustParseAddr("10.20.3.10"), Group: true}}},
		{"counts larger than the message", hdr(1, 0x8400, 0, 500, 0, 0), false, false, nil},
		{"short", []byte{1, 2, 3}, false, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := Parse(tc.b, tc.netbios, nil)
			if ok != tc.ok || (ok && !slices.Equal(m.Records, tc.want)) {
				t.Errorf("Parse = %+v, %v; want %+v, %v", m.Records, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	// An mDNS announcement: PTR to an instance, its SRV on host.local, host.local's A.
	mdns := hdr(0, 0x8400, 0, 3, 0, 0)
	inst := name("Monitor 3._http._tcp.local")
	host := name("bm-0023.local")
	mdns = append(mdns, rr(name("_http._tcp.local"), typePTR, inst)...)
	mdns = append(mdns, rr(inst, typeSRV, append([]byte{0, 0, 0, 0, 0, 80}, host...))...)
	mdns = append(mdns, rr(host, typeA, []byte{10, 20, 1, 23})...)
	query := hdr(7, 0x0100, 1, 0, 0, 0)
	query = append(query, name("ehr.hospital.example.org")...)
	query = append(query, 0, 1, 0, 1)
	nb := hdr(0x1234, 0x2910, 1, 0, 0, 1)
	nb = append(nb, nbName("WS-4WEST-01", 0x20)...)
	nb = append(nb, 0, 0x20, 0, 1)
	nb = append(nb, rr([]byte{0xc0, 12}, typeNB, []byte{0, 0, 10, 20, 3, 10})...)
	llmnr := answerA("ws-4west-01", "10.20.3.10")
	dg := []struct {
		src, dst string
		b        []byte
		claimed  bool
	}{
		{"10.20.3.10:50000", "10.20.0.2:53", query, true},
		{"10.20.0.2:53", "10.20.3.10:50000", answerA("ehr.hospital.example.org", "10.20.0.20"), true},
		{"10.20.1.23:5353", "224.0.0.251:5353", mdns, true},
		{"10.20.3.10:137", "10.20.255.255:137", nb, true},
		{"10.20.3.10:5355", "10.20.3.11:50001", llmnr, true},
		{"10.20.3.10:40000", "10.20.0.2:8080", answerA("x", "10.0.0.1"), false},
		{"10.20.0.2:53", "10.20.3.10:50000", []byte("not dns"), false},
	}
	set := observe.NewSet()
	h := New(&dissect.DatagramContext{Sink: set})
	for _, d := range dg {
		if got := h.Datagram(netip.MustParseAddrPort(d.src), netip.MustParseAddrPort(d.dst), nil, d.b, t0); got != d.claimed {
			t.Errorf("%s > %s claimed %v", d.src, d.dst, got)
		}
	}
	h.End(t0)
	var got []string
	for _, n := range set.Names {
		got = append(got, n.Source+" "+n.Name+" "+n.Addr.String())
	}
	want := []string{"dns ehr.hospital.example.org 10.20.0.20", "mdns bm-0023.local 10.20.1.23", "mdns monitor 3 10.20.1.23",
		"netbios WS-4WEST-01 10.20.3.10", "llmnr ws-4west-01 10.20.3.10"}
	if !slices.Equal(got, want) {
		t.Errorf("names\n%v\nwant\n%v", got, want)
	}
	svc := map[string]bool{}
	for _, s := range set.Services {
		svc[s.Protocol+" "+s.Server.String()] = true
	}
	if !svc["dns 10.20.0.2:53"] || !svc["mdns 10.20.1.23:5353"] || !svc["llmnr 10.20.3.10:5355"] || len(svc) != 3 {
		t.Errorf("services %v", svc)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(answerA("ehr.hospital.example.org", "10.20.0.20"), false)
	nb := hdr(0x1234, 0x2910, 1, 0, 0, 1)
	nb = append(nb, nbName("WS-4WEST-01", 0)...)
	nb = append(nb, 0, 0x20, 0, 1)
	nb = append(nb, rr([]byte{0xc0, 12}, typeNB, []byte{0, 0, 10, 20, 3, 10})...)
	f.Add(nb, true)
	f.Fuzz(func(t *testing.T, b []byte, netbios bool) {
		m, ok := Parse(b, netbios, nil)
		if !ok {
			return
		}
		if len(m.Records) > MaxRecords {
			t.Fatalf("%d records", len(m.Records))
		}
		for _, r := range m.Records {
			if len(r.Name) > 4*maxName || len(r.Target) > 4*maxName {
				t.Fatalf("name of %d bytes", len(r.Name))
			}
		}
		set := observe.NewSet()
		h := New(&dissect.DatagramContext{Sink: set})
		port := uint16(PortMDNS)
		if netbios {
			port = PortNetBIOS
		}
		h.Datagram(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), netip.MustParseAddrPort("10.0.0.2:40000"), nil, b, t0)
		h.End(t0)
	})
}
