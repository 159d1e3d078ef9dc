package certrules

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(notYetValid{}) }

// notYetValid flags a leaf certificate served before its notBefore.
type notYetValid struct{}

func (notYetValid) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-not-yet-valid",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Certificate not yet valid",
		Default: findings.Medium,
		Rationale: "A certificate used before its notBefore date is refused by clients that check validity; " +
			"it usually means a device clock that is wrong (which also breaks audit logs and expiry checks) " +
			"or clients configured to ignore certificate errors.",
		Remediation: "Synchronise the device's clock (NTP) and reissue the certificate with a correct validity " +
			"period; check the clients' validation settings.",
		References: []string{
			"RFC 5280, §4.1.2.5 (validity)",
			"NIST SP 800-52 Rev. 2, §3.5 (server certificate validation)",
		},
	}
}

func (notYetValid) Check(c *rules.Context) {
	for _, p := range c.Presentations() {
		if p.ChainRole() != rules.RoleLeaf || !validityKnown(p) || p.FirstSeen.IsZero() || !p.FirstSeen.Before(p.Facts.NotBefore) {
			continue
		}
		at := p.FirstSeen
		days := int(p.Facts.NotBefore.Sub(at).Hours() / 24)
		f := finding(p, at, fmt.Sprintf("%s served certificate %s, which is only valid from %s (%d day(s) after it was observed)",
			p.Describe(), name(p), date(p.Facts.NotBefore), days))
		f.Evidence["days_early"] = days
		c.Emit(f)
	}
}
