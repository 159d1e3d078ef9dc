// Package rulestest builds observation sets for the rules' tests and runs one rule over
// them. It is imported by tests only.
package rulestest

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

// T0 is the observation time the tests use unless they say otherwise.
var T0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// Session returns a TLS session with a ServerHello seen, at T0.
func Session(server, client string, version, suite uint16) observe.TLSSession {
	return observe.TLSSession{
		Flow:           observe.Flow{Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server)},
		FirstSeen:      T0,
		LastSeen:       T0,
		Source:         observe.SourcePassive,
		SawClientHello: true,
		SawServerHello: true,
		Version:        version,
		Suite:          suite,
		CertsEncrypted: version == 0x0304,
	}
}

// Run examines the set's certificates and runs one rule under the policy (nil: default).
func Run(tb testing.TB, r rules.Rule, set *observe.Set, pol *rules.Policy) []findings.Finding {
	tb.Helper()
	lint.Examine(set)
	fs := rules.Run(r, set, pol)
	for _, f := range fs {
		if f.Rule != r.Meta().ID || f.Fingerprint == "" || f.Message == "" || f.Remediation == "" ||
			len(f.References) == 0 || f.Source == "" || f.Time.IsZero() || f.Evidence == nil {
			tb.Errorf("incomplete finding: %+v", f)
		}
	}
	return fs
}

// Keys renders findings as "severity host:port" strings, sorted, for table comparisons.
func Keys(fs []findings.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Severity.String()+" "+f.Host+":"+strconv.Itoa(f.Port))
	}
	slices.Sort(out)
	return out
}
