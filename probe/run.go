package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/medscan/medscan/observe"
)

// Stats is Run's account of a scan.
type Stats struct {
	Hosts       int // hosts handled, skipped ones included
	Ports       int // port results emitted
	Connections int // connection attempts made, failed ones included
	Errors      int // connection attempts that failed
	Elapsed     time.Duration
	// Planned is how many hosts the scope held after exclusions and name resolution; 0
	// means every target was excluded and nothing could be probed.
	Planned uint64
	// Probed counts the hosts that were not skipped, Reached those of them that
	// answered at all (a connection opened or was refused): when none was reached,
	// nothing was assessed.
	Probed, Reached int
	// Gaps are what the run did not assess, host by host and port by port, and why; at
	// most MaxGaps, past which GapsNotKept counts them. An interruption by the context
	// is no gap: Run's error says it.
	Gaps        []Gap
	GapsNotKept int
}

// MaxGaps bounds Stats.Gaps, so that a sweep of a network that backs off everywhere
// keeps a readable account.
const MaxGaps = 1000

// Gap is a part of the targets that a run did not assess: a host's ports never probed
// because it backed off or reached its connection cap (Port 0, Ports listed), or one
// port whose profile checks were cut short (Port, Checks).
type Gap struct {
	Addr   netip.Addr
	Name   string   // the name the host was given as, if any
	Port   uint16   // the port whose checks were cut; 0 for ports left unprobed
	Ports  []uint16 // the ports left unprobed, when Port is 0
	Checks []string // the checks not made on Port (TLSResult.NotAssessed)
	// Cause is why: ErrBackedOff, ErrConnCap, ErrTimeouts or the connect error that
	// stopped an enumeration.
	Cause error
	// Failures and FailureKinds are the host's failures when the run left it.
	Failures     int
	FailureKinds map[string]int
}

// hostJob is one host to probe, an address target or one address of a name target, with
// the ports it is probed on: the run's port list, the ports its targets named, or both.
type hostJob struct {
	addr  netip.Addr
	name  string
	ports []uint16
}

// Run probes every host of s on cfg.Ports (a target written with a port, on that port
// alone) and reports what it learns to sink: a
// ProbeEndpoint for every port of every host handled, the handshakes of TLS ports, a
// Service for every open port, the host itself for every host that accepted a
// connection, and a ProbeHost for every host, skipped ones included.
//
// Name targets are probed at the addresses the caller's last s.Resolve found, under
// their name (sent as SNI, and checked with Scope.AllowsName); Run resolves nothing
// itself, so the caller decides how names are looked up and reports names that do not
// resolve. Sink calls are serialized, so an observe.Set may be passed as is.
//
// Cancelling ctx stops the scan cleanly: no connection is started after it, open ones
// are closed at once, and everything learned so far (including each host's connection
// count) has been given to sink when Run returns. A port cut short by the cancellation is
// reported only if it completed a handshake. Run then returns the stats and an error
// wrapping ctx.Err(), so a caller can record the scan as partial; any other error means
// nothing was probed.
func Run(ctx context.Context, s *Scope, cfg Config, sink observe.Sink) (Stats, error) {
	if s == nil || sink == nil {
		return Stats{}, errors.New("probe: run needs a scope and a sink")
	}
	if err := s.Err(); err != nil {
		return Stats{}, fmt.Errorf("probe: scope cannot be probed: %w", err)
	}
	cfg = cfg.withDefaults()
	if _, err := ParseProfile(string(cfg.Profile)); err != nil {
		return Stats{}, err
	}

	pl := s.plan(cfg.Ports)
	jobs := pl.names // name targets: few, and resolved already
	total := pl.hosts

	r := &runner{cfg: cfg, scope: s, sink: sink, lim: newLimiter(cfg.Rate),
		c: &counters{start: time.Now(), hostsTotal: int64(min(total, math.MaxInt64))}, shared: map[netip.Addr]*hostPace{}}
	for _, j := range jobs {
		if r.shared[j.addr] == nil {
			r.shared[j.addr] = newHostPace()
		}
	}

	stopProgress := r.startProgress()
	queue := make(chan hostJob)
	var wg sync.WaitGroup
	for range cfg.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				r.host(ctx, j)
			}
		}()
	}
	feed := func(j hostJob) bool {
		select {
		case queue <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	func() {
		for j := range pl.addrs {
			if !feed(j) {
				return
			}
		}
		for _, j := range jobs {
			if !feed(j) {
				return
			}
		}
	}()
	close(queue)
	wg.Wait()
	stopProgress()

	st := Stats{
		Hosts:       int(r.c.hostsDone.Load()),
		Ports:       int(r.c.ports.Load()),
		Connections: int(r.c.connections.Load()),
		Errors:      int(r.c.errors.Load()),
		Elapsed:     time.Since(r.c.start),
		Planned:     pl.hosts,
		Probed:      r.probed,
		Reached:     r.reached,
		Gaps:        r.gaps,
		GapsNotKept: r.gapsNotKept,
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("probe: scan stopped before its end: %w", err)
	}
	return st, nil
}

// runner is one Run's shared state.
type runner struct {
	cfg   Config
	scope *Scope
	lim   *limiter
	c     *counters

	mu   sync.Mutex // serializes sink, which need not be safe for concurrent use, and guards the account below
	sink observe.Sink

	probed, reached int
	gaps            []Gap
	gapsNotKept     int

	// shared holds the politeness state of every address a name target resolved to,
	// made before any job starts and only read afterwards: such an address may be
	// reached by several jobs (the address itself, several names), which must pace as
	// one host. Addresses only the address targets reach are enumerated once each and
	// get a state of their own, so the map stays as small as the name targets.
	shared map[netip.Addr]*hostPace
}

// paceFor returns the politeness state shared by the jobs reaching a, or nil when a is
// reached by one job only.
func (r *runner) paceFor(a netip.Addr) *hostPace { return r.shared[a] }

// emit runs f with the sink, one caller at a time.
func (r *runner) emit(f func(observe.Sink)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.sink)
}

