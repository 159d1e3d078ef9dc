package capture

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medscan/medscan/observe"
)

// Pool sizing. A batch holds up to poolBatchPackets frames copied into one slab of
// poolBatchBytes; each worker owns poolQueue+2 batches (one filling, poolQueue queued,
// one being decoded), so the frames in flight never exceed
// workers × (poolQueue+2) × poolBatchBytes (2.5 MiB per worker), whatever the rate.
const (
	poolBatchPackets = 256
	poolBatchBytes   = 256 << 10
	poolQueue        = 8
	// poolTicks is how many clock ticks may wait for a worker besides its batches; a
	// worker further behind makes the dispatcher wait (or, with DropWhenFull, misses
	// the tick and sweeps on its own clock, as a lone Engine does).
	poolTicks = 64
)

// DroppedCounter is the observe.Counter under which a Pool counts the frames it dropped
// because its workers had fallen behind (DropWhenFull).
const DroppedCounter = "dropped_by_medscan"

// Pool spreads packets over several Engines, each in its own goroutine with its own
// observe.Set, so decoding and dissection use several cores.
//
// A packet goes to the worker chosen by FlowHash of its two IP addresses, ports left
// out (of a tunnelled packet, the innermost two, as the Engine decapsulates it), so
// everything two hosts exchange meets in one Engine, whichever tunnels carried it: both directions of each
// flow, every fragment of a datagram (only the first carries ports), the data connection
// an FTP control stream announced, a TFTP transfer that continues on ports its request
// did not use. The price is balance: one pair of hosts, however busy, keeps to one core.
// DHCP and DHCPv6 datagrams (UDP ports 67, 68, 546, 547), whose dissector follows a
// client by its MAC address from broadcasts to replies, and frames that are not IP
// (ARP), of an unknown link type, or under more than eight VLAN tags or MPLS labels, all
// go to worker 0. Cross-host state beyond these — none today — would be split.
//
// The Pool keeps the capture clock of all packets and tells every worker when one
// Engine would have swept expired flows, so each worker's flows expire as that Engine's
// would however few packets it sees. Without drops, the merged deltas of Checkpoint and
// Finish hold what one Engine learns from the same packets (the tests check it on the
// ward capture and the real-world corpus).
//
// Memory: each worker's Engine applies Config's caps (flows, buffers, hosts), so the
// Pool's bound is workers times the Engine's, plus the frames in flight (see
// poolBatchBytes) and what the workers' Sets hold until the next Checkpoint.
//
// Packet, Checkpoint, Flush and Stats are safe for concurrent use (several capture
// goroutines may share a Pool); Finish ends the Pool, after which Packet ignores frames.
type Pool struct {
	// DropWhenFull makes Packet drop a frame, counting it under DroppedCounter, when its
	// worker has no free batch because it has fallen behind, instead of waiting for
	// one: a live capture must keep reading the socket, while a file replay wants every
	// packet. Set it before the first Packet.
	DropWhenFull bool

	mu      sync.Mutex
	workers []*poolWorker
	done    bool
	dropped uint64 // since the last Checkpoint, under mu
	// The capture clock of all packets, kept as one Engine keeps it, under mu.
	now, lastSweep int64
	// routes send the later fragments of a fragmented tunnel packet after its first,
	// under mu.
	routes *fragRoutes

	packets      atomic.Uint64
	bytes        atomic.Uint64
	droppedTotal atomic.Uint64
	wg           sync.WaitGroup
}

// PoolStats is the progress of a Pool.
type PoolStats struct {
	Packets uint64 // frames given to Packet
	Bytes   uint64 // their bytes
	Dropped uint64 // frames dropped because the workers fell behind (DropWhenFull)
}

type poolWorker struct {
	e    *Engine
	in   chan poolMsg
	free chan *poolBatch
	cur  *poolBatch // the batch being filled, under Pool.mu
}

// poolMsg is a batch to decode, a tick of the shared capture clock, or a request for
// the worker's delta.
type poolMsg struct {
	b      *poolBatch
	tick   int64 // when non-zero: sweep at this capture time (ns)
	reply  chan<- *observe.Set
	finish bool
}

type poolBatch struct {
	data []byte
	pkts []poolPacket
}

type poolPacket struct {
	off, n int
	link   uint32
	ts     time.Time
}

