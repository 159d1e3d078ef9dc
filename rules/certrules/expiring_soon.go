package certrules

import (
	"fmt"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(expiringSoon{}) }

// expiringSoon flags a leaf certificate that expires within the policy's window of the
// last time it was observed.
type expiringSoon struct{}

func (expiringSoon) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-expiring-soon",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Certificate expiring soon",
		Default: findings.Low,
		Rationale: "An expired certificate stops clinical interfaces that validate it, or teaches staff to " +
			"click through errors. Renewing before expiry avoids both.",
		Remediation: "Renew the certificate before it expires and plan the installation on the device; " +
			"automate renewal where the device supports it.",
		References: []string{
			"RFC 5280, §4.1.2.5 (validity)",
			"NIST SP 1800-16, Securing Web Transactions: TLS Server Certificate Management",
		},
	}
}

func (expiringSoon) Check(c *rules.Context) {
	window := time.Duration(c.Policy.Thresholds.ExpiringSoonDays) * 24 * time.Hour
	for _, p := range c.Presentations() {
		if p.ChainRole() != rules.RoleLeaf || !validityKnown(p) || p.LastSeen.IsZero() {
			continue
		}
		at, na := p.LastSeen, p.Facts.NotAfter
		if at.After(na) || na.Sub(at) > window {
			continue
		}
		left := na.Sub(at)
		days := int(left.Hours() / 24)
		f := finding(p, at, fmt.Sprintf("%s served certificate %s, which expires on %s (%d day(s) after it was last observed)",
			p.Describe(), name(p), date(na), days))
		f.Evidence["days_left"] = days
		f.Evidence["expiring_soon_days"] = c.Policy.Thresholds.ExpiringSoonDays
		c.Emit(f)
	}
}
