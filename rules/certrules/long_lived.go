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

// longLived flags certificates valid for longer than their role's maximum. A client
// (device identity) certificate has its own limits (thresholds.client_max_days and
// client_high_days): the 825 days of the CA/Browser Forum govern publicly trusted server
// certificates, not a device's factory or site identity.
type longLived struct{}

func (longLived) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-long-lived",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Certificate validity too long",
		Default: findings.Medium,
		Rationale: "A long-lived certificate outlives the algorithms, keys and staff that made it: a stolen " +
			"key stays useful for years, and renewal is never practised. Server leaves are limited to 825 days " +
			"by the CA/Browser Forum (398 since 2020); a leaf valid for more than ten years is high severity. " +
			"Intermediate CAs beyond 15 years and self-signed roots beyond 25 years are flagged too. A client " +
			"certificate (a device identity: presented by a TLS client, or made for clientAuth or as an IEEE " +
			"802.1AR identity without serverAuth) is judged by its own limits, ten years by default (about a " +
			"clinical device's service life) and high beyond twenty (thresholds.client_max_days, " +
			"client_high_days). A device identity whose notAfter is 99991231235959Z (\"no well-defined " +
			"expiration\", IEEE 802.1AR) and whose key is strong is an identity meant to last the device's " +
			"life: it gets an informational note, not a finding of this rule's severity " +
			"(thresholds.devid_no_expiry; key-shared judges whether the key is unique).",
		Remediation: "Reissue the certificate with a validity within policy (at most 398 days for a server leaf) " +
			"and automate its renewal; for device identities, enrol a locally issued identity (an 802.1AR LDevID) " +
			"the site renews; for CA certificates, plan a rollover to a shorter-lived hierarchy.",
		References: []string{
			"CA/Browser Forum Baseline Requirements, §6.3.2 (certificate operational periods)",
			"NIST SP 800-57 Part 1 Rev. 5, §5.3 (cryptoperiods)",
			"IEEE 802.1AR-2018, §8.5 (DevID validity: no well-defined expiration)",
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
		what := role
		limit, high, key := t.LeafMaxDays, t.LeafHighDays, "leaf_max_days"
		switch {
		case role == rules.RoleIntermediate:
			limit, high, key = t.IntermediateMaxDays, 0, "intermediate_max_days"
		case role == rules.RoleRoot:
			limit, high, key = t.RootMaxDays, 0, "root_max_days"
		case clientCert(p):
			what = "device identity"
			limit, high, key = t.ClientMaxDays, t.ClientHighDays, "client_max_days"
		}
		days := p.Facts.ValidityDays
		if what == "device identity" && t.DevIDNoExpiry && devIDNoExpiry(p.Facts, t) {
			f := finding(p, p.FirstSeen, fmt.Sprintf("%s presented device identity %s with the IEEE 802.1AR "+
				"no-expiry date (notAfter 99991231235959Z, since %s): an identity for the device's life, "+
				"accepted by policy (thresholds.devid_no_expiry) with a strong key",
				p.Describe(), name(p), date(p.Facts.NotBefore)))
			f.Remediation = "None while its key is strong and the device's own: key-weak and key-shared judge " +
				"that. Set thresholds.devid_no_expiry to false to report such identities as long-lived."
			f.Evidence["cert_role"] = p.Facts.Role
			f.Evidence["no_well_defined_expiration"] = true
			f.Evidence["accepted_by"] = "thresholds.devid_no_expiry"
			c.EmitInfo(f)
			continue
		}
		if days <= limit {
			continue
		}
		f := finding(p, p.FirstSeen, fmt.Sprintf("%s served %s certificate %s, valid for %d days (%s to %s; limit %d)",
			p.Describe(), what, name(p), days, date(p.Facts.NotBefore), date(p.Facts.NotAfter), limit))
		if high > 0 && days > high {
			f.Severity = findings.High
		}
		f.Evidence["limit_days"] = limit
		f.Evidence["limit"] = "thresholds." + key
		if p.Facts.Role != "" {
			f.Evidence["cert_role"] = p.Facts.Role
		}
		if p.Facts.NotAfter.Equal(noExpiry) {
			f.Evidence["no_well_defined_expiration"] = true
		}
		c.Emit(f)
	}
}

// clientCert reports whether a leaf is judged as a client (device identity)
// certificate: one a TLS client presented, or one package lint gave the device identity
// role from its extensions (clientAuth without serverAuth, an 802.1AR hardwareModuleName)
// or from being sent by a client elsewhere. A certificate a server presents with an EKU
// that allows serving is a server certificate wherever else it appears, and is judged
// as one where it is served.
func clientCert(p rules.Presentation) bool {
	if p.ChainRole() != rules.RoleLeaf {
		return false
	}
	return p.Role == "client" || p.Facts.Role == lint.RoleDeviceIdentity
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