// gap records what the run did not assess.
func (r *runner) gap(g Gap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.gaps) >= MaxGaps {
		r.gapsNotKept++
		return
	}
	r.gaps = append(r.gaps, g)
}

// startProgress reports progress every progressInterval until the returned function is
// called, which sends the final report once the ticker has stopped.
func (r *runner) startProgress() (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.cfg.Progress(r.c.snapshot(false))
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-exited
		r.cfg.Progress(r.c.snapshot(true))
	}
}

// host probes every port of one host, one after the other, and reports the host.
func (r *runner) host(ctx context.Context, j hostJob) {
	if ctx.Err() != nil {
		return
	}
	ph := observe.ProbeHost{Addr: j.addr, Name: j.name}
	if r.cfg.Skip != nil {
		if reason := r.cfg.Skip(j.addr); reason != "" {
			ph.Skipped = reason
			now := time.Now()
			r.emit(func(s observe.Sink) {
				for _, p := range j.ports {
					s.AddProbe(observe.ProbeEndpoint{Server: netip.AddrPortFrom(j.addr, p), Name: j.name,
						Time: now, Outcome: observe.ProbeSkipped, Error: reason})
				}
				s.AddProbeHost(ph)
			})
			r.c.ports.Add(int64(len(j.ports)))
			r.c.hostsDone.Add(1)
			return
		}
	}

	d := newHostDialer(&r.cfg, r.scope, r.lim, j.addr, j.name, r.paceFor(j.addr))
	d.onDial = func(failed bool) {
		r.c.connections.Add(1)
		if failed {
			r.c.errors.Add(1)
		}
	}
	answered := false
	var unprobed []uint16
	for _, p := range j.ports {
		if ctx.Err() != nil {
			break
		}
		opened, assessed := r.port(ctx, d, j, p)
		answered = answered || opened
		if !assessed {
			unprobed = append(unprobed, p)
		}
	}
	conns, failures, kinds, backedOff, first, last := d.state()
	ph.Connections, ph.Failures, ph.FailureKinds, ph.First, ph.Last = conns, failures, kinds, first, last
	ph.BackedOff = backedOff != nil
	if ctx.Err() != nil && conns == 0 {
		return // cancelled before this host was touched: nothing to say about it
	}
	if len(unprobed) > 0 && ctx.Err() == nil {
		r.gap(Gap{Addr: j.addr, Name: j.name, Ports: unprobed, Cause: backedOff, Failures: failures, FailureKinds: kinds})
	}
	reached := answered || kinds[observe.FailureRefused] > 0
	r.emit(func(s observe.Sink) {
		if answered {
			s.AddHost(j.addr, "", first)
		}
		s.AddProbeHost(ph)
		r.probed++
		if reached {
			r.reached++
		}
	})
	r.c.hostsDone.Add(1)
}

