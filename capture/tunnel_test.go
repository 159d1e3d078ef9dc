package capture

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Outer (underlay) addresses of the tunnel tests: two tunnel endpoints, and an ERSPAN
// switch and its collector.
var (
	outerA, outerB   = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	outerA6, outerB6 = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	spanSwitch       = netip.MustParseAddr("10.1.1.1")
	spanSensor       = netip.MustParseAddr("10.9.9.9")
	macOuterA        = []byte{0x02, 0, 0, 0, 0, 0x01}
	macOuterB        = []byte{0x02, 0, 0, 0, 0, 0x02}
)

// greHeader builds a GRE header; key and seq are included when their flag is set
// (checksum: 0x8000, key: 0x2000, sequence: 0x1000).
func greHeader(flags, proto uint16, key, seq uint32) []byte {
	b := binary.BigEndian.AppendUint16(nil, flags)
	b = binary.BigEndian.AppendUint16(b, proto)
	if flags&0x8000 != 0 {
		b = append(b, 0, 0, 0, 0) // checksum and reserved (not verified)
	}
	if flags&0x2000 != 0 {
		b = binary.BigEndian.AppendUint32(b, key)
	}
	if flags&0x1000 != 0 {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	return b
}

// udpDatagram builds a UDP header and payload (checksum zero: not verified).
func udpDatagram(sp, dp uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}

func vxlanHeader(vni uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{0x08, 0, 0, 0}, vni<<8)
}

// geneveHeader builds a Geneve header with optWords 4-byte words of options.
func geneveHeader(proto uint16, vni uint32, optWords int) []byte {
	b := []byte{byte(optWords), 0}
	b = binary.BigEndian.AppendUint16(b, proto)
	b = binary.BigEndian.AppendUint32(b, vni<<8)
	for range optWords {
		b = append(b, 0x01, 0x02, 0x03, 0x04)
	}
	return b
}

// gtpHeader builds a GTP-U G-PDU header for a payload of n bytes; with ext, the
// optional fields and one PDU session container extension header (3GPP TS 38.415).
func gtpHeader(teid uint32, n int, ext bool) []byte {
	flags := byte(0x30)
	extra := []byte(nil)
	if ext {
		flags |= 0x04 | 0x02
		extra = []byte{0x00, 0x07, 0x00, 0x85, 1, 0x10, 0x09, 0x00} // seq 7, N-PDU 0, next 0x85; ext of 1 word, next 0
	}
	b := []byte{flags, gtpGPDU}
	b = binary.BigEndian.AppendUint16(b, uint16(len(extra)+n))
	b = binary.BigEndian.AppendUint32(b, teid)
	return append(b, extra...)
}

// erspan2Header is an ERSPAN type II header for session id.
func erspan2Header(session uint16) []byte {
	return []byte{0x10, 0x00, byte(session >> 8 & 3), byte(session), 0, 0, 0, 0}
}

// erspan3Header is an ERSPAN type III header for session id, frame type ft, with the
// platform-specific subheader when o is set.
func erspan3Header(session uint16, ft byte, o bool) []byte {
	b := []byte{0x20, 0x00, byte(session >> 8 & 3), byte(session), 1, 2, 3, 4, 0, 0, ft << 2, 0}
	if o {
		b[11] |= 1
		b = append(b, 3<<2, 0, 0, 0, 0, 0, 0, 0) // platform ID 3 subheader
	}
	return b
}

// innerFrame is an inner IP packet in Ethernet, with the inner hosts' MACs.
func innerFrame(ipPkt []byte, fromClient bool) []byte {
	if fromClient {
		return eth(macA, macB, ipPkt)
	}
	return eth(macB, macA, ipPkt)
}

// outer wraps an outer IP payload in IPv4 or IPv6 and Ethernet, from a to b; the outer
// MACs are the endpoints', never the inner hosts'.
func outer(a, b netip.Addr, proto byte, payload []byte) []byte {
	mac := macOuterA
	if a == outerB || a == outerB6 {
		mac = macOuterB
	}
	return eth(mac, macOuterB, ipPacket(a, b, proto, payload))
}

// symmetric is the outer source and destination of a symmetric tunnel's packet.
func symmetric(fromClient, v6 bool) (netip.Addr, netip.Addr) {
	a, b := outerA, outerB
	if v6 {
		a, b = outerA6, outerB6
	}
	if fromClient {
		return a, b
	}
	return b, a
}

