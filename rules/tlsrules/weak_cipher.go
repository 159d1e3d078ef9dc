package tlsrules

import (
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(weakCipher{}) }

// weakCipher flags servers that negotiate a cipher suite with a broken or absent cipher,
// MAC or authentication.
type weakCipher struct{}

func (weakCipher) Meta() rules.Meta {
	return rules.Meta{
		ID:      "tls-weak-cipher",
		Covers:  negotiatedCoverage,
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskPatientData,
		Title:   "Weak TLS cipher suite negotiated",
		Default: findings.High,
		Rationale: "NULL suites send data in clear, anonymous suites authenticate no one, EXPORT suites were " +
			"weakened on purpose, and RC4, DES, 3DES (Sweet32), IDEA, RC2 and MD5 MACs are broken. A session " +
			"using them does not protect the patient data it carries. NULL, anonymous and EXPORT suites are " +
			"critical; the others high.",
		Remediation: "Restrict the server to AEAD suites with ECDHE key exchange (TLS_ECDHE_*_WITH_AES_*_GCM_*, " +
			"CHACHA20_POLY1305) and TLS 1.3; remove RC4, DES/3DES, IDEA, NULL, EXPORT and anonymous suites.",
		References: []string{
			"NIST SP 800-52 Rev. 2, §3.3.1 (cipher suites)",
			"RFC 7465: Prohibiting RC4 Cipher Suites",
			"RFC 9325: Recommendations for Secure Use of TLS and DTLS, §4.1",
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
		},
	}
}

// weakness lists why a suite is weak, and whether that is critical; nil when it is not
// weak or unknown.
func weakness(id uint16) (reasons []string, critical bool) {
	si, ok := observe.Suite(id)
	if !ok {
		return nil, false
	}
	if si.Cipher == "NULL" {
		reasons, critical = append(reasons, "NULL cipher"), true
	}
	if si.Anonymous {
		reasons, critical = append(reasons, "anonymous key exchange"), true
	}
	if si.Export {
		reasons, critical = append(reasons, "EXPORT"), true
	}
	switch si.Cipher {
	case "RC4", "DES", "3DES", "IDEA", "RC2":
		reasons = append(reasons, si.Cipher)
	}
	if si.MAC == "MD5" {
		reasons = append(reasons, "MD5 MAC")
	}
	return reasons, critical
}

func (weakCipher) Check(c *rules.Context) {
	for _, g := range flagged(c, func(s *observe.TLSSession) bool {
		if s.Version == 0x0002 {
			return false
		}
		r, _ := weakness(s.Suite)
		return len(r) > 0
	}) {
		host, port, _ := g.base()
		w := g.worst(func(s *observe.TLSSession) int {
			if _, crit := weakness(s.Suite); crit {
				return 0
			}
			return 1
		})
		reasons, crit := weakness(w.Suite)
		sev := findings.High
		if crit {
			sev = findings.Critical
		}
		var all []string
		for _, s := range g.sessions {
			r, _ := weakness(s.Suite)
			for _, x := range r {
				all = rules.AddSorted(all, x)
			}
		}
		ev := g.evidence()
		ev["version"] = observe.VersionName(w.Version)
		ev["cipher"] = observe.SuiteName(w.Suite)
		ev["weaknesses"] = all
		first, last := g.seen.First, g.seen.Last
		c.Emit(findings.Finding{
			Severity:  sev,
			Host:      host,
			Port:      port,
			Subject:   g.subject(),
			Message:   g.name() + " negotiated " + negotiated(w) + " (" + strings.Join(reasons, ", ") + ")",
			Evidence:  ev,
			Time:      first,
			FirstSeen: first,
			LastSeen:  last,
			Source:    string(w.Source),
		})
	}
}
