package capture

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

func null(af uint32, bo binary.AppendByteOrder, ipPkt []byte) []byte {
	return append(bo.AppendUint32(nil, af), ipPkt...)
}

func sll(pktType, hatype uint16, mac []byte, proto uint16, ipPkt []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, pktType)
	b = binary.BigEndian.AppendUint16(b, hatype)
	b = binary.BigEndian.AppendUint16(b, uint16(len(mac)))
	b = append(b, (append(append([]byte{}, mac...), make([]byte, 8)...))[:8]...)
	b = binary.BigEndian.AppendUint16(b, proto)
	return append(b, ipPkt...)
}

func sll2(pktType uint8, hatype uint16, mac []byte, proto uint16, ipPkt []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, proto)
	b = append(b, 0, 0, 0, 0, 0, 3)
	b = binary.BigEndian.AppendUint16(b, hatype)
	b = append(b, pktType, byte(len(mac)))
	b = append(b, (append(append([]byte{}, mac...), make([]byte, 8)...))[:8]...)
	return append(b, ipPkt...)
}

// ethFrame builds an Ethernet frame carrying payload under EtherType et, after optional
// VLAN tags (TPID, TCI pairs).
func ethFrame(src, dst []byte, et uint16, payload []byte, tags ...uint16) []byte {
	b := append(append([]byte{}, dst...), src...)
	for i := 0; i+1 < len(tags); i += 2 {
		b = binary.BigEndian.AppendUint16(b, tags[i])
		b = binary.BigEndian.AppendUint16(b, tags[i+1])
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, payload...)
}

// pppoe builds a PPPoE session header and PPP protocol field around payload; pad bytes
// of zeros follow, outside the PPPoE length, as Ethernet padding would.
func pppoe(proto uint16, payload []byte, pad int) []byte {
	b := []byte{0x11, 0x00, 0x12, 0x34}
	b = binary.BigEndian.AppendUint16(b, uint16(2+len(payload)))
	b = binary.BigEndian.AppendUint16(b, proto)
	return append(append(b, payload...), make([]byte, pad)...)
}

// pppoeIP is pppoe with the PPP protocol of the IP packet's version.
func pppoeIP(ipPkt []byte, pad int) []byte {
	if ipPkt[0]>>4 == 6 {
		return pppoe(pppIPv6, ipPkt, pad)
	}
	return pppoe(pppIPv4, ipPkt, pad)
}

// mplsStack puts n labels in front of payload, the last with the bottom-of-stack bit.
func mplsStack(n int, payload []byte) []byte {
	var b []byte
	for i := range n {
		l := uint32(16+i)<<12 | 64 // label, TC 0, TTL 64
		if i == n-1 {
			l |= 1 << 8
		}
		b = binary.BigEndian.AppendUint32(b, l)
	}
	return append(b, payload...)
}

