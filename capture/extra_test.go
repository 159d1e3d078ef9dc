package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// withExtHeaders inserts IPv6 extension headers (each given as next-header-less bodies
// of a kind) between the fixed header and the TCP segment.
func withExtHeaders(pkt []byte, kinds ...byte) []byte {
	l4 := pkt[40:]
	next := pkt[6]
	var ext []byte
	for i := len(kinds) - 1; i >= 0; i-- {
		var h []byte
		if kinds[i] == 51 { // AH: length in 4-byte units minus 2
			h = make([]byte, 16)
			h[1] = 2
		} else {
			h = make([]byte, 16)
			h[1] = 1 // (1+1)*8 bytes
		}
		h[0] = next
		next = kinds[i]
		ext = append(h, ext...)
	}
	out := append([]byte{}, pkt[:40]...)
	out[6] = next
	binary.BigEndian.PutUint16(out[4:], uint16(len(ext)+len(l4)))
	return append(append(out, ext...), l4...)
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	client, server := "[fd00::1]:5000", "[fd00::2]:104"
	tests := []struct {
		name  string
		kinds []byte
		cut   int // bytes removed from the end of the whole packet, then length fixed
		want  string
	}{
		{"hop-by-hop and destination options", []byte{0, 60}, 0, "C:abc end"},
		{"routing and authentication header", []byte{43, 51}, 0, "C:abc end"},
		{"no next header", []byte{0}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
			p := withExtHeaders(seg{client, server, 1, 0, psh, "abc"}.ip(), tc.kinds...)
			if tc.want == "" {
				p[40] = 59 // the first header says nothing follows
			}
			e.Packet(LinkIPv6, p, t0)
			e.Finish()
			got := ""
			if len(rec.streams) == 1 {
				got = rec.streams[0].log()
			}
			if got != tc.want {
				t.Errorf("got %q want %q", got, tc.want)
			}
		})
	}
	t.Run("truncated extension header", func(t *testing.T) {
		set := observe.NewSet()
		e := NewEngine(Config{}, set)
		p := withExtHeaders(seg{client, server, 1, 0, psh, ""}.ip(), 0)
		p = p[:44]
		binary.BigEndian.PutUint16(p[4:], 4)
		e.Packet(LinkIPv6, p, t0)
		e.Finish()
		if got := counterValue(set, "truncated_packets"); got != 1 {
			t.Errorf("truncated_packets = %d", got)
		}
	})
}