// NewPool starts workers engines configured by cfg (at least one). When cfg.Secrets is
// nil, one random key is made for all of them, so the same credential hashes alike
// whichever worker saw it.
func NewPool(cfg Config, workers int) *Pool {
	workers = max(workers, 1)
	if cfg.Secrets == nil {
		key := make([]byte, 32)
		rand.Read(key)
		cfg.Secrets = observe.NewSecretHasher(key)
	}
	p := &Pool{now: noTime, lastSweep: noTime, routes: new(fragRoutes)}
	for range workers {
		w := &poolWorker{
			e:    NewEngine(cfg, observe.NewSet()),
			in:   make(chan poolMsg, poolQueue+2+poolTicks+1),
			free: make(chan *poolBatch, poolQueue+2),
		}
		for range poolQueue + 2 {
			w.free <- &poolBatch{data: make([]byte, 0, poolBatchBytes), pkts: make([]poolPacket, 0, poolBatchPackets)}
		}
		p.workers = append(p.workers, w)
		p.wg.Add(1)
		go w.run(&p.wg)
	}
	return p
}

// run decodes batches and answers delta requests, in the order they were sent, until
// its input is closed.
func (w *poolWorker) run(wg *sync.WaitGroup) {
	defer wg.Done()
	for m := range w.in {
		if b := m.b; b != nil {
			for i := range b.pkts {
				pk := &b.pkts[i]
				w.e.Packet(pk.link, b.data[pk.off:pk.off+pk.n], pk.ts)
				pk.ts = time.Time{} // drop the Location pointer while the batch waits
			}
			if cap(b.data) > 4*poolBatchBytes {
				// An oversized frame grew the slab; do not keep the memory for good.
				b.data = make([]byte, 0, poolBatchBytes)
			}
			b.data, b.pkts = b.data[:0], b.pkts[:0]
			w.free <- b
		}
		if m.tick != 0 {
			w.e.tick(m.tick)
		}
		if m.reply != nil {
			if m.finish {
				w.e.Finish()
			} else {
				w.e.Checkpoint()
			}
			m.reply <- w.e.TakeSet()
		}
	}
}

// Packet copies one frame of the given link type to the worker of its flow. data is
// only read during the call. Unless DropWhenFull is set, it waits while that worker is
// behind.
func (p *Pool) Packet(linkType uint32, data []byte, ts time.Time) {
	p.packets.Add(1)
	p.bytes.Add(uint64(len(data)))
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	if ns := ts.UnixNano(); ns > p.now {
		// Keep every worker's sweeps where one Engine's would be: a worker that sees
		// few packets would otherwise expire its flows late, or only at Finish.
		if p.now == noTime {
			p.lastSweep = ns
		}
		p.now = ns
		if len(p.workers) > 1 && p.now-p.lastSweep >= int64(sweepInterval) {
			p.lastSweep = p.now
			p.tickLocked(ns)
		}
	}
	w := p.workers[0]
	if len(p.workers) > 1 {
		if h := p.routes.hash(linkType, data); h != 0 {
			w = p.workers[mix64(h)%uint64(len(p.workers))]
		}
	}
	b := w.cur
	if b != nil && (len(b.pkts) == cap(b.pkts) || len(b.data)+len(data) > cap(b.data)) {
		w.in <- poolMsg{b: b} // never blocks: in holds every batch the worker owns
		w.cur, b = nil, nil
	}
	if b == nil {
		if p.DropWhenFull {
			select {
			case b = <-w.free:
			default:
				p.dropped++
				p.droppedTotal.Add(1)
				p.mu.Unlock()
				return
			}
		} else {
			b = <-w.free
		}
		w.cur = b
	}
	b.pkts = append(b.pkts, poolPacket{off: len(b.data), n: len(data), link: linkType, ts: ts})
	b.data = append(b.data, data...)
	p.mu.Unlock()
}

// tickLocked sends each worker its partly filled batch and then a tick: the worker's
// engine sweeps at capture time ns, after the packets before it and before those after.
func (p *Pool) tickLocked(ns int64) {
	for _, w := range p.workers {
		if w.cur != nil {
			w.in <- poolMsg{b: w.cur}
			w.cur = nil
		}
		// Only the dispatcher sends on in, under mu, so len can only shrink meanwhile.
		// With DropWhenFull a tick never takes the room a batch needs: the channel holds
		// every batch, poolTicks ticks and one request.
		if p.DropWhenFull && len(w.in) >= poolTicks {
			continue
		}
		w.in <- poolMsg{tick: ns}
	}
}