// TestLinkTypes sends one conversation framed by each link type and checks the stream.
func TestLinkTypes(t *testing.T) {
	type wrap func(s seg, fromClient bool) []byte
	ethWrap := func(tags ...uint16) wrap {
		return func(s seg, c bool) []byte {
			if c {
				return eth(macA, macB, s.ip(), tags...)
			}
			return eth(macB, macA, s.ip(), tags...)
		}
	}
	tests := []struct {
		name     string
		link     uint32
		v6       bool
		wrap     wrap
		wantMACs bool
	}{
		{"ethernet", LinkEthernet, false, ethWrap(), true},
		{"ethernet ipv6", LinkEthernet, true, ethWrap(), true},
		{"802.1Q", LinkEthernet, false, ethWrap(etherVLAN, 100), true},
		{"802.1ad QinQ", LinkEthernet, true, ethWrap(etherQinQ, 10, etherVLAN, 20), true},
		{"old QinQ 0x9100", LinkEthernet, false, ethWrap(etherQinQv1, 10, etherVLAN, 20), true},
		{"null little-endian", LinkNull, false, func(s seg, _ bool) []byte { return null(2, binary.LittleEndian, s.ip()) }, false},
		{"null big-endian", LinkNull, false, func(s seg, _ bool) []byte { return null(2, binary.BigEndian, s.ip()) }, false},
		{"null ipv6 24", LinkNull, true, func(s seg, _ bool) []byte { return null(24, binary.LittleEndian, s.ip()) }, false},
		{"null ipv6 28", LinkNull, true, func(s seg, _ bool) []byte { return null(28, binary.BigEndian, s.ip()) }, false},
		{"null ipv6 30", LinkNull, true, func(s seg, _ bool) []byte { return null(30, binary.LittleEndian, s.ip()) }, false},
		{"loop", LinkLoop, false, func(s seg, _ bool) []byte { return null(2, binary.BigEndian, s.ip()) }, false},
		{"raw 101", LinkRaw, false, func(s seg, _ bool) []byte { return s.ip() }, false},
		{"raw 101 ipv6", LinkRaw, true, func(s seg, _ bool) []byte { return s.ip() }, false},
		{"raw 12", LinkRawOld, false, func(s seg, _ bool) []byte { return s.ip() }, false},
		{"raw 14", LinkRawAlt, true, func(s seg, _ bool) []byte { return s.ip() }, false},
		{"ipv4 228", LinkIPv4, false, func(s seg, _ bool) []byte { return s.ip() }, false},
		{"ipv6 229", LinkIPv6, true, func(s seg, _ bool) []byte { return s.ip() }, false},
		{"sll", LinkSLL, false, func(s seg, c bool) []byte {
			mac := macB
			if c {
				mac = macA
			}
			return sll(0, arphrdEther, mac, etherIPv4, s.ip())
		}, true},
		{"sll2 ipv6", LinkSLL2, true, func(s seg, c bool) []byte {
			mac := macB
			if c {
				mac = macA
			}
			return sll2(0, arphrdEther, mac, etherIPv6, s.ip())
		}, true},
	}
	// etherWrap frames each IP packet with inner (PPPoE, MPLS) under EtherType et.
	etherWrap := func(et uint16, inner func([]byte) []byte, tags ...uint16) wrap {
		return func(s seg, c bool) []byte {
			if c {
				return ethFrame(macA, macB, et, inner(s.ip()), tags...)
			}
			return ethFrame(macB, macA, et, inner(s.ip()), tags...)
		}
	}
	cookedWrap := func(v2 bool, et uint16, inner func([]byte) []byte) wrap {
		return func(s seg, c bool) []byte {
			mac := macB
			if c {
				mac = macA
			}
			if v2 {
				return sll2(0, arphrdEther, mac, et, inner(s.ip()))
			}
			return sll(0, arphrdEther, mac, et, inner(s.ip()))
		}
	}
	ppp := func(p []byte) []byte { return pppoeIP(p, 0) }
	pppPadded := func(p []byte) []byte { return pppoeIP(p, 10) }
	mpls1 := func(p []byte) []byte { return mplsStack(1, p) }
	mpls3 := func(p []byte) []byte { return mplsStack(3, p) }
	mpls8 := func(p []byte) []byte { return mplsStack(maxMPLSLabels, p) }
	vlan := func(p []byte) []byte { return append([]byte{0, 7, 0x08, 0x00}, p...) }
	tests = append(tests, []struct {
		name     string
		link     uint32
		v6       bool
		wrap     wrap
		wantMACs bool
	}{
		{"pppoe ipv4", LinkEthernet, false, etherWrap(etherPPPoES, ppp), true},
		{"pppoe ipv6", LinkEthernet, true, etherWrap(etherPPPoES, ppp), true},
		{"pppoe with padding", LinkEthernet, true, etherWrap(etherPPPoES, pppPadded), true},
		{"802.1Q pppoe", LinkEthernet, false, etherWrap(etherPPPoES, ppp, etherVLAN, 7), true},
		{"QinQ pppoe ipv6", LinkEthernet, true, etherWrap(etherPPPoES, ppp, etherQinQ, 10, etherVLAN, 20), true},
		{"mpls one label", LinkEthernet, false, etherWrap(etherMPLS, mpls1), false},
		{"mpls three labels ipv6", LinkEthernet, true, etherWrap(etherMPLS, mpls3), false},
		{"mpls at the stack limit", LinkEthernet, false, etherWrap(etherMPLS, mpls8), false},
		{"mpls multicast", LinkEthernet, true, etherWrap(etherMPLSMC, mpls1), false},
		{"802.1Q mpls", LinkEthernet, false, etherWrap(etherMPLS, mpls3, etherVLAN, 300), false},
		{"QinQ mpls ipv6", LinkEthernet, true, etherWrap(etherMPLS, mpls1, etherQinQ, 1, etherVLAN, 2), false},
		{"sll pppoe", LinkSLL, false, cookedWrap(false, etherPPPoES, ppp), true},
		{"sll mpls ipv6", LinkSLL, true, cookedWrap(false, etherMPLS, mpls3), false},
		{"sll 802.1Q", LinkSLL, false, cookedWrap(false, etherVLAN, vlan), true},
		{"sll2 pppoe ipv6", LinkSLL2, true, cookedWrap(true, etherPPPoES, ppp), true},
		{"sll2 mpls", LinkSLL2, false, cookedWrap(true, etherMPLS, mpls1), false},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, server := "10.1.1.1:50000", "10.1.1.2:2575"
			if tc.v6 {
				client, server = "[fd00::1]:50000", "[fd00::2]:2575"
			}
			var rec recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
			for i, s := range conversation(client, server, "hello", "world") {
				e.Packet(tc.link, tc.wrap(s, s.src == client), ms(i))
			}
			e.Finish()
			if len(rec.streams) != 1 {
				t.Fatalf("streams = %d, want 1; counters %v", len(rec.streams), set.Counters)
			}
			if got := rec.streams[0].log(); got != "C:hello S:world end" {
				t.Errorf("stream = %q", got)
			}
			if got := rec.streams[0].ctx.Flow.Server.String(); got != server {
				t.Errorf("server = %s, want %s", got, server)
			}
			c := netip.MustParseAddrPort(client).Addr()
			h := set.Hosts[c]
			if h == nil {
				t.Fatalf("host %s not recorded", c)
			}
			wantMACs := []string(nil)
			if tc.wantMACs {
				wantMACs = []string{"02:00:00:00:00:aa"}
			}
			if !slices.Equal(h.MACs, wantMACs) {
				t.Errorf("MACs of %s = %v, want %v", c, h.MACs, wantMACs)
			}
			if !h.FirstSeen.Equal(ms(0)) || !h.LastSeen.Equal(ms(6)) {
				t.Errorf("host seen %v..%v", h.FirstSeen, h.LastSeen)
			}
			if len(set.Hosts) != 2 {
				t.Errorf("hosts = %d, want 2", len(set.Hosts))
			}
			if got := counterValue(set, "tcp_segments"); got != 7 {
				t.Errorf("tcp_segments = %d", got)
			}
		})
	}
}

