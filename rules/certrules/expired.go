package certrules

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(expired{}) }

// expired flags a leaf certificate served after its notAfter.
type expired struct{}

func (expired) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-expired",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Expired certificate",
		Default: findings.High,
		Rationale: "A client that checks validity refuses an expired certificate, so clients that keep " +
			"working have been configured to ignore certificate errors, which also lets an attacker in the " +
			"middle present any certificate. An expired certificate also no longer has revocation coverage.",
		Remediation: "Renew the certificate and install it with its chain; put the device's certificates under " +
			"an inventory with renewal alerts (cert-expiring-soon helps).",
		References: []string{
			"RFC 5280, §4.1.2.5 (validity) and §6.1.3 (path validation)",
			"NIST SP 800-52 Rev. 2, §3.5 (server certificate validation)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
		},
	}
}

func (expired) Check(c *rules.Context) {
	for _, p := range c.Presentations() {
		if p.ChainRole() != rules.RoleLeaf || !validityKnown(p) || p.LastSeen.IsZero() || !p.LastSeen.After(p.Facts.NotAfter) {
			continue
		}
		// The earliest observation at which it was already expired.
		at := p.LastSeen
		if p.FirstSeen.After(p.Facts.NotAfter) {
			at = p.FirstSeen
		}
		days := int(at.Sub(p.Facts.NotAfter).Hours() / 24)
		f := finding(p, at, fmt.Sprintf("%s served certificate %s, which expired on %s (%d day(s) before it was observed)",
			p.Describe(), name(p), date(p.Facts.NotAfter), days))
		f.Evidence["days_expired"] = days
		c.Emit(f)
	}
}