func TestTunnels(t *testing.T) {
	type wrap func(ipPkt []byte, fromClient bool) []byte
	sym := func(v6 bool, proto byte, payload func(ipPkt []byte, fromClient bool) []byte) wrap {
		return func(p []byte, c bool) []byte {
			a, b := symmetric(c, v6)
			return outer(a, b, proto, payload(p, c))
		}
	}
	span := func(payload func(ipPkt []byte, fromClient bool) []byte) wrap {
		return func(p []byte, c bool) []byte { return outer(spanSwitch, spanSensor, protoGRE, payload(p, c)) }
	}
	ipProto := func(p []byte) uint16 {
		if p[0]>>4 == 6 {
			return etherIPv6
		}
		return etherIPv4
	}
	tests := []struct {
		name     string
		innerV6  bool
		wrap     wrap
		counter  string
		path     string
		encap    string
		session  int
		wantMACs bool // the inner frame carries the inner hosts' MACs
	}{
		{"gre ipv4", false, sym(false, protoGRE, func(p []byte, _ bool) []byte { return append(greHeader(0, etherIPv4, 0, 0), p...) }),
			"tunnel_gre_packets", "GRE 192.0.2.1↔192.0.2.2", "gre", -1, false},
		{"gre checksum key sequence ipv6", true, sym(false, protoGRE, func(p []byte, _ bool) []byte {
			return append(greHeader(0xb000, etherIPv6, 42, 1), p...)
		}), "tunnel_gre_packets", "GRE key 42 192.0.2.1↔192.0.2.2", "gre", -1, false},
		{"gre key only over ipv6", false, sym(true, protoGRE, func(p []byte, _ bool) []byte {
			return append(greHeader(0x2000, etherIPv4, 7, 0), p...)
		}), "tunnel_gre_packets", "GRE key 7 2001:db8::1↔2001:db8::2", "gre", -1, false},
		{"gretap", false, sym(false, protoGRE, func(p []byte, c bool) []byte {
			return append(greHeader(0x2000, greTEB, 5, 0), innerFrame(p, c)...)
		}), "tunnel_gre_packets", "GRE key 5 192.0.2.1↔192.0.2.2", "gre", -1, true},
		{"erspan type I", false, span(func(p []byte, c bool) []byte { return append(greHeader(0, greERSPAN, 0, 0), innerFrame(p, c)...) }),
			"tunnel_erspan_i_packets", "ERSPAN type I from 10.1.1.1 to 10.9.9.9", "erspan-i", -1, true},
		{"erspan type II", false, span(func(p []byte, c bool) []byte {
			return append(append(greHeader(0x1000, greERSPAN, 0, 9), erspan2Header(7)...), innerFrame(p, c)...)
		}), "tunnel_erspan_ii_packets", "ERSPAN session 7 from 10.1.1.1 to 10.9.9.9", "erspan-ii", 7, true},
		{"erspan type III", true, span(func(p []byte, c bool) []byte {
			return append(append(greHeader(0x1000, greERSPAN3, 0, 9), erspan3Header(1023, 0, false)...), innerFrame(p, c)...)
		}), "tunnel_erspan_iii_packets", "ERSPAN type III session 1023 from 10.1.1.1 to 10.9.9.9", "erspan-iii", 1023, true},
		{"erspan type III with subheader", false, span(func(p []byte, c bool) []byte {
			return append(append(greHeader(0x1000, greERSPAN3, 0, 9), erspan3Header(3, 0, true)...), innerFrame(p, c)...)
		}), "tunnel_erspan_iii_packets", "ERSPAN type III session 3 from 10.1.1.1 to 10.9.9.9", "erspan-iii", 3, true},
		{"erspan type III ip frame", false, span(func(p []byte, _ bool) []byte {
			return append(append(greHeader(0x1000, greERSPAN3, 0, 9), erspan3Header(4, erspanFrameIPv4, false)...), p...)
		}), "tunnel_erspan_iii_packets", "ERSPAN type III session 4 from 10.1.1.1 to 10.9.9.9", "erspan-iii", 4, false},
		{"vxlan", false, sym(false, protoUDP, func(p []byte, c bool) []byte {
			return udpDatagram(51000, portVXLAN, append(vxlanHeader(100), innerFrame(p, c)...))
		}), "tunnel_vxlan_packets", "VXLAN VNI 100 192.0.2.1↔192.0.2.2", "vxlan", -1, true},
		{"vxlan over ipv6", true, sym(true, protoUDP, func(p []byte, c bool) []byte {
			return udpDatagram(51000, portVXLAN, append(vxlanHeader(16777215), innerFrame(p, c)...))
		}), "tunnel_vxlan_packets", "VXLAN VNI 16777215 2001:db8::1↔2001:db8::2", "vxlan", -1, true},
		{"geneve ethernet with options", false, sym(false, protoUDP, func(p []byte, c bool) []byte {
			return udpDatagram(51000, portGeneve, append(geneveHeader(greTEB, 200, 3), innerFrame(p, c)...))
		}), "tunnel_geneve_packets", "Geneve VNI 200 192.0.2.1↔192.0.2.2", "geneve", -1, true},
		{"geneve ip", true, sym(false, protoUDP, func(p []byte, _ bool) []byte {
			return udpDatagram(51000, portGeneve, append(geneveHeader(ipProto(p), 201, 0), p...))
		}), "tunnel_geneve_packets", "Geneve VNI 201 192.0.2.1↔192.0.2.2", "geneve", -1, false},
		{"gtp-u", false, sym(false, protoUDP, func(p []byte, _ bool) []byte {
			return udpDatagram(portGTPU, portGTPU, append(gtpHeader(0x1234, len(p), false), p...))
		}), "tunnel_gtpu_packets", "GTP-U TEID 4660 192.0.2.1↔192.0.2.2", "gtp-u", -1, false},
		{"gtp-u with extension header", true, sym(false, protoUDP, func(p []byte, _ bool) []byte {
			return udpDatagram(portGTPU, portGTPU, append(gtpHeader(9, len(p), true), p...))
		}), "tunnel_gtpu_packets", "GTP-U TEID 9 192.0.2.1↔192.0.2.2", "gtp-u", -1, false},
		{"ipip", false, sym(false, protoIPIP, func(p []byte, _ bool) []byte { return p }),
			"tunnel_ipip_packets", "IPv4-in-IPv4 192.0.2.1↔192.0.2.2", "ipip", -1, false},
		{"6in4", true, sym(false, protoIPv6, func(p []byte, _ bool) []byte { return p }),
			"tunnel_6in4_packets", "6in4 192.0.2.1↔192.0.2.2", "6in4", -1, false},
		{"4in6", false, sym(true, protoIPIP, func(p []byte, _ bool) []byte { return p }),
			"tunnel_4in6_packets", "4in6 2001:db8::1↔2001:db8::2", "4in6", -1, false},
		{"6in6", true, sym(true, protoIPv6, func(p []byte, _ bool) []byte { return p }),
			"tunnel_6in6_packets", "6in6 2001:db8::1↔2001:db8::2", "6in6", -1, false},
		{"vxlan in gre", false, sym(false, protoGRE, func(p []byte, c bool) []byte {
			a, b := netip.MustParseAddr("172.16.0.1"), netip.MustParseAddr("172.16.0.2")
			if !c {
				a, b = b, a
			}
			return append(greHeader(0, etherIPv4, 0, 0),
				ipPacket(a, b, protoUDP, udpDatagram(40000, portVXLAN, append(vxlanHeader(3), innerFrame(p, c)...)))...)
		}), "tunnel_vxlan_packets", "GRE 192.0.2.1↔192.0.2.2 / VXLAN VNI 3 172.16.0.1↔172.16.0.2", "vxlan", -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, server := "10.1.1.100:50000", "10.1.1.200:443"
			if tc.innerV6 {
				client, server = "[fd00::100]:50000", "[fd00::200]:443"
			}
			var rec recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
			segs := conversation(client, server, "hello", "world")
			for i, s := range segs {
				e.Packet(LinkEthernet, tc.wrap(s.ip(), s.src == client), ms(i))
				if e.tun.cur.n != 0 {
					t.Fatalf("tunnel stack not unwound: %d levels", e.tun.cur.n)
				}
			}
			e.Finish()
			if len(rec.streams) != 1 {
				t.Fatalf("streams = %d, want 1; counters %v", len(rec.streams), set.Counters)
			}
			if got := rec.streams[0].log(); got != "C:hello S:world end" {
				t.Errorf("stream = %q", got)
			}
			if got := rec.streams[0].ctx.Flow.Server.String(); got != server {
				t.Errorf("server = %s, want %s (keyed on the inner addresses)", got, server)
			}
			if got := counterValue(set, tc.counter); got != uint64(len(segs)) {
				t.Errorf("%s = %d, want %d", tc.counter, got, len(segs))
			}
			for _, ap := range []string{client, server} {
				a := netip.MustParseAddrPort(ap).Addr()
				h := set.Hosts[a]
				if h == nil {
					t.Fatalf("inner host %s not recorded", a)
				}
				if !slices.Equal(h.SeenVia, []string{tc.path}) || h.TunnelEndpoint {
					t.Errorf("inner host %s: seen via %q, endpoint %v; want %q", a, h.SeenVia, h.TunnelEndpoint, tc.path)
				}
				if tc.wantMACs != (len(h.MACs) == 1) || slices.Contains(h.MACs, "02:00:00:00:00:01") || slices.Contains(h.MACs, "02:00:00:00:00:02") {
					t.Errorf("inner host %s: MACs %v (inner MACs expected: %v)", a, h.MACs, tc.wantMACs)
				}
			}
			sp := set.SensorPaths[tc.path]
			if sp == nil {
				t.Fatalf("sensor paths %v lack %q", set.SensorPaths, tc.path)
			}
			if sp.Encap != tc.encap || sp.Session != tc.session || sp.Packets != uint64(len(segs)) {
				t.Errorf("sensor path = %+v; want encap %s, session %d, %d packets", *sp, tc.encap, tc.session, len(segs))
			}
			endpoints := 0
			for a, h := range set.Hosts {
				if h.TunnelEndpoint {
					endpoints++
					if len(h.SeenVia) > 0 && !slices.Contains([]string{"172.16.0.1", "172.16.0.2"}, a.String()) {
						t.Errorf("outer endpoint %s seen via %q: only a nested level's endpoints are inside a tunnel", a, h.SeenVia)
					}
				}
			}
			if endpoints < 2 {
				t.Errorf("%d tunnel endpoints marked, want the outer pair", endpoints)
			}
			// The Pool's hash follows the tunnel to the inner pair: both directions, and
			// the inner packet sent in the clear, go to one worker.
			inner := shardHash(LinkRaw, segs[0].ip())
			for _, s := range segs[:2] {
				if got := shardHash(LinkEthernet, tc.wrap(s.ip(), s.src == client)); got != inner {
					t.Errorf("shard hash of %s→%s = %x, want the inner pair's %x", s.src, s.dst, got, inner)
				}
			}
		})
	}
}