// TestBadFrames checks that malformed frames are counted, never fatal.
func TestBadFrames(t *testing.T) {
	good := seg{"10.0.0.1:1", "10.0.0.2:2", 1, 0, tcpACK, "x"}.ip()
	shortTCP := ipPacket(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), protoTCP, []byte{1, 2, 3})
	badDoff := append([]byte{}, good...)
	badDoff[20+12] = 0x20
	udp := ipPacket(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), protoUDP, make([]byte, 12))
	snapped := good[:len(good)-1]
	tests := []struct {
		name    string
		link    uint32
		data    []byte
		counter string
	}{
		{"empty ethernet", LinkEthernet, nil, "truncated_packets"},
		{"short ethernet", LinkEthernet, make([]byte, 13), "truncated_packets"},
		{"vlan without tag", LinkEthernet, append(make([]byte, 12), 0x81, 0x00), "truncated_packets"},
		{"arp", LinkEthernet, append(append(make([]byte, 12), 0x08, 0x06), make([]byte, 28)...), "arp_packets"},
		{"llc", LinkEthernet, append(make([]byte, 12), 0x00, 0x40, 0xaa), "non_ip"},
		{"null unknown af", LinkNull, []byte{7, 0, 0, 0, 0x45}, "unknown_address_family"},
		{"null short", LinkNull, []byte{2, 0}, "truncated_packets"},
		{"raw not ip", LinkRaw, []byte{0x20, 1, 2}, "ip_header_invalid"},
		{"raw empty", LinkRaw, nil, "truncated_packets"},
		{"ipv4 short", LinkIPv4, good[:19], "truncated_packets"},
		{"ipv4 bad ihl", LinkIPv4, append([]byte{0x42}, good[1:]...), "ip_header_invalid"},
		{"ipv4 as ipv6", LinkIPv6, append(good, make([]byte, 40)...), "ip_header_invalid"},
		{"ipv6 short", LinkIPv6, make([]byte, 39), "truncated_packets"},
		{"tcp short", LinkIPv4, shortTCP, "truncated_packets"},
		{"tcp bad offset", LinkIPv4, badDoff, "tcp_header_invalid"},
		{"snap length cut", LinkIPv4, snapped, "truncated_packets"},
		{"udp", LinkIPv4, udp, "udp_packets"},
		{"unsupported link", 147, good, "unsupported_link_type"},
		{"sll short", LinkSLL, make([]byte, 15), "truncated_packets"},
		{"sll2 short", LinkSLL2, make([]byte, 19), "truncated_packets"},
		{"pppoe discovery", LinkEthernet, ethFrame(macA, macB, etherPPPoED, []byte{0x11, 0x09, 0, 0, 0, 0}), "non_ip"},
		{"pppoe short", LinkEthernet, ethFrame(macA, macB, etherPPPoES, []byte{0x11, 0, 0, 1, 0, 2, 0}), "truncated_packets"},
		{"pppoe bad version", LinkEthernet, ethFrame(macA, macB, etherPPPoES, append([]byte{0x21}, pppoe(pppIPv4, good, 0)[1:]...)), "link_header_invalid"},
		{"pppoe discovery code in a session frame", LinkEthernet, ethFrame(macA, macB, etherPPPoES, append([]byte{0x11, 0x07}, pppoe(pppIPv4, good, 0)[2:]...)), "link_header_invalid"},
		{"pppoe length below the protocol field", LinkEthernet, ethFrame(macA, macB, etherPPPoES, []byte{0x11, 0, 0, 1, 0, 1, 0, 0x21, 0x45}), "link_header_invalid"},
		{"pppoe lcp", LinkEthernet, ethFrame(macA, macB, etherPPPoES, pppoe(0xc021, []byte{1, 1, 0, 4}, 0)), "non_ip"},
		{"pppoe compressed protocol ipv4", LinkEthernet, ethFrame(macA, macB, etherPPPoES, append([]byte{0x11, 0, 0, 1, 0, byte(1 + len(good)), 0x21}, good...)), "ipv4_packets"},
		{"pppoe ipv4 cut", LinkEthernet, ethFrame(macA, macB, etherPPPoES, pppoe(pppIPv4, good, 0)[:8+19]), "truncated_packets"},
		{"pppoe length past the frame", LinkEthernet, ethFrame(macA, macB, etherPPPoES, pppoe(pppIPv4, good, 0)[:len(good)+8-1]), "truncated_packets"},
		{"vlan pppoe short", LinkEthernet, ethFrame(macA, macB, etherVLAN, []byte{0, 1, 0x88, 0x64, 0x11}), "truncated_packets"},
		{"mpls short label", LinkEthernet, ethFrame(macA, macB, etherMPLS, []byte{0, 1, 1}), "truncated_packets"},
		{"mpls no bottom", LinkEthernet, ethFrame(macA, macB, etherMPLS, []byte{0, 1, 0, 64, 0, 2, 0, 64}), "truncated_packets"},
		{"mpls nothing after the stack", LinkEthernet, ethFrame(macA, macB, etherMPLS, mplsStack(2, nil)), "truncated_packets"},
		{"mpls ipv4 cut", LinkEthernet, ethFrame(macA, macB, etherMPLS, mplsStack(2, good[:10])), "truncated_packets"},
		{"mpls stack too deep", LinkEthernet, ethFrame(macA, macB, etherMPLS, mplsStack(maxMPLSLabels+1, good)), "mpls_label_stack_too_deep"},
		{"mpls pseudowire", LinkEthernet, ethFrame(macA, macB, etherMPLS, mplsStack(2, append([]byte{0, 0, 0, 0}, eth(macA, macB, good)...))), "non_ip"},
		{"mpls multicast short", LinkEthernet, ethFrame(macA, macB, etherMPLSMC, nil), "truncated_packets"},
		{"sll pppoe short", LinkSLL, sll(0, arphrdEther, macA, etherPPPoES, []byte{0x11, 0}), "truncated_packets"},
		{"sll2 mpls too deep", LinkSLL2, sll2(0, arphrdEther, macA, etherMPLS, mplsStack(maxMPLSLabels+1, good)), "mpls_label_stack_too_deep"},
		{"sll vlan short", LinkSLL, sll(0, arphrdEther, macA, etherVLAN, []byte{0, 1}), "truncated_packets"},
		{"sll loopback outgoing", LinkSLL, sll(packetOutgoing, arphrdLoopback, nil, etherIPv4, good), "sll_loopback_outgoing_skipped"},
		{"sll2 loopback outgoing", LinkSLL2, sll2(packetOutgoing, arphrdLoopback, nil, etherIPv4, good), "sll_loopback_outgoing_skipped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			e := NewEngine(Config{}, set)
			e.Packet(tc.link, tc.data, t0)
			e.Finish()
			if got := counterValue(set, tc.counter); got != 1 {
				t.Errorf("%s = %d, want 1 (counters %v)", tc.counter, got, set.Counters)
			}
		})
	}
}