func TestOtherProtocols(t *testing.T) {
	set := observe.NewSet()
	e := NewEngine(Config{}, set)
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	e.Packet(LinkRaw, ipPacket(a, b, protoICMP, make([]byte, 8)), t0)
	e.Packet(LinkRaw, ipPacket(a, b, 50, make([]byte, 8)), t0) // ESP: encrypted, nothing to open
	e.Packet(LinkRaw, ipPacket(a, b, protoUDP, make([]byte, 8)), t0)
	e.Finish()
	for name, want := range map[string]uint64{"icmp_packets": 1, "other_ip_protocol": 1, "udp_packets": 1, "packets": 3} {
		if got := counterValue(set, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if len(set.Hosts) != 2 {
		t.Errorf("hosts = %d", len(set.Hosts))
	}
}

func TestFragmentConflicts(t *testing.T) {
	body := string(make([]byte, 2048))
	frags := fragments4(seg{"10.0.0.1:1", "10.0.0.2:2", 1, 0, psh, body}.ip(), 1024)
	last := frags[2]
	conflicting := append([]byte{}, frags[1]...)
	binary.BigEndian.PutUint16(conflicting[6:], binary.BigEndian.Uint16(conflicting[6:])&^0x2000) // a second, earlier end
	tests := []struct {
		name    string
		frags   [][]byte
		dropped uint64
	}{
		{"two different ends", [][]byte{last, conflicting}, 2},
		{"data beyond the end", [][]byte{conflicting, last}, 2},
		{"truncated fragment", [][]byte{frags[0][:100]}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			e := NewEngine(Config{}, set)
			for _, f := range tc.frags {
				e.Packet(LinkRaw, f, t0)
			}
			if len(e.frag.m) != 0 || e.frag.bytes != 0 {
				t.Errorf("pending %d, bytes %d", len(e.frag.m), e.frag.bytes)
			}
			e.Finish()
			if got := counterValue(set, "ip_fragments_dropped"); got != tc.dropped {
				t.Errorf("ip_fragments_dropped = %d, want %d", got, tc.dropped)
			}
		})
	}
}

// countingStream exercises Context.Count and a Done that comes from a Gap.
type countingStream struct {
	ctx  *dissect.Context
	done bool
	ends int
}

func (s *countingStream) Data(dissect.Direction, []byte, time.Time) { s.ctx.Count("fake_records", 1) }
func (s *countingStream) Gap(dissect.Direction, int)                { s.done = true }
func (s *countingStream) Done() bool                                { return s.done }
func (s *countingStream) End(time.Time)                             { s.ends++ }

func TestDissectorCountAndDoneOnGap(t *testing.T) {
	var streams []*countingStream
	d := dissect.Dissector{Name: "c", Detect: func([]byte) dissect.Match { return dissect.Match{Verdict: dissect.Yes} },
		New: func(ctx *dissect.Context) dissect.Stream {
			s := &countingStream{ctx: ctx}
			streams = append(streams, s)
			return s
		}}
	_, set := run(t, Config{Dissectors: []dissect.Dissector{d}, MaxStreamBuffer: 2},
		withHandshake(c2s(101, "a"), c2s(103, "cde"), c2s(106, "f"), c2s(110, "j")))
	if len(streams) != 1 || streams[0].ends != 1 {
		t.Fatalf("streams %d", len(streams))
	}
	if got := counterValue(set, "fake_records"); got != 1 {
		t.Errorf("fake_records = %d, want 1 (Data after the gap's Done)", got)
	}
	if got := counterValue(set, "streams_done_early"); got != 1 {
		t.Errorf("streams_done_early = %d", got)
	}
}

func TestPcapngOddBlocks(t *testing.T) {
	bo := binary.LittleEndian
	frames := sampleFrames(LinkEthernet)
	good := pcapngBytes([]ngSection{{bo: bo, ifaces: []ngIface{{link: 1}}, frames: frames}})
	shb := good[:28]
	rest := good[28:]
	epb := func(id uint32, capLen uint32, data []byte) []byte {
		b := bo.AppendUint32(nil, id)
		b = bo.AppendUint32(b, 0)
		b = bo.AppendUint32(b, 0)
		b = bo.AppendUint32(b, capLen)
		b = bo.AppendUint32(b, capLen)
		return ngBlock(bo, blockEPB, append(b, data...))
	}
	huge := ngBlock(bo, 0x40000000, make([]byte, maxBlockLen+8))
	badRes := pcapngBytes([]ngSection{{bo: bo, ifaces: []ngIface{{link: 1, tsresol: 40}}, frames: frames[:1]}})
	opb := func() []byte {
		b := bo.AppendUint16(nil, 0)
		b = bo.AppendUint16(b, 0)
		u := ngIface{}.units(frames[0].ts)
		b = bo.AppendUint32(b, uint32(u>>32))
		b = bo.AppendUint32(b, uint32(u))
		b = bo.AppendUint32(b, uint32(len(frames[0].data)))
		b = bo.AppendUint32(b, uint32(len(frames[0].data)))
		return ngBlock(bo, blockOPB, append(b, frames[0].data...))
	}
	tests := []struct {
		name     string
		in       []byte
		counter  string
		want     uint64
		problems int
	}{
		{"packet before any interface", cat(shb, epb(0, 4, []byte("abcd")), rest), "pcapng_unknown_interface", 1, 0},
		{"simple packet before any interface", cat(shb, ngBlock(bo, blockSPB, []byte{4, 0, 0, 0, 1, 2, 3, 4}), rest), "pcapng_bad_blocks", 1, 0},
		{"capture length beyond the block", cat(good, epb(0, 400, []byte("abcd"))), "pcapng_bad_blocks", 1, 0},
		{"short EPB", cat(good, ngBlock(bo, blockEPB, []byte{0, 0, 0, 0})), "pcapng_bad_blocks", 1, 0},
		{"short IDB", cat(shb, ngBlock(bo, blockIDB, []byte{1, 0}), rest), "pcapng_bad_blocks", 1, 0},
		{"large unknown block skipped", cat(shb, huge, rest), "packets", 7, 0},
		{"obsolete packet block", cat(good, opb()), "packets", 8, 0},
		{"timestamp resolution out of range", badRes, "unsupported_link_type", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			e := NewEngine(Config{}, set)
			if err := e.Read("ng", bytes.NewReader(tc.in)); err != nil {
				t.Fatalf("Read: %v", err)
			}
			e.Finish()
			if got := counterValue(set, tc.counter); got != tc.want {
				t.Errorf("%s = %d, want %d", tc.counter, got, tc.want)
			}
			if len(set.Problems) != tc.problems {
				t.Errorf("problems = %v", set.Problems)
			}
		})
	}
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestHeldSegmentCap(t *testing.T) {
	var rec recorder
	segs := withHandshake(c2s(101, "a"))
	var want []byte
	for i := range maxHeldSegments + 76 {
		b := string(rune('a' + i%26))
		want = append(want, b...)
		segs = append(segs, c2s(uint32(103+i), b))
	}
	_, set := run(t, Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, segs)
	if len(rec.streams) != 1 {
		t.Fatalf("streams = %d", len(rec.streams))
	}
	if got := rec.streams[0].log(); got != "C:a gapC:1 C:"+string(want)+" end" {
		t.Errorf("got %.60q...", got)
	}
	if got := counterValue(set, "tcp_out_of_order_segments"); got != maxHeldSegments+1 {
		t.Errorf("out of order = %d", got)
	}
}
