package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// connEvent is one connection a recording server saw: when it was accepted, and when
// the client's close reached it (EOF), which is never before the client closed.
type connEvent struct {
	port         uint16
	accept, done time.Time
}

// serverMode is how a recording server's connections behave.
type serverMode int

const (
	modeHTTP   serverMode = iota // answer the first bytes with an HTTP status line
	modeSilent                   // read, never answer
	modeMLLP                     // send an MLLP-framed ACK on connect, then read
)

// recServer listens on the same ports of several loopback addresses (Linux routes all
// of 127/8 to lo) and records every connection per address. It never closes first, so a
// connection's end is the client's close.
type recServer struct {
	ports  []uint16
	mu     sync.Mutex
	events map[netip.Addr][]connEvent
	wg     sync.WaitGroup
}

func newRecServer(t *testing.T, mode serverMode, hosts []netip.Addr, nports int) *recServer {
	t.Helper()
	rs := &recServer{events: map[netip.Addr][]connEvent{}}
	var lns []net.Listener
	for try := 0; len(rs.ports) < nports && try < 50; try++ {
		first, err := net.Listen("tcp", netip.AddrPortFrom(hosts[0], 0).String())
		if err != nil {
			t.Fatal(err)
		}
		port := uint16(first.Addr().(*net.TCPAddr).Port)
		group := []net.Listener{first}
		for _, h := range hosts[1:] {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(h, port).String())
			if err != nil {
				break
			}
			group = append(group, ln)
		}
		if len(group) < len(hosts) {
			for _, ln := range group {
				ln.Close()
			}
			continue
		}
		rs.ports = append(rs.ports, port)
		lns = append(lns, group...)
	}
	if len(rs.ports) < nports {
		t.Fatalf("could not bind %d common ports on %v", nports, hosts)
	}
	slices.Sort(rs.ports)
	for _, ln := range lns {
		rs.wg.Add(1)
		go rs.serve(ln, mode)
	}
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
		rs.wg.Wait()
	})
	return rs
}

func (rs *recServer) serve(ln net.Listener, mode serverMode) {
	defer rs.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		accept := time.Now()
		rs.wg.Add(1)
		go func() {
			defer rs.wg.Done()
			defer c.Close()
			// Bounded: every test's client closes within its handshake timeout.
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			if mode == modeMLLP {
				_, _ = c.Write([]byte("\x0bMSH|^~\\&|LAB|WARD|||20260101||ACK^A01|1|P|2.5\rMSA|AA|1\r\x1c\x0d"))
			}
			buf := make([]byte, 4096)
			answered := false
			for {
				n, err := c.Read(buf)
				if n > 0 && mode == modeHTTP && !answered {
					answered = true
					_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
				}
				if err != nil {
					break
				}
			}
			ap := c.LocalAddr().(*net.TCPAddr).AddrPort()
			rs.mu.Lock()
			rs.events[ap.Addr().Unmap()] = append(rs.events[ap.Addr().Unmap()], connEvent{ap.Port(), accept, time.Now()})
			rs.mu.Unlock()
		}()
	}
}

// sorted returns the connections one host saw, in accept order.
func (rs *recServer) sorted(h netip.Addr) []connEvent {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	ev := slices.Clone(rs.events[h])
	slices.SortFunc(ev, func(a, b connEvent) int { return a.accept.Compare(b.accept) })
	return ev
}

// await returns the connections h saw once there are n of them: the server records a
// connection when the client's close reaches it, which may be just after Run returns.
func (rs *recServer) await(h netip.Addr, n int) []connEvent {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ev := rs.sorted(h); len(ev) >= n {
			return ev
		}
	}
	return rs.sorted(h)
}

// dialLog is a DialContext hook that records every address dialled, when, and fails the
// test on any address outside allowed: the scope check must come before the dial.
type dialLog struct {
	t       *testing.T
	allowed []netip.Addr
	mu      sync.Mutex
	dials   []dialRec
	closes  map[netip.Addr][]time.Time
	fake    func(ctx context.Context, ap netip.AddrPort) (net.Conn, error) // replaces the real dial when set
}

type dialRec struct {
	ap netip.AddrPort
	at time.Time
}

func newDialLog(t *testing.T, allowed ...netip.Addr) *dialLog {
	return &dialLog{t: t, allowed: allowed, closes: map[netip.Addr][]time.Time{}}
}