func TestHosts(t *testing.T) {
	set := observe.NewSet()
	e := NewEngine(Config{}, set)
	a, b := "192.168.1.10:1000", "192.168.1.20:80"
	syn, synack := seg{a, b, 1, 0, tcpSYN, ""}.ip(), seg{b, a, 1, 0, tcpSYN | tcpACK, ""}.ip()
	ack, other := seg{a, b, 2, 0, tcpACK, "hello"}.ip(), seg{"192.168.1.30:5", b, 2, 0, tcpACK, ""}.ip()
	e.Packet(LinkEthernet, eth(macA, macB, syn), ms(0))
	e.Packet(LinkEthernet, eth(macB, macA, synack), ms(1))
	// The same address behind a second MAC, a zero MAC (Linux loopback), and multicast.
	e.Packet(LinkEthernet, eth([]byte{2, 0, 0, 0, 0, 0xcc}, macB, ack), ms(2))
	e.Packet(LinkEthernet, eth(make([]byte, 6), macB, other), ms(3))
	mc := ipPacket(netip.MustParseAddr("192.168.1.40"), netip.MustParseAddr("224.0.0.251"), protoUDP, make([]byte, 8))
	e.Packet(LinkEthernet, eth([]byte{2, 0, 0, 0, 0, 0xdd}, []byte{1, 0, 0x5e, 0, 0, 0xfb}, mc), ms(4))
	arp := append(append([]byte{}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}...), macA...)
	arp = append(arp, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1)
	arp = append(arp, 2, 0, 0, 0, 0, 0xee, 192, 168, 1, 50)
	arp = append(arp, make([]byte, 10)...)
	e.Packet(LinkEthernet, arp, ms(5))
	e.Finish()
	want := map[string][]string{
		"192.168.1.10": {"02:00:00:00:00:aa", "02:00:00:00:00:cc"},
		"192.168.1.20": {"02:00:00:00:00:bb"},
		"192.168.1.30": nil,
		"192.168.1.40": {"02:00:00:00:00:dd"},
		"192.168.1.50": {"02:00:00:00:00:ee"},
	}
	if len(set.Hosts) != len(want) {
		t.Errorf("hosts = %d, want %d", len(set.Hosts), len(want))
	}
	for addr, macs := range want {
		h := set.Hosts[netip.MustParseAddr(addr)]
		if h == nil {
			t.Errorf("%s missing", addr)
			continue
		}
		if !slices.Equal(h.MACs, macs) {
			t.Errorf("%s MACs = %v, want %v", addr, h.MACs, macs)
		}
	}
	// What each address sent: network-layer lengths, an ARP message without the
	// Ethernet padding after it.
	traffic := map[string][2]uint64{
		"192.168.1.10": {2, uint64(len(syn) + len(ack))},
		"192.168.1.20": {1, uint64(len(synack))},
		"192.168.1.30": {1, uint64(len(other))},
		"192.168.1.40": {1, uint64(len(mc))},
		"192.168.1.50": {1, 28},
	}
	for addr, w := range traffic {
		if h := set.Hosts[netip.MustParseAddr(addr)]; h != nil && (h.Packets != w[0] || h.Bytes != w[1]) {
			t.Errorf("%s sent %d packets, %d bytes; want %d, %d", addr, h.Packets, h.Bytes, w[0], w[1])
		}
	}
}

