package tlsrules

import (
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(legacyVersion{}) }

// legacyVersion flags servers that negotiate a protocol version the policy calls legacy.
type legacyVersion struct{}

func (legacyVersion) Meta() rules.Meta {
	return rules.Meta{
		ID:      "tls-legacy-version",
		Covers:  negotiatedCoverage,
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskPatientData,
		Title:   "Legacy SSL/TLS protocol version negotiated",
		Default: findings.High,
		Rationale: "SSLv2 and SSLv3 are broken (DROWN, POODLE) and TLS 1.0 and 1.1 are deprecated: they " +
			"rely on MD5/SHA-1 in the handshake and CBC constructions with known attacks. A server that " +
			"negotiates them exposes clinical traffic to downgrade and decryption. SSL is critical, TLS 1.0/1.1 high.",
		Remediation: "Enable TLS 1.2 and 1.3 only on the server (and, for embedded devices, ask the manufacturer " +
			"for firmware that supports them); upgrade or replace clients that cannot negotiate TLS 1.2.",
		References: []string{
			"NIST SP 800-52 Rev. 2, §3.1 (TLS 1.2 required, TLS 1.3 supported)",
			"RFC 8996: Deprecating TLS 1.0 and TLS 1.1",
			"RFC 7568: Deprecating Secure Sockets Layer Version 3.0",
			"RFC 6176: Prohibiting SSL Version 2.0",
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
		},
	}
}

// versionRank orders versions oldest first, so the oldest negotiated one is reported.
func versionRank(s *observe.TLSSession) int {
	if s.Version == 0x0002 {
		return 0
	}
	return int(s.Version)
}

func (legacyVersion) Check(c *rules.Context) {
	for _, g := range flagged(c, func(s *observe.TLSSession) bool {
		return c.Policy.IsLegacy(observe.VersionName(s.Version))
	}) {
		host, port, _ := g.base()
		w := g.worst(versionRank)
		sev := findings.High
		if strings.HasPrefix(observe.VersionName(w.Version), "SSL") {
			sev = findings.Critical
		}
		ev := g.evidence()
		ev["version"] = observe.VersionName(w.Version)
		if w.Version != 0x0002 {
			ev["cipher"] = observe.SuiteName(w.Suite)
		}
		first, last := g.seen.First, g.seen.Last
		c.Emit(findings.Finding{
			Severity:  sev,
			Host:      host,
			Port:      port,
			Subject:   g.subject(),
			Message:   g.name() + " negotiated " + negotiated(w),
			Evidence:  ev,
			Time:      first,
			FirstSeen: first,
			LastSeen:  last,
			Source:    string(w.Source),
		})
	}
}
