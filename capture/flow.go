package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// flowKey names a TCP conversation canonically: the endpoint that sorts first is side 0,
// so both directions of a flow find one entry.
type flowKey struct {
	a, b   [16]byte
	pa, pb uint16
	v6     bool
}

// makeKey returns the canonical key of src:sp -> dst:dp and the side (0 or 1) of src.
func makeKey(src netip.Addr, sp uint16, dst netip.Addr, dp uint16) (flowKey, uint8) {
	s, d := src.As16(), dst.As16()
	k := flowKey{v6: src.Is6() && !src.Is4In6()}
	c := compare16(&s, &d)
	if c < 0 || (c == 0 && sp <= dp) {
		k.a, k.pa, k.b, k.pb = s, sp, d, dp
		return k, 0
	}
	k.a, k.pa, k.b, k.pb = d, dp, s, sp
	return k, 1
}

func compare16(a, b *[16]byte) int {
	x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if x == y {
		x, y = binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// hash is FNV-1a over the canonical key: stable across runs and processes.
func (k *flowKey) hash() uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for _, c := range k.a {
		h = (h ^ uint64(c)) * prime
	}
	for _, c := range k.b {
		h = (h ^ uint64(c)) * prime
	}
	for _, c := range [4]byte{byte(k.pa >> 8), byte(k.pa), byte(k.pb >> 8), byte(k.pb)} {
		h = (h ^ uint64(c)) * prime
	}
	return h
}

// flowState is what the engine does with a flow's payload.
type flowState uint8

const (
	stDetect flowState = iota // offering first bytes to the dissectors
	stStream                  // feeding a dissector's Stream
	stIgnore                  // a tombstone: nobody wants it, or its stream is over
)

// half is one direction of a flow, named by the side that sends it.
type half struct {
	started   bool   // next is valid
	synSeen   bool   // started from a SYN, isn holds its sequence number
	isn       uint32 // the SYN's sequence number
	next      uint32 // next expected sequence number
	finSeen   bool
	finDone   bool // every byte before the FIN was delivered (or skipped)
	finSeq    uint32
	held      []heldSeg // out-of-order segments, sorted by seq
	heldBytes int
	// lostFirst counts bytes lost before the side's first byte reached detection: a
	// detected protocol starts after them as a capture starting late does, but a
	// connection a control stream announced (FTP data) is told of them when claimed
	// (claimExpected), since its bytes are a file from its first.
	lostFirst int
}

type heldSeg struct {
	seq  uint32
	data []byte
}

// detection is the state of a flow no dissector has claimed yet: the first bytes of each
// direction, and the order they came in, to replay them to the stream that claims it.
type detection struct {
	buf     [2][]byte // first bytes per side, at most DetectLimit each
	full    [2]bool   // no more bytes are logged for the side (limit or a gap)
	skipped [2]int    // bytes of the side after its log filled
	no      [2]bool   // every dissector said No to the side
	refused [2]uint64 // bit i: dissector i said No to the side
	chunks  []chunk
}

type chunk struct {
	side uint8
	n    int
	t    time.Time
}

// flow is one TCP conversation.
type flow struct {
	key       flowKey
	ep        [2]netip.AddrPort // endpoint of side 0 and side 1
	h         [2]half
	client    uint8 // side of the client
	rolesSure bool  // from SYN/SYN-ACK or a dissector, not from ports
	state     flowState
	closing   bool    // FIN or RST seen: on the closed list
	payload   bool    // carried payload while undetected
	handoffs  uint8   // times a stream handed the flow back to detection
	service   string  // protocol the flow's service was recorded as, at the first claim
	tun       *tunnel // the proxy tunnel the flow carries after a handoff, nil when direct
	stream    dissect.Stream
	det       *detection
	first     time.Time
	last      time.Time
	packets   uint64 // segments seen, both directions, for the flow's volume
	bytes     uint64 // TCP payload bytes seen (or lost in the capture), both directions
	lastNs    int64  // engine clock at the last packet, for the activity lists
	prev      *flow
	next      *flow
}

// dir is the direction of bytes sent by side.
func (f *flow) dir(side uint8) dissect.Direction {
	if side == f.client {
		return dissect.ClientToServer
	}
	return dissect.ServerToClient
}

// flowList is an intrusive list ordered by activity, most recent at head, so expiry
// walks from the tail and stops at the first live flow.
type flowList struct{ head, tail *flow }

func (l *flowList) pushFront(f *flow) {
	f.prev, f.next = nil, l.head
	if l.head != nil {
		l.head.prev = f
	} else {
		l.tail = f
	}
	l.head = f
}

func (l *flowList) remove(f *flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

func (e *Engine) list(f *flow) *flowList {
	if f.closing {
		return &e.closed
	}
	return &e.active
}

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// tcp handles one TCP segment.
func (e *Engine) tcp(src, dst netip.Addr, b []byte, missing int, ts time.Time) {
	if len(b) < 20 {
		if missing == 0 { // else already counted by the IP layer
			e.cnt[cTruncated]++
		}
		return
	}
	doff := int(b[12]>>4) * 4
	if doff < 20 {
		e.cnt[cTCPInvalid]++
		return
	}
	if len(b) < doff {
		if missing == 0 {
			e.cnt[cTruncated]++
		}
		return
	}
	e.cnt[cTCPSegments]++
	sp, dp := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	seq := binary.BigEndian.Uint32(b[4:])
	flags := b[13]
	payload := b[doff:]
	syn, rst := flags&tcpSYN != 0, flags&tcpRST != 0

	key, side := makeKey(src, sp, dst, dp)
	f := e.flows[key]
	if f != nil && syn && !(f.h[side].synSeen && f.h[side].isn == seq) &&
		(f.closing || flags&tcpACK == 0 && f.h[side].started) {
		// A new connection on the same ports: the old one is over. A SYN-ACK counts only
		// once the old one closed (its SYN may have escaped the capture); before that, it
		// may be a late answer to the flow's own SYN.
		e.cnt[cFlowsReused]++
		e.endFlow(f)
		f = nil
	}
	if f != nil && rst && staleReset(&f.h[side], seq) {
		// A reset whose sequence number is nowhere near the sender's: a late packet of
		// an earlier connection on these ports (RFC 5961 §3 reasons the same way). It
		// must not end the connection that reuses them.
		e.cnt[cTCPStaleResets]++
		return
	}
	if f == nil {
		if rst && len(payload) == 0 {
			return // a reset of a flow already gone: nothing to learn
		}
		f = e.newFlow(key, side, src, sp, dst, dp, ts)
	}
	f.last = ts
	f.packets++
	f.bytes += uint64(len(payload) + missing)
	if f.lastNs != e.now {
		f.lastNs = e.now
		l := e.list(f)
		if l.head != f {
			l.remove(f)
			l.pushFront(f)
		}
	}
	h := &f.h[side]
	if syn {
		if !f.rolesSure && f.stream == nil {
			if flags&tcpACK != 0 {
				f.client = side ^ 1
			} else {
				f.client = side
			}
			f.rolesSure = true
		}
		if !h.started {
			h.started, h.synSeen, h.isn, h.next = true, true, seq, seq+1
		}
		seq++ // data starts after the SYN
	}
	if rst {
		e.closeFlow(f, ts)
		return
	}
	if flags&tcpFIN != 0 && !h.finSeen {
		h.finSeen = true
		h.finSeq = seq + uint32(len(payload)+missing)
		if !h.started && len(payload) == 0 && missing == 0 {
			h.started, h.next = true, h.finSeq
		}
		e.setClosing(f)
	}
	if f.state == stIgnore {
		// A tombstone copies nothing, but follows the sender's sequence so that its
		// reset is not taken for a stale one when the connection ends.
		if end := seq + uint32(len(payload)+missing); h.started && int32(end-h.next) > 0 {
			h.next = end
		}
		return
	}
	if len(payload) > 0 || missing > 0 {
		e.segment(f, side, seq, payload, missing, ts)
		if f.state == stIgnore {
			return
		}
	}
	if h.finSeen && !h.finDone && h.started && h.next == h.finSeq {
		h.finDone = true
		if o := &f.h[side^1]; o.finDone {
			e.closeFlow(f, ts)
		}
	}
}

// resetWindow is how far a reset's sequence number may be from the sender's next one
// and still end the flow. Generous, because a capture misses segments; a stale reset
// from an earlier connection lands within it with a probability of about 1 in 2,000,
// since initial sequence numbers are random.
const resetWindow = 1 << 20

// staleReset reports whether a reset from the side of h cannot belong to its connection.
// Without a sequence number to compare with (the side sent nothing yet: a refused SYN's
// reset), it can.
func staleReset(h *half, seq uint32) bool {
	if !h.started {
		return false
	}
	d := int64(int32(seq - h.next))
	return d > resetWindow || d < -resetWindow
}

// newFlow creates a flow for a first segment from src, guessing roles by port until a
// SYN or a dissector says otherwise.
func (e *Engine) newFlow(key flowKey, side uint8, src netip.Addr, sp uint16, dst netip.Addr, dp uint16, ts time.Time) *flow {
	if len(e.flows) >= e.cfg.MaxFlows {
		// Make room: a closed flow first, else the one idle longest.
		victim := e.closed.tail
		if victim == nil {
			victim = e.active.tail
		}
		e.cnt[cFlowsEvicted]++
		e.endFlow(victim)
	}
	var f *flow
	if n := len(e.freeFlow); n > 0 {
		f = e.freeFlow[n-1]
		e.freeFlow = e.freeFlow[:n-1]
	} else {
		f = new(flow)
	}
	f.key = key
	f.ep[side] = netip.AddrPortFrom(src, sp)
	f.ep[side^1] = netip.AddrPortFrom(dst, dp)
	// The server is usually the side on the well-known (lower) port; on a tie, the
	// receiver of the first packet.
	f.client = side
	if sp < dp {
		f.client = side ^ 1
	}
	f.first, f.last, f.lastNs = ts, ts, e.now
	e.flows[key] = f
	e.active.pushFront(f)
	e.cnt[cFlows]++
	return f
}

// setClosing moves a flow to the closed list, where it lingers for closedFlowTimeout.
func (e *Engine) setClosing(f *flow) {
	if f.closing {
		return
	}
	e.active.remove(f)
	f.closing = true
	e.closed.pushFront(f)
}

// closeFlow ends a flow's stream after both FINs or a RST, keeping a tombstone so late
// segments do not start a new flow.
func (e *Engine) closeFlow(f *flow, ts time.Time) {
	e.setClosing(f)
	if f.state != stIgnore {
		e.cnt[cFlowsClosed]++
		e.finishFlow(f, ts)
	}
}

// endFlow ends a flow for good (timeout, eviction, reuse, Finish) and frees it.
func (e *Engine) endFlow(f *flow) {
	if f.state != stIgnore {
		e.finishFlow(f, f.last)
	}
	// The connection's volume, named as its observations name it (a tunnel by its
	// target), once it is over.
	e.set.AddVolume(observe.Volume{Flow: f.observed(), Packets: f.packets, Bytes: f.bytes, FirstSeen: f.first, LastSeen: f.last})
	e.list(f).remove(f)
	delete(e.flows, f.key)
	e.release(f)
	*f = flow{h: [2]half{{held: f.h[0].held[:0]}, {held: f.h[1].held[:0]}}}
	if len(e.freeFlow) < 4096 {
		e.freeFlow = append(e.freeFlow, f)
	}
}

// finishFlow skips the holes still open, delivering what was held after them, and ends
// the stream. The flow becomes a tombstone.
func (e *Engine) finishFlow(f *flow, t time.Time) {
	for side := range uint8(2) {
		h := &f.h[side]
		for len(h.held) > 0 && f.state != stIgnore {
			e.skipTo(f, side, h.held[0].seq, false)
			e.drain(f, side, t)
		}
		if f.state != stIgnore && h.finSeen && !h.finDone && h.started {
			if n := int32(h.finSeq - h.next); n > 0 {
				e.skipTo(f, side, h.finSeq, false)
			}
			h.finDone = true
		}
	}
	switch f.state {
	case stStream:
		f.stream.End(t)
		f.stream = nil
	case stDetect:
		if f.payload {
			e.cnt[cStreamsUnidentified]++
		}
	}
	f.state = stIgnore
	e.release(f)
}

// release frees a flow's buffers.
func (e *Engine) release(f *flow) {
	for side := range 2 {
		h := &f.h[side]
		for _, s := range h.held {
			e.putBuf(s.data)
		}
		clear(h.held)
		h.held = h.held[:0]
		e.buffered -= int64(h.heldBytes)
		h.heldBytes = 0
	}
	if d := f.det; d != nil {
		for side := range 2 {
			e.buffered -= int64(len(d.buf[side]))
			e.putBuf(d.buf[side])
		}
		f.det = nil
	}
}

// maxHeldSegments bounds the out-of-order queue of a direction by count as well as by
// bytes, so that a stream of tiny segments cannot make insertion quadratic.
const maxHeldSegments = 1024

// segBufSize is the size of pooled buffers: a full-size Ethernet segment and a
// direction's detection log both fit.
const segBufSize = DetectLimit

func (e *Engine) getBuf(n int) []byte {
	if n <= segBufSize {
		if k := len(e.bufs); k > 0 {
			b := e.bufs[k-1]
			e.bufs = e.bufs[:k-1]
			return b[:n]
		}
		return make([]byte, n, segBufSize)
	}
	return make([]byte, n)
}

func (e *Engine) putBuf(b []byte) {
	if cap(b) == segBufSize && len(e.bufs) < 8192 {
		e.bufs = append(e.bufs, b[:0])
	}
}

// segment reassembles the payload of one segment of side starting at seq. missing is how
// many bytes after payload the capture cut off.
func (e *Engine) segment(f *flow, side uint8, seq uint32, payload []byte, missing int, ts time.Time) {
	h := &f.h[side]
	if !h.started {
		// A capture that starts mid-stream: begin at the first segment seen.
		h.started, h.next = true, seq
		if !f.h[side^1].started {
			e.cnt[cFlowsMidstream]++
		}
	}
	for {
		end := seq + uint32(len(payload)+missing)
		if int32(end-h.next) <= 0 {
			e.cnt[cTCPRetransmitted]++
			return
		}
		if d := int32(seq - h.next); d < 0 {
			e.cnt[cTCPOverlapping]++
			if int(-d) >= len(payload) {
				missing -= int(-d) - len(payload)
				payload = nil
			} else {
				payload = payload[-d:]
			}
			seq = h.next
		}
		if seq == h.next {
			if len(payload) > 0 {
				h.next += uint32(len(payload))
				e.deliver(f, side, payload, ts)
				if f.state == stIgnore {
					return
				}
			}
			if missing > 0 {
				e.skipTo(f, side, h.next+uint32(missing), false)
				if f.state == stIgnore {
					return
				}
			}
			e.drain(f, side, ts)
			return
		}
		// Ahead of a hole. The bytes the snap length cut off are left as part of a hole a
		// retransmission may fill.
		if len(payload) == 0 {
			return
		}
		e.cnt[cTCPOutOfOrder]++
		if len(h.held) < maxHeldSegments && h.heldBytes+len(payload) <= e.cfg.MaxStreamBuffer &&
			e.buffered+int64(len(payload)) <= e.cfg.MaxTotalBuffer {
			e.hold(h, seq, payload)
			return
		}
		// Out of room: give up on the first hole and go on from what follows it.
		missing = 0
		if len(h.held) == 0 {
			e.skipTo(f, side, seq, true)
		} else {
			e.skipTo(f, side, h.held[0].seq, true)
			e.drain(f, side, ts)
		}
		if f.state == stIgnore {
			return
		}
	}
}

// hold keeps a copy of an out-of-order segment, in sequence order.
func (e *Engine) hold(h *half, seq uint32, payload []byte) {
	i := len(h.held)
	for i > 0 && int32(h.held[i-1].seq-seq) > 0 {
		i--
	}
	if i > 0 {
		if p := h.held[i-1]; p.seq == seq && len(p.data) >= len(payload) {
			e.cnt[cTCPRetransmitted]++
			return
		}
	}
	buf := e.getBuf(len(payload))
	copy(buf, payload)
	h.held = append(h.held, heldSeg{})
	copy(h.held[i+1:], h.held[i:])
	h.held[i] = heldSeg{seq: seq, data: buf}
	h.heldBytes += len(payload)
	e.buffered += int64(len(payload))
}

// drain delivers the held segments that the advancing sequence number has reached, and
// removes them from the queue in one move.
func (e *Engine) drain(f *flow, side uint8, ts time.Time) {
	h := &f.h[side]
	i := 0
	for i < len(h.held) {
		s := h.held[i]
		d := int32(s.seq - h.next)
		if d > 0 {
			break
		}
		// Taken out of the queue before delivery, so that a release during it (the
		// stream finished) does not free the buffer twice.
		h.held[i] = heldSeg{}
		i++
		h.heldBytes -= len(s.data)
		e.buffered -= int64(len(s.data))
		end := s.seq + uint32(len(s.data))
		if int32(end-h.next) <= 0 {
			e.putBuf(s.data)
			continue
		}
		h.next = end
		e.deliver(f, side, s.data[-d:], ts)
		e.putBuf(s.data)
		if f.state == stIgnore {
			return // released: the queue is already empty
		}
	}
	if i > 0 {
		n := copy(h.held, h.held[i:])
		clear(h.held[n:])
		h.held = h.held[:n]
	}
}

// skipTo declares the bytes from the next expected sequence number up to seq lost.
func (e *Engine) skipTo(f *flow, side uint8, seq uint32, capForced bool) {
	h := &f.h[side]
	n := int(int32(seq - h.next))
	if n <= 0 {
		return
	}
	h.next = seq
	e.cnt[cTCPGaps]++
	e.cnt[cTCPGapBytes] += uint64(n)
	if capForced {
		e.cnt[cBufferCapBytes] += uint64(n)
	}
	e.lose(f, side, n, f.last)
}

// lose tells the flow's stream or detection that the next n bytes of side are missing.
func (e *Engine) lose(f *flow, side uint8, n int, ts time.Time) {
	switch f.state {
	case stStream:
		f.stream.Gap(f.dir(side), n)
		if f.stream.Done() {
			e.streamDone(f, ts)
		}
	case stDetect:
		// A hole before any byte of the side was logged is like a capture starting late:
		// detection begins after it. A hole after logged bytes ends the side's log, since
		// bytes after it cannot tell a dissector where a message starts.
		if d := f.det; d == nil || len(d.buf[side]) == 0 {
			f.h[side].lostFirst += n
		}
		if d := f.det; d != nil && len(d.buf[side]) > 0 {
			d.full[side] = true
			d.skipped[side] += n
			if !d.no[side] {
				e.runDetect(f, side, ts)
			}
		}
	}
}

// deliver hands in-order bytes of side to the flow's stream or detection.
func (e *Engine) deliver(f *flow, side uint8, b []byte, ts time.Time) {
	switch f.state {
	case stStream:
		f.stream.Data(f.dir(side), b, ts)
		if f.stream.Done() {
			rest := 0
			if r, ok := f.stream.(dissect.HandoffRest); ok {
				if n := r.Rest(); n > 0 && n <= len(b) {
					rest = n
				}
			}
			e.streamDone(f, ts)
			if rest > 0 && f.state == stDetect {
				// The upgrade began inside this chunk: its tail is the new protocol's start.
				e.detect(f, side, b[len(b)-rest:], ts)
			}
		}
	case stDetect:
		e.detect(f, side, b, ts)
	}
}

// maxHandoffs bounds how often one flow may be handed back to detection, so that a
// hostile peer repeating STARTTLS cannot keep a flow cycling between dissectors.
const maxHandoffs = 2

// streamDone ends a stream whose dissector has learned all it wants; the flow stays as a
// tombstone so its later segments cost a map lookup.
//
// A stream that hands off (dissect.Handoff: STARTTLS and the like) is ended all the same,
// but the flow goes back to detection with fresh state and its roles kept: the next
// in-order bytes of each direction, from where reassembly stands, are offered to every
// Detect again, and held out-of-order segments stay to follow them. Nothing already given
// to the old stream is replayed, and the chunk on which it became done counts as its own:
// Data takes whole chunks, so a dissector that hands off must become done at a chunk
// boundary. STARTTLS gives one: the client sends its ClientHello only after the server's
// go-ahead, so the upgrade reply ends a segment and the TLS bytes start new ones. A
// stream whose upgrade can fall inside a chunk (MySQL's SSL Request, followed at once by
// the ClientHello) says how much of the chunk follows it (dissect.HandoffRest), and
// deliver offers that tail to the new detection.
func (e *Engine) streamDone(f *flow, ts time.Time) {
	e.cnt[cStreamsDone]++
	handoff := false
	if h, ok := f.stream.(dissect.Handoff); ok && h.Handoff() {
		if f.handoffs < maxHandoffs {
			handoff = true
		} else {
			e.cnt[cHandoffsCapped]++
		}
	}
	if handoff {
		e.enterTunnel(f)
	}
	f.stream.End(ts)
	f.stream = nil
	if handoff {
		f.handoffs++
		e.cnt[cHandoffs]++
		f.state = stDetect
		f.payload = false // the new detection has seen nothing yet
		return
	}
	f.state = stIgnore
	e.release(f)
}

// tunnel is where a proxy's tunnel leads: the streams after the handoff speak with the
// target, through the proxy.
type tunnel struct {
	via    netip.AddrPort // the proxy's endpoint, as seen on the wire
	server netip.AddrPort // the target's address and port; the proxy's endpoint when named
	name   string         // "host:port" of a target named by host name, else ""
}

// enterTunnel records the target of a handing-off proxy stream (dissect.Tunnel) on the
// flow, so that detection after the handoff reports the target as the server and the
// proxy as via. A tunnel inside a tunnel keeps the first proxy (the one on the wire) and
// takes the innermost target.
func (e *Engine) enterTunnel(f *flow) {
	t, ok := f.stream.(dissect.Tunnel)
	if !ok {
		return
	}
	addr, name, port, ok := t.TunnelTarget()
	if !ok || port == 0 || (!addr.IsValid() && name == "") {
		return
	}
	via := f.ep[f.client^1]
	if f.tun != nil {
		via = f.tun.via
	}
	tun := &tunnel{via: via, server: via}
	if addr.IsValid() {
		tun.server = netip.AddrPortFrom(addr, port)
	} else {
		tun.name = net.JoinHostPort(name, strconv.Itoa(int(port)))
	}
	f.tun = tun
	// The target is a service of its own, named by what the next claim speaks.
	f.service = ""
	e.cnt[cTunnels]++
}

// observed is the flow as observations name it: client and server, and for a tunnel the
// target as the server and the proxy as via (see observe.Flow).
func (f *flow) observed() observe.Flow {
	o := observe.Flow{Client: f.ep[f.client], Server: f.ep[f.client^1]}
	if t := f.tun; t != nil {
		o.Server, o.Via, o.Target = t.server, t.via, t.name
	}
	return o
}
