package capture

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// guarded wraps a dissector's stream so that a bug in a parser of untrusted bytes costs
// one flow, not the scan: a panic is recovered, recorded as a problem naming the
// dissector and the flow, and the stream is treated as done. The fuzz targets are there
// so this never fires; when it does, the user still gets every other result and a line
// to report.
type guarded struct {
	st     dissect.Stream
	name   string
	flow   observe.Flow
	set    *observe.Set
	broken bool
}

func (g *guarded) recover(op string) {
	if r := recover(); r != nil {
		g.broken = true
		g.set.AddCounter("dissector_panics", 1)
		g.set.Problem(observe.Problem{Source: g.name + " dissector", Offset: -1,
			Message: fmt.Sprintf("internal error in %s on flow %s: %v; this flow was abandoned, please report it", op, g.flow, r)})
	}
}

func (g *guarded) Data(dir dissect.Direction, b []byte, t time.Time) {
	if g.broken {
		return
	}
	defer g.recover("Data")
	g.st.Data(dir, b, t)
}

func (g *guarded) Gap(dir dissect.Direction, n int) {
	if g.broken {
		return
	}
	defer g.recover("Gap")
	g.st.Gap(dir, n)
}

func (g *guarded) Done() bool {
	if g.broken {
		return true
	}
	defer g.recover("Done")
	return g.st.Done()
}

func (g *guarded) End(t time.Time) {
	if g.broken {
		return
	}
	defer g.recover("End")
	g.st.End(t)
}

// Handoff forwards to the inner stream when it upgrades in place (dissect.Handoff); a
// stream that does not, or that broke, hands nothing off.
func (g *guarded) Handoff() (ok bool) {
	if g.broken {
		return false
	}
	h, is := g.st.(dissect.Handoff)
	if !is {
		return false
	}
	defer g.recover("Handoff")
	return h.Handoff()
}

// Rest forwards to the inner stream when it can hand off inside a chunk
// (dissect.HandoffRest); otherwise, or when it broke, no bytes follow the upgrade.
func (g *guarded) Rest() (n int) {
	if g.broken {
		return 0
	}
	r, is := g.st.(dissect.HandoffRest)
	if !is {
		return 0
	}
	defer g.recover("Rest")
	return r.Rest()
}

// TunnelTarget forwards to the inner stream when it is a proxy's (dissect.Tunnel); a
// stream that is not, or that broke, names no target.
func (g *guarded) TunnelTarget() (addr netip.Addr, name string, port uint16, ok bool) {
	if g.broken {
		return netip.Addr{}, "", 0, false
	}
	t, is := g.st.(dissect.Tunnel)
	if !is {
		return netip.Addr{}, "", 0, false
	}
	defer g.recover("TunnelTarget")
	return t.TunnelTarget()
}