// fragments4 splits an IPv4 packet's payload into fragments of size n (a multiple of 8).
func fragments4(pkt []byte, n int) [][]byte {
	payload := pkt[20:]
	var out [][]byte
	for off := 0; off < len(payload); off += n {
		end := min(off+n, len(payload))
		h := append([]byte{}, pkt[:20]...)
		binary.BigEndian.PutUint16(h[2:], uint16(20+end-off))
		ff := uint16(off / 8)
		if end < len(payload) {
			ff |= 0x2000
		}
		binary.BigEndian.PutUint16(h[6:], ff)
		out = append(out, append(h, payload[off:end]...))
	}
	return out
}

func fragments6(pkt []byte, n int, id uint32) [][]byte {
	payload := pkt[40:]
	var out [][]byte
	for off := 0; off < len(payload); off += n {
		end := min(off+n, len(payload))
		h := append([]byte{}, pkt[:40]...)
		h[6] = 44
		binary.BigEndian.PutUint16(h[4:], uint16(8+end-off))
		fh := []byte{pkt[6], 0, 0, 0, 0, 0, 0, 0}
		ff := uint16(off)
		if end < len(payload) {
			ff |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], ff)
		binary.BigEndian.PutUint32(fh[4:], id)
		out = append(out, append(append(h, fh...), payload[off:end]...))
	}
	return out
}

