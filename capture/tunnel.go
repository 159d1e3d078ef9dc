package capture

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/observe"
)

// Tunnels (decapsulation before the flow table). A sensor often sees a clinical network
// only through a tunnel: a switch's ERSPAN session, a VXLAN or Geneve overlay, a GRE or
// IP-in-IP link between sites, a mobile gateway's GTP-U. The engine opens each level and
// decodes what is inside as if it had been captured on the wire, so flows are keyed on
// the inner addresses; the outer addresses of every level are kept as the packet's
// sensor path, recorded per inner host and handed to the Set at handOver.
//
// What is opened: GRE (RFC 2784 and RFC 2890: checksum, key and sequence number; IPv4,
// IPv6, MPLS and transparent Ethernet bridging 0x6558, i.e. gretap), ERSPAN type I (GRE
// 0x88BE without a sequence number: an Ethernet frame follows at once), type II (0x88BE
// with one: an 8-byte header) and type III (0x22EB: a 12-byte header, then an 8-byte
// platform-specific subheader when its O flag is set), VXLAN (UDP 4789), Geneve (UDP
// 6081, options skipped by their length), GTP-U (UDP 2152, G-PDU only, with its
// optional sequence number, N-PDU number and chain of extension headers), IPv4 in IPv4
// (protocol 4), IPv6 in IPv4 (41, 6in4/sit), IPv4 in IPv6 (next header 4) and IPv6 in
// IPv6 (41). An outer IP datagram that was fragmented is reassembled first by the
// ordinary IP path, since decapsulation happens in transport; an inner one is
// reassembled again at its own level.

// maxTunnelDepth bounds the levels opened in one packet: real deployments nest two
// (ERSPAN carrying VXLAN); a deeper packet is counted and dropped, which also bounds the
// recursion of the decoder.
const maxTunnelDepth = 4

// maxTunnelPaths bounds the distinct sensor paths an engine keeps between handOvers;
// packets of paths beyond it are decoded, their path counted under
// tunnel_paths_not_recorded.
const maxTunnelPaths = 4096

// maxHostVia bounds the sensor paths kept per host between handOvers.
const maxHostVia = 8

// maxGTPExtensions bounds the GTP-U extension headers walked in one packet.
const maxGTPExtensions = 16

// Encapsulations, the kinds of tunnelHop.
const (
	encapGRE uint8 = iota + 1
	encapERSPAN1
	encapERSPAN2
	encapERSPAN3
	encapVXLAN
	encapGeneve
	encapGTPU
	encapIPIP // IPv4 in IPv4
	encap6in4
	encap4in6
	encap6in6
	numEncaps
)

// Ports and protocol numbers of the encapsulations.
const (
	portVXLAN       = 4789
	portGeneve      = 6081
	portGTPU        = 2152
	protoIPIP       = 4
	protoIPv6       = 41
	protoGRE        = 47
	greTEB          = 0x6558 // transparent Ethernet bridging
	greERSPAN       = 0x88be // ERSPAN type I and II
	greERSPAN3      = 0x22eb // ERSPAN type III
	gtpGPDU         = 255
	erspanFrameIPv4 = 2 // ERSPAN III frame type: an IP packet, no Ethernet header
)

// encapCounter is the counter of packets decapsulated per encapsulation.
var encapCounter = [numEncaps]counter{
	encapGRE: cTunnelGRE, encapERSPAN1: cTunnelERSPAN1, encapERSPAN2: cTunnelERSPAN2, encapERSPAN3: cTunnelERSPAN3,
	encapVXLAN: cTunnelVXLAN, encapGeneve: cTunnelGeneve, encapGTPU: cTunnelGTPU, encapIPIP: cTunnelIPIP,
	encap6in4: cTunnel6in4, encap4in6: cTunnel4in6, encap6in6: cTunnel6in6,
}

// encapNames are observe.SensorPath's Encap values.
var encapNames = [numEncaps]string{
	encapGRE: "gre", encapERSPAN1: "erspan-i", encapERSPAN2: "erspan-ii", encapERSPAN3: "erspan-iii",
	encapVXLAN: "vxlan", encapGeneve: "geneve", encapGTPU: "gtp-u", encapIPIP: "ipip",
	encap6in4: "6in4", encap4in6: "4in6", encap6in6: "6in6",
}

// tunnelHop is one level of encapsulation: its kind, outer addresses (in address order,
// except ERSPAN's source and collector), and identifier (GRE key, ERSPAN session, VNI,
// TEID) when it has one.
type tunnelHop struct {
	encap    uint8
	hasID    bool
	id       uint32
	src, dst netip.Addr
}

