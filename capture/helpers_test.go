package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// ---- packet builders ----

// seg describes one TCP segment to build.
type seg struct {
	src, dst string // "ip:port"
	seq, ack uint32
	flags    byte
	payload  string
}

func csum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func tcpHeader(sp, dp uint16, seq, ack uint32, flags byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h, sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	binary.BigEndian.PutUint32(h[4:], seq)
	binary.BigEndian.PutUint32(h[8:], ack)
	h[12] = 5 << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], 65535)
	return h
}

// ipPacket wraps a transport payload in an IPv4 or IPv6 header, by address family.
func ipPacket(src, dst netip.Addr, proto byte, l4 []byte) []byte {
	if src.Is4() {
		h := make([]byte, 20, 20+len(l4))
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
		binary.BigEndian.PutUint16(h[4:], 0x1234)
		h[8] = 64
		h[9] = proto
		s4, d4 := src.As4(), dst.As4()
		copy(h[12:], s4[:])
		copy(h[16:], d4[:])
		binary.BigEndian.PutUint16(h[10:], csum(h))
		return append(h, l4...)
	}
	h := make([]byte, 40, 40+len(l4))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
	h[6] = proto
	h[7] = 64
	s16, d16 := src.As16(), dst.As16()
	copy(h[8:], s16[:])
	copy(h[24:], d16[:])
	return append(h, l4...)
}

// ip builds the IP packet of a segment.
func (s seg) ip() []byte {
	src, dst := netip.MustParseAddrPort(s.src), netip.MustParseAddrPort(s.dst)
	l4 := append(tcpHeader(src.Port(), dst.Port(), s.seq, s.ack, s.flags), s.payload...)
	return ipPacket(src.Addr(), dst.Addr(), protoTCP, l4)
}

var (
	macA = []byte{0x02, 0, 0, 0, 0, 0xaa}
	macB = []byte{0x02, 0, 0, 0, 0, 0xbb}
)

// eth wraps an IP packet in Ethernet, with optional VLAN tags (TPID, TCI pairs).
func eth(src, dst []byte, ipPkt []byte, tags ...uint16) []byte {
	b := append(append([]byte{}, dst...), src...)
	for i := 0; i+1 < len(tags); i += 2 {
		b = binary.BigEndian.AppendUint16(b, tags[i])
		b = binary.BigEndian.AppendUint16(b, tags[i+1])
	}
	et := uint16(etherIPv4)
	if ipPkt[0]>>4 == 6 {
		et = etherIPv6
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, ipPkt...)
}

// frame is one packet of a capture.
type frame struct {
	ts    time.Time
	data  []byte
	iface int
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// ms returns t0 plus n milliseconds.
func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// conversation is a full TCP exchange: handshake, request, response, close.
func conversation(client, server string, req, resp string) []seg {
	c, s := uint32(1000), uint32(5000)
	return []seg{
		{client, server, c, 0, tcpSYN, ""},
		{server, client, s, c + 1, tcpSYN | tcpACK, ""},
		{client, server, c + 1, s + 1, tcpACK, ""},
		{client, server, c + 1, s + 1, tcpACK | 0x08, req},
		{server, client, s + 1, c + 1 + uint32(len(req)), tcpACK | 0x08, resp},
		{client, server, c + 1 + uint32(len(req)), s + 1 + uint32(len(resp)), tcpACK | tcpFIN, ""},
		{server, client, s + 1 + uint32(len(resp)), c + 2 + uint32(len(req)), tcpACK | tcpFIN, ""},
	}
}

// ---- capture writers ----

func pcapBytes(bo order, nano bool, link uint32, frames []frame) []byte {
	var b []byte
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b = bo.AppendUint32(b, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 262144)
	b = bo.AppendUint32(b, link)
	for _, f := range frames {
		b = bo.AppendUint32(b, uint32(f.ts.Unix()))
		if nano {
			b = bo.AppendUint32(b, uint32(f.ts.Nanosecond()))
		} else {
			b = bo.AppendUint32(b, uint32(f.ts.Nanosecond()/1000))
		}
		b = bo.AppendUint32(b, uint32(len(f.data)))
		b = bo.AppendUint32(b, uint32(len(f.data)))
		b = append(b, f.data...)
	}
	return b
}

// modifiedPcap writes the "modified" pcap format, whose record headers carry 8 more bytes.
func modifiedPcap(bo order, link uint32, frames []frame) []byte {
	b := pcapBytes(bo, false, link, nil)
	bo.PutUint32(b, pcapMagicModified)
	for _, f := range frames {
		b = bo.AppendUint32(b, uint32(f.ts.Unix()))
		b = bo.AppendUint32(b, uint32(f.ts.Nanosecond()/1000))
		b = bo.AppendUint32(b, uint32(len(f.data)))
		b = bo.AppendUint32(b, uint32(len(f.data)))
		b = append(b, 0, 0, 0, 1, 0, 8, 0, 0) // ifindex, protocol, packet type, padding
		b = append(b, f.data...)
	}
	return b
}

// ngIface describes a pcapng interface; tsresol 0 means the default (microseconds).
type ngIface struct {
	link     uint16
	tsresol  byte
	tsoffset int64
}

// order is a byte order that can also append.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type ngSection struct {
	bo     order
	ifaces []ngIface
	frames []frame
	simple bool   // write SPBs instead of EPBs
	extra  []byte // an unknown block body to include before the packets
}

