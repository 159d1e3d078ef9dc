package store

import (
	"cmp"
	"slices"

	"github.com/medscan/medscan/findings"
)

// certChanges are the server endpoints both scans saw whose leaf certificates differ:
// the renewals, rotations and substitutions between two scans, which findings alone do
// not show (a renewed certificate with the same verdicts changes no finding).
func certChanges(prev, cur *findings.Report) []findings.CertChange {
	before, after := serverLeaves(prev), serverLeaves(cur)
	var out []findings.CertChange
	for ep, now := range after {
		was, ok := before[ep]
		if !ok || sameCerts(was, now) {
			continue
		}
		ch := findings.CertChange{Endpoint: ep, Before: was, After: now}
		for _, a := range now {
			ch.KeyKept = ch.KeyKept || a.SPKISHA256 != "" && slices.ContainsFunc(was, func(b findings.ChangedCert) bool {
				return b.SPKISHA256 == a.SPKISHA256
			})
		}
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b findings.CertChange) int { return cmp.Compare(a.Endpoint, b.Endpoint) })
	return out
}

// serverLeaves are the leaf certificates each server endpoint of a scan presented, by
// endpoint, sorted by SHA-256.
func serverLeaves(r *findings.Report) map[string][]findings.ChangedCert {
	out := map[string][]findings.ChangedCert{}
	for _, c := range r.Certificates {
		for _, sg := range c.SeenOn {
			if sg.Role != "server" || sg.Position != 0 || sg.Host == "" {
				continue
			}
			ep := findings.Target(sg.Host, sg.Port)
			if slices.ContainsFunc(out[ep], func(x findings.ChangedCert) bool { return x.SHA256 == c.SHA256 }) {
				continue
			}
			out[ep] = append(out[ep], findings.ChangedCert{SHA256: c.SHA256, SPKISHA256: c.SPKISHA256, Subject: c.Subject,
				Issuer: c.Issuer, NotAfter: c.NotAfter})
		}
	}
	for ep := range out {
		slices.SortFunc(out[ep], func(a, b findings.ChangedCert) int { return cmp.Compare(a.SHA256, b.SHA256) })
	}
	return out
}

func sameCerts(a, b []findings.ChangedCert) bool {
	return slices.EqualFunc(a, b, func(x, y findings.ChangedCert) bool { return x.SHA256 == y.SHA256 })
}