// TestTunnelDrops checks that what cannot be opened is counted under the right counter
// and never reaches the flow table.
func TestTunnelDrops(t *testing.T) {
	inner := seg{"10.1.1.100:50000", "10.1.1.200:443", 1, 0, psh, "hello"}.ip()
	nest := func(n int) []byte {
		p := inner
		for range n {
			p = ipPacket(outerA, outerB, protoIPIP, p)
		}
		return eth(macOuterA, macOuterB, p)
	}
	gtpEcho := append(gtpHeader(1, 0, false)[:0:0], gtpHeader(1, 0, false)...)
	gtpEcho[1] = 1
	badExt := append(gtpHeader(9, len(inner), true), inner...)
	badExt[12] = 0 // an extension header of length zero
	tests := []struct {
		name    string
		frame   []byte
		counter string
		want    uint64
	}{
		{"nesting at the limit", nest(maxTunnelDepth), "tunnel_ipip_packets", maxTunnelDepth},
		{"nesting too deep", nest(maxTunnelDepth + 1), "tunnel_nesting_too_deep", 1},
		{"gre truncated", outer(outerA, outerB, protoGRE, []byte{0, 0}), "tunnel_header_truncated", 1},
		{"gre key truncated", outer(outerA, outerB, protoGRE, []byte{0x20, 0, 0x08, 0, 1}), "tunnel_header_truncated", 1},
		{"gre version 1 (pptp)", outer(outerA, outerB, protoGRE, append([]byte{0x30, 0x01, 0x88, 0x0b}, make([]byte, 8)...)), "tunnel_header_invalid", 1},
		{"gre unknown protocol", outer(outerA, outerB, protoGRE, append(greHeader(0, 0x880b, 0, 0), 1, 2, 3)), "non_ip", 1},
		{"erspan II truncated", outer(spanSwitch, spanSensor, protoGRE, append(greHeader(0x1000, greERSPAN, 0, 1), 0x10, 0)), "tunnel_header_truncated", 1},
		{"erspan II wrong version", outer(spanSwitch, spanSensor, protoGRE, append(greHeader(0x1000, greERSPAN, 0, 1), make([]byte, 8)...)), "tunnel_header_invalid", 1},
		{"erspan III subheader truncated", outer(spanSwitch, spanSensor, protoGRE, append(greHeader(0x1000, greERSPAN3, 0, 1), erspan3Header(1, 0, true)[:15]...)), "tunnel_header_truncated", 1},
		{"erspan III unknown frame type", outer(spanSwitch, spanSensor, protoGRE, append(greHeader(0x1000, greERSPAN3, 0, 1), erspan3Header(1, 5, false)...)), "tunnel_payload_not_ip", 1},
		{"geneve options past the end", outer(outerA, outerB, protoUDP, udpDatagram(1, portGeneve, geneveHeader(greTEB, 1, 3)[:12])), "tunnel_header_truncated", 1},
		{"gtp-u echo request", outer(outerA, outerB, protoUDP, udpDatagram(portGTPU, portGTPU, gtpEcho)), "tunnel_payload_not_ip", 1},
		{"gtp-u extension of length zero", outer(outerA, outerB, protoUDP, udpDatagram(portGTPU, portGTPU, badExt)), "tunnel_header_invalid", 1},
		{"vxlan without its I flag is plain UDP", outer(outerA, outerB, protoUDP, udpDatagram(1, portVXLAN, append([]byte{0, 0, 0, 0, 0, 0, 1, 0}, innerFrame(inner, true)...))), "tunnel_vxlan_packets", 0},
		{"gre carrying a truncated inner packet", outer(outerA, outerB, protoGRE, append(greHeader(0, etherIPv4, 0, 0), inner[:30]...)), "truncated_packets", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
			e.Packet(LinkEthernet, tc.frame, t0)
			if e.tun.cur.n != 0 {
				t.Fatalf("tunnel stack not unwound: %d levels", e.tun.cur.n)
			}
			e.Finish()
			if got := counterValue(set, tc.counter); got != tc.want {
				t.Errorf("%s = %d, want %d; counters %v", tc.counter, got, tc.want, set.Counters)
			}
			if tc.counter != "tunnel_ipip_packets" && len(rec.streams) != 0 {
				t.Errorf("%d streams from a packet that was dropped", len(rec.streams))
			}
		})
	}
}

