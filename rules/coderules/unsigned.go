package coderules

import (
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(unsigned{}) }

// unsigned flags an update image with no signature at all, embedded or beside it, that
// the policy requires to be signed (by default every image).
type unsigned struct{}

func (unsigned) Meta() rules.Meta {
	return rules.Meta{
		ID:      "update-unsigned",
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskForgedUpdate,
		Covers:  covers,
		Title:   "Update image without a signature",
		Default: findings.High,
		Rationale: "An update that carries no signature (none embedded, no detached signature or signed checksum " +
			"list beside it) cannot be told apart from a forged one: whoever controls the update server or the " +
			"path pushes their own firmware to every device that installs it.",
		Remediation: "Have the vendor sign every image (a code-signing certificate from a dedicated root, or an " +
			"OpenPGP key), publish the signature beside the image, and make devices refuse code whose signature " +
			"does not verify; add the vendor's root or key to code_signing.anchors in the policy.",
		References: references,
	}
}

func (unsigned) Check(c *rules.Context) {
	for _, u := range c.Set.Updates {
		if u.Verdict != "unsigned" || !u.Required || u.Cut {
			continue
		}
		f := base(u)
		f.Message = where(u) + " is not signed: no embedded signature, no signature or signed checksum list beside it"
		c.Emit(f)
	}
}
