package scan

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medscan/medscan/capture"
	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

// Defaults of a live capture.
const (
	DefaultCommitInterval = 30 * time.Second
	DefaultSnapLen        = 262144
	// maxLiveProblems caps the problems a live scan keeps: a capture running for days
	// must not grow with each one; past it they are only counted.
	maxLiveProblems = 1000
	// readTimeout bounds how long a reader waits for a packet before it looks whether
	// the capture is to stop, and hands half-filled batches to the workers.
	readTimeout = 250 * time.Millisecond
)

// LiveOptions describe one live capture.
type LiveOptions struct {
	Ifaces    []string // interfaces to listen on, all at once
	BPF       string   // a capture filter (see capture/bpf for the forms accepted); "" takes everything
	SnapLen   int      // bytes kept of each frame; DefaultSnapLen when zero
	NoPromisc bool     // leave the interfaces out of promiscuous mode
	Duration  time.Duration
	Packets   uint64 // stop after this many frames (all interfaces together); zero for no limit
	Workers   int    // decoding engines; runtime.NumCPU() when zero
	// CommitInterval is how often what was learned is judged and stored;
	// DefaultCommitInterval when zero.
	CommitInterval time.Duration
	// WritePcapDir, when set, keeps every frame captured in pcap files there, one series
	// per interface, rotated by size (PcapMaxFileBytes) and age (PcapMaxFileAge), the
	// oldest removed past PcapMaxTotalBytes (zero: the rotator's defaults).
	WritePcapDir      string
	PcapMaxFileBytes  int64
	PcapMaxFileAge    time.Duration
	PcapMaxTotalBytes int64
	Policy            *rules.Policy // nil means the default policy
	Label             string
	Site              string // where the scan is made (--site)
	ToolVersion       string
	KeyBlocklist      *lint.Blocklist
	// Updates says how update images are kept, examined and saved (updates.go); a live
	// scan examines them once, at its end.
	Updates Updates
	// Progress is told the capture's counters once the interfaces are open and the scan
	// is begun (Checkpoints zero: packets are being read), after each checkpoint, and
	// at the end.
	Progress func(LiveStats)
	// SourceError is told, as it happens, of an interface that fails or of packets
	// that could not be written, so the CLI can print it while the capture goes on.
	SourceError func(err error)
	Clock       func() time.Time // wall clock for the scan's start and end; tests fix it

	// openSource and openWriter replace the AF_PACKET socket and the pcap rotator in
	// tests; lossless makes the pool wait for its workers instead of dropping frames.
	openSource func(iface string, opt sourceOptions) (packetSource, error)
	openWriter func(iface string, linkType uint32, opt LiveOptions) (packetWriter, error)
	lossless   bool
}

// LiveStats are a live capture's counters so far.
type LiveStats struct {
	Elapsed     time.Duration
	Checkpoints int    // commits to the store so far
	Packets     uint64 // frames read, all interfaces
	Bytes       uint64
	// KernelDropped are frames the kernel dropped because medscan did not read them in
	// time; Dropped are frames medscan read but dropped because its workers were behind.
	KernelDropped uint64
	Dropped       uint64
	// PcapWritten and PcapDropped: see IfaceStats.
	PcapWritten, PcapDropped uint64
	Findings                 int
	Interfaces               []IfaceStats
}

// IfaceStats are one interface's counters.
type IfaceStats struct {
	Name          string
	Packets       uint64
	Bytes         uint64
	KernelDropped uint64
	// PcapWritten and PcapDropped are the frames kept in, and lost to, the --write-pcap
	// files; known once the capture has ended.
	PcapWritten, PcapDropped uint64
	Err                      string // why reading it stopped early, "" when it did not
}

// ErrNoInterfaces is returned when a live capture is asked for without an interface.
var ErrNoInterfaces = errors.New("nothing to capture: give --iface IF")

// sourceOptions are what a packet source is opened with.
type sourceOptions struct {
	SnapLen int
	Promisc bool
	BPF     string
	Timeout time.Duration
}