// flushLocked sends every partly filled batch to its worker.
func (p *Pool) flushLocked() {
	for _, w := range p.workers {
		if w.cur != nil {
			w.in <- poolMsg{b: w.cur}
			w.cur = nil
		}
	}
}

// Flush hands the frames waiting in partly filled batches to the workers, so that a
// quiet capture does not leave them waiting for more traffic (call it when a read times
// out). Checkpoint and Finish flush by themselves.
func (p *Pool) Flush() {
	p.mu.Lock()
	if !p.done {
		p.flushLocked()
	}
	p.mu.Unlock()
}

// Checkpoint returns a new Set holding everything the workers learned since the
// previous Checkpoint, including every packet given to Packet before the call: each
// worker, on its own goroutine, hands its hosts and counters to its Set (Engine.
// Checkpoint) and gives that Set's content up (Engine.TakeSet); the pieces are merged.
// Flows keep running: a stream still open reports what it learns later in a later
// delta. The counters of all deltas add up to those of one run.
func (p *Pool) Checkpoint() *observe.Set {
	return p.collect(false)
}

// Finish ends every flow in every worker (Stream.End), stops the workers and returns the
// final delta. Afterwards Packet ignores frames, and Checkpoint and Finish return empty
// Sets.
func (p *Pool) Finish() *observe.Set {
	return p.collect(true)
}

func (p *Pool) collect(finish bool) *observe.Set {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return observe.NewSet()
	}
	// The requests queue behind every packet given so far; packets that come after
	// them belong to the next delta, so the capture need not wait while the workers
	// catch up and the deltas are merged.
	p.flushLocked()
	replies := make([]chan *observe.Set, len(p.workers))
	for i, w := range p.workers {
		replies[i] = make(chan *observe.Set, 1)
		w.in <- poolMsg{reply: replies[i], finish: finish}
	}
	dropped := p.dropped
	p.dropped = 0
	p.done = finish
	p.mu.Unlock()

	// Merge in worker order, so that the result does not depend on which worker answers
	// first.
	out := observe.NewSet()
	for _, r := range replies {
		out.Merge(<-r)
	}
	out.AddCounter(DroppedCounter, dropped)
	if finish {
		for _, w := range p.workers {
			close(w.in) // nothing sends any more: done is set
		}
		p.wg.Wait()
	}
	return out
}

// Stats returns the Pool's progress since it started.
func (p *Pool) Stats() PoolStats {
	return PoolStats{Packets: p.packets.Load(), Bytes: p.bytes.Load(), Dropped: p.droppedTotal.Load()}
}

// Workers returns how many engines the Pool runs.
func (p *Pool) Workers() int { return len(p.workers) }

// mix64 spreads every bit of a FlowHash into the high bits, which a modulo by a small
// worker count otherwise barely reads (FNV's low bit is the parity of its input's low bits).
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h >> 32
}

// shardHash parses just enough of a frame to find its IP addresses and returns their
// FlowHash; 0 (worker 0) for DHCP and for what it does not parse. Tunnels are followed
// to the innermost IP header, as the Engine decapsulates them, so both directions of an
// inner flow meet in one worker whichever tunnel endpoints carried them.
func shardHash(link uint32, b []byte) uint64 {
	return (*fragRoutes)(nil).hash(link, b)
}

// fragRouteSlots sizes the table of fragmented tunnel packets' routes: a direct-mapped
// cache of fixed size (224 KiB) whatever the traffic; a collision only sends a later
// fragment by its outer pair.
const fragRouteSlots = 4096

// fragRoutes remembers, for an outer IP datagram that was fragmented, the inner hash
// read from its first fragment, so that its later fragments (which carry no tunnel or
// inner header) go to the worker of the inner flow: that worker reassembles the outer
// datagram and decapsulates it. A later fragment whose first was not seen (out of order,
// or its slot taken since) goes by its outer pair; its datagram is then split between
// two workers, and counted there as expired fragments.
type fragRoutes struct {
	slots [fragRouteSlots]fragRoute
}

type fragRoute struct {
	key  fragKey
	h    uint64
	used bool
}