// TestTunnelFragments sends a GRE packet whose outer datagram was fragmented (as a
// tunnel with a 1500-byte inner MTU does over a 1500-byte underlay), and an inner
// datagram fragmented inside a tunnel: both are reassembled at their own level, in one
// Engine and through a Pool whose workers hash the inner pair.
func TestTunnelFragments(t *testing.T) {
	client, server := "10.1.1.100:50000", "10.1.1.200:443"
	segs := conversation(client, server, string(make([]byte, 1400)), "world")
	wrapOuterFrag := func(s seg, fromClient bool) [][]byte {
		a, b := symmetric(fromClient, false)
		pkt := ipPacket(a, b, protoGRE, append(greHeader(0, etherIPv4, 0, 0), s.ip()...))
		var out [][]byte
		for _, f := range fragments4(pkt, 512) {
			out = append(out, eth(macOuterA, macOuterB, f))
		}
		return out
	}
	wrapInnerFrag := func(s seg, fromClient bool) [][]byte {
		a, b := symmetric(fromClient, false)
		var out [][]byte
		for _, f := range fragments4(s.ip(), 512) {
			out = append(out, outer(a, b, protoUDP, udpDatagram(4000, portVXLAN, append(vxlanHeader(1), innerFrame(f, fromClient)...))))
		}
		return out
	}
	for name, wrap := range map[string]func(seg, bool) [][]byte{"outer": wrapOuterFrag, "inner": wrapInnerFrag} {
		t.Run(name, func(t *testing.T) {
			var rec recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
			routes := new(fragRoutes)
			want := shardHash(LinkRaw, segs[0].ip())
			for i, s := range segs {
				for _, f := range wrap(s, s.src == client) {
					e.Packet(LinkEthernet, f, ms(i))
					if h := routes.hash(LinkEthernet, f); h != want {
						t.Errorf("segment %d: a fragment hashes to %x, not the inner pair's %x", i, h, want)
					}
				}
			}
			e.Finish()
			if len(rec.streams) != 1 || len(rec.streams[0].log()) != len("C:")+1400+len(" S:world end") {
				t.Fatalf("streams = %d; counters %v", len(rec.streams), set.Counters)
			}
			if counterValue(set, "ipv4_fragments_reassembled") == 0 || counterValue(set, "ip_fragments_dropped") != 0 {
				t.Errorf("counters %v", set.Counters)
			}
		})
	}
}

