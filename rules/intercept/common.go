package intercept

import (
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

// window is how close in time two observations must be to be judged together: a
// suspect key or MAC seen within a day of the legitimate one is still the same
// episode; a change that stays for good after a longer quiet is a replacement.
const window = 24 * time.Hour

// maxListed bounds the items of one list in a finding's evidence (clients, addresses);
// the full count is beside it.
const maxListed = 32

// assetKinds maps each inventoried address, as findings write it, to its kind.
func assetKinds(set *observe.Set) map[string]string {
	out := make(map[string]string, len(set.Assets))
	for _, a := range set.Assets {
		out[findings.AddrText(a.Addr)] = a.Kind
	}
	return out
}

// sensitive reports whether an asset of this kind is one an attacker in the middle
// wants most: the gateway and other infrastructure, middleware, and clinical servers
// (the EHR, PACS). A finding about one is critical.
func sensitive(kind string) bool {
	switch kind {
	case observe.KindMiddleware, observe.KindClinicalServer, observe.KindInfrastructure:
		return true
	}
	return false
}

// severityFor raises a finding to critical when it concerns a sensitive asset.
func severityFor(kind string) findings.Severity {
	if sensitive(kind) {
		return findings.Critical
	}
	return findings.Info // the rule's default (high)
}

// listed bounds a sorted list for evidence.
func listed(v []string) []string {
	if len(v) > maxListed {
		return v[:maxListed]
	}
	return v
}

// near reports whether two spans are within the window of each other (overlapping
// spans are).
func near(aFirst, aLast, bFirst, bLast time.Time) bool {
	return !aFirst.After(bLast.Add(window)) && !bFirst.After(aLast.Add(window))
}

// ts renders a time for evidence as every rule does.
func ts(t time.Time) string { return rules.TimeString(t) }