// packetSource is one interface being read: the AF_PACKET socket, or a test's fake.
type packetSource interface {
	// ReadPacket returns the next frame, valid until the next call, with its length on
	// the wire, or errTimeout when none came within the read timeout.
	ReadPacket() (data []byte, ts time.Time, wireLen int, err error)
	LinkType() uint32
	// KernelDropped is the number of frames the kernel dropped since the source opened.
	KernelDropped() (uint64, error)
	Close() error
}

// packetWriter keeps captured frames (the pcap rotator). After a write error, which it
// returns once, it keeps nothing more and counts what it drops.
type packetWriter interface {
	WritePacket(ts time.Time, data []byte, wireLen int) error
	Stats() (written, dropped uint64)
	Close() error
}

// errTimeout is what a packetSource returns when no frame came in time.
var errTimeout = errors.New("read timeout")

// liveIface is one interface's reader state.
type liveIface struct {
	name    string
	src     packetSource
	out     packetWriter // nil without --write-pcap
	link    uint32
	packets atomic.Uint64
	bytes   atomic.Uint64
	kdrops  atomic.Uint64
	// The pcap files' counts, read when they are closed.
	pcapWritten, pcapDropped uint64

	mu      sync.Mutex
	err     error // why reading stopped early; the reader sets it, commits read it
	keepErr error // why packets are no longer kept in the pcap files
}

func (f *liveIface) setKeepErr(err error) {
	f.mu.Lock()
	if f.keepErr == nil {
		f.keepErr = err
	}
	f.mu.Unlock()
}

func (f *liveIface) keepFailed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keepErr
}