func (l *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	now := time.Now()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || network != "tcp" {
		l.t.Errorf("dial %s %q: not a tcp address:port", network, addr)
		return nil, errors.New("bad dial")
	}
	if !slices.Contains(l.allowed, ap.Addr()) {
		l.t.Errorf("dialled %s, outside the scope %v", ap, l.allowed)
		return nil, errors.New("out of scope dial")
	}
	l.mu.Lock()
	l.dials = append(l.dials, dialRec{ap, now})
	l.mu.Unlock()
	if l.fake != nil {
		return l.fake(ctx, ap)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &closeLog{Conn: c, l: l, host: ap.Addr()}, nil
}

// count returns how many dials went to h.
func (l *dialLog) count(h netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, d := range l.dials {
		if d.ap.Addr() == h {
			n++
		}
	}
	return n
}

// closeLog records when the client's Close of a connection returned.
type closeLog struct {
	net.Conn
	l    *dialLog
	host netip.Addr
	once sync.Once
}

func (c *closeLog) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.closes[c.host] = append(c.l.closes[c.host], time.Now())
		c.l.mu.Unlock()
	})
	return err
}

// loopHosts returns 127.0.0.n for each n.
func loopHosts(ns ...byte) []netip.Addr {
	var out []netip.Addr
	for _, n := range ns {
		out = append(out, netip.AddrFrom4([4]byte{127, 0, 0, n}))
	}
	return out
}

// scopeOf builds a scope of the given addresses.
func scopeOf(t *testing.T, hosts ...netip.Addr) *Scope {
	t.Helper()
	var items []string
	for _, h := range hosts {
		items = append(items, h.String())
	}
	return NewScope(mustTargets(t, items...), nil)
}

// fastTimeouts keep a test that meets a silent peer short.
var fastTimeouts = Timeouts{Connect: time.Second, Handshake: 2 * time.Second}

// TestPoliteOneAtATimeAndPause drives three hosts with four ports each and checks, from
// the servers' records and the client's own, that no host ever had two connections at
// once and that every connect came at least Pause after the previous close.
func TestPoliteOneAtATimeAndPause(t *testing.T) {
	hosts := loopHosts(2, 3, 4)
	rs := newRecServer(t, modeHTTP, hosts, 4)
	log := newDialLog(t, hosts...)
	const pause = 80 * time.Millisecond
	set := observe.NewSet()
	st, err := Run(context.Background(), scopeOf(t, hosts...), Config{
		Profile: ProfileStandard, Ports: rs.ports, Pause: pause, Rate: -1,
		Timeouts: fastTimeouts, DialContext: log.dial,
	}, set)
	if err != nil {
		t.Fatal(err)
	}
	if st.Hosts != 3 || st.Ports != 12 {
		t.Errorf("stats %+v: want 3 hosts, 12 ports", st)
	}
	for _, h := range hosts {
		ev := rs.await(h, len(log.dialsTo(h)))
		if len(ev) < len(rs.ports) {
			t.Fatalf("%s: server saw %d connections, want at least %d", h, len(ev), len(rs.ports))
		}
		for i := 1; i < len(ev); i++ {
			// The server's end time is the client's close reaching it, never earlier
			// than the close: an overlap here is a real overlap.
			if !ev[i].accept.After(ev[i-1].done) {
				t.Errorf("%s: connection %d accepted at %v before connection %d ended at %v",
					h, i, ev[i].accept, i-1, ev[i-1].done)
			}
			// Seen from the server, the gap can look shorter than the client's by the time
			// the server took to notice the close (scheduling on a loaded machine); half
			// the pause covers that. The client-side check below is exact.
			if gap := ev[i].accept.Sub(ev[i-1].done); gap < pause/2 {
				t.Errorf("%s: gap %v between connections, want at least %v", h, gap, pause)
			}
		}
		// Seen from the client, exactly: each dial at least pause after the previous close.
		log.mu.Lock()
		var dials []time.Time
		for _, d := range log.dials {
			if d.ap.Addr() == h {
				dials = append(dials, d.at)
			}
		}
		closes := slices.Clone(log.closes[h])
		log.mu.Unlock()
		slices.SortFunc(closes, time.Time.Compare)
		for i := 1; i < len(dials) && i-1 < len(closes); i++ {
			if gap := dials[i].Sub(closes[i-1]); gap < pause {
				t.Errorf("%s: dial %d came %v after the previous close, want at least %v", h, i, gap, pause)
			}
		}
		ph := set.ProbeHosts[h]
		if ph == nil || ph.Connections != len(log.dialsTo(h)) || ph.BackedOff || ph.Skipped != "" {
			t.Errorf("%s: probe host %+v, want %d connections counted", h, ph, len(log.dialsTo(h)))
		}
	}
	for _, p := range set.Probes {
		if p.Outcome != observe.ProbeOpen || p.Protocol != ProtoHTTP || p.Connections < 1 {
			t.Errorf("%s: outcome %s protocol %q connections %d, want open http", p.Server, p.Outcome, p.Protocol, p.Connections)
		}
	}
}

