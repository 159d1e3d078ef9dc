package certrules

import (
	"fmt"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(longLived{}) }

// longLived flags certificates valid for longer than their role's maximum.
type longLived struct{}

func (longLived) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-long-lived",
		Covers:  certificateCoverage,
		Title:   "Certificate validity too long",
		Default: findings.Medium,
		Rationale: "A long-lived certificate outlives the algorithms, keys and staff that made it: a stolen " +
			"key stays useful for years, and renewal is never practised. Leaves are limited to 825 days by " +
			"the CA/Browser Forum (398 since 2020); a leaf valid for more than ten years is high severity. " +
			"Intermediate CAs beyond 15 years and self-signed roots beyond 25 years are flagged too. The one " +
			"exception is an IEEE 802.1AR device identity whose notAfter is 99991231235959Z (\"no well-defined " +
			"expiration\") and whose key is strong: an identity meant to last the device's life " +
			"(thresholds.devid_no_expiry; key-shared judges whether the key is unique).",
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
		if days <= limit || (role == rules.RoleLeaf && t.DevIDNoExpiry && devIDNoExpiry(p.Facts, t)) {
			continue
		}
		f := finding(p, p.FirstSeen, fmt.Sprintf("%s served %s certificate %s, valid for %d days (%s to %s; limit %d)",
			p.Describe(), role, name(p), days, date(p.Facts.NotBefore), date(p.Facts.NotAfter), limit))
		if role == rules.RoleLeaf && days > t.LeafHighDays {
			f.Severity = findings.High
		}
		f.Evidence["limit_days"] = limit
		if p.Facts.Role != "" {
			f.Evidence["cert_role"] = p.Facts.Role
		}
		if p.Facts.NotAfter.Equal(noExpiry) {
			f.Evidence["no_well_defined_expiration"] = true
		}
		c.Emit(f)
	}
}

// noExpiry is the notAfter of a certificate with no well-defined expiration date
// (RFC 5280 §4.1.2.5, IEEE 802.1AR §8.5): GeneralizedTime 99991231235959Z.
var noExpiry = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// devIDNoExpiry reports whether a certificate is a device identity whose notAfter is
// the 802.1AR "no well-defined expiration" value and whose key is strong, the one case
// where a lifetime without end is by design: an IDevID lives as long as the device.
// Whether its key is unique is key-shared's judgement, not this rule's; a shared key
// is reported there whatever the lifetime.
func devIDNoExpiry(f *observe.CertFacts, t rules.Thresholds) bool {
	if f.Role != lint.RoleDeviceIdentity || !f.NotAfter.Equal(noExpiry) {
		return false
	}
	switch f.KeyType {
	case "rsa":
		return f.KeyBits >= t.MinRSABits
	case "ecdsa":
		return f.KeyBits >= t.MinECBits
	case "ed25519":
		return true
	}
	return false
}
