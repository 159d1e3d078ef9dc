package scan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/medscan/medscan/inventory"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/probe"
	"github.com/medscan/medscan/store"
)

// Probe describes the active part of a scan: which addresses may be contacted, and how.
type Probe struct {
	Scope  *probe.Scope
	Config probe.Config
	// Targets are the target items as the user gave them, recorded as the scan's sources.
	Targets []string
	// ProbeMedicalDevices lifts the rule that hosts classified as medical devices, by
	// this scan's captures or by earlier scans in the store, are never probed.
	ProbeMedicalDevices bool
	// Stats receives the prober's account of the run when it ends; nil ignores it.
	Stats func(probe.Stats)
}

// sources names the probe's targets for the scan record.
func (p *Probe) sources() []string {
	out := make([]string, 0, len(p.Targets))
	for _, t := range p.Targets {
		out = append(out, "probe:"+t)
	}
	return out
}

// probeStatus is how much of its targets a probe assessed.
type probeStatus int

const (
	probeComplete    probeStatus = iota // every target was assessed with the whole profile
	probePartial                        // it ran to its end, but some targets or checks were not assessed
	probeInterrupted                    // the context stopped it
)

// runProbe probes the scope into set. Hosts that the captures just read, or any earlier
// scan in the store, classified as medical devices are skipped (and recorded as such)
// unless the user asked for them: a fragile pump must not pay for a TLS survey. What was
// not assessed (every target excluded, no host answering, a host backed off or capped
// before all its ports, a port's checks cut short) is recorded as a problem per host or
// port, and the status says partial; interrupted when the probing was interrupted. What
// was learned stays in set either way.
func runProbe(ctx context.Context, st *store.Store, set *observe.Set, p *Probe) (probeStatus, error) {
	if ctx.Err() != nil {
		// Interrupted while the captures were read: what they taught is stored, and
		// nothing is probed.
		set.Problem(observe.Problem{Source: "probe", Offset: -1, Message: "not probed: scan interrupted", Fatal: true})
		return probeInterrupted, nil
	}
	cfg := p.Config
	if !p.ProbeMedicalDevices {
		known, err := st.AssetKinds(context.WithoutCancel(ctx))
		if err != nil {
			return 0, err
		}
		// Any source that calls a host a medical device wins: today's capture may see a
		// pump only as an address ("unknown"), which must not undo what earlier scans
		// learned about it.
		for _, a := range inventory.Classify(set, inventory.Options{}) {
			if a.Kind == observe.KindMedicalDevice {
				known[a.Addr] = a.Kind
			}
		}
		cfg.Skip = func(a netip.Addr) string {
			if known[a] == observe.KindMedicalDevice {
				return "medical device (classified from passive observation; --probe-medical-devices probes it)"
			}
			return ""
		}
	}
	stats, err := probe.Run(ctx, p.Scope, cfg, set)
	if p.Stats != nil {
		p.Stats(stats)
	}
	switch {
	case err == nil:
		problems := gapProblems(stats, p.Config)
		for _, pr := range problems {
			set.Problem(pr)
		}
		if len(problems) > 0 {
			return probePartial, nil
		}
		return probeComplete, nil
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		set.Problem(observe.Problem{Source: "probe", Offset: -1, Message: "probing interrupted: " + err.Error(), Fatal: true})
		return probeInterrupted, nil
	}
	return 0, err
}

// gapProblems says what a probe run that reached its end did not assess, one problem per
// cause: a whole scan that probed nothing, then each host or port the run left.
func gapProblems(st probe.Stats, cfg probe.Config) []observe.Problem {
	var out []observe.Problem
	add := func(source, msg string) {
		out = append(out, observe.Problem{Source: source, Offset: -1, Message: msg, NotAssessed: true})
	}
	switch {
	case st.Planned == 0:
		add("probe", "all targets excluded: nothing was probed")
		return out
	case st.Probed > 0 && st.Reached == 0:
		add("probe", fmt.Sprintf("no target answered (%d host(s) probed, every connection failed): nothing was assessed", st.Probed))
	}
	for _, g := range st.Gaps {
		host := g.Addr.String()
		if g.Name != "" {
			host = g.Name + " (" + host + ")"
		}
		if g.Port == 0 {
			add(host, fmt.Sprintf("%s: %s not assessed", leftBecause(g, cfg), portsText(g.Ports)))
			continue
		}
		at := netip.AddrPortFrom(g.Addr, g.Port).String()
		if g.Name != "" {
			at = fmt.Sprintf("%s:%d (%s)", g.Name, g.Port, g.Addr)
		}
		add(at, fmt.Sprintf("the %s checks were cut by %s (%s not assessed)", cfg.Profile, cutBy(g, cfg), strings.Join(g.Checks, ", ")))
	}
	if st.GapsNotKept > 0 {
		add("probe", fmt.Sprintf("%d more host(s) or port(s) not fully assessed", st.GapsNotKept))
	}
	return out
}

// leftBecause says why the prober left a host before all its ports.
func leftBecause(g probe.Gap, cfg probe.Config) string {
	if errors.Is(g.Cause, probe.ErrConnCap) {
		return fmt.Sprintf("reached its connection cap (--max-conns-per-host %d)", cfg.MaxConnsPerHost)
	}
	return fmt.Sprintf("backed off after %d failure(s)%s", g.Failures, failureText(g.FailureKinds))
}

// cutBy names what cut a port's checks short.
func cutBy(g probe.Gap, cfg probe.Config) string {
	switch {
	case errors.Is(g.Cause, probe.ErrConnCap):
		return fmt.Sprintf("--max-conns-per-host %d", cfg.MaxConnsPerHost)
	case errors.Is(g.Cause, probe.ErrBackedOff):
		return fmt.Sprintf("the host backing off after %d failure(s)%s", g.Failures, failureText(g.FailureKinds))
	case errors.Is(g.Cause, probe.ErrTimeouts):
		return "the port timing out"
	}
	return "a failed connection (" + g.Cause.Error() + ")"
}

// failureText is " (2 timeouts, 1 silent port)": the failures by kind, in a fixed order.
func failureText(kinds map[string]int) string {
	names := []struct{ kind, one, many string }{
		{observe.FailureTimeout, "timeout", "timeouts"},
		{observe.FailureUnreachable, "unreachable", "unreachable"},
		{observe.FailureSilent, "silent port", "silent ports"},
		{observe.FailureHandshakeTimeout, "handshake timeout", "handshake timeouts"},
		{observe.FailureReset, "reset", "resets"},
		{observe.FailureRefused, "refused", "refused"},
	}
	var parts []string
	for _, n := range names {
		switch c := kinds[n.kind]; {
		case c == 1:
			parts = append(parts, "1 "+n.one)
		case c > 1:
			parts = append(parts, fmt.Sprintf("%d %s", c, n.many))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// portsText is "port 443" or "ports 443, 8443".
func portsText(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	if len(s) == 1 {
		return "port " + s[0]
	}
	return "ports " + strings.Join(s, ", ")
}
