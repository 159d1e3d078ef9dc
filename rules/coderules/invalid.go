package coderules

import (
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(invalid{}) }

// invalid flags an image whose signatures were checked and none verifies: modified after
// signing, or a signature (or checksum list) made for another file.
type invalid struct{}

func (invalid) Meta() rules.Meta {
	return rules.Meta{
		ID:      "update-signature-invalid",
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskForgedUpdate,
		Covers:  covers,
		Title:   "Update image whose signature does not verify",
		Default: findings.Critical,
		Rationale: "A signature that does not verify over the image is what tampering looks like: the image was " +
			"changed after it was signed, or the signature (or checksum list) belongs to another file. A device " +
			"that installs it anyway runs code nobody vouched for.",
		Remediation: "Do not install this image. Compare its SHA-256 with the vendor's published one, obtain a " +
			"fresh copy from the vendor over an authenticated channel, find out how the served copy was changed " +
			"(update server compromise, path manipulation), and make devices refuse images whose signature fails.",
		References: references,
	}
}

func (invalid) Check(c *rules.Context) {
	for _, u := range c.Set.Updates {
		if u.Verdict != "invalid" || u.Cut {
			continue
		}
		f := base(u)
		var sigs []map[string]any
		reason := ""
		for _, s := range u.Signatures {
			sigs = append(sigs, sigEvidence(s))
			if s.Checked && !s.Verifies && reason == "" {
				reason = s.Reason
			}
		}
		f.Evidence["signatures"] = sigs
		f.Message = where(u) + ": signature does not verify (" + reason + ")"
		c.Emit(f)
	}
}