func (r *fragRoutes) slot(k fragKey) *fragRoute {
	h := uint64(k.id)*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(k.src[8:]) ^ binary.LittleEndian.Uint64(k.dst[8:])<<1 ^
		uint64(k.proto)<<56
	return &r.slots[mix64(h)%fragRouteSlots]
}

// hash is shardHash, with the routes of fragmented tunnel packets kept in r (nil: none).
func (r *fragRoutes) hash(link uint32, b []byte) uint64 {
	switch link {
	case LinkEthernet:
		if len(b) < 14 {
			return 0
		}
		return r.etherHash(binary.BigEndian.Uint16(b[12:]), b[14:], 0)
	case LinkSLL:
		if len(b) < 16 {
			return 0
		}
		return r.etherHash(binary.BigEndian.Uint16(b[14:]), b[16:], 0)
	case LinkSLL2:
		if len(b) < 20 {
			return 0
		}
		return r.etherHash(binary.BigEndian.Uint16(b[0:]), b[20:], 0)
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			return 0
		}
		return r.ipHash(b[4:], 0)
	case LinkRawOld, LinkRawAlt, LinkRaw, LinkIPv4, LinkIPv6:
		return r.ipHash(b, 0)
	}
	return 0
}

// etherHash follows VLAN tags, PPPoE sessions and MPLS labels to the IP header; depth
// is the tunnel level of the frame.
func (r *fragRoutes) etherHash(et uint16, b []byte, depth int) uint64 {
	for range 8 {
		switch et {
		case 0x0800, 0x86dd:
			return r.ipHash(b, depth)
		case 0x8100, 0x88a8, 0x9100, 0x9200:
			if len(b) < 4 {
				return 0
			}
			et, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		case 0x8864: // PPPoE session: 6-byte header, then the PPP protocol
			if len(b) < 8 {
				return 0
			}
			switch binary.BigEndian.Uint16(b[6:]) {
			case 0x0021, 0x0057:
				return r.ipHash(b[8:], depth)
			}
			return 0
		case 0x8847, 0x8848:
			for range 8 {
				if len(b) < 4 {
					return 0
				}
				bottom := b[2]&1 != 0
				b = b[4:]
				if bottom {
					return r.ipHash(b, depth)
				}
			}
			return 0
		default:
			return 0
		}
	}
	return 0
}

// frameHash hashes an Ethernet frame carried in a tunnel.
func (r *fragRoutes) frameHash(b []byte, depth int) uint64 {
	if len(b) < 14 {
		return 0
	}
	return r.etherHash(binary.BigEndian.Uint16(b[12:]), b[14:], depth)
}

// ipHash hashes an IPv4 or IPv6 packet's address pair, or its tunnel's inner packet's;
// DHCP and DHCPv6 (UDP ports 67, 68, 546, 547) hash to 0, worker 0.
func (r *fragRoutes) ipHash(b []byte, depth int) uint64 {
	if len(b) < 1 {
		return 0
	}
	var src, dst netip.Addr
	var proto byte
	var l4 []byte
	frag, first := false, true
	var fk fragKey
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0xf) * 4
		if len(b) < 20 || ihl < 20 {
			return 0
		}
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		proto = b[9]
		ff := binary.BigEndian.Uint16(b[6:])
		if ff&0x3fff != 0 {
			frag, first = true, ff&0x1fff == 0
			fk = fragKey{src: src.As16(), dst: dst.As16(), id: uint32(binary.BigEndian.Uint16(b[4:])), proto: proto}
		}
		if first && len(b) >= ihl { // a first fragment has the ports
			l4 = b[ihl:]
		}
	case 6:
		if len(b) < 40 {
			return 0
		}
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		proto, l4 = b[6], b[40:]
		// Hop-by-hop, routing, destination options and a fragment header may precede
		// UDP or a tunnel.
		for range 5 {
			if proto == 44 && !frag {
				if len(l4) < 8 {
					l4 = nil
					break
				}
				off := binary.BigEndian.Uint16(l4[2:]) &^ 7
				frag, first = true, off == 0
				fk = fragKey{src: src.As16(), dst: dst.As16(), id: binary.BigEndian.Uint32(l4[4:]), proto: l4[0], v6: true}
				proto, l4 = l4[0], l4[8:]
				if !first {
					l4 = nil
				}
				continue
			}
			if proto != 0 && proto != 43 && proto != 60 {
				break
			}
			if len(l4) < 8 || len(l4) < 8+int(l4[1])*8 {
				l4 = nil
				break
			}
			proto, l4 = l4[0], l4[8+int(l4[1])*8:]
		}
	default:
		return 0
	}
	if frag && !first {
		if r != nil {
			if s := r.slot(fk); s.used && s.key == fk {
				return s.h
			}
		}
		return FlowHash(netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0))
	}
	if h, ok := r.innerHash(proto, l4, depth); ok {
		if frag && r != nil {
			*r.slot(fk) = fragRoute{key: fk, h: h, used: true}
		}
		return h
	}
	if proto == 17 && len(l4) >= 4 {
		switch sp, dp := binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]); {
		case sp == 67 || sp == 68 || dp == 67 || dp == 68, sp == 546 || sp == 547 || dp == 546 || dp == 547:
			return 0
		}
	}
	return FlowHash(netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0))
}

