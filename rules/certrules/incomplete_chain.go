package certrules

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(incompleteChain{}) }

// incompleteChain flags a chain that omits an intermediate the session needed. It
// fires only when the omission is certain: a certificate in the chain has an issuer
// that the session did not send and that is not a trust anchor, and a CA certificate
// with that name, which verifies the link and is not self-signed (omitting the root is
// allowed), was seen elsewhere in the scan. An issuer never seen anywhere could be a
// root the clients hold, so it is left to cert-untrusted, which knows the anchors.
type incompleteChain struct{}

func (incompleteChain) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-incomplete-chain",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Server omits an intermediate certificate",
		Default: findings.Low,
		Rationale: "A server must send its intermediate CA certificates (RFC 8446 §4.4.2, RFC 5246 §7.4.2); " +
			"clients that do not happen to hold the missing intermediate fail to validate, and the usual " +
			"local fix is to turn validation off. The missing intermediate is named from elsewhere in the " +
			"scan, but never used to complete the chain.",
		Remediation: "Configure the service to send its full chain (leaf, then each intermediate); the " +
			"evidence names the missing intermediate's SHA-256.",
		References: []string{
			"RFC 8446, §4.4.2 (certificate chain order and content)",
			"RFC 5246, §7.4.2 (server certificate)",
			"NIST SP 800-52 Rev. 2, §3.5",
		},
	}
}

func (incompleteChain) Check(c *rules.Context) {
	v := verifier(c)
	for _, sc := range sentChains(c.Set) {
		verdict := v.Verify(sc.chain, observedAt(sc.s))
		if verdict.Trusted || verdict.MissingIssuer == "" || len(verdict.CompletedBy) == 0 {
			continue
		}
		f, ok := chainFinding(c, sc, fmt.Sprintf("sent a chain without the intermediate %s, which was seen elsewhere in the scan",
			verdict.MissingIssuer))
		if !ok {
			continue
		}
		f.Evidence["missing_issuer"] = verdict.MissingIssuer
		f.Evidence["completed_by"] = verdict.CompletedBy
		c.Emit(f)
	}
}
