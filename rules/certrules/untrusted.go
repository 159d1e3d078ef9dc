package certrules

import (
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(untrusted{}) }

// untrusted flags a chain, as one session sent it, that leads to none of the site's
// trust anchors. It says nothing when the policy names no anchors: without them every
// private PKI (which is what a hospital's devices use) would be flagged, burying the
// findings that matter; cert-self-signed already speaks for self-signed leaves.
type untrusted struct{}

func (untrusted) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-untrusted",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Certificate chain does not lead to a site trust anchor",
		Default: findings.Medium,
		Rationale: "A client that validates certificates against the site's trust anchors refuses a chain " +
			"that does not lead to one; clients that accept it anyway do not validate, and an attacker in " +
			"the middle can present any certificate to them. The chain is built from what the session itself " +
			"sent plus the anchors named in the policy (trust_anchors), at the time it was observed; an " +
			"intermediate seen elsewhere never vouches for another session's chain. Without trust anchors " +
			"in the policy the rule is silent.",
		Remediation: "Issue the service a certificate from the site's PKI and configure it to send its " +
			"intermediates; or, if the chain is legitimate, add its root to the site's trust anchor bundle " +
			"and distribute it to the devices and middleware that connect.",
		References: []string{
			"RFC 5280, §6 (certification path validation)",
			"NIST SP 800-52 Rev. 2, §3.5 (server certificate validation) and §4.5.2 (trust anchor store)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
		},
	}
}

func (untrusted) Check(c *rules.Context) {
	if c.Policy.Anchors == nil {
		return
	}
	v := verifier(c)
	for _, sc := range sentChains(c.Set) {
		verdict := v.Verify(sc.chain, observedAt(sc.s))
		if verdict.Trusted {
			continue
		}
		f, ok := chainFinding(c, sc, "sent a certificate chain that does not lead to a site trust anchor: "+verdict.Reason)
		if !ok {
			continue
		}
		f.Evidence["reason"] = verdict.Reason
		f.Evidence["trust_anchors"] = c.Policy.TrustAnchorsFile
		if verdict.MissingIssuer != "" {
			f.Evidence["missing_issuer"] = verdict.MissingIssuer
		}
		c.Emit(f)
	}
}
