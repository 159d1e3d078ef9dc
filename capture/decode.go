package capture

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"
)

// Link types decoded (LINKTYPE_ values of the tcpdump registry).
const (
	LinkNull     = 0
	LinkEthernet = 1
	LinkRawOld   = 12 // raw IP on OpenBSD-derived systems
	LinkRawAlt   = 14 // raw IP on some BSDs
	LinkRaw      = 101
	LinkLoop     = 108
	LinkSLL      = 113
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkSLL2     = 276
)

func supportedLink(l uint32) bool {
	switch l {
	case LinkNull, LinkEthernet, LinkRawOld, LinkRawAlt, LinkRaw, LinkLoop, LinkSLL, LinkIPv4, LinkIPv6, LinkSLL2:
		return true
	}
	return false
}

// linkName names a link type in error messages, so a user can tell what the file holds.
func linkName(l uint32) string {
	switch l {
	case LinkNull:
		return "BSD loopback"
	case LinkEthernet:
		return "Ethernet"
	case LinkRawOld, LinkRawAlt, LinkRaw:
		return "raw IP"
	case LinkLoop:
		return "OpenBSD loopback"
	case LinkSLL:
		return "Linux cooked v1"
	case LinkIPv4:
		return "raw IPv4"
	case LinkIPv6:
		return "raw IPv6"
	case LinkSLL2:
		return "Linux cooked v2"
	case 105:
		return "IEEE 802.11"
	case 127:
		return "IEEE 802.11 radiotap"
	case 9:
		return "PPP"
	case 50:
		return "PPP in HDLC framing"
	case 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162:
		return "user-defined"
	case 195, 215:
		return "IEEE 802.15.4"
	case 220:
		return "USB"
	}
	return "unknown, LINKTYPE_" + strconv.FormatUint(uint64(l), 10)
}

// EtherTypes and protocol numbers used.
const (
	etherIPv4   = 0x0800
	etherARP    = 0x0806
	etherIPv6   = 0x86dd
	etherVLAN   = 0x8100
	etherQinQ   = 0x88a8
	etherQinQv1 = 0x9100
	etherQinQv2 = 0x9200
	etherPPPoED = 0x8863 // PPPoE discovery: session setup, no IP
	etherPPPoES = 0x8864 // PPPoE session: PPP frames
	etherMPLS   = 0x8847
	etherMPLSMC = 0x8848 // MPLS multicast
	pppIPv4     = 0x0021
	pppIPv6     = 0x0057
	protoTCP    = 6
	protoUDP    = 17
	protoICMP   = 1
	protoICMPv6 = 58
	maxVLANTags = 8
	// maxMPLSLabels bounds the label stack popped; real stacks hold two or three labels.
	maxMPLSLabels = 8
)

// ARPHRD values and packet types of Linux cooked captures.
const (
	arphrdEther     = 1
	arphrdLoopback  = 772
	packetBroadcast = 1
	packetMulticast = 2
	packetOutgoing  = 4
)

// link decodes the link layer and hands the network layer on.
func (e *Engine) link(lt uint32, b []byte, ts time.Time) {
	e.l2group = false
	switch lt {
	case LinkEthernet:
		e.ethernet(b, ts)
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			e.cnt[cTruncated]++
			return
		}
		// NULL carries the AF in the capturing host's byte order, LOOP in network order,
		// and files are moved between hosts: accept either. The IPv6 AF differs per OS.
		le, be := binary.LittleEndian.Uint32(b), binary.BigEndian.Uint32(b)
		switch {
		case le == 2 || be == 2:
			e.ipv4(b[4:], nil, ts)
		case isAF6(le) || isAF6(be):
			e.ipv6(b[4:], nil, ts)
		default:
			e.cnt[cUnknownAF]++
		}
	case LinkRaw, LinkRawOld, LinkRawAlt:
		e.rawIP(b, ts)
	case LinkIPv4:
		e.ipv4(b, nil, ts)
	case LinkIPv6:
		e.ipv6(b, nil, ts)
	case LinkSLL:
		// packet type, ARPHRD type, address length, 8 address bytes, protocol.
		if len(b) < 16 {
			e.cnt[cTruncated]++
			return
		}
		e.cooked(binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:]), int(binary.BigEndian.Uint16(b[4:])),
			b[6:14], binary.BigEndian.Uint16(b[14:]), b[16:], ts)
	case LinkSLL2:
		// protocol, reserved, interface index, ARPHRD type, packet type, address length,
		// 8 address bytes (gopacket v1.1.19 has no decoder for it).
		if len(b) < 20 {
			e.cnt[cTruncated]++
			return
		}
		e.cooked(uint16(b[10]), binary.BigEndian.Uint16(b[8:]), int(b[11]), b[12:20], binary.BigEndian.Uint16(b), b[20:], ts)
	default:
		e.cnt[cUnsupportedLink]++
	}
}

func isAF6(af uint32) bool { return af == 24 || af == 28 || af == 30 }