// TestTunnelPool runs tunnelled conversations through a Pool: each inner flow meets in
// one worker (whole streams), and the merged set has the paths and hosts one Engine has.
func TestTunnelPool(t *testing.T) {
	var frames []frame
	for i := range 16 {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 2, byte(i + 1)}), 50000).String()
		for j, s := range conversation(client, "10.1.1.200:2575", "MSH|hello", "MSA|ok") {
			c := s.src == client
			// Requests come in over GRE, answers over an ERSPAN session of the other
			// switch: different outer pairs, one inner flow.
			var data []byte
			if c {
				a, b := symmetric(true, false)
				data = outer(a, b, protoGRE, append(greHeader(0, etherIPv4, 0, 0), s.ip()...))
			} else {
				data = outer(spanSwitch, spanSensor, protoGRE, append(append(greHeader(0x1000, greERSPAN, 0, 9), erspan2Header(12)...), innerFrame(s.ip(), c)...))
			}
			frames = append(frames, frame{ts: ms(i*10 + j), data: data})
		}
	}
	p := NewPool(Config{Dissectors: []dissect.Dissector{{Name: "hl7", Detect: prefixDetect("MSH", false),
		New: func(*dissect.Context) dissect.Stream { return &countStream{} }}}}, 4)
	for _, f := range frames {
		p.Packet(LinkEthernet, f.data, f.ts)
	}
	set := p.Finish()
	if got := counterValue(set, "streams_hl7"); got != 16 {
		t.Errorf("streams_hl7 = %d, want 16 (one per inner flow)", got)
	}
	if got := counterValue(set, "tcp_retransmitted_segments") + counterValue(set, "flows_midstream"); got != 0 {
		t.Errorf("a flow was split between workers: %v", set.Counters)
	}
	if n := set.ERSPANSessions(); n != 1 {
		t.Errorf("ERSPAN sessions = %d, want 1", n)
	}
	h := set.Hosts[netip.MustParseAddr("10.1.1.200")]
	if h == nil || len(h.SeenVia) != 2 {
		t.Fatalf("server seen via %v, want the GRE tunnel and the ERSPAN session", h)
	}
}

