package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/protocols"
	"github.com/medscan/medscan/observe"
)

// udpFrame builds an Ethernet/IP/UDP frame from src to dst ("ip:port").
func udpFrame(src, dst string, payload []byte) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h, s.Port())
	binary.BigEndian.PutUint16(h[2:], d.Port())
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return eth(macA, macB, ipPacket(s.Addr(), d.Addr(), protoUDP, append(h, payload...)))
}

// dgramLog records what the engine offers a datagram handler.
type dgramLog struct {
	claim   string // payload prefix it claims
	seen    []string
	ended   int
	flushed int
	panics  bool
}

func (l *dgramLog) dissector(name string) dissect.DatagramDissector {
	return dissect.DatagramDissector{Name: name, New: func(*dissect.DatagramContext) dissect.DatagramHandler { return l }}
}

func (l *dgramLog) Datagram(src, dst netip.AddrPort, mac []byte, b []byte, t time.Time) bool {
	if l.panics {
		panic("boom")
	}
	l.seen = append(l.seen, fmt.Sprintf("%s>%s mac=%x %q %s", src, dst, mac, b, t.Format("05.000")))
	return strings.HasPrefix(string(b), l.claim)
}

func (l *dgramLog) End(time.Time) { l.ended++ }

func (l *dgramLog) Flush(time.Time) { l.flushed++ }

func TestDatagramHook(t *testing.T) {
	first, second := &dgramLog{claim: "A"}, &dgramLog{claim: "B"}
	set := observe.NewSet()
	e := NewEngine(Config{Datagrams: []dissect.DatagramDissector{first.dissector("first"), second.dissector("second")}}, set)
	bad := udpFrame("10.0.0.1:1000", "10.0.0.2:53", []byte("Ashort"))
	binary.BigEndian.PutUint16(bad[14+20+4:], 200) // a UDP length past the datagram
	frames := [][]byte{
		udpFrame("10.0.0.1:1000", "10.0.0.2:53", []byte("Aone")),
		udpFrame("10.0.0.1:1000", "10.0.0.2:53", []byte("Btwo")),
		udpFrame("[2001:db8::1]:1000", "[2001:db8::2]:161", []byte("Cthree")),
		bad,
	}
	for i, f := range frames {
		e.Packet(LinkEthernet, f, ms(i))
	}
	e.Finish()
	mac := fmt.Sprintf("%x", macA)
	want1 := []string{
		"10.0.0.1:1000>10.0.0.2:53 mac=" + mac + ` "Aone" 00.000`,
		"10.0.0.1:1000>10.0.0.2:53 mac=" + mac + ` "Btwo" 00.001`,
		"[2001:db8::1]:1000>[2001:db8::2]:161 mac=" + mac + ` "Cthree" 00.002`,
	}
	if !slices.Equal(first.seen, want1) {
		t.Errorf("first saw\n%s\nwant\n%s", strings.Join(first.seen, "\n"), strings.Join(want1, "\n"))
	}
	if len(second.seen) != 2 || first.ended != 1 || second.ended != 1 {
		t.Errorf("second saw %v; ended %d %d", second.seen, first.ended, second.ended)
	}
	for name, want := range map[string]uint64{"udp_packets": 4, "udp_header_invalid": 1, "datagrams_first": 1, "datagrams_second": 1} {
		if got := counterValue(set, name); got != want {
			t.Errorf("counter %s = %d, want %d", name, got, want)
		}
	}
	// The engine starts fresh handlers after Finish.
	e.Packet(LinkEthernet, frames[0], ms(10))
	e.Finish()
	if first.ended != 2 || len(first.seen) != 4 {
		t.Errorf("after a second Finish: ended %d, saw %d", first.ended, len(first.seen))
	}
}

func TestDatagramPanicIsContained(t *testing.T) {
	broken, next := &dgramLog{panics: true}, &dgramLog{claim: "A"}
	set := observe.NewSet()
	e := NewEngine(Config{Datagrams: []dissect.DatagramDissector{broken.dissector("broken"), next.dissector("next")}}, set)
	for i := range 3 {
		e.Packet(LinkEthernet, udpFrame("10.0.0.1:1000", "10.0.0.2:53", []byte("Aone")), ms(i))
	}
	e.Finish()
	if len(next.seen) != 3 || broken.ended != 0 || len(set.Problems) != 1 || counterValue(set, "dissector_panics") != 1 {
		t.Errorf("next saw %d, broken ended %d, problems %v", len(next.seen), broken.ended, set.Problems)
	}
}