func TestFragments(t *testing.T) {
	body := make([]byte, 3000)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	tests := []struct {
		name    string
		client  string
		split   func([]byte) [][]byte
		order   []int
		counter string
	}{
		{"ipv4 in order", "10.0.0.1:4000", func(p []byte) [][]byte { return fragments4(p, 1024) }, []int{0, 1, 2}, "ipv4_fragments_reassembled"},
		{"ipv4 out of order", "10.0.0.1:4000", func(p []byte) [][]byte { return fragments4(p, 1024) }, []int{2, 0, 1}, "ipv4_fragments_reassembled"},
		{"ipv4 duplicate fragment", "10.0.0.1:4000", func(p []byte) [][]byte { return fragments4(p, 1024) }, []int{1, 1, 2, 0}, "ip_fragment_overlaps"},
		{"ipv6 out of order", "[fd00::1]:4000", func(p []byte) [][]byte { return fragments6(p, 1232, 77) }, []int{1, 2, 0}, "ipv6_fragments_reassembled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := "10.0.0.2:9999"
			if tc.client[0] == '[' {
				server = "[fd00::2]:9999"
			}
			var rec recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
			e.Packet(LinkRaw, seg{tc.client, server, 1, 0, tcpSYN, ""}.ip(), ms(0))
			frags := tc.split(seg{tc.client, server, 2, 0, tcpACK, string(body)}.ip())
			for i, k := range tc.order {
				e.Packet(LinkRaw, frags[k], ms(1+i))
			}
			e.Finish()
			if len(rec.streams) != 1 || rec.streams[0].log() != "C:"+string(body)+" end" {
				t.Fatalf("stream not delivered whole (counters %v)", set.Counters)
			}
			if got := counterValue(set, tc.counter); got != 1 {
				t.Errorf("%s = %d", tc.counter, got)
			}
		})
	}

	t.Run("incomplete datagram expires", func(t *testing.T) {
		set := observe.NewSet()
		e := NewEngine(Config{}, set)
		frags := fragments4(seg{"10.0.0.1:1", "10.0.0.2:2", 1, 0, tcpACK, string(body)}.ip(), 1024)
		e.Packet(LinkRaw, frags[0], ms(0))
		e.Packet(LinkRaw, frags[2], ms(1))
		// A later packet moves the capture clock past the fragment timeout.
		e.Packet(LinkRaw, seg{"10.0.0.3:1", "10.0.0.4:2", 1, 0, tcpACK, ""}.ip(), ms(int(fragTimeout/1e6)+5000))
		if len(e.frag.m) != 0 {
			t.Errorf("pending datagrams = %d after the timeout", len(e.frag.m))
		}
		e.Finish()
		if got := counterValue(set, "ip_fragments_expired"); got != 2 {
			t.Errorf("ip_fragments_expired = %d, want 2", got)
		}
	})
	t.Run("oversized datagram dropped", func(t *testing.T) {
		set := observe.NewSet()
		e := NewEngine(Config{}, set)
		f := fragments4(seg{"10.0.0.1:1", "10.0.0.2:2", 1, 0, tcpACK, string(body)}.ip(), 1024)[0]
		binary.BigEndian.PutUint16(f[6:], 0x2000|8190) // offset 65520 + 1024 bytes > 65535
		e.Packet(LinkRaw, f, ms(0))
		e.Finish()
		if got := counterValue(set, "ip_fragments_dropped"); got != 1 {
			t.Errorf("ip_fragments_dropped = %d, want 1", got)
		}
	})
}