// countStream is a Stream that only counts.
type countStream struct{ n int }

func (s *countStream) Data(_ dissect.Direction, b []byte, _ time.Time) { s.n += len(b) }
func (s *countStream) Gap(dissect.Direction, int)                      {}
func (s *countStream) Done() bool                                      { return false }
func (s *countStream) End(time.Time)                                   {}

// TestTunnelNoAllocs checks that a tunnelled packet of a known path costs no allocation:
// the path is looked up by value, the host's paths are indexes.
func TestTunnelNoAllocs(t *testing.T) {
	e := NewEngine(Config{}, observe.NewSet())
	s := seg{"10.1.1.100:50000", "10.1.1.200:443", 1, 0, psh, "hello"}
	frames := [][]byte{
		outer(spanSwitch, spanSensor, protoGRE, append(append(greHeader(0x1000, greERSPAN, 0, 9), erspan2Header(7)...), innerFrame(s.ip(), true)...)),
		outer(outerA, outerB, protoUDP, udpDatagram(51000, portVXLAN, append(vxlanHeader(100), innerFrame(s.ip(), true)...))),
		outer(outerA, outerB, protoIPIP, s.ip()),
	}
	for _, f := range frames {
		e.Packet(LinkEthernet, f, t0) // the first sighting of a path or host allocates
	}
	for _, f := range frames {
		if n := testing.AllocsPerRun(100, func() { e.Packet(LinkEthernet, f, t0) }); n != 0 {
			t.Errorf("%v allocations per tunnelled packet", n)
		}
	}
}