// tunnelPath is the levels a packet came through, outermost first. It is comparable,
// so the path table looks it up without allocating.
type tunnelPath struct {
	hops [maxTunnelDepth]tunnelHop
	n    int
}

type pathEntry struct {
	path        tunnelPath
	packets     uint64
	first, last time.Time
}

// tunnelState is the engine's tunnel side: the path of the packet being decoded, and
// the sensor paths seen since the last handOver.
type tunnelState struct {
	cur tunnelPath
	// idx is the index in list of cur, -1 while not looked up for this level, -2 when
	// the table had no room for it.
	idx   int
	paths map[tunnelPath]int
	list  []pathEntry
	// A one-entry cache: consecutive packets usually come through the same tunnel.
	lastPath tunnelPath
	lastIdx  int
}

func (t *tunnelState) init() {
	t.paths = map[tunnelPath]int{}
	t.idx, t.lastIdx = -1, -1
}

// enter pushes a level onto the packet's path and counts it; false (counted) when the
// packet is nested deeper than maxTunnelDepth. Every true must be paired with leave.
func (e *Engine) enter(encap uint8, src, dst netip.Addr, id uint32, hasID bool) bool {
	t := &e.tun
	if t.cur.n >= maxTunnelDepth {
		e.cnt[cTunnelTooDeep]++
		return false
	}
	if encap != encapERSPAN1 && encap != encapERSPAN2 && encap != encapERSPAN3 && dst.Less(src) {
		// Both directions of a tunnel are one sensor path; an ERSPAN session only ever
		// goes from the mirroring switch to the collector, which its path names.
		src, dst = dst, src
	}
	t.cur.hops[t.cur.n] = tunnelHop{encap: encap, hasID: hasID, id: id, src: src, dst: dst}
	t.cur.n++
	t.idx = -1
	e.cnt[encapCounter[encap]]++
	return true
}

// leave pops the level enter pushed.
func (e *Engine) leave() {
	t := &e.tun
	t.cur.n--
	t.cur.hops[t.cur.n] = tunnelHop{}
	t.idx = -1
}

// pathIndex returns the index of the current path in the table, adding it, or -1 when
// the table is full (counted). Only a new path allocates.
func (e *Engine) pathIndex(ts time.Time) int {
	t := &e.tun
	if t.idx == -1 {
		if t.lastIdx >= 0 && t.cur == t.lastPath {
			t.idx = t.lastIdx
		} else if i, ok := t.paths[t.cur]; ok {
			t.idx = i
		} else if len(t.list) >= maxTunnelPaths {
			e.cnt[cTunnelPathsNotKept]++
			t.idx = -2
		} else {
			t.idx = len(t.list)
			t.paths[t.cur] = t.idx
			t.list = append(t.list, pathEntry{path: t.cur, first: ts, last: ts})
		}
		if t.idx >= 0 {
			t.lastPath, t.lastIdx = t.cur, t.idx
			p := &t.list[t.idx]
			p.packets++
			if ts.Before(p.first) {
				p.first = ts
			}
			if ts.After(p.last) {
				p.last = ts
			}
		}
	}
	if t.idx < 0 {
		return -1
	}
	return t.idx
}

// tunnelHosts records that the inner addresses of the packet being decoded were seen
// through the current path. hosts.see and seeDst have just cached their entries.
func (e *Engine) tunnelHosts(src, dst netip.Addr, ts time.Time) {
	i := e.pathIndex(ts)
	if i < 0 {
		return
	}
	h := &e.hosts
	if h.lastSrcE != nil && h.lastSrc == src {
		e.addVia(h.lastSrcE, i)
	}
	if !e.l2group && h.lastDstE != nil && h.lastDst == dst {
		e.addVia(h.lastDstE, i)
	}
}

func (e *Engine) addVia(he *hostEntry, i int) {
	for _, v := range he.via[:he.nvia] {
		if int(v) == i {
			return
		}
	}
	if int(he.nvia) >= maxHostVia {
		e.cnt[cTunnelPathsNotKept]++
		return
	}
	he.via[he.nvia] = uint16(i)
	he.nvia++
}

// flush hands the sensor paths to the set, marks the outer addresses of every level as
// tunnel endpoints, and returns each path's name by index for the host table's flush;
// the table is then emptied.
func (t *tunnelState) flush(set *observe.Set) []string {
	names := make([]string, len(t.list))
	for i := range t.list {
		p := &t.list[i]
		names[i] = p.path.String()
		in := p.path.hops[p.path.n-1]
		sp := observe.SensorPath{Path: names[i], Encap: encapNames[in.encap], Session: -1, Source: in.src,
			Packets: p.packets, FirstSeen: p.first, LastSeen: p.last}
		if in.hasID && (in.encap == encapERSPAN2 || in.encap == encapERSPAN3) {
			sp.Session = int(in.id)
		}
		set.AddSensorPath(sp)
		for _, h := range p.path.hops[:p.path.n] {
			set.AddTunnelEndpoint(h.src, p.last)
			set.AddTunnelEndpoint(h.dst, p.last)
		}
	}
	clear(t.paths)
	t.list = t.list[:0]
	t.idx, t.lastIdx, t.lastPath = -1, -1, tunnelPath{}
	return names
}