func (l *dialLog) dialsTo(h netip.Addr) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Time
	for _, d := range l.dials {
		if d.ap.Addr() == h {
			out = append(out, d.at)
		}
	}
	return out
}

// TestPoliteRate checks the global rate across hosts: with no pause and many hosts in
// parallel, the k-th connection of the scan still comes no earlier than k intervals
// after the start. Every dial is at or after its limiter slot, and slots are spaced by
// the interval, so this lower bound is exact.
func TestPoliteRate(t *testing.T) {
	hosts := loopHosts(5, 6, 7, 8)
	rs := newRecServer(t, modeHTTP, hosts, 2)
	log := newDialLog(t, hosts...)
	const rate = 40.0
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	_, err := Run(context.Background(), scopeOf(t, hosts...), Config{
		Ports: rs.ports, Pause: -1, Rate: rate, Hosts: 4, Timeouts: fastTimeouts, DialContext: log.dial,
	}, observe.NewSet())
	if err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	var at []time.Time
	for _, d := range log.dials {
		at = append(at, d.at)
	}
	log.mu.Unlock()
	slices.SortFunc(at, time.Time.Compare)
	if len(at) < len(hosts)*len(rs.ports) {
		t.Fatalf("%d dials, want at least %d", len(at), len(hosts)*len(rs.ports))
	}
	for k, a := range at {
		if min := time.Duration(k) * interval; a.Sub(start) < min {
			t.Errorf("dial %d at %v after the start, want at least %v at %g/s", k, a.Sub(start), min, rate)
		}
	}
}

// TestPoliteCap checks the per-host connection cap: the host gets exactly the cap, is
// marked backed off, and its remaining ports are reported skipped.
func TestPoliteCap(t *testing.T) {
	hosts := loopHosts(9)
	rs := newRecServer(t, modeHTTP, hosts, 5)
	log := newDialLog(t, hosts...)
	set := observe.NewSet()
	_, err := Run(context.Background(), scopeOf(t, hosts...), Config{
		Ports: rs.ports, Pause: -1, Rate: -1, MaxConnsPerHost: 2, Timeouts: fastTimeouts, DialContext: log.dial,
	}, set)
	if err != nil {
		t.Fatal(err)
	}
	if n := log.count(hosts[0]); n != 2 {
		t.Errorf("%d connections, want the cap of 2", n)
	}
	ph := set.ProbeHosts[hosts[0]]
	if ph == nil || !ph.BackedOff || ph.Connections != 2 {
		t.Errorf("probe host %+v, want backed off after 2 connections", ph)
	}
	skipped := 0
	for _, p := range set.Probes {
		if p.Outcome == observe.ProbeSkipped {
			skipped++
			if p.Error == "" {
				t.Errorf("%s: skipped without a reason", p.Server)
			}
		}
	}
	if skipped != 3 || len(set.Probes) != 5 {
		t.Errorf("%d of %d ports skipped, want 3 of 5", skipped, len(set.Probes))
	}
}

// timeoutConnect is a DialContext stand-in for a host that never answers a SYN: it
// blocks until the connect timeout.
func timeoutConnect(ctx context.Context, _ netip.AddrPort) (net.Conn, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("dial: %w", ctx.Err())
}

