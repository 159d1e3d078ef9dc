package capture

import (
	"bytes"
	"encoding/binary"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/medscan/medscan/observe"
)

const (
	// maxARPClaims bounds the (address, MAC) pairs the engine aggregates between two
	// flushes, and maxARPBindings the addresses whose current MAC it remembers across
	// them; beyond either, ARP is counted (arp_claims_not_tracked,
	// arp_bindings_not_tracked), not followed.
	maxARPClaims   = 16384
	maxARPBindings = 65536

	arpRequest = 1
	arpReply   = 2
)

// arpPacket is what an Ethernet/IPv4 ARP packet says about its sender.
type arpPacket struct {
	op         uint16
	senderMAC  [6]byte
	senderIP   [4]byte
	targetIP   [4]byte
	gratuitous bool // an announcement: the sender names its own address as the target
}

// parseARP reads an Ethernet/IPv4 ARP packet (RFC 826); ok is false for anything else
// (another hardware or protocol type, a short packet, an operation other than request
// or reply).
func parseARP(b []byte) (p arpPacket, ok bool) {
	if len(b) < 28 || binary.BigEndian.Uint16(b) != 1 || binary.BigEndian.Uint16(b[2:]) != etherIPv4 || b[4] != 6 || b[5] != 4 {
		return p, false
	}
	p.op = binary.BigEndian.Uint16(b[6:])
	if p.op != arpRequest && p.op != arpReply {
		return p, false
	}
	p.senderMAC = [6]byte(b[8:14])
	p.senderIP = [4]byte(b[14:18])
	p.targetIP = [4]byte(b[24:28])
	p.gratuitous = p.senderIP == p.targetIP
	return p, true
}

// arpKey is one claim: an address and the MAC that claimed it.
type arpKey struct {
	ip  [4]byte
	mac [6]byte
}

// arpTable follows who claims which address in ARP. Claims are aggregated between
// flushes (observe.ARPClaim); the current MAC of each address is kept across them, so
// that a takeover (the address moving to another MAC) is counted once, in capture
// order, whatever the checkpoints. ARP goes to one worker of a Pool (see Pool), so that
// order is the capture's.
type arpTable struct {
	claims  map[arpKey]*observe.ARPClaim
	current map[[4]byte][6]byte
}

func (a *arpTable) init() {
	a.claims = map[arpKey]*observe.ARPClaim{}
	a.current = map[[4]byte][6]byte{}
}

// see records one ARP packet's claim. An ARP probe (sender address 0.0.0.0, RFC 5227)
// claims nothing, nor does a group or all-zero sender MAC.
func (a *arpTable) see(p arpPacket, ts time.Time, e *Engine) {
	m := p.senderMAC
	if p.senderIP == ([4]byte{}) || m[0]&1 != 0 || m == ([6]byte{}) {
		return
	}
	if a.claims == nil {
		a.init()
	}
	k := arpKey{p.senderIP, m}
	c := a.claims[k]
	if c == nil {
		if len(a.claims) >= maxARPClaims {
			e.addCount("arp_claims_not_tracked", 1)
			return
		}
		c = &observe.ARPClaim{Addr: netip.AddrFrom4(p.senderIP), MAC: observe.MACString(m), FirstSeen: ts, LastSeen: ts}
		a.claims[k] = c
	}
	observe.Widen(&c.FirstSeen, &c.LastSeen, ts, ts)
	switch {
	case p.gratuitous:
		c.Gratuitous++
	case p.op == arpReply:
		c.Replies++
	default:
		c.Requests++
	}
	prev, known := a.current[p.senderIP]
	switch {
	case known && prev != m:
		c.Takeovers++
		a.current[p.senderIP] = m
	case !known && len(a.current) < maxARPBindings:
		a.current[p.senderIP] = m
	case !known:
		e.addCount("arp_bindings_not_tracked", 1)
	}
}

// flush hands the claims aggregated since the last flush to the set; the current
// bindings stay.
func (a *arpTable) flush(set *observe.Set) {
	keys := slices.SortedFunc(maps.Keys(a.claims), func(x, y arpKey) int {
		if c := bytes.Compare(x.ip[:], y.ip[:]); c != 0 {
			return c
		}
		return bytes.Compare(x.mac[:], y.mac[:])
	})
	for _, k := range keys {
		set.AddARP(*a.claims[k])
	}
	clear(a.claims)
}
