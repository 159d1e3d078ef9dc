package coderules

import (
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(untrusted{}) }

// untrusted flags an image signed by someone outside the anchors the policy names for it
// (its vendor's, or the global ones): the signature may verify, but not by the vendor.
type untrusted struct{}

func (untrusted) Meta() rules.Meta {
	return rules.Meta{
		ID:      "update-signer-untrusted",
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskForgedUpdate,
		Covers:  covers,
		Title:   "Update image signed by an untrusted signer",
		Default: findings.High,
		Rationale: "A valid signature proves only that someone signed the image. If the signer does not chain to " +
			"the vendor's code-signing root (or is not the vendor's key), an attacker can sign a forged update " +
			"with a key of their own, and a device that checks only that some signature verifies installs it.",
		Remediation: "Confirm with the vendor which root or key signs its updates, name it in the policy " +
			"(code_signing.anchors, or the vendor's entry), and make devices pin that anchor rather than accept " +
			"any signature; treat an image signed by another key as untrusted until the vendor explains it.",
		References: references,
	}
}

func (untrusted) Check(c *rules.Context) {
	for _, u := range c.Set.Updates {
		if u.Cut || u.Verdict == "invalid" || u.Verdict == "unsigned" {
			continue
		}
		s, ok := best(u)
		if !ok || s.Trust != "untrusted" {
			continue
		}
		f := base(u)
		f.Evidence["signature"] = sigEvidence(s)
		who := s.Signer.Label()
		if who == "" {
			who = "an unknown signer"
		}
		f.Message = where(u) + " is signed by " + who + ", which does not chain to the policy's anchors"
		if !s.Verifies {
			f.Message += " (the signature could not be checked: " + s.Reason + ")"
		}
		c.Emit(f)
	}
}
