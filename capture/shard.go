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
// out, so everything two hosts exchange meets in one Engine: both directions of each
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
	p := &Pool{now: noTime, lastSweep: noTime}
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
		if h := shardHash(linkType, data); h != 0 {
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
// FlowHash; 0 (worker 0) for DHCP and for what it does not parse.
func shardHash(link uint32, b []byte) uint64 {
	switch link {
	case LinkEthernet:
		if len(b) < 14 {
			return 0
		}
		return etherHash(binary.BigEndian.Uint16(b[12:]), b[14:])
	case LinkSLL:
		if len(b) < 16 {
			return 0
		}
		return etherHash(binary.BigEndian.Uint16(b[14:]), b[16:])
	case LinkSLL2:
		if len(b) < 20 {
			return 0
		}
		return etherHash(binary.BigEndian.Uint16(b[0:]), b[20:])
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			return 0
		}
		return ipHash(b[4:])
	case LinkRawOld, LinkRawAlt, LinkRaw, LinkIPv4, LinkIPv6:
		return ipHash(b)
	}
	return 0
}

// etherHash follows VLAN tags, PPPoE sessions and MPLS labels to the IP header.
func etherHash(et uint16, b []byte) uint64 {
	for range 8 {
		switch et {
		case 0x0800, 0x86dd:
			return ipHash(b)
		case 0x8100, 0x88a8, 0x9100:
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
				return ipHash(b[8:])
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
					return ipHash(b)
				}
			}
			return 0
		default:
			return 0
		}
	}
	return 0
}

// ipHash hashes an IPv4 or IPv6 packet's address pair; DHCP and DHCPv6 (UDP ports 67,
// 68, 546, 547) hash to 0, worker 0.
func ipHash(b []byte) uint64 {
	if len(b) < 1 {
		return 0
	}
	var src, dst netip.Addr
	var proto byte
	var l4 []byte
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0xf) * 4
		if len(b) < 20 || ihl < 20 {
			return 0
		}
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		proto = b[9]
		if binary.BigEndian.Uint16(b[6:])&0x1fff == 0 && len(b) >= ihl { // a first fragment has the ports
			l4 = b[ihl:]
		}
	case 6:
		if len(b) < 40 {
			return 0
		}
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		proto, l4 = b[6], b[40:]
		// Hop-by-hop, routing and destination options may precede UDP.
		for range 4 {
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
	if proto == 17 && len(l4) >= 4 {
		switch sp, dp := binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]); {
		case sp == 67 || sp == 68 || dp == 67 || dp == 68, sp == 546 || sp == 547 || dp == 546 || dp == 547:
			return 0
		}
	}
	return FlowHash(netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0))
}
