package tlsrules

import (
	"strconv"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(weakDH{}) }

// weakDH flags servers whose ServerKeyExchange carries a finite-field DH group smaller
// than the policy's minimum.
type weakDH struct{}

func (weakDH) Meta() rules.Meta {
	return rules.Meta{
		ID:      "tls-weak-dh",
		Covers:  negotiatedCoverage,
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskPatientData,
		Title:   "Weak Diffie-Hellman group",
		Default: findings.High,
		Rationale: "A finite-field Diffie-Hellman group below 2048 bits can be broken by a well-resourced " +
			"attacker (Logjam): 1024-bit groups, often shared by many servers, allow passive decryption of " +
			"the sessions that use them.",
		Remediation: "Configure a DH group of at least 2048 bits (the RFC 7919 ffdhe2048 or larger), or prefer " +
			"ECDHE suites and TLS 1.3.",
		References: []string{
			"NIST SP 800-52 Rev. 2, §3.3.1 (DH parameters of at least 2048 bits)",
			"RFC 7919: Negotiated Finite Field Diffie-Hellman Ephemeral Parameters for TLS",
			"Adrian et al., Imperfect Forward Secrecy: How Diffie-Hellman Fails in Practice (CCS 2015)",
		},
	}
}

func (weakDH) Check(c *rules.Context) {
	minBits := c.Policy.Thresholds.MinDHBits
	for _, g := range flagged(c, func(s *observe.TLSSession) bool { return s.DHBits > 0 && s.DHBits < minBits }) {
		host, port, _ := g.base()
		w := g.worst(func(s *observe.TLSSession) int { return s.DHBits })
		ev := g.evidence()
		ev["dh_bits"] = w.DHBits
		ev["min_dh_bits"] = minBits
		ev["version"] = observe.VersionName(w.Version)
		ev["cipher"] = observe.SuiteName(w.Suite)
		first, last := g.seen.First, g.seen.Last
		c.Emit(findings.Finding{
			Host:      host,
			Port:      port,
			Subject:   g.subject(),
			Message:   g.name() + " used a " + strconv.Itoa(w.DHBits) + "-bit Diffie-Hellman group with " + negotiated(w),
			Evidence:  ev,
			Time:      first,
			FirstSeen: first,
			LastSeen:  last,
			Source:    string(w.Source),
		})
	}
}