func (f *liveIface) setErr(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *liveIface) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// RunLive captures on the interfaces until ctx is cancelled, the duration has passed or
// the packet limit is reached, and stores the scan as it goes: the scan row is created
// once the interfaces are open, and every CommitInterval everything learned so far is
// judged as a passive scan is (certificates, keys, rules) and written over it in one
// transaction, so a crash loses at most one interval. The last commit, after every flow
// has ended, marks the scan complete unless an interface failed or packets could not
// be written.
//
// Interfaces that cannot be opened (missing, no permission, a filter that does not
// compile) are an error before anything is stored. Later failures end that interface's
// reading (a pcap file that cannot be written ends the keeping of packets, not the
// capture), are recorded as problems of the scan and told to SourceError, and what was
// learned is stored; the scan is then incomplete.
func RunLive(ctx context.Context, st *store.Store, opt LiveOptions) (Result, error) {
	if len(opt.Ifaces) == 0 {
		return Result{}, ErrNoInterfaces
	}
	seen := map[string]bool{}
	for _, n := range opt.Ifaces {
		if seen[pcapPrefix(n)] {
			return Result{}, fmt.Errorf("interface %s given twice (or with - and _ swapped)", n)
		}
		seen[pcapPrefix(n)] = true
	}
	clock := opt.Clock
	if clock == nil {
		clock = time.Now
	}
	pol := opt.Policy
	if pol == nil {
		pol = rules.DefaultPolicy()
	}
	interval := opt.CommitInterval
	if interval <= 0 {
		interval = DefaultCommitInterval
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	sopt := sourceOptions{SnapLen: opt.SnapLen, Promisc: !opt.NoPromisc, BPF: opt.BPF, Timeout: readTimeout}
	if sopt.SnapLen <= 0 {
		sopt.SnapLen = DefaultSnapLen
	}
	openSource, openWriter := opt.openSource, opt.openWriter
	if openSource == nil {
		openSource = openAFPacket
	}
	if openWriter == nil {
		openWriter = openRotator
	}

	if opt.WritePcapDir != "" && opt.openWriter == nil {
		if err := checkPcapDir(opt.WritePcapDir); err != nil {
			return Result{}, err
		}
	}
	ifs, err := openIfaces(opt, sopt, openSource, openWriter)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		for _, f := range ifs {
			f.close()
		}
	}()

	started := clock()
	sources := make([]string, len(ifs))
	for i, f := range ifs {
		sources[i] = "iface:" + f.name
	}
	base := findings.ScanInfo{Kind: findings.KindNetwork, Started: started, Label: opt.Label, Site: opt.Site,
		Sources: sources, ToolVersion: opt.ToolVersion}
	running := base
	running.Problems = []observe.Problem{{Source: strings.Join(sources, ","), Offset: -1,
		Message: "live capture running: this is its latest checkpoint, not its end"}}
	id, err := st.BeginScan(ctx, running)
	if err != nil {
		return Result{}, err
	}

	keep := opt.Updates.keeper()
	defer keep.Close() // the kept images are deleted however the capture ends
	pool := capture.NewPool(passiveConfig(st, keep), workers)
	pool.DropWhenFull = !opt.lossless

	r := &liveRun{opt: opt, store: st, pol: pol, clock: clock, id: id, started: started, ifs: ifs, pool: pool,
		cum: observe.NewSet(), stop: make(chan struct{})}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opt.Duration > 0 {
		var c context.CancelFunc
		runCtx, c = context.WithTimeout(runCtx, opt.Duration)
		defer c()
	}
	var readers sync.WaitGroup
	for _, f := range ifs {
		readers.Go(func() { r.read(f) })
	}
	if opt.Progress != nil {
		opt.Progress(r.stats())
	}
	allDone := make(chan struct{})
	go func() { readers.Wait(); close(allDone) }()

	tick := time.NewTicker(interval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-runCtx.Done():
			break loop
		case <-r.stop:
			break loop
		case <-allDone:
			break loop
		case <-tick.C:
			r.merge(pool.Checkpoint())
			r.examineKept(ctx, keep)
			// A checkpoint under way finishes even if SIGINT comes meanwhile: it is
			// bounded, and the last commit follows at once.
			if err := r.commit(context.WithoutCancel(ctx), running); err != nil && opt.SourceError != nil {
				// The store may recover (a full disk freed); the next interval tries again.
				opt.SourceError(err)
			}
		}
	}
	r.stopping.Store(true)
	<-allDone
	// Every reader has returned: nothing calls Packet any more. The kernel's last
	// counts are read before the sockets close, and the pcap files are closed (flushed)
	// before the last commit so that a failure to write them is recorded.
	r.stats()
	for _, f := range ifs {
		f.close()
	}
	r.merge(pool.Finish())
	finishUpdates(ctx, keep, opt.Updates, pol.CodeSigning, r.cum)
	complete := true
	for _, f := range ifs {
		if f.failed() != nil || f.keepFailed() != nil {
			complete = false
		}
	}
	final := base
	final.Complete = complete
	// Store even when the context was cancelled (SIGINT): what was learned is kept.
	if err := r.commit(context.WithoutCancel(ctx), final); err != nil {
		return Result{}, err
	}
	return Result{ScanID: id, Complete: complete, Findings: r.fs, Set: r.cum}, nil
}

// openIfaces opens every interface and its pcap writer, or none.
func openIfaces(opt LiveOptions, sopt sourceOptions, openSource func(string, sourceOptions) (packetSource, error),
	openWriter func(string, uint32, LiveOptions) (packetWriter, error)) ([]*liveIface, error) {
	var ifs []*liveIface
	fail := func(err error) ([]*liveIface, error) {
		for _, f := range ifs {
			f.close()
		}
		return nil, err
	}
	for _, name := range opt.Ifaces {
		src, err := openSource(name, sopt)
		if err != nil {
			return fail(err)
		}
		f := &liveIface{name: name, src: src, link: src.LinkType()}
		ifs = append(ifs, f)
		if opt.WritePcapDir != "" {
			if f.out, err = openWriter(name, f.link, opt); err != nil {
				return fail(err)
			}
		}
	}
	return ifs, nil
}