// String renders a path as its sensor path: each level's kind, identifier and outer
// addresses, outermost first.
func (p tunnelPath) String() string {
	var b strings.Builder
	for i, h := range p.hops[:p.n] {
		if i > 0 {
			b.WriteString(" / ")
		}
		b.WriteString(h.String())
	}
	return b.String()
}

func (h tunnelHop) String() string {
	id := strconv.FormatUint(uint64(h.id), 10)
	pair := h.src.String() + "↔" + h.dst.String()
	switch h.encap {
	case encapGRE:
		if h.hasID {
			return "GRE key " + id + " " + pair
		}
		return "GRE " + pair
	case encapERSPAN1:
		return "ERSPAN type I from " + h.src.String() + " to " + h.dst.String()
	case encapERSPAN2:
		return "ERSPAN session " + id + " from " + h.src.String() + " to " + h.dst.String()
	case encapERSPAN3:
		return "ERSPAN type III session " + id + " from " + h.src.String() + " to " + h.dst.String()
	case encapVXLAN:
		return "VXLAN VNI " + id + " " + pair
	case encapGeneve:
		return "Geneve VNI " + id + " " + pair
	case encapGTPU:
		return "GTP-U TEID " + id + " " + pair
	case encapIPIP:
		return "IPv4-in-IPv4 " + pair
	case encap6in4:
		return "6in4 " + pair
	case encap4in6:
		return "4in6 " + pair
	case encap6in6:
		return "6in6 " + pair
	}
	return "tunnel " + pair
}

// ipInIP opens IP-in-IP (protocol 4 or 41 under an IPv4 or IPv6 header).
func (e *Engine) ipInIP(proto uint8, src, dst netip.Addr, b []byte, ts time.Time) {
	var encap uint8
	switch {
	case proto == protoIPIP && src.Is4():
		encap = encapIPIP
	case proto == protoIPIP:
		encap = encap4in6
	case src.Is4():
		encap = encap6in4
	default:
		encap = encap6in6
	}
	if !e.enter(encap, src, dst, 0, false) {
		return
	}
	if proto == protoIPIP {
		e.ipv4(b, nil, ts)
	} else {
		e.ipv6(b, nil, ts)
	}
	e.leave()
}

// gre opens a GRE packet (RFC 2784, with RFC 2890's key and sequence number), and the
// ERSPAN header GRE may carry.
func (e *Engine) gre(src, dst netip.Addr, b []byte, ts time.Time) {
	if len(b) < 4 {
		e.cnt[cTunnelTruncated]++
		return
	}
	flags := binary.BigEndian.Uint16(b)
	proto := binary.BigEndian.Uint16(b[2:])
	if flags&7 != 0 || flags&0x4000 != 0 {
		// Version 1 is PPTP's enhanced GRE (PPP inside); the routing bit belongs to RFC
		// 1701's source routing, deprecated and unseen.
		e.cnt[cTunnelInvalid]++
		return
	}
	hl := 4
	if flags&0x8000 != 0 { // checksum and reserved
		hl += 4
	}
	var key uint32
	hasKey := flags&0x2000 != 0
	if hasKey {
		if len(b) < hl+4 {
			e.cnt[cTunnelTruncated]++
			return
		}
		key = binary.BigEndian.Uint32(b[hl:])
		hl += 4
	}
	hasSeq := flags&0x1000 != 0
	if hasSeq {
		hl += 4
	}
	if len(b) < hl {
		e.cnt[cTunnelTruncated]++
		return
	}
	p := b[hl:]
	switch proto {
	case greERSPAN:
		if !hasSeq {
			// Type I: no ERSPAN header, the mirrored frame follows.
			if e.enter(encapERSPAN1, src, dst, 0, false) {
				e.ethernet(p, ts)
				e.leave()
			}
			return
		}
		if len(p) < 8 {
			e.cnt[cTunnelTruncated]++
			return
		}
		if p[0]>>4 != 1 {
			e.cnt[cTunnelInvalid]++
			return
		}
		if e.enter(encapERSPAN2, src, dst, uint32(binary.BigEndian.Uint16(p[2:])&0x3ff), true) {
			e.ethernet(p[8:], ts)
			e.leave()
		}
	case greERSPAN3:
		if len(p) < 12 {
			e.cnt[cTunnelTruncated]++
			return
		}
		if p[0]>>4 != 2 {
			e.cnt[cTunnelInvalid]++
			return
		}
		session := uint32(binary.BigEndian.Uint16(p[2:]) & 0x3ff)
		ft := p[10] >> 2 & 0x1f
		hl := 12
		if p[11]&1 != 0 { // O: a platform-specific subheader follows
			hl += 8
		}
		if len(p) < hl {
			e.cnt[cTunnelTruncated]++
			return
		}
		if !e.enter(encapERSPAN3, src, dst, session, true) {
			return
		}
		switch ft {
		case 0:
			e.ethernet(p[hl:], ts)
		case erspanFrameIPv4:
			e.rawIP(p[hl:], ts)
		default:
			e.cnt[cTunnelNotIP]++
		}
		e.leave()
	default:
		if !e.enter(encapGRE, src, dst, key, hasKey) {
			return
		}
		if proto == greTEB {
			e.ethernet(p, ts)
		} else {
			// IPv4, IPv6, MPLS; anything else is counted as not IP by ether.
			e.ether(proto, nil, p, ts)
		}
		e.leave()
	}
}

