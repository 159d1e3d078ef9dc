package capture

import (
	"bufio"
	"compress/gzip"
	"crypto/rand"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/observe"
)

// Defaults for the zero values of Config.
const (
	DefaultFlowIdleTimeout = 10 * time.Minute
	DefaultMaxFlows        = 1 << 18
	DefaultMaxStreamBuffer = 512 << 10
	DefaultMaxTotalBuffer  = 256 << 20
	// closedFlowTimeout is how long a flow that saw a FIN or RST lingers, so that late
	// segments are recognised as belonging to it rather than starting a new flow.
	closedFlowTimeout = 120 * time.Second
	// sweepInterval is how often, in capture time, expired flows and fragments are freed.
	sweepInterval = time.Second
	// DetectLimit is how many first bytes of a direction are offered to Detect before the
	// engine gives up on a NeedMore.
	DetectLimit = 2048
)

// noTime is the capture clock before the first packet.
const noTime = -1 << 63

// Config says which dissectors to run and how much memory the engine may use.
type Config struct {
	Dissectors      []dissect.Dissector   // in detection order
	Secrets         *observe.SecretHasher // masks and hashes credentials; nil: a random key for this run
	Source          observe.Source        // observe.SourcePassive by default
	FlowIdleTimeout time.Duration         // DefaultFlowIdleTimeout when zero
	MaxFlows        int                   // DefaultMaxFlows when zero
	MaxStreamBuffer int                   // out-of-order bytes held per flow direction; DefaultMaxStreamBuffer when zero
	MaxTotalBuffer  int64                 // bytes held across all flows; DefaultMaxTotalBuffer when zero
	// Datagrams are the UDP dissectors, offered each datagram in this order.
	Datagrams []dissect.DatagramDissector
	// Keep, when not nil, is handed to the dissectors to keep update images and the
	// signatures beside them (package updatekeep); it is shared by every worker.
	Keep *updatekeep.Keeper
}

// Stats is the progress of an engine: what it has been given so far.
type Stats struct {
	Packets uint64
	Bytes   uint64
}

// Engine decodes packets, reassembles the TCP flows some dissector claims and feeds them
// to it. It is not safe for concurrent use, except Stats; run one Engine per worker and
// shard packets by FlowHash.
type Engine struct {
	cfg         Config
	set         *observe.Set
	idleNs      int64
	closedNs    int64
	streamNames []string // counter name per dissector
	countFn     func(string, uint64)

	packets atomic.Uint64
	bytes   atomic.Uint64
	cnt     [numCounters]uint64
	extra   map[string]uint64 // counters named by dissectors
	streams []uint64          // streams claimed per dissector

	now       int64 // capture clock: the latest packet time seen, in ns
	lastSweep int64

	flows    map[flowKey]*flow
	active   flowList // ordered by last activity, most recent first
	closed   flowList // flows that saw FIN or RST
	freeFlow []*flow
	bufs     [][]byte // free segment buffers of cap segBufSize
	buffered int64    // bytes held in segment and detection buffers

	hosts hostTable
	arps  arpTable
	// l2group is true while the frame being decoded went to a link-layer group address
	// (broadcast or multicast): its IP destination, even a unicast-looking one such as a
	// subnet's directed broadcast 10.20.255.255, is then no host to record.
	l2group bool
	frag    defragmenter
	tun     tunnelState // tunnels opened (tunnel.go)
	dgram   udpState    // datagram handlers (udp.go)
	expect  expectTable // connections announced by control streams (expect.go)

	// Reused across files.
	rawBuf *bufio.Reader
	gzBuf  *bufio.Reader
	gzip   *gzip.Reader
	ifaces []iface
}

// NewEngine returns an engine that records what it sees in set.
func NewEngine(cfg Config, set *observe.Set) *Engine {
	if cfg.Source == "" {
		cfg.Source = observe.SourcePassive
	}
	if cfg.Secrets == nil {
		// Dissectors hash every credential they see; without a store's key, a random one
		// still hides the secrets (their hashes then compare only within this run).
		key := make([]byte, 32)
		rand.Read(key)
		cfg.Secrets = observe.NewSecretHasher(key)
	}
	if cfg.FlowIdleTimeout <= 0 {
		cfg.FlowIdleTimeout = DefaultFlowIdleTimeout
	}
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultMaxFlows
	}
	if cfg.MaxStreamBuffer <= 0 {
		cfg.MaxStreamBuffer = DefaultMaxStreamBuffer
	}
	if cfg.MaxTotalBuffer <= 0 {
		cfg.MaxTotalBuffer = DefaultMaxTotalBuffer
	}
	e := &Engine{
		cfg:      cfg,
		set:      set,
		idleNs:   int64(cfg.FlowIdleTimeout),
		closedNs: int64(min(closedFlowTimeout, cfg.FlowIdleTimeout)),
		extra:    map[string]uint64{},
		streams:  make([]uint64, len(cfg.Dissectors)),
		flows:    make(map[flowKey]*flow, 1024),
		now:      noTime,
	}
	e.lastSweep = e.now
	for _, d := range cfg.Dissectors {
		e.streamNames = append(e.streamNames, "streams_"+d.Name)
	}
	e.countFn = e.addCount
	e.hosts.init()
	e.frag.init()
	e.tun.init()
	return e
}

// addCount is the Count function handed to dissectors.
func (e *Engine) addCount(name string, n uint64) { e.extra[name] += n }

// Stats returns the packets and bytes given to the engine so far. It is safe to call
// from another goroutine while the engine reads.
func (e *Engine) Stats() Stats {
	return Stats{Packets: e.packets.Load(), Bytes: e.bytes.Load()}
}

// Packet decodes one frame of the given link type (used by live capture and benchmarks).
// data is only read during the call.
func (e *Engine) Packet(linkType uint32, data []byte, ts time.Time) {
	e.packets.Add(1)
	e.bytes.Add(uint64(len(data)))
	if ns := ts.UnixNano(); ns > e.now {
		if e.now == noTime {
			e.lastSweep = ns
		}
		e.now = ns
		if e.now-e.lastSweep >= int64(sweepInterval) {
			e.lastSweep = e.now
			e.sweep()
		}
	}
	e.link(linkType, data, ts)
}

// sweep frees flows and fragments whose time has passed on the capture clock.
func (e *Engine) sweep() {
	e.expire(&e.closed, e.closedNs)
	e.expire(&e.active, e.idleNs)
	e.frag.expire(e)
}

// expire ends the flows of l idle for longer than timeout; l is ordered by activity, so
// the walk stops at the first flow still alive.
func (e *Engine) expire(l *flowList, timeout int64) {
	for f := l.tail; f != nil && e.now-f.lastNs > timeout; f = l.tail {
		e.cnt[cFlowsExpired]++
		e.endFlow(f)
	}
}

// Finish ends every flow (Stream.End), flushes hosts and writes counters into the Set.
// The engine may be used again afterwards; counters start from zero.
func (e *Engine) Finish() {
	for _, l := range [2]*flowList{&e.closed, &e.active} {
		for f := l.tail; f != nil; f = l.tail {
			e.endFlow(f)
		}
	}
	e.frag.reset(e)
	e.finishExtensions()
	e.handOver()
}

// FlowHash is a symmetric hash of a conversation's endpoints: both directions of a flow
// hash alike, so packets can be sharded onto workers that each own an Engine.
func FlowHash(a, b netip.AddrPort) uint64 {
	k, _ := makeKey(a.Addr(), a.Port(), b.Addr(), b.Port())
	return k.hash()
}