func (f *liveIface) close() {
	if f.out != nil {
		if err := f.out.Close(); err != nil {
			f.setKeepErr(fmt.Errorf("interface %s: closing the pcap file: %w", f.name, err))
		}
		f.pcapWritten, f.pcapDropped = f.out.Stats()
		f.out = nil
	}
	if f.src != nil {
		f.src.Close()
		f.src = nil
	}
}

// liveRun is the state of one RunLive.
type liveRun struct {
	opt     LiveOptions
	store   *store.Store
	pol     *rules.Policy
	clock   func() time.Time
	id      int64
	started time.Time
	ifs     []*liveIface
	pool    *capture.Pool

	stopping atomic.Bool
	stopOnce sync.Once
	stop     chan struct{}
	total    atomic.Uint64 // frames given to the pool, for the packet limit

	// Owned by RunLive's goroutine.
	cum          *observe.Set
	certsChanged bool
	problemsLost uint64
	checkpoints  int
	fs           []findings.Finding
	kept         [32]byte // keptState of the images last examined
}

func (r *liveRun) halt() { r.stopOnce.Do(func() { close(r.stop) }) }

// read feeds one interface's frames to the pool (and the pcap writer) until the run
// stops, the packet limit is reached or the interface fails. It never waits on the
// workers: the pool drops what they cannot take.
func (r *liveRun) read(f *liveIface) {
	limit := r.opt.Packets
	for !r.stopping.Load() {
		data, ts, wireLen, err := f.src.ReadPacket()
		if errors.Is(err, errTimeout) {
			r.pool.Flush()
			continue
		}
		if err != nil {
			err = fmt.Errorf("interface %s: %w", f.name, err)
			f.setErr(err)
			r.report(err)
			return
		}
		last := false
		if limit > 0 {
			n := r.total.Add(1)
			if n > limit {
				r.halt()
				return
			}
			last = n == limit
		}
		f.packets.Add(1)
		f.bytes.Add(uint64(len(data)))
		r.pool.Packet(f.link, data, ts)
		if f.out != nil {
			if err := f.out.WritePacket(ts, data, wireLen); err != nil {
				// Losing the copy must not stop the scan: the capture goes on, the scan
				// records from when packets were no longer kept, and ends incomplete.
				err = fmt.Errorf("interface %s: packets no longer kept in %s from %s: %w",
					f.name, r.opt.WritePcapDir, ts.UTC().Format(time.RFC3339), err)
				f.setKeepErr(err)
				r.report(err)
			}
		}
		if last {
			r.halt()
			return
		}
	}
}

func (r *liveRun) report(err error) {
	if r.opt.SourceError != nil {
		r.opt.SourceError(err)
	}
}

// merge adds a delta to the cumulative set. A certificate seen in a new place has its
// facts dropped so that judging examines it again (its role depends on where it was
// seen); a new or re-examined certificate makes the key checks run again.
func (r *liveRun) merge(delta *observe.Set) {
	before := make(map[observe.CertRef]int, len(delta.Certificates))
	for ref := range delta.Certificates {
		if c := r.cum.Certificates[ref]; c != nil {
			before[ref] = len(c.Seen)
		}
	}
	r.cum.Merge(delta)
	for ref := range delta.Certificates {
		n, had := before[ref]
		c := r.cum.Certificates[ref]
		switch {
		case !had:
			r.certsChanged = true
		case len(c.Seen) != n:
			c.Facts = nil
			r.certsChanged = true
		}
	}
	if len(r.cum.Problems) > maxLiveProblems {
		r.problemsLost += uint64(len(r.cum.Problems) - maxLiveProblems)
		r.cum.Problems = slices.Clip(r.cum.Problems[:maxLiveProblems])
	}
}

// examineKept examines, at a checkpoint, the update images kept so far when they
// changed since the last examination, so that a forged image fetched while the capture
// runs is reported at the next checkpoint rather than when the capture ends. The
// examination is repeated over every kept image (a signature fetched after its image
// changes the image's verdict); the keeper bounds how many there are.
func (r *liveRun) examineKept(ctx context.Context, keep *updatekeep.Keeper) {
	if keep == nil {
		return
	}
	files := keep.Files()
	state := keptState(files)
	if state == r.kept {
		return
	}
	r.kept = state
	examineUpdates(ctx, files, r.pol.CodeSigning, r.cum)
}