// TestWardDatagrams reads the ward capture with every dissector and checks what its UDP
// traffic names: DHCP leases with host names and vendor class, DNS, mDNS and NetBIOS
// names, the SNMP community as a hidden credential and the TFTP firmware fetch; and the
// Telnet and FTP logins.
func TestWardDatagrams(t *testing.T) {
	set := observe.NewSet()
	e := NewEngine(Config{Dissectors: protocols.All(), Datagrams: protocols.Datagrams(),
		Secrets: observe.NewSecretHasher(make([]byte, 32))}, set)
	if err := e.ReadFile(filepath.Join("..", "fixtures", "ward.pcapng")); err != nil {
		t.Fatal(err)
	}
	e.Finish()
	names := map[string]bool{}
	for _, n := range set.Names {
		names[n.Source+" "+n.Name+" "+n.Addr.String()] = true
	}
	for _, want := range []string{
		"dhcp PUMP-ICU-01 10.20.1.11", "dhcp PUMP-ICU-04 10.20.1.14", "dhcp bm-0023 10.20.1.23",
		"dns ehr.hospital.example.org 10.20.0.20", "dns hl7-engine.hospital.example.org 10.20.0.10",
		"mdns bm-0021.local 10.20.1.21", "mdns bm-0021 bedside telemetry 10.20.1.21",
		"netbios WS-4WEST-01 10.20.3.10",
	} {
		if !names[want] {
			t.Errorf("no name %q in %v", want, names)
		}
	}
	var pump *observe.DHCPLease
	for _, l := range set.DHCP {
		if l.MAC == "58:42:e4:3a:7c:11" && l.Acked {
			pump = l
		}
	}
	if pump == nil || pump.Addr.String() != "10.20.1.11" || pump.Hostname != "PUMP-ICU-01" ||
		pump.VendorClass != "WardMed Infusion IP-7000" || pump.ParamRequest != "1,3,6,15,42" ||
		pump.LeaseSeconds != 28800 || pump.Server.String() != "10.20.0.2" {
		t.Errorf("pump lease %+v", pump)
	}
	var snmp []string
	for _, c := range set.Credentials {
		if c.Protocol == "snmp" {
			snmp = append(snmp, c.Flow.String())
			if c.Kind != "snmp-community" || c.Hash == "" || strings.Contains(c.Preview, "Monit0r") {
				t.Errorf("snmp credential %+v", c)
			}
		}
	}
	if len(snmp) != 4 {
		t.Errorf("snmp credentials %v", snmp)
	}
	var tftp int
	for _, x := range set.Transfers {
		if x.Protocol != "tftp" {
			continue
		}
		tftp++
		if x.URL != "tftp://10.20.0.60/{id}/{id}.uimg" || x.Bytes != 96*1024+300 ||
			x.Partial || x.Kind != "uimage" || len(x.SHA256) != 64 || x.Flow.Server.String() != "10.20.0.60:69" {
			t.Errorf("transfer %+v", x)
		}
	}
	if tftp != 1 {
		t.Errorf("transfers %+v", set.Transfers)
	}
	var telnet, ftp int
	for _, c := range set.Credentials {
		switch {
		case c.Protocol == "telnet" && c.Kind == "telnet-password" && c.User == "service" && c.Flow.Server.String() == "10.20.1.13:23":
			telnet++
		case c.Protocol == "ftp" && c.Kind == "ftp-password" && c.User == "biomed" && c.Flow.Server.String() == "10.20.0.60:21":
			ftp++
		}
	}
	if telnet != 1 || ftp != 1 {
		t.Errorf("telnet credentials %d, ftp %d", telnet, ftp)
	}
	svc := map[string]bool{}
	for _, s := range set.Services {
		if s.Transport == "udp" {
			svc[s.Protocol+" "+s.Server.String()] = true
		}
	}
	for _, want := range []string{"dns 10.20.0.2:53", "dhcp 10.20.0.2:67", "snmp 10.20.1.11:161", "tftp 10.20.0.60:69", "mdns 10.20.1.21:5353"} {
		if !svc[want] {
			t.Errorf("no service %q in %v", want, svc)
		}
	}
}

// TestWardFTPData checks that the ward's FTP firmware fetch is found: its data
// connection carries no marker, and only the control channel's 227 reply, through an
// expectation (expect.go) that detection consults first, names it.
func TestWardFTPData(t *testing.T) {
	set := observe.NewSet()
	e := NewEngine(Config{Dissectors: protocols.All(), Secrets: observe.NewSecretHasher(make([]byte, 32))}, set)
	if err := e.ReadFile(filepath.Join("..", "fixtures", "ward.pcapng")); err != nil {
		t.Fatal(err)
	}
	e.Finish()
	if len(set.Transfers) != 1 {
		t.Fatalf("transfers %+v", set.Transfers)
	}
	x := set.Transfers[0]
	if x.Protocol != "ftp" || x.URL != "ftp://10.20.0.60/firmware/{id}/{id}.bin" || x.Bytes != 80*1024+123 || x.Partial ||
		x.Kind != "ext:.bin" || len(x.SHA256) != 64 || x.Flow.Server.String() != "10.20.0.60:21" ||
		x.Flow.Client.Addr().String() != "10.20.3.50" || x.Upload {
		t.Errorf("transfer %+v", x)
	}
}

