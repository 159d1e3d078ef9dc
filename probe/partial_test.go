package probe

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// silentPorts listens on n ports of addr that accept every connection and never say a
// word, as a hung application behind a live TCP stack does.
func silentPorts(t *testing.T, addr netip.Addr, n int) []uint16 {
	t.Helper()
	var ports []uint16
	for range n {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		if err != nil {
			t.Fatal(err)
		}
		var conns []net.Conn
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			<-done
			for _, c := range conns {
				c.Close()
			}
		})
		ports = append(ports, uint16(ln.Addr().(*net.TCPAddr).Port))
	}
	slices.Sort(ports)
	return ports
}

// TestRunCountsEveryFailureKind probes a host whose four ports accept and stay silent,
// and a host whose ports all refuse: the first backs off after three silent ports, and
// both hosts and every port count their failures by kind; the port never probed is a
// gap, the refusing host none.
func TestRunCountsEveryFailureKind(t *testing.T) {
	silent, refusing := netip.MustParseAddr("127.0.0.41"), netip.MustParseAddr("127.0.0.42")
	ports := silentPorts(t, silent, 4)
	set := observe.NewSet()
	st, err := Run(context.Background(), scopeOf(t, silent, refusing), Config{Profile: ProfileStandard, Ports: ports,
		Pause: -1, Rate: -1, Timeouts: Timeouts{Connect: time.Second, Handshake: 300 * time.Millisecond}}, set)
	if err != nil {
		t.Fatal(err)
	}
	ph := set.ProbeHosts[silent]
	if ph == nil || !ph.BackedOff || ph.Failures != 3 || !maps.Equal(ph.FailureKinds, map[string]int{observe.FailureSilent: 3}) {
		t.Fatalf("silent host %+v: want backed off after 3 silent ports, counted", ph)
	}
	rh := set.ProbeHosts[refusing]
	if rh == nil || rh.BackedOff || rh.Failures != 4 || !maps.Equal(rh.FailureKinds, map[string]int{observe.FailureRefused: 4}) {
		t.Fatalf("refusing host %+v: want 4 refusals counted, no back-off", rh)
	}
	for _, p := range set.Probes {
		want := map[string]int{observe.FailureRefused: 1}
		switch {
		case p.Server.Addr() == refusing:
		case p.Server.Port() == ports[3]:
			want = nil
			if p.Outcome != observe.ProbeSkipped {
				t.Errorf("%s: outcome %s, want skipped", p.Server, p.Outcome)
			}
		default:
			want = map[string]int{observe.FailureSilent: 1}
		}
		if !maps.Equal(p.FailureKinds, want) || p.Failures != len(want) {
			t.Errorf("%s: failures %d %v, want %v", p.Server, p.Failures, p.FailureKinds, want)
		}
	}
	if len(st.Gaps) != 1 {
		t.Fatalf("gaps %+v, want the silent host's last port", st.Gaps)
	}
	g := st.Gaps[0]
	if g.Addr != silent || g.Port != 0 || !slices.Equal(g.Ports, ports[3:]) || !errors.Is(g.Cause, ErrBackedOff) || g.Failures != 3 {
		t.Errorf("gap %+v", g)
	}
	if st.Planned != 2 || st.Probed != 2 || st.Reached != 2 {
		t.Errorf("stats %+v: want 2 planned, probed and reached (one accepted, one refused)", st)
	}
}

// TestRunAllExcluded checks that a scope whose every target is excluded plans nothing
// and says so, contacting nobody.
func TestRunAllExcluded(t *testing.T) {
	s := NewScope(mustTargets(t, "127.0.0.43"), mustTargets(t, "127.0.0.0/24"))
	st, err := Run(context.Background(), s, Config{Ports: []uint16{443}, Pause: -1, Rate: -1,
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			t.Error("dialled an excluded target")
			return nil, net.ErrClosed
		}}, observe.NewSet())
	if err != nil {
		t.Fatal(err)
	}
	if st.Planned != 0 || st.Probed != 0 || len(st.Gaps) != 0 {
		t.Errorf("stats %+v: want nothing planned", st)
	}
}

// TestRunCapCutsChecks caps a TLS server's connections so that the thorough profile's
// checks, then the standard ones, are cut: the port records the profile it completed and
// a gap names the checks left undone; uncapped, nothing is cut.
func TestRunCapCutsChecks(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.44")
	srv := newTLSServer(t, addr)
	run := func(p Profile, limit int) (Stats, *observe.ProbeEndpoint) {
		set := observe.NewSet()
		st, err := Run(context.Background(), scopeOf(t, addr), Config{Profile: p, Ports: []uint16{srv.port()},
			Pause: -1, Rate: -1, Timeouts: fastTimeouts, MaxConnsPerHost: limit}, set)
		if err != nil || len(set.Probes) != 1 {
			t.Fatalf("run: %v, %d probes", err, len(set.Probes))
		}
		return st, set.Probes[0]
	}
	std, ep := run(ProfileStandard, 0)
	if len(std.Gaps) != 0 || ep.Profile != "standard" {
		t.Fatalf("uncapped standard: gaps %+v, profile %q", std.Gaps, ep.Profile)
	}
	th, ep := run(ProfileThorough, 0)
	if len(th.Gaps) != 0 || ep.Profile != "thorough" || th.Connections <= std.Connections+1 {
		t.Fatalf("uncapped thorough: gaps %+v, profile %q, %d connections (standard %d)", th.Gaps, ep.Profile, th.Connections, std.Connections)
	}
	cases := []struct {
		limit     int
		completed string
		checks    []string // some of the checks the gap must name
	}{
		{std.Connections + 1, "standard", []string{"fallback SCSV"}},
		{2, "inventory", []string{"suites", "server preference", "fallback SCSV"}},
	}
	for _, c := range cases {
		st, ep := run(ProfileThorough, c.limit)
		if ep.Outcome != observe.ProbeTLS || ep.Profile != c.completed {
			t.Errorf("cap %d: outcome %s, profile %q, want tls, %q", c.limit, ep.Outcome, ep.Profile, c.completed)
		}
		if len(st.Gaps) != 1 {
			t.Fatalf("cap %d: gaps %+v, want one", c.limit, st.Gaps)
		}
		g := st.Gaps[0]
		if g.Port != srv.port() || !errors.Is(g.Cause, ErrConnCap) {
			t.Errorf("cap %d: gap %+v", c.limit, g)
		}
		for _, want := range c.checks {
			if !slices.Contains(g.Checks, want) {
				t.Errorf("cap %d: checks %q, want %q among them", c.limit, g.Checks, want)
			}
		}
		if c.completed == "standard" && slices.ContainsFunc(g.Checks, isStandardCheck) {
			t.Errorf("cap %d: checks %q name a standard check", c.limit, g.Checks)
		}
	}
}
