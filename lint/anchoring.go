package lint

import (
	"fmt"
	"time"

	"github.com/medscan/medscan/observe"
)

// AnchorSessions judges the chain each side of each TLS session sent against the site's
// trust anchors, at the time the session was seen, and records the verdict on the
// session (observe.TLSSession's ServerAnchoring and ClientAnchoring): the flows say from
// it whether a mutually authenticated hop is anchored to the site's PKI on both sides.
// Path building is the Verifier's, the one cert-untrusted uses, so the flows and the
// findings cannot disagree on a chain. Unlike the path, the leaf's own validity counts
// here: a client that proves who it is with an expired certificate is not vouched for
// by the site's PKI, whatever the expiry rules say of it. With no anchors (nil), and for
// TLS 1.3, whose certificates travel encrypted, nothing is recorded: not judged.
func AnchorSessions(set *observe.Set, anchors *Anchors) {
	if set == nil {
		return
	}
	var v *Verifier
	for _, s := range set.TLSSessions {
		s.ServerAnchoring, s.ClientAnchoring = nil, nil
		if anchors == nil || s.CertsEncrypted {
			continue
		}
		if v == nil {
			v = NewVerifier(set, anchors)
		}
		if len(s.ServerChain) > 0 {
			s.ServerAnchoring = anchoring(v, s.ServerChain, s.FirstSeen, s.LastSeen)
		}
		if len(s.ClientChain) > 0 {
			s.ClientAnchoring = anchoring(v, s.ClientChain, s.FirstSeen, s.LastSeen)
		}
	}
}

// anchoring judges one chain seen from first to last.
func anchoring(v *Verifier, chain []observe.CertRef, first, last time.Time) *observe.Anchoring {
	verdict := v.Verify(chain, first)
	leaf := v.node(chain[0])
	if leaf == nil {
		return &observe.Anchoring{Status: observe.AnchorUnreadable, Reason: "the leaf could not be read"}
	}
	if leaf.r.haveTimes {
		for _, at := range []time.Time{first, last} {
			if !validAt(leaf, at) {
				return &observe.Anchoring{Status: observe.AnchorExpired, Anchor: verdict.Anchor,
					Reason: fmt.Sprintf("%s was outside its validity (%s to %s) when seen on %s", leaf.name(),
						leaf.r.notBefore.UTC().Format(time.DateOnly), leaf.r.notAfter.UTC().Format(time.DateOnly),
						at.UTC().Format(time.DateOnly))}
			}
		}
	}
	if verdict.Trusted {
		return &observe.Anchoring{Status: observe.AnchorAnchored, Anchor: verdict.Anchor}
	}
	a := &observe.Anchoring{Status: observe.AnchorOtherCA, Reason: verdict.Reason}
	switch {
	case verdict.Reason == "the leaf could not be read":
		a.Status = observe.AnchorUnreadable
	case leaf.facts.SelfSigned || selfSignedEnd(v, chain):
		a.Status = observe.AnchorSelfSigned
	case pathOutsideValidity(v, chain, first):
		a.Status = observe.AnchorExpired
	}
	return a
}

// selfSignedEnd reports whether the chain as sent ends in a self-signed certificate
// (a private root the site does not anchor).
func selfSignedEnd(v *Verifier, chain []observe.CertRef) bool {
	last := v.node(chain[len(chain)-1])
	return len(chain) > 1 && last != nil && last.facts.SelfSigned && issuedByChain(v, chain)
}

// issuedByChain reports whether each certificate of the chain as sent is issued by the
// next: the self-signed end then vouches for the leaf.
func issuedByChain(v *Verifier, chain []observe.CertRef) bool {
	for i := 0; i+1 < len(chain); i++ {
		a, b := v.node(chain[i]), v.node(chain[i+1])
		if a == nil || b == nil || !issuedBy(a, b) {
			return false
		}
	}
	return true
}

// pathOutsideValidity reports whether a path to an anchor exists but some certificate on
// it was outside its validity at t: the site's PKI issued the chain, but it had lapsed.
func pathOutsideValidity(v *Verifier, chain []observe.CertRef, t time.Time) bool {
	if t.IsZero() {
		return false
	}
	return v.Verify(chain, time.Time{}).Trusted
}