// cooked decodes the payload of a Linux cooked (SLL or SLL2) frame.
func (e *Engine) cooked(pktType, hatype uint16, alen int, addr []byte, proto uint16, b []byte, ts time.Time) {
	if hatype == arphrdLoopback && pktType == packetOutgoing {
		// On "any", the loopback device shows each packet twice, outgoing and incoming;
		// keeping both would make every segment look retransmitted.
		e.cnt[cSLLOutgoingLoopback]++
		return
	}
	var mac []byte
	if hatype == arphrdEther && alen == 6 {
		mac = addr[:6]
	}
	e.l2group = pktType == packetBroadcast || pktType == packetMulticast
	e.ether(proto, mac, b, ts)
}

func (e *Engine) rawIP(b []byte, ts time.Time) {
	if len(b) < 1 {
		e.cnt[cTruncated]++
		return
	}
	switch b[0] >> 4 {
	case 4:
		e.ipv4(b, nil, ts)
	case 6:
		e.ipv6(b, nil, ts)
	default:
		e.cnt[cIPInvalid]++
	}
}

func (e *Engine) ethernet(b []byte, ts time.Time) {
	if len(b) < 14 {
		e.cnt[cTruncated]++
		return
	}
	e.l2group = b[0]&1 != 0
	e.ether(binary.BigEndian.Uint16(b[12:]), b[6:12], b[14:], ts)
}

func isVLAN(et uint16) bool {
	return et == etherVLAN || et == etherQinQ || et == etherQinQv1 || et == etherQinQv2
}

// ether dispatches on an EtherType, after any 802.1Q/802.1ad tags. It serves Ethernet and
// Linux cooked frames alike, whose protocol field is an EtherType.
func (e *Engine) ether(et uint16, mac, b []byte, ts time.Time) {
	for i := 0; i < maxVLANTags && isVLAN(et); i++ {
		if len(b) < 4 {
			e.cnt[cTruncated]++
			return
		}
		et = binary.BigEndian.Uint16(b[2:])
		b = b[4:]
	}
	switch et {
	case etherIPv4:
		e.ipv4(b, mac, ts)
	case etherIPv6:
		e.ipv6(b, mac, ts)
	case etherARP:
		e.arp(b, ts)
	case etherPPPoES:
		e.pppoe(b, mac, ts)
	case etherMPLS, etherMPLSMC:
		e.mpls(b, ts)
	default: // PPPoE discovery, LLC, LLDP, more tags than maxVLANTags, ...
		e.cnt[cNonIP]++
	}
}