// TestPoliteBackoff checks that consecutive connect timeouts make the prober leave the
// host after MaxFailures, and that refused connects, a live host's prompt answer, do not.
func TestPoliteBackoff(t *testing.T) {
	hosts := loopHosts(10, 11)
	ports := []uint16{1, 2, 3, 4, 5, 6}
	log := newDialLog(t, hosts...)
	log.fake = func(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
		if ap.Addr() == hosts[0] {
			return timeoutConnect(ctx, ap)
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	set := observe.NewSet()
	st, err := Run(context.Background(), scopeOf(t, hosts...), Config{
		Ports: ports, Pause: -1, Rate: -1, MaxFailures: 3,
		Timeouts: Timeouts{Connect: 30 * time.Millisecond, Handshake: time.Second}, DialContext: log.dial,
	}, set)
	if err != nil {
		t.Fatal(err)
	}
	if n := log.count(hosts[0]); n != 3 {
		t.Errorf("silent host: %d connects, want 3 before backing off", n)
	}
	if ph := set.ProbeHosts[hosts[0]]; ph == nil || !ph.BackedOff || ph.Failures != 3 {
		t.Errorf("silent host: %+v, want backed off with 3 failures", ph)
	}
	if n := log.count(hosts[1]); n != len(ports) {
		t.Errorf("refusing host: %d connects, want all %d ports tried", n, len(ports))
	}
	if ph := set.ProbeHosts[hosts[1]]; ph == nil || ph.BackedOff || ph.Failures != len(ports) {
		t.Errorf("refusing host: %+v, want %d failures and no backing off", ph, len(ports))
	}
	if _, ok := set.Hosts[hosts[0]]; ok {
		t.Error("a host that never accepted a connection was recorded as answering")
	}
	if st.Errors != 3+len(ports) || st.Connections != 3+len(ports) {
		t.Errorf("stats %+v: want %d connections, all failed", st, 3+len(ports))
	}
}

// TestPoliteSkip checks that a host Skip names is never contacted and is reported with
// its reason, each port skipped.
func TestPoliteSkip(t *testing.T) {
	hosts := loopHosts(12, 13)
	rs := newRecServer(t, modeHTTP, hosts, 2)
	log := newDialLog(t, hosts...)
	set := observe.NewSet()
	_, err := Run(context.Background(), scopeOf(t, hosts...), Config{
		Ports: rs.ports, Pause: -1, Rate: -1, Timeouts: fastTimeouts, DialContext: log.dial,
		Skip: func(a netip.Addr) string {
			if a == hosts[0] {
				return "medical device"
			}
			return ""
		},
	}, set)
	if err != nil {
		t.Fatal(err)
	}
	if n := log.count(hosts[0]); n != 0 || len(rs.sorted(hosts[0])) != 0 {
		t.Errorf("skipped host got %d dials", n)
	}
	if ph := set.ProbeHosts[hosts[0]]; ph == nil || ph.Skipped != "medical device" || ph.Connections != 0 {
		t.Errorf("skipped host reported as %+v", ph)
	}
	if log.count(hosts[1]) == 0 {
		t.Error("the other host was not probed")
	}
	for _, p := range set.Probes {
		if p.Server.Addr() == hosts[0] && (p.Outcome != observe.ProbeSkipped || p.Error != "medical device") {
			t.Errorf("%s: %s %q, want skipped for medical device", p.Server, p.Outcome, p.Error)
		}
	}
}

// TestPoliteScope runs a scope of one address, one name and an exclusion through Run
// with a dial hook that fails the test on any other address; the name's excluded
// address and the name's addresses as bare addresses must never be dialled bare.
func TestPoliteScope(t *testing.T) {
	hosts := loopHosts(14, 15, 16)
	rs := newRecServer(t, modeHTTP, hosts, 1)
	s := NewScope(mustTargets(t, "127.0.0.14", "ward.example"), mustTargets(t, "127.0.0.16"))
	if err := s.Resolve(context.Background(), fakeDNS(map[string][]string{
		"ward.example": {"127.0.0.15", "127.0.0.16"},
	})); err != nil {
		t.Fatal(err)
	}
	log := newDialLog(t, hosts[0], hosts[1])
	set := observe.NewSet()
	if _, err := Run(context.Background(), s, Config{
		Ports: rs.ports, Pause: -1, Rate: -1, Timeouts: fastTimeouts, DialContext: log.dial,
	}, set); err != nil {
		t.Fatal(err)
	}
	if log.count(hosts[0]) == 0 || log.count(hosts[1]) == 0 {
		t.Errorf("in-scope hosts not probed: %v", log.dials)
	}
	if ph := set.ProbeHosts[hosts[1]]; ph == nil || ph.Name != "ward.example" {
		t.Errorf("name target's host %+v, want it under its name", ph)
	}
	for _, p := range set.Probes {
		if p.Server.Addr() == hosts[1] && p.Name != "ward.example" {
			t.Errorf("%s probed without its name", p.Server)
		}
	}

	// The dialer checks again at dial time: a dialer for an address the scope does not
	// allow, or for a name the address does not belong to, never calls DialContext.
	cfg := Config{Pause: -1, Rate: -1, DialContext: log.dial}.withDefaults()
	for _, c := range []struct {
		addr netip.Addr
		name string
	}{{hosts[2], ""}, {hosts[1], ""}, {hosts[2], "ward.example"}, {hosts[0], "ward.example"}} {
		d := newHostDialer(&cfg, s, newLimiter(-1), c.addr, c.name, nil)
		if _, err := d.Dial(context.Background(), rs.ports[0]); !errors.Is(err, ErrOutOfScope) {
			t.Errorf("dial %s as %q: %v, want ErrOutOfScope", c.addr, c.name, err)
		}
	}
}

// TestPoliteCancel cancels a scan of silent hosts, whose handshakes would each wait the
// full timeout, and checks that Run returns promptly with what it learned, reports the
// cancellation, and dials nothing after returning.
func TestPoliteCancel(t *testing.T) {
	hosts := loopHosts(17, 18, 19)
	rs := newRecServer(t, modeSilent, hosts, 3)
	log := newDialLog(t, hosts...)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	set := observe.NewSet()
	_, err := Run(ctx, scopeOf(t, hosts...), Config{
		Ports: rs.ports, Pause: -1, Rate: -1,
		Timeouts: Timeouts{Connect: 30 * time.Second, Handshake: 30 * time.Second}, DialContext: log.dial,
	}, set)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want it to wrap context.Canceled", err)
	}
	// Generous: the point is that no 30 s timeout was waited out.
	if took > 10*time.Second {
		t.Errorf("run took %v after cancellation at 300ms", took)
	}
	n := len(log.dialsTo(hosts[0])) + len(log.dialsTo(hosts[1])) + len(log.dialsTo(hosts[2]))
	time.Sleep(100 * time.Millisecond)
	if m := len(log.dialsTo(hosts[0])) + len(log.dialsTo(hosts[1])) + len(log.dialsTo(hosts[2])); m != n {
		t.Errorf("%d dials after Run returned", m-n)
	}
	for _, h := range hosts {
		if len(log.dialsTo(h)) > 0 && set.ProbeHosts[h] == nil {
			t.Errorf("%s was contacted but not reported", h)
		}
	}
}

// TestPoliteOneHostManyTargets names one device three times (its address and two names
// that resolve to it): the three jobs must pace as one host, never two connections at
// once and never less than the pause between them, and share one connection cap.
func TestPoliteOneHostManyTargets(t *testing.T) {
	host := loopHosts(21)
	rs := newRecServer(t, modeHTTP, host, 2)
	s := NewScope(mustTargets(t, "127.0.0.21", "pump-a.example", "pump-b.example"), nil)
	if err := s.Resolve(context.Background(), fakeDNS(map[string][]string{
		"pump-a.example": {"127.0.0.21"}, "pump-b.example": {"127.0.0.21"},
	})); err != nil {
		t.Fatal(err)
	}
	log := newDialLog(t, host...)
	const pause = 40 * time.Millisecond
	set := observe.NewSet()
	if _, err := Run(context.Background(), s, Config{Profile: ProfileStandard, Ports: rs.ports, Pause: pause, Rate: -1,
		Timeouts: fastTimeouts, DialContext: log.dial}, set); err != nil {
		t.Fatal(err)
	}
	ev := rs.await(host[0], len(log.dialsTo(host[0])))
	if len(ev) < 3*len(rs.ports) {
		t.Fatalf("server saw %d connections, want at least one per port and target", len(ev))
	}
	for i := 1; i < len(ev); i++ {
		if !ev[i].accept.After(ev[i-1].done) {
			t.Fatalf("connection %d accepted at %v before connection %d ended at %v: two at once to one device",
				i, ev[i].accept, i-1, ev[i-1].done)
		}
		if gap := ev[i].accept.Sub(ev[i-1].done); gap < pause/2 {
			t.Errorf("gap %v between connections, want at least %v", gap, pause)
		}
	}

	// The cap is the device's, not each target's.
	rs2 := newRecServer(t, modeHTTP, loopHosts(22), 4)
	s2 := NewScope(mustTargets(t, "127.0.0.22", "pump-c.example"), nil)
	if err := s2.Resolve(context.Background(), fakeDNS(map[string][]string{"pump-c.example": {"127.0.0.22"}})); err != nil {
		t.Fatal(err)
	}
	log2 := newDialLog(t, loopHosts(22)...)
	if _, err := Run(context.Background(), s2, Config{Profile: ProfileStandard, Ports: rs2.ports, Pause: -1, Rate: -1,
		MaxConnsPerHost: 5, Timeouts: fastTimeouts, DialContext: log2.dial}, observe.NewSet()); err != nil {
		t.Fatal(err)
	}
	if n := log2.count(loopHosts(22)[0]); n > 5 {
		t.Errorf("%d connections to one device named twice, cap 5", n)
	}
}