// FuzzTunnel wraps fuzzed bytes in each tunnel's outer header, so the fuzzer starts
// inside the decapsulation path: the engine must count and survive whatever follows,
// unwind its tunnel stack, and the Pool's hash must read the same bytes without panic.
func FuzzTunnel(f *testing.F) {
	s := seg{"10.1.1.100:50000", "10.1.1.200:443", 1, 0, psh, "SRV hello"}
	s6 := seg{"[fd00::1]:40000", "[fd00::2]:443", 1, 0, psh, "\x16\x03\x01\x00\x05\x01"}
	inner, inner6 := s.ip(), s6.ip()
	f.Add(uint8(0), append(greHeader(0xb000, etherIPv4, 1, 2), inner...))
	f.Add(uint8(0), append(greHeader(0x2000, greTEB, 5, 0), innerFrame(inner6, true)...))
	f.Add(uint8(0), append(greHeader(0, greERSPAN, 0, 0), innerFrame(inner, true)...))
	f.Add(uint8(0), append(append(greHeader(0x1000, greERSPAN, 0, 9), erspan2Header(7)...), innerFrame(inner, false)...))
	f.Add(uint8(0), append(append(greHeader(0x1000, greERSPAN3, 0, 9), erspan3Header(9, 0, true)...), innerFrame(inner6, true)...))
	f.Add(uint8(0), append(append(greHeader(0x1000, greERSPAN3, 0, 9), erspan3Header(9, erspanFrameIPv4, false)...), inner...))
	f.Add(uint8(1), udpDatagram(1, portVXLAN, append(vxlanHeader(100), innerFrame(inner, true)...)))
	f.Add(uint8(1), udpDatagram(1, portGeneve, append(geneveHeader(greTEB, 7, 2), innerFrame(inner6, true)...)))
	f.Add(uint8(1), udpDatagram(portGTPU, portGTPU, append(gtpHeader(3, len(inner), true), inner...)))
	f.Add(uint8(2), inner)
	f.Add(uint8(3), inner6)
	f.Add(uint8(2), ipPacket(outerA, outerB, protoIPIP, ipPacket(outerA, outerB, protoGRE, append(greHeader(0, etherIPv4, 0, 0), inner...))))
	for _, fr := range fragments4(ipPacket(outerA, outerB, protoGRE, append(greHeader(0, etherIPv4, 0, 0), inner...)), 16) {
		f.Add(uint8(2), fr)
	}
	protos := [...]byte{protoGRE, protoUDP, protoIPIP, protoIPv6}
	f.Fuzz(func(t *testing.T, sel uint8, payload []byte) {
		var rec recorder
		e := fuzzEngine(&rec)
		a, b := outerA, outerB
		if sel&4 != 0 {
			a, b = outerA6, outerB6
		}
		pkt := eth(macOuterA, macOuterB, ipPacket(a, b, protos[int(sel)%len(protos)], payload))
		e.Packet(LinkEthernet, pkt, t0)
		e.Packet(LinkEthernet, pkt, t0.Add(time.Second))
		if e.tun.cur.n != 0 {
			t.Fatalf("tunnel stack not unwound: %d levels", e.tun.cur.n)
		}
		if ip := pkt[14:]; a.Is4() && len(ip) > 20+64 {
			// Fragmented on the way, the datagram's fragments all go where its first
			// goes, the worker that reassembles and opens it.
			var routes fragRoutes
			frs := fragments4(ip, 64)
			if first := routes.hash(LinkRaw, frs[0]); first != 0 {
				for i, fr := range frs[1:] {
					if h := routes.hash(LinkRaw, fr); h != first {
						t.Fatalf("fragment %d hashes to %x, the first to %x", i+1, h, first)
					}
				}
			}
		}
		e.Finish()
		checkInvariants(t, e, &rec)
		for p := range e.set.SensorPaths {
			if p == "" {
				t.Fatalf("an empty sensor path")
			}
		}
	})
}
