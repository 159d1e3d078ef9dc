package tlsrules

import (
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(noForwardSecrecy{}) }

// noForwardSecrecy flags servers that negotiate TLS 1.2-or-older suites whose session
// keys derive from the server's long-term key.
type noForwardSecrecy struct{}

func (noForwardSecrecy) Meta() rules.Meta {
	return rules.Meta{
		ID:      "tls-no-forward-secrecy",
		Covers:  negotiatedCoverage,
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskPatientData,
		Title:   "TLS session without forward secrecy",
		Default: findings.Medium,
		Rationale: "With static RSA (or static DH/PSK) key exchange every session key can be recovered from " +
			"the server's private key: whoever records today's traffic and later obtains that key (a stolen " +
			"backup, a decommissioned device) decrypts years of patient data.",
		Remediation: "Prefer ECDHE (or DHE with a group of at least 2048 bits) suites and TLS 1.3 on the server; " +
			"remove TLS_RSA_* suites once every client supports an ephemeral key exchange.",
		References: []string{
			"NIST SP 800-52 Rev. 2, §3.3.1 (ephemeral key exchange preferred)",
			"RFC 9325: Recommendations for Secure Use of TLS and DTLS, §4.1",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (encryption)",
		},
	}
}

func (noForwardSecrecy) Check(c *rules.Context) {
	for _, g := range flagged(c, func(s *observe.TLSSession) bool {
		if s.Version == 0x0002 || s.Version >= 0x0304 {
			return false
		}
		si, ok := observe.Suite(s.Suite)
		return ok && !si.ForwardSecret && si.KeyExchange != "TLS13"
	}) {
		host, port, w := g.base()
		si, _ := observe.Suite(w.Suite)
		ev := g.evidence()
		ev["version"] = observe.VersionName(w.Version)
		ev["cipher"] = si.Name
		ev["key_exchange"] = si.KeyExchange
		first, last := g.seen.First, g.seen.Last
		c.Emit(findings.Finding{
			Host:      host,
			Port:      port,
			Subject:   g.subject(),
			Message:   g.name() + " negotiated " + negotiated(w) + ", whose " + si.KeyExchange + " key exchange has no forward secrecy",
			Evidence:  ev,
			Time:      first,
			FirstSeen: first,
			LastSeen:  last,
			Source:    string(w.Source),
		})
	}
}