// udpTunnel opens a UDP datagram sent to a tunnel's port (p is its payload) when its
// header is that tunnel's; false leaves the datagram to the datagram dissectors.
func (e *Engine) udpTunnel(src, dst netip.Addr, sp, dp uint16, p []byte, ts time.Time) bool {
	switch {
	case dp == portVXLAN:
		// Flags with the I bit (others are extensions such as GBP's), and the last
		// reserved byte clear (RFC 7348 section 5).
		if len(p) < 8 || p[0]&0x08 == 0 || p[7] != 0 {
			return false
		}
		if e.enter(encapVXLAN, src, dst, binary.BigEndian.Uint32(p[4:])>>8, true) {
			e.ethernet(p[8:], ts)
			e.leave()
		}
		return true
	case dp == portGeneve:
		// RFC 8926: version 0, options length in 4-byte words.
		if len(p) < 8 || p[0]>>6 != 0 {
			return false
		}
		hl := 8 + int(p[0]&0x3f)*4
		if len(p) < hl {
			e.cnt[cTunnelTruncated]++
			return true
		}
		proto := binary.BigEndian.Uint16(p[2:])
		if !e.enter(encapGeneve, src, dst, binary.BigEndian.Uint32(p[4:])>>8, true) {
			return true
		}
		if proto == greTEB {
			e.ethernet(p[hl:], ts)
		} else {
			e.ether(proto, nil, p[hl:], ts)
		}
		e.leave()
		return true
	case dp == portGTPU || sp == portGTPU:
		return e.gtpu(src, dst, p, ts)
	}
	return false
}

// gtpu opens a GTP-U (3GPP TS 29.281) G-PDU; other messages (echo, error indication,
// end marker) carry no user packet and are counted.
func (e *Engine) gtpu(src, dst netip.Addr, p []byte, ts time.Time) bool {
	// Version 1, protocol type GTP (not GTP').
	if len(p) < 8 || p[0]>>5 != 1 || p[0]&0x10 == 0 {
		return false
	}
	if p[1] != gtpGPDU {
		e.cnt[cTunnelNotIP]++
		return true
	}
	n := int(binary.BigEndian.Uint16(p[2:])) // bytes after the mandatory 8
	teid := binary.BigEndian.Uint32(p[4:])
	if 8+n < len(p) {
		p = p[:8+n]
	}
	hl := 8
	if p[0]&0x07 != 0 { // E, S or PN: sequence number, N-PDU number, next extension type
		if len(p) < 12 {
			e.cnt[cTunnelTruncated]++
			return true
		}
		next := p[11]
		hl = 12
		for i := 0; next != 0; i++ {
			if p[0]&0x04 == 0 || i == maxGTPExtensions {
				// A next type without the E flag, or a chain longer than any sent.
				e.cnt[cTunnelInvalid]++
				return true
			}
			if len(p) < hl+1 {
				e.cnt[cTunnelTruncated]++
				return true
			}
			l := int(p[hl]) * 4 // the length counts 4-byte words, its own byte included
			if l == 0 {
				e.cnt[cTunnelInvalid]++
				return true
			}
			if len(p) < hl+l {
				e.cnt[cTunnelTruncated]++
				return true
			}
			next = p[hl+l-1]
			hl += l
		}
	}
	if e.enter(encapGTPU, src, dst, teid, true) {
		e.rawIP(p[hl:], ts)
		e.leave()
	}
	return true
}