func ngBlock(bo order, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := bo.AppendUint32(nil, typ)
	b = bo.AppendUint32(b, n)
	b = append(b, body...)
	return bo.AppendUint32(b, n)
}

func (f ngIface) units(ts time.Time) uint64 {
	sec := uint64(ts.Unix() - f.tsoffset)
	ns := uint64(ts.Nanosecond())
	switch {
	case f.tsresol == 0 || f.tsresol == 40: // 40: an invalid resolution the reader rejects
		return sec*1e6 + ns/1e3
	case f.tsresol&0x80 != 0:
		p := f.tsresol & 0x7f
		return sec<<p + ns<<p/1e9
	default:
		return sec*pow10[f.tsresol] + ns*pow10[f.tsresol]/1e9
	}
}

func pcapngBytes(sections []ngSection) []byte {
	var out []byte
	for _, s := range sections {
		bo := s.bo
		shb := bo.AppendUint32(nil, pcapngBOM)
		shb = bo.AppendUint16(shb, 1)
		shb = bo.AppendUint16(shb, 0)
		shb = bo.AppendUint64(shb, ^uint64(0))
		out = append(out, ngBlock(bo, pcapngSHB, shb)...)
		for _, f := range s.ifaces {
			idb := bo.AppendUint16(nil, f.link)
			idb = bo.AppendUint16(idb, 0)
			idb = bo.AppendUint32(idb, 262144)
			if f.tsresol != 0 {
				idb = bo.AppendUint16(idb, 9)
				idb = bo.AppendUint16(idb, 1)
				idb = append(idb, f.tsresol, 0, 0, 0)
			}
			if f.tsoffset != 0 {
				idb = bo.AppendUint16(idb, 14)
				idb = bo.AppendUint16(idb, 8)
				idb = bo.AppendUint64(idb, uint64(f.tsoffset))
			}
			idb = bo.AppendUint32(idb, 0) // opt_endofopt
			out = append(out, ngBlock(bo, blockIDB, idb)...)
		}
		if s.extra != nil {
			out = append(out, ngBlock(bo, 0x00000BAD, s.extra)...)
		}
		for _, fr := range s.frames {
			if s.simple {
				spb := bo.AppendUint32(nil, uint32(len(fr.data)))
				out = append(out, ngBlock(bo, blockSPB, append(spb, fr.data...))...)
				continue
			}
			u := s.ifaces[fr.iface].units(fr.ts)
			epb := bo.AppendUint32(nil, uint32(fr.iface))
			epb = bo.AppendUint32(epb, uint32(u>>32))
			epb = bo.AppendUint32(epb, uint32(u))
			epb = bo.AppendUint32(epb, uint32(len(fr.data)))
			epb = bo.AppendUint32(epb, uint32(len(fr.data)))
			epb = append(epb, fr.data...)
			out = append(out, ngBlock(bo, blockEPB, epb)...)
		}
	}
	return out
}