// innerHash hashes what a tunnel packet carries (l4 is the outer IP payload, proto its
// protocol); ok is false when it is no tunnel the Engine opens, or nested too deep.
// It accepts the headers the Engine accepts (tunnel.go), no more.
func (r *fragRoutes) innerHash(proto byte, l4 []byte, depth int) (uint64, bool) {
	if depth >= maxTunnelDepth || l4 == nil {
		return 0, false
	}
	depth++
	switch proto {
	case protoIPIP, protoIPv6:
		return r.ipHash(l4, depth), true
	case protoGRE:
		if len(l4) < 4 {
			return 0, false
		}
		flags, gp := binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
		if flags&7 != 0 || flags&0x4000 != 0 {
			return 0, false
		}
		hl := 4
		for _, bit := range [3]uint16{0x8000, 0x2000, 0x1000} {
			if flags&bit != 0 {
				hl += 4
			}
		}
		if len(l4) < hl {
			return 0, false
		}
		p := l4[hl:]
		switch gp {
		case greTEB:
			return r.frameHash(p, depth), true
		case greERSPAN:
			if flags&0x1000 == 0 {
				return r.frameHash(p, depth), true
			}
			if len(p) < 8 {
				return 0, false
			}
			return r.frameHash(p[8:], depth), true
		case greERSPAN3:
			if len(p) < 12 {
				return 0, false
			}
			hl := 12
			if p[11]&1 != 0 {
				hl += 8
			}
			if len(p) < hl {
				return 0, false
			}
			if p[10]>>2&0x1f == erspanFrameIPv4 {
				return r.ipHash(p[hl:], depth), true
			}
			return r.frameHash(p[hl:], depth), true
		}
		return r.etherHash(gp, p, depth), true
	case protoUDP:
		if len(l4) < 8 {
			return 0, false
		}
		sp, dp, p := binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]), l4[8:]
		switch {
		case dp == portVXLAN:
			if len(p) < 8 || p[0]&0x08 == 0 || p[7] != 0 {
				return 0, false
			}
			return r.frameHash(p[8:], depth), true
		case dp == portGeneve:
			if len(p) < 8 || p[0]>>6 != 0 || len(p) < 8+int(p[0]&0x3f)*4 {
				return 0, false
			}
			gp, q := binary.BigEndian.Uint16(p[2:]), p[8+int(p[0]&0x3f)*4:]
			if gp == greTEB {
				return r.frameHash(q, depth), true
			}
			return r.etherHash(gp, q, depth), true
		case dp == portGTPU || sp == portGTPU:
			if len(p) < 8 || p[0]>>5 != 1 || p[0]&0x10 == 0 || p[1] != gtpGPDU {
				return 0, false
			}
			hl := 8
			if p[0]&0x07 != 0 {
				if len(p) < 12 {
					return 0, false
				}
				next := p[11]
				hl = 12
				for i := 0; next != 0; i++ {
					if p[0]&0x04 == 0 || i == maxGTPExtensions || len(p) < hl+1 || p[hl] == 0 || len(p) < hl+int(p[hl])*4 {
						return 0, false
					}
					hl += int(p[hl]) * 4
					next = p[hl-1]
				}
			}
			return r.ipHash(p[hl:], depth), true
		}
	}
	return 0, false
}