// port probes one port: TLS enumeration, then service detection when the port did not
// speak TLS. It reports whether a connection to the port succeeded, and whether the port
// was assessed at all (false when the host's back-off or cap kept the prober away). A
// port whose checks were cut short is assessed, and recorded as a gap of its own.
func (r *runner) port(ctx context.Context, d *hostDialer, j hostJob, p uint16) (opened, assessed bool) {
	ap := netip.AddrPortFrom(j.addr, p)
	defer func() {
		// A parser bug on one device's bytes must cost that port, not the scan: the
		// passive engine guards its dissectors the same way.
		if v := recover(); v != nil {
			ep := observe.ProbeEndpoint{Server: ap, Name: j.name, Time: time.Now(), Profile: string(r.cfg.Profile), Outcome: observe.ProbeError,
				Error: fmt.Sprintf("medscan failed on this port's answers and left it: %v", v)}
			ep.Connections, opened, ep.Failures, ep.FailureKinds = d.port(p)
			assessed = true // medscan's failure, not the host's: the problem is the error outcome
			r.emit(func(s observe.Sink) { s.AddProbe(ep) })
			r.c.ports.Add(1)
			r.c.errors.Add(1)
		}
	}()
	ep := observe.ProbeEndpoint{Server: ap, Name: j.name, Time: time.Now(), Profile: string(r.cfg.Profile)}
	if err := d.backedOff(); err != nil {
		ep.Outcome, ep.Error = observe.ProbeSkipped, err.Error()
		r.emit(func(s observe.Sink) { s.AddProbe(ep) })
		r.c.ports.Add(1)
		return false, false
	}

	res := EnumerateTLS(ctx, d, TLSTarget{Server: ap, Name: j.name}, r.cfg.Profile, r.cfg.Timeouts)
	ep.Outcome = res.Outcome
	if res.Err != nil {
		ep.Error = res.Err.Error()
	}
	var svc serviceResult
	_, opened, _, _ = d.port(p)
	if res.Timeouts > 0 && ctx.Err() == nil {
		for range res.Timeouts {
			d.count(p, observe.FailureHandshakeTimeout)
		}
	}
	switch res.Outcome {
	case observe.ProbeTLS, observe.ProbeHandshakeFailure:
		d.answered()
		ep.Protocol = ProtoTLS
		prof := res.Profile
		if res.Outcome == observe.ProbeTLS || prof.CertRequest || prof.CertRequired || len(prof.Versions) > 0 {
			ep.TLS = &prof
		}
	case observe.ProbeNotTLS, observe.ProbeTimeout, observe.ProbeReset:
		if res.Outcome == observe.ProbeTimeout && opened && ctx.Err() == nil {
			// Accepted, then silent for the whole handshake timeout: maybe a service that
			// speaks only when spoken to in its own protocol (asked once, below, if the
			// port has a convention), maybe a hung device: it counts toward backing off.
			d.count(p, observe.FailureSilent)
			d.failed()
		}
		if res.Outcome == observe.ProbeReset && ctx.Err() == nil {
			d.count(p, observe.FailureReset)
		}
		if opened || len(res.Reply) > 0 {
			svc = detectService(ctx, d, ap, r.cfg.Profile, r.cfg.Timeouts, res.Reply, opened)
			ep.Protocol = ProtoUnknown
			if svc.Protocol != "" {
				ep.Outcome, ep.Protocol = observe.ProbeOpen, svc.Protocol
				d.answered()
			}
			ep.Software = svc.Software
		}
	}
	assessed = true
	if !opened && len(res.Handshakes) == 0 && (errors.Is(res.Err, ErrBackedOff) || errors.Is(res.Err, ErrConnCap) || errors.Is(res.Err, ErrOutOfScope)) {
		ep.Outcome = observe.ProbeSkipped
		assessed = false
	}
	if ctx.Err() != nil && len(res.Handshakes) == 0 {
		return opened, assessed // cut short by the caller: the outcome would describe us, not the port
	}
	if res.Cut != nil && ctx.Err() == nil {
		ep.Profile = string(res.Completed)
		_, failures, kinds, _, _, _ := d.state()
		r.gap(Gap{Addr: j.addr, Name: j.name, Port: p, Checks: res.NotAssessed, Cause: res.Cut,
			Failures: failures, FailureKinds: kinds})
	}
	ep.Connections, opened, ep.Failures, ep.FailureKinds = d.port(p)
	r.emit(func(s observe.Sink) {
		s.AddProbe(ep)
		for _, h := range res.Handshakes {
			s.AddTLS(h.Session, h.ServerChain, nil)
		}
		if opened && ep.Protocol != "" {
			s.AddService(observe.Service{Server: ap, Transport: "tcp", Protocol: ep.Protocol,
				FirstSeen: ep.Time, LastSeen: time.Now(), Source: observe.SourceActive})
		}
	})
	r.c.ports.Add(1)
	return opened, assessed
}