func gz(parts ...[]byte) []byte {
	var out bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&out)
		w.Write(p)
		w.Close()
	}
	return out.Bytes()
}

// ---- a recording fake dissector ----

type event struct {
	kind string // "data", "gap", "end"
	dir  dissect.Direction
	data string
	n    int
	t    time.Time
}

type fakeStream struct {
	ctx       *dissect.Context
	events    []event
	bytes     [2]int
	doneAfter int // Done once this many bytes arrived in total (0: never)
	ends      int
}

func (s *fakeStream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if s.ends > 0 {
		panic("Data after End")
	}
	s.bytes[dir] += len(b)
	if n := len(s.events); n > 0 && s.events[n-1].kind == "data" && s.events[n-1].dir == dir {
		s.events[n-1].data += string(b)
		s.events[n-1].t = t
		return
	}
	s.events = append(s.events, event{kind: "data", dir: dir, data: string(b), t: t})
}

func (s *fakeStream) Gap(dir dissect.Direction, n int) {
	s.events = append(s.events, event{kind: "gap", dir: dir, n: n})
}

func (s *fakeStream) Done() bool {
	return s.doneAfter > 0 && s.bytes[0]+s.bytes[1] >= s.doneAfter
}

func (s *fakeStream) End(t time.Time) {
	s.ends++
	s.events = append(s.events, event{kind: "end", t: t})
}

// log renders the events compactly: "C:hello S:world gapC:5 end".
func (s *fakeStream) log() string {
	var parts []string
	for _, e := range s.events {
		d := "C"
		if e.dir == dissect.ServerToClient {
			d = "S"
		}
		switch e.kind {
		case "data":
			parts = append(parts, d+":"+e.data)
		case "gap":
			parts = append(parts, fmt.Sprintf("gap%s:%d", d, e.n))
		case "end":
			parts = append(parts, "end")
		}
	}
	return strings.Join(parts, " ")
}

type recorder struct {
	streams     []*fakeStream
	detectCalls int
	doneAfter   int
}

// dissector returns a fake dissector named name whose Detect is detect (Yes to anything
// non-empty when nil).
func (r *recorder) dissector(name string, detect func([]byte) dissect.Match) dissect.Dissector {
	if detect == nil {
		detect = func(b []byte) dissect.Match {
			if len(b) == 0 {
				return dissect.Match{Verdict: dissect.NeedMore}
			}
			return dissect.Match{Verdict: dissect.Yes}
		}
	}
	return dissect.Dissector{
		Name: name,
		Detect: func(b []byte) dissect.Match {
			r.detectCalls++
			return detect(b)
		},
		New: func(ctx *dissect.Context) dissect.Stream {
			s := &fakeStream{ctx: ctx, doneAfter: r.doneAfter}
			r.streams = append(r.streams, s)
			return s
		},
	}
}

// prefixDetect says Yes to bytes starting with prefix, NeedMore to a shorter prefix of it,
// and marks the match FromServer when fromServer is set.
func prefixDetect(prefix string, fromServer bool) func([]byte) dissect.Match {
	return func(b []byte) dissect.Match {
		n := min(len(b), len(prefix))
		if string(b[:n]) != prefix[:n] {
			return dissect.Match{}
		}
		if n < len(prefix) {
			return dissect.Match{Verdict: dissect.NeedMore}
		}
		return dissect.Match{Verdict: dissect.Yes, FromServer: fromServer}
	}
}

// run feeds raw IP segments to a fresh engine (link type raw) and finishes it.
func run(t *testing.T, cfg Config, segs []seg) (*Engine, *observe.Set) {
	t.Helper()
	set := observe.NewSet()
	e := NewEngine(cfg, set)
	for i, s := range segs {
		e.Packet(LinkRaw, s.ip(), ms(i))
	}
	e.Finish()
	return e, set
}

func counterValue(set *observe.Set, name string) uint64 {
	for _, c := range set.Counters {
		if c.Name == name {
			return c.Value
		}
	}
	return 0
}
