package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// udpState is the engine's datagram side: one handler per datagram dissector, started on
// the first datagram and ended by finishUDP.
type udpState struct {
	started  bool
	handlers []dissect.DatagramHandler
	claimed  []uint64 // datagrams claimed per dissector
	names    []string // counter name per dissector
	ctx      dissect.DatagramContext
	mac      [6]byte
}

// udp decodes a UDP header and offers the payload to the datagram dissectors in
// configuration order; the first that claims it stops the walk. missing is how many bytes
// of the IP datagram the capture cut off: a truncated datagram is counted, not offered,
// since every datagram protocol here frames by the datagram's end.
func (e *Engine) udp(src, dst netip.Addr, b []byte, missing int, ts time.Time) {
	e.cnt[cUDP]++
	if len(b) < 8 {
		e.cnt[cUDPInvalid]++
		return
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	switch {
	case n == 0 && src.Is6():
		n = len(b) // an IPv6 jumbogram's UDP length is zero (RFC 2675)
	case n < 8:
		e.cnt[cUDPInvalid]++
		return
	case n > len(b):
		if missing > 0 {
			// A tunnel's datagram cut by the snap length still carries the start of the
			// inner packet, which the inner layers count as truncated.
			if e.udpTunnel(src, dst, binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:]), b[8:], ts) {
				return
			}
			e.cnt[cUDPTruncated]++
		} else {
			e.cnt[cUDPInvalid]++
		}
		return
	}
	// Tunnels come before the datagram dissectors: what they carry is traffic, not a
	// datagram of theirs.
	if e.udpTunnel(src, dst, binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:]), b[8:n], ts) {
		return
	}
	if len(e.cfg.Datagrams) == 0 {
		return
	}
	u := &e.dgram
	if !u.started {
		e.startUDP()
	}
	s := netip.AddrPortFrom(src, binary.BigEndian.Uint16(b))
	d := netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
	p := b[8:n]
	mac := e.frameMAC(src)
	for i, h := range u.handlers {
		if h.Datagram(s, d, mac, p, ts) {
			u.claimed[i]++
			return
		}
	}
}

// frameMAC returns the source MAC of the frame being decoded when the host table can
// tell it: transport is not handed the link layer, but hosts.see has just recorded src,
// and an address with exactly one MAC names it.
func (e *Engine) frameMAC(src netip.Addr) []byte {
	h := &e.hosts
	if h.lastSrcE == nil || h.lastSrc != src || h.lastSrcE.nmac != 1 {
		return nil
	}
	e.dgram.mac = h.lastSrcE.macs[0]
	return e.dgram.mac[:]
}

// startUDP starts a handler per datagram dissector.
func (e *Engine) startUDP() {
	u := &e.dgram
	u.started = true
	u.ctx = dissect.DatagramContext{Sink: e.set, Secrets: e.cfg.Secrets, Source: e.cfg.Source, Count: e.countFn,
		Keep: e.cfg.Keep}
	u.handlers = u.handlers[:0]
	u.names = u.names[:0]
	for _, d := range e.cfg.Datagrams {
		h := d.New(&u.ctx)
		if h == nil {
			continue
		}
		u.handlers = append(u.handlers, guardDatagram(h, d.Name, e))
		u.names = append(u.names, "datagrams_"+d.Name)
	}
	u.claimed = make([]uint64, len(u.handlers))
}

// checkpointDatagrams flushes every datagram handler (DatagramHandler.Flush) and hands
// over the per-dissector counts, leaving the handlers running: Checkpoint's share for
// UDP, so a live capture's store holds UDP services, credentials and counts as they come.
func (e *Engine) checkpointDatagrams() { e.eachDatagramHandler(dissect.DatagramHandler.Flush) }

// eachDatagramHandler calls fn (Flush or End) on every running handler at the latest
// capture time and hands the per-dissector counts over; it reports whether any ran.
func (e *Engine) eachDatagramHandler(fn func(dissect.DatagramHandler, time.Time)) bool {
	u := &e.dgram
	if !u.started {
		return false
	}
	t := time.Time{}
	if e.now != noTime {
		t = time.Unix(0, e.now).UTC()
	}
	for i, h := range u.handlers {
		fn(h, t)
		e.set.AddCounter(u.names[i], u.claimed[i])
		u.claimed[i] = 0
	}
	return true
}

// finishDatagrams ends every datagram handler (DatagramHandler.End at the latest capture
// time) and adds the per-dissector counts to the Set; afterwards the next datagram
// starts fresh handlers.
func (e *Engine) finishDatagrams() {
	if !e.eachDatagramHandler(dissect.DatagramHandler.End) {
		return
	}
	u := &e.dgram
	u.started = false
	u.handlers = u.handlers[:0]
	u.claimed = nil
}

// guardedDatagram wraps a datagram handler as guarded wraps a stream: a panic is
// recovered and recorded as a problem, and the handler is switched off for the rest of
// the engine's run (its state may be inconsistent), so one parser bug costs one protocol.
type guardedDatagram struct {
	h      dissect.DatagramHandler
	name   string
	e      *Engine
	broken bool
}

func guardDatagram(h dissect.DatagramHandler, name string, e *Engine) dissect.DatagramHandler {
	return &guardedDatagram{h: h, name: name, e: e}
}

func (g *guardedDatagram) recover(op string, src, dst netip.AddrPort) {
	if r := recover(); r != nil {
		g.broken = true
		g.e.set.AddCounter("dissector_panics", 1)
		g.e.set.Problem(observe.Problem{Source: g.name + " dissector", Offset: -1,
			Message: fmt.Sprintf("internal error in %s on datagram %s -> %s: %v; this dissector was switched off, please report it",
				op, src, dst, r)})
	}
}

func (g *guardedDatagram) Datagram(src, dst netip.AddrPort, srcMAC []byte, b []byte, t time.Time) (ok bool) {
	if g.broken {
		return false
	}
	defer g.recover("Datagram", src, dst)
	return g.h.Datagram(src, dst, srcMAC, b, t)
}

func (g *guardedDatagram) Flush(t time.Time) {
	if g.broken {
		return
	}
	defer g.recover("Flush", netip.AddrPort{}, netip.AddrPort{})
	g.h.Flush(t)
}

func (g *guardedDatagram) End(t time.Time) {
	if g.broken {
		return
	}
	defer g.recover("End", netip.AddrPort{}, netip.AddrPort{})
	g.h.End(t)
}
