package certrules

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(longLived{}) }

// longLived flags certificates valid for longer than their role's maximum.
type longLived struct{}

func (longLived) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-long-lived",
		Title:   "Certificate validity too long",
		Default: findings.Medium,
		Rationale: "A long-lived certificate outlives the algorithms, keys and staff that made it: a stolen " +
			"key stays useful for years, and renewal is never practised. Leaves are limited to 825 days by " +
			"the CA/Browser Forum (398 since 2020); a leaf valid for more than ten years is high severity. " +
			"Intermediate CAs beyond 15 years and self-signed roots beyond 25 years are flagged too.",
		Remediation: "Reissue the certificate with a validity within policy (at most 398 days for a leaf) and " +
			"automate its renewal; for CA certificates, plan a rollover to a shorter-lived hierarchy.",
		References: []string{
			"CA/Browser Forum Baseline Requirements, §6.3.2 (certificate operational periods)",
			"NIST SP 800-57 Part 1 Rev. 5, §5.3 (cryptoperiods)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (cryptography)",
		},
	}
}

func (longLived) Check(c *rules.Context) {
	t := c.Policy.Thresholds
	for _, p := range c.Presentations() {
		if !validityKnown(p) {
			continue
		}
		role := p.ChainRole()
		limit := t.LeafMaxDays
		switch role {
		case rules.RoleIntermediate:
			limit = t.IntermediateMaxDays
		case rules.RoleRoot:
			limit = t.RootMaxDays
		}
		days := p.Facts.ValidityDays
		if days <= limit {
			continue
		}
		f := finding(p, p.FirstSeen, fmt.Sprintf("%s served %s certificate %s, valid for %d days (%s to %s; limit %d)",
			p.Describe(), role, name(p), days, date(p.Facts.NotBefore), date(p.Facts.NotAfter), limit))
		if role == rules.RoleLeaf && days > t.LeafHighDays {
			f.Severity = findings.High
		}
		f.Evidence["limit_days"] = limit
		c.Emit(f)
	}
}