// BenchmarkWardMix measures the engine over the ward capture as medscan scan runs it:
// every stream dissector, with and without the datagram dissectors.
func BenchmarkWardMix(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "fixtures", "ward.pcapng"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name      string
		datagrams []dissect.DatagramDissector
	}{{"streams", nil}, {"streams+datagrams", protocols.Datagrams()}} {
		b.Run(bc.name, func(b *testing.B) {
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: protocols.All(), Datagrams: bc.datagrams,
				Secrets: observe.NewSecretHasher(make([]byte, 32))}, set)
			r := bytes.NewReader(data)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var pkts uint64
			for b.Loop() {
				r.Reset(data)
				if err := e.Read("ward", r); err != nil {
					b.Fatal(err)
				}
				pkts += e.Stats().Packets
				e.Finish()
			}
			b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// BenchmarkUDPNobodys measures datagrams no dissector wants (RTP-like media between
// ephemeral ports), the bulk of UDP on a clinical network: they must cost no allocation.
func BenchmarkUDPNobodys(b *testing.B) {
	set := observe.NewSet()
	e := NewEngine(Config{Dissectors: protocols.All(), Datagrams: protocols.Datagrams()}, set)
	frame := udpFrame("10.20.1.21:40000", "10.20.0.40:40002", bytes.Repeat([]byte{0x80}, 172))
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	ts := t0
	for b.Loop() {
		ts = ts.Add(20 * time.Millisecond)
		e.Packet(LinkEthernet, frame, ts)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	if testing.AllocsPerRun(100, func() { e.Packet(LinkEthernet, frame, ts) }) != 0 {
		b.Error("an uninteresting datagram allocated")
	}
}

// TestCheckpointFlushesDatagrams checks that a checkpoint, without Finish, hands over
// what datagram handlers would otherwise hold to the end (UDP services, SNMP
// communities, per-dissector counts): a live capture that runs for days must see them
// in the store at the next commit, and a kill -9 must not lose them.
func TestCheckpointFlushesDatagrams(t *testing.T) {
	set := observe.NewSet()
	e := NewEngine(Config{Dissectors: protocols.All(), Datagrams: protocols.Datagrams(),
		Secrets: observe.NewSecretHasher(make([]byte, 32))}, set)
	if err := e.ReadFile(filepath.Join("..", "fixtures", "ward.pcapng")); err != nil {
		t.Fatal(err)
	}
	e.Checkpoint()
	mid := e.TakeSet()
	udp := map[string]bool{}
	for _, s := range mid.Services {
		if s.Transport == "udp" {
			udp[s.Protocol] = true
		}
	}
	for _, p := range []string{"dhcp", "dns", "snmp", "tftp"} {
		if !udp[p] {
			t.Errorf("no %s service after a checkpoint; udp services: %v", p, udp)
		}
	}
	snmp := 0
	for _, c := range mid.Credentials {
		if c.Protocol == "snmp" {
			snmp++
		}
	}
	if snmp == 0 || counterValue(mid, "datagrams_snmp") == 0 {
		t.Errorf("after a checkpoint: %d SNMP credentials, datagrams_snmp = %d", snmp, counterValue(mid, "datagrams_snmp"))
	}
	// Finish afterwards adds no second copy of the counts.
	e.Finish()
	if got := counterValue(set, "datagrams_snmp"); got != 0 {
		t.Errorf("datagrams_snmp counted again at Finish: %d", got)
	}
}

// TestDirectedBroadcastIsNoHost checks that a datagram to a subnet's broadcast address
// (a NetBIOS registration to 10.20.255.255, sent to the Ethernet broadcast address)
// records its sender but not the broadcast address as a host, while a unicast
// destination is recorded.
func TestDirectedBroadcastIsNoHost(t *testing.T) {
	set := observe.NewSet()
	e := NewEngine(Config{}, set)
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	udp := []byte{0x00, 0x89, 0x00, 0x89, 0, 12, 0, 0, 'p', 'i', 'n', 'g'} // NetBIOS port, 4-byte payload
	e.Packet(LinkEthernet, eth(macA, bcast, ipPacket(netip.MustParseAddr("10.20.3.10"), netip.MustParseAddr("10.20.255.255"),
		protoUDP, udp)), ms(0))
	e.Packet(LinkEthernet, eth(macA, macB, ipPacket(netip.MustParseAddr("10.20.3.10"), netip.MustParseAddr("10.20.0.2"),
		protoUDP, udp)), ms(1))
	e.Finish()
	if _, ok := set.Hosts[netip.MustParseAddr("10.20.255.255")]; ok {
		t.Error("the directed broadcast address became a host")
	}
	for _, a := range []string{"10.20.3.10", "10.20.0.2"} {
		if _, ok := set.Hosts[netip.MustParseAddr(a)]; !ok {
			t.Errorf("%s not recorded", a)
		}
	}
}