// pppoe decodes a PPPoE session frame (RFC 2516): version and type 1, code 0, session id,
// length, then a PPP frame whose protocol says IPv4 or IPv6. The source MAC is kept: it
// belongs to the PPPoE endpoint, as on plain Ethernet.
func (e *Engine) pppoe(b, mac []byte, ts time.Time) {
	if len(b) < 8 {
		e.cnt[cTruncated]++
		return
	}
	if b[0] != 0x11 || b[1] != 0 {
		e.cnt[cLinkInvalid]++
		return
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	b = b[6:]
	if n < 2 {
		e.cnt[cLinkInvalid]++
		return
	}
	if n < len(b) {
		b = b[:n] // drop Ethernet padding
	}
	// The protocol field is two bytes, or one when compressed (RFC 1661 PFC): a protocol
	// number's first byte is even and its last odd.
	proto := uint16(b[0])
	if b[0]&1 == 0 {
		proto = binary.BigEndian.Uint16(b)
		b = b[2:]
	} else {
		b = b[1:]
	}
	switch proto {
	case pppIPv4:
		e.ipv4(b, mac, ts)
	case pppIPv6:
		e.ipv6(b, mac, ts)
	default: // LCP, PAP, CHAP, IPCP and other control protocols
		e.cnt[cNonIP]++
	}
}

// mpls pops an MPLS label stack (RFC 3032) down to the bottom-of-stack label and takes
// what follows for IPv4 or IPv6 by its version nibble, as routers do for an IP payload.
// The frame's source MAC is a label switch's, not the sender's, so none is kept.
func (e *Engine) mpls(b []byte, ts time.Time) {
	for range maxMPLSLabels {
		if len(b) < 4 {
			e.cnt[cTruncated]++
			return
		}
		bottom := b[2]&1 != 0
		b = b[4:]
		if !bottom {
			continue
		}
		if len(b) < 1 {
			e.cnt[cTruncated]++
			return
		}
		switch b[0] >> 4 {
		case 4:
			e.ipv4(b, nil, ts)
		case 6:
			e.ipv6(b, nil, ts)
		default: // a pseudowire (Ethernet over MPLS and the like)
			e.cnt[cNonIP]++
		}
		return
	}
	e.cnt[cMPLSTooDeep]++
}

// arp records the sender of an Ethernet/IPv4 ARP packet: a cheap, reliable MAC binding,
// and its claim to its address (arpTable), which the interception rules judge.
func (e *Engine) arp(b []byte, ts time.Time) {
	e.cnt[cARP]++
	p, ok := parseARP(b)
	if !ok {
		return
	}
	e.hosts.see(netip.AddrFrom4(p.senderIP), p.senderMAC[:], 28, ts, e) // an Ethernet/IPv4 ARP message is 28 bytes
	e.arps.see(p, ts, e)
}

func (e *Engine) ipv4(b []byte, mac []byte, ts time.Time) {
	if len(b) < 20 {
		e.cnt[cTruncated]++
		return
	}
	ihl := int(b[0]&0x0f) * 4
	if b[0]>>4 != 4 || ihl < 20 {
		e.cnt[cIPInvalid]++
		return
	}
	if len(b) < ihl {
		e.cnt[cTruncated]++
		return
	}
	e.cnt[cIPv4]++
	total := int(binary.BigEndian.Uint16(b[2:]))
	missing := 0
	switch {
	case total == 0:
		// Captured before segmentation offload: the kernel leaves the length zero.
		e.cnt[cIPv4ZeroLength]++
		total = len(b)
	case total < ihl:
		e.cnt[cIPInvalid]++
		return
	case total > len(b):
		e.cnt[cTruncated]++
		missing = total - len(b)
		total = len(b)
	}
	b = b[:total] // drop link-layer padding
	src, dst := netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	e.hosts.see(src, mac, total+missing, ts, e)
	if !e.l2group {
		e.hosts.seeDst(dst, ts, e)
	}
	if e.tun.cur.n > 0 {
		e.tunnelHosts(src, dst, ts)
	}
	proto := b[9]
	payload := b[ihl:]
	ff := binary.BigEndian.Uint16(b[6:])
	if more, off := ff&0x2000 != 0, int(ff&0x1fff)*8; more || off != 0 {
		e.cnt[cFragments]++
		if missing > 0 {
			e.cnt[cFragDropped]++
			return
		}
		var ok bool
		payload, ok = e.frag.add(e, fragKey{src: src.As16(), dst: dst.As16(), id: uint32(binary.BigEndian.Uint16(b[4:])), proto: proto},
			off, more, payload)
		if !ok {
			return
		}
		e.cnt[cIPv4Reassembled]++
	}
	e.transport(proto, src, dst, payload, missing, ts)
}

func (e *Engine) ipv6(b []byte, mac []byte, ts time.Time) {
	if len(b) < 40 {
		e.cnt[cTruncated]++
		return
	}
	if b[0]>>4 != 6 {
		e.cnt[cIPInvalid]++
		return
	}
	e.cnt[cIPv6]++
	plen := int(binary.BigEndian.Uint16(b[4:]))
	missing := 0
	switch {
	case plen == 0:
		// A jumbogram or a segmentation-offload capture: take what was captured.
		e.cnt[cIPv6Jumbo]++
		plen = len(b) - 40
	case 40+plen > len(b):
		e.cnt[cTruncated]++
		missing = 40 + plen - len(b)
		plen = len(b) - 40
	}
	src, dst := netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	e.hosts.see(src, mac, 40+plen+missing, ts, e)
	if !e.l2group {
		e.hosts.seeDst(dst, ts, e)
	}
	if e.tun.cur.n > 0 {
		e.tunnelHosts(src, dst, ts)
	}
	nh := b[6]
	p := b[40 : 40+plen]
	reassembled := false
	for range 16 {
		switch nh {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
			if len(p) < 8 {
				e.cnt[cTruncated]++
				return
			}
			hl := (int(p[1]) + 1) * 8
			if len(p) < hl {
				e.cnt[cTruncated]++
				return
			}
			nh, p = p[0], p[hl:]
		case 51: // authentication header
			if len(p) < 8 {
				e.cnt[cTruncated]++
				return
			}
			hl := (int(p[1]) + 2) * 4
			if len(p) < hl {
				e.cnt[cTruncated]++
				return
			}
			nh, p = p[0], p[hl:]
		case 44: // fragment
			e.cnt[cFragments]++
			if len(p) < 8 || reassembled || missing > 0 {
				e.cnt[cFragDropped]++
				return
			}
			ff := binary.BigEndian.Uint16(p[2:])
			next := p[0]
			var ok bool
			p, ok = e.frag.add(e, fragKey{src: src.As16(), dst: dst.As16(), id: binary.BigEndian.Uint32(p[4:]), proto: next, v6: true},
				int(ff&^7), ff&1 != 0, p[8:])
			if !ok {
				return
			}
			e.cnt[cIPv6Reassembled]++
			nh, reassembled = next, true
		case 59: // no next header
			return
		default:
			e.transport(nh, src, dst, p, missing, ts)
			return
		}
	}
	e.cnt[cIPInvalid]++
}

// transport dispatches on the IP protocol. missing is how many bytes of the datagram
// the capture cut off (snap length).
func (e *Engine) transport(proto uint8, src, dst netip.Addr, b []byte, missing int, ts time.Time) {
	switch proto {
	case protoTCP:
		e.tcp(src, dst, b, missing, ts)
	case protoUDP:
		e.udp(src, dst, b, missing, ts)
	case protoICMP, protoICMPv6:
		e.cnt[cICMP]++
	case protoGRE:
		e.gre(src, dst, b, ts)
	case protoIPIP, protoIPv6:
		e.ipInIP(proto, src, dst, b, ts)
	default:
		e.cnt[cOtherProto]++
	}
}
