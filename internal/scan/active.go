package scan

import (
	"context"
	"errors"
	"net/netip"

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

// runProbe probes the scope into set. Hosts that the captures just read, or any earlier
// scan in the store, classified as medical devices are skipped (and recorded as such)
// unless the user asked for them: a fragile pump must not pay for a TLS survey. It
// reports complete false when the probing was interrupted; what was learned stays in set.
func runProbe(ctx context.Context, st *store.Store, set *observe.Set, p *Probe) (complete bool, err error) {
	if ctx.Err() != nil {
		// Interrupted while the captures were read: what they taught is stored, and
		// nothing is probed.
		set.Problem(observe.Problem{Source: "probe", Offset: -1, Message: "not probed: scan interrupted", Fatal: true})
		return false, nil
	}
	cfg := p.Config
	if !p.ProbeMedicalDevices {
		known, err := st.AssetKinds(context.WithoutCancel(ctx))
		if err != nil {
			return false, err
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
		return true, nil
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		set.Problem(observe.Problem{Source: "probe", Offset: -1, Message: "probing interrupted: " + err.Error(), Fatal: true})
		return false, nil
	}
	return false, err
}
