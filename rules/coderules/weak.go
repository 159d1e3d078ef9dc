package coderules

import (
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(weak{}) }

// weak flags a verifying signature whose signer or digest is weak: small RSA keys,
// SHA-1 or MD5, a certificate without the code-signing EKU, expired when it signed
// without a trusted timestamp, or valid for decades.
type weak struct{}

// highWeaknesses raise the finding to high: forgeable now, or signing outside the
// signer's validity with nothing to vouch for the time.
var highWeaknesses = []string{"rsa-below-1024", "digest-md5", "cert-signed-md5", "image-digest-md5", "expired-at-signing", "manifest-md5"}

func (weak) Meta() rules.Meta {
	return rules.Meta{
		ID:      "update-signer-weak",
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskForgedUpdate,
		Covers:  covers,
		Title:   "Update image signed with a weak key, digest or certificate",
		Default: findings.Medium,
		Rationale: "A signature is only as strong as its weakest part: RSA keys under 2048 bits and SHA-1 or MD5 " +
			"digests can be forged or collided; a certificate without the code-signing EKU was not issued to sign " +
			"code; a certificate expired when it signed, without a trusted timestamp, vouches for nothing; and a " +
			"signing key valid for decades (the 25-30-year keys seen on devices) cannot be rotated when it leaks.",
		Remediation: "Have the vendor sign with RSA 3072+ or ECDSA P-256+ and SHA-256 or better, from a certificate " +
			"with the code-signing extended key usage and a lifetime of a few years, countersigned by a trusted " +
			"RFC 3161 timestamp so that signatures outlive the certificate.",
		References: references,
	}
}

func (weak) Check(c *rules.Context) {
	for _, u := range c.Set.Updates {
		if u.Cut {
			continue
		}
		s, ok := best(u)
		if !ok || !s.Verifies || len(s.Weaknesses) == 0 {
			continue
		}
		f := base(u)
		f.Evidence["signature"] = sigEvidence(s)
		f.Evidence["weaknesses"] = s.Weaknesses
		for _, w := range s.Weaknesses {
			if slices.Contains(highWeaknesses, w) {
				f.Severity = findings.High
			}
		}
		who := s.Signer.Label()
		if who == "" {
			who = "its signer"
		}
		f.Message = where(u) + " is signed by " + who + " with weaknesses: " + strings.Join(s.Weaknesses, ", ")
		c.Emit(f)
	}
}
