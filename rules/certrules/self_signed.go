package certrules

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(selfSigned{}) }

// selfSigned flags a self-signed certificate presented as the leaf.
type selfSigned struct{}

func (selfSigned) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-self-signed",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Self-signed certificate",
		Default: findings.Medium,
		Rationale: "A self-signed leaf cannot be validated against any CA, so clients either pin it (rarely " +
			"done well) or accept any certificate, which lets an attacker in the middle read and change the " +
			"traffic. Factory-default self-signed certificates are often the same on every unit of a model.",
		Remediation: "Issue the device a certificate from the organisation's CA (or a public CA where " +
			"appropriate) and configure clients to validate it; replace factory-default certificates.",
		References: []string{
			"NIST SP 800-52 Rev. 2, §3.5 (server certificate validation)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
			"HIPAA Security Rule, 45 CFR 164.312(d) (person or entity authentication)",
		},
	}
}

func (selfSigned) Check(c *rules.Context) {
	for _, p := range c.Presentations() {
		if p.ChainRole() != rules.RoleLeaf || !p.Facts.SelfSigned {
			continue
		}
		c.Emit(finding(p, p.FirstSeen, fmt.Sprintf("%s served self-signed certificate %s", p.Describe(), name(p))))
	}
}