// commit judges the cumulative set and writes it over the scan.
func (r *liveRun) commit(ctx context.Context, meta findings.ScanInfo) error {
	keys := r.certsChanged || r.checkpoints == 0
	if r.cum.Fleet == nil {
		r.cum.Fleet = &observe.Fleet{Site: r.opt.Site} // judged across every site of the store
	}
	r.fs = judge(ctx, r.store, r.cum, r.pol, r.opt.KeyBlocklist, keys)
	r.certsChanged = false
	st := r.stats()
	meta.Counters = append(slices.Clip(meta.Counters), liveCounters(st, r.problemsLost)...)
	for _, f := range r.ifs {
		if err := f.failed(); err != nil {
			meta.Problems = append(slices.Clip(meta.Problems), observe.Problem{Source: "iface:" + f.name, Offset: -1,
				Message: err.Error(), Fatal: true})
		}
		if err := f.keepFailed(); err != nil {
			meta.Problems = append(slices.Clip(meta.Problems), observe.Problem{Source: r.opt.WritePcapDir, Offset: -1,
				Message: err.Error()})
		}
	}
	meta = judgedMeta(meta, r.cum, r.pol, r.clock)
	if err := r.store.Checkpoint(ctx, r.id, findings.NewReport(meta, r.cum, r.fs)); err != nil {
		return err
	}
	r.checkpoints++
	if r.opt.Progress != nil {
		st.Checkpoints, st.Findings = r.checkpoints, len(r.fs)
		r.opt.Progress(st)
	}
	return nil
}

// stats reads the interfaces' counters (the kernel's while the sockets are open).
func (r *liveRun) stats() LiveStats {
	st := LiveStats{Elapsed: r.clock().Sub(r.started)}
	for _, f := range r.ifs {
		if f.src != nil {
			if n, err := f.src.KernelDropped(); err == nil {
				f.kdrops.Store(n)
			}
		}
		is := IfaceStats{Name: f.name, Packets: f.packets.Load(), Bytes: f.bytes.Load(), KernelDropped: f.kdrops.Load(),
			PcapWritten: f.pcapWritten, PcapDropped: f.pcapDropped}
		if err := f.failed(); err != nil {
			is.Err = err.Error()
		}
		st.Interfaces = append(st.Interfaces, is)
		st.Packets += is.Packets
		st.Bytes += is.Bytes
		st.KernelDropped += is.KernelDropped
		st.PcapWritten += is.PcapWritten
		st.PcapDropped += is.PcapDropped
	}
	st.Dropped = r.pool.Stats().Dropped
	return st
}

// liveCounters are the scan counters of a live capture: totals, then per interface.
func liveCounters(st LiveStats, problemsLost uint64) []observe.Counter {
	out := []observe.Counter{
		{Name: "packets_captured", Value: st.Packets},
		{Name: "bytes_captured", Value: st.Bytes},
		{Name: "kernel_dropped", Value: st.KernelDropped},
	}
	if len(st.Interfaces) > 1 {
		for _, is := range st.Interfaces {
			out = append(out,
				observe.Counter{Name: "iface_" + is.Name + "_packets", Value: is.Packets},
				observe.Counter{Name: "iface_" + is.Name + "_kernel_dropped", Value: is.KernelDropped})
		}
	}
	if st.PcapWritten > 0 || st.PcapDropped > 0 {
		out = append(out, observe.Counter{Name: "pcap_packets_written", Value: st.PcapWritten},
			observe.Counter{Name: "pcap_packets_not_kept", Value: st.PcapDropped})
	}
	if problemsLost > 0 {
		out = append(out, observe.Counter{Name: "problems_not_kept", Value: problemsLost})
	}
	return out
}
