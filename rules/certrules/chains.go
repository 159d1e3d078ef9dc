package certrules

import (
	"net/netip"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

// sentChain is one chain as one session sent it, with who sent it.
type sentChain struct {
	s      *observe.TLSSession
	chain  []observe.CertRef
	client bool
}

// sentChains lists the chains of the set's sessions. TLS 1.3 sessions contribute none:
// their certificates are encrypted, and nothing may be concluded about them.
func sentChains(set *observe.Set) []sentChain {
	var out []sentChain
	if set == nil {
		return nil
	}
	for _, s := range set.TLSSessions {
		if s.CertsEncrypted {
			continue
		}
		if len(s.ServerChain) > 0 {
			out = append(out, sentChain{s, s.ServerChain, false})
		}
		if len(s.ClientChain) > 0 {
			out = append(out, sentChain{s, s.ClientChain, true})
		}
	}
	return out
}

// chainFinding starts a finding about a chain a session sent, observed at the session's
// first time; it names the leaf.
func chainFinding(c *rules.Context, sc sentChain, msg string) (findings.Finding, bool) {
	leaf := c.Set.Certificates[sc.chain[0]]
	if leaf == nil || leaf.Facts == nil {
		return findings.Finding{}, false
	}
	p := rules.Presentation{Cert: leaf, Facts: leaf.Facts, Endpoint: sc.s.Flow.Server, Role: "server",
		Source: sc.s.Source, FirstSeen: sc.s.FirstSeen, LastSeen: sc.s.LastSeen}
	if sc.client {
		p.Endpoint, p.Role = netip.AddrPortFrom(sc.s.Flow.Client.Addr(), 0), "client"
		p.Peers = []string{sc.s.Flow.Server.Addr().Unmap().String()}
	} else {
		p.Peers = []string{sc.s.Flow.Client.Addr().Unmap().String()}
		p.Target = sc.s.Flow.Target
		if sc.s.Flow.Via.IsValid() {
			p.Via = []string{sc.s.Flow.Via.String()}
		}
		if sc.s.SNI != "" {
			p.SNI = []string{sc.s.SNI}
		}
	}
	if p.LastSeen.IsZero() {
		p.LastSeen = p.FirstSeen
	}
	f := finding(p, sc.s.FirstSeen, p.Describe()+" "+msg)
	f.Evidence["chain"] = refList(sc.chain)
	return f, true
}

func refList(refs []observe.CertRef) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.String())
	}
	return out
}

// observedAt is the time a chain is validated at: the session's first observation.
func observedAt(s *observe.TLSSession) time.Time { return s.FirstSeen }

// verifier returns path building over the set against the policy's anchors.
func verifier(c *rules.Context) *lint.Verifier { return lint.NewVerifier(c.Set, c.Policy.Anchors) }
