package snmpwire

import (
	"cmp"
	"hash/maphash"
	"net/netip"
	"slices"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Dissector is the SNMP datagram dissector.
var Dissector = dissect.DatagramDissector{Name: "snmp", New: New}

// Ports of SNMP.
const (
	PortAgent = 161
	PortTrap  = 162
)

// MaxPending bounds the manager, agent and community combinations aggregated before End;
// past it, each message goes to the sink as it comes.
const MaxPending = 4096

// Message is an SNMP message header.
type Message struct {
	Version   int    // 0 v1, 1 v2c, 3 v3
	Community []byte // v1/v2c; aliases the datagram
	PDU       byte   // context tag of the PDU: 0xa0 GetRequest ... 0xa8 Report
}

// tlv reads one BER tag and definite length at b[off:] and returns the tag, the value's
// bounds and whether they lie within b. Multi-byte tags are not used by SNMP's header.
func tlv(b []byte, off int) (tag byte, start, end int, ok bool) {
	if off+2 > len(b) {
		return 0, 0, 0, false
	}
	tag = b[off]
	l := int(b[off+1])
	start = off + 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 || start+n > len(b) {
			return 0, 0, 0, false // indefinite, or longer than any datagram
		}
		l = 0
		for _, c := range b[start : start+n] {
			l = l<<8 | int(c)
		}
		start += n
	}
	end = start + l
	if end > len(b) || end < start {
		return 0, 0, 0, false
	}
	return tag, start, end, true
}

// Parse decodes an SNMP message header. ok is false when b is not SNMP.
func Parse(b []byte) (m Message, ok bool) {
	tag, s, e, ok := tlv(b, 0)
	if !ok || tag != 0x30 {
		return m, false
	}
	b = b[:e]
	tag, vs, ve, ok := tlv(b, s)
	if !ok || tag != 0x02 || ve-vs != 1 {
		return m, false
	}
	m.Version = int(b[vs])
	switch m.Version {
	case 0, 1:
	case 3:
		return m, true // the USM header follows; no community
	default:
		return m, false
	}
	tag, cs, ce, ok := tlv(b, ve)
	if !ok || tag != 0x04 {
		return m, false
	}
	m.Community = b[cs:ce]
	if ce >= len(b) || b[ce] < 0xa0 || b[ce] > 0xa8 {
		return m, false
	}
	m.PDU = b[ce]
	return m, true
}

type key struct {
	client, server netip.Addr
	community      uint64 // maphash of the community: the clear text is not kept
}

type handler struct {
	ctx      *dissect.DatagramContext
	seed     maphash.Seed
	pending  map[key]*observe.Credential
	services dissect.ServiceLog
}

// New starts the engine's SNMP handler.
func New(ctx *dissect.DatagramContext) dissect.DatagramHandler {
	return &handler{ctx: ctx, seed: maphash.MakeSeed(), pending: map[key]*observe.Credential{}}
}

// Datagram implements dissect.DatagramHandler.
func (h *handler) Datagram(src, dst netip.AddrPort, _ []byte, b []byte, t time.Time) bool {
	sp, dp := src.Port(), dst.Port()
	if sp != PortAgent && dp != PortAgent && dp != PortTrap {
		return false
	}
	m, ok := Parse(b)
	if !ok {
		return false
	}
	if m.Version == 3 {
		h.count("snmp_v3_messages")
		return true
	}
	var f observe.Flow
	switch {
	case dp == PortAgent:
		f = observe.Flow{Client: src, Server: dst}
	case sp == PortAgent && m.PDU == 0xa2: // a response from the agent
		f = observe.Flow{Client: dst, Server: src}
		h.services.Seen(h.ctx, "snmp", src, t)
	default: // a trap or inform to the manager: the agent sent it
		f = observe.Flow{Client: dst, Server: src}
	}
	k := key{f.Client.Addr(), f.Server.Addr(), maphash.Bytes(h.seed, m.Community)}
	if c := h.pending[k]; c != nil {
		c.Count++
		observe.Widen(&c.FirstSeen, &c.LastSeen, t)
		return true
	}
	preview, hash := h.ctx.Secrets.Hide(m.Community)
	c := observe.Credential{Flow: f, FirstSeen: t, LastSeen: t, Count: 1, Protocol: "snmp", Kind: "snmp-community",
		Where: "community", Preview: preview, Hash: hash}
	if len(h.pending) >= MaxPending {
		h.ctx.Sink.AddCredential(c)
		return true
	}
	h.pending[k] = &c
	return true
}

func (h *handler) count(name string) {
	if h.ctx.Count != nil {
		h.ctx.Count(name, 1)
	}
}

// End implements dissect.DatagramHandler.
// End implements dissect.DatagramHandler; SNMP keeps no state that outlives a flush.
func (h *handler) End(t time.Time) { h.Flush(t) }

// Flush implements dissect.DatagramHandler: the communities gathered since the last
// flush go to the sink (which adds up their counts) and the servers seen with them.
func (h *handler) Flush(time.Time) {
	cs := make([]*observe.Credential, 0, len(h.pending))
	for _, c := range h.pending {
		cs = append(cs, c)
	}
	// In a stable order, so a scan stores the same rows in the same order every time.
	slices.SortFunc(cs, func(a, b *observe.Credential) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), a.Flow.Client.Compare(b.Flow.Client), a.Flow.Server.Compare(b.Flow.Server),
			cmp.Compare(a.Hash, b.Hash))
	})
	for _, c := range cs {
		h.ctx.Sink.AddCredential(*c)
	}
	clear(h.pending)
	h.services.Flush(h.ctx, "snmp")
}
