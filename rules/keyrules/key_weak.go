package keyrules

import (
	"fmt"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(keyWeak{}) }

// keyWeak flags certificates whose public key is too small or malformed for its algorithm.
type keyWeak struct{}

func (keyWeak) Meta() rules.Meta {
	return rules.Meta{
		ID:      "key-weak",
		Title:   "Weak public key",
		Default: findings.High,
		Rationale: "RSA keys below 2048 bits, any DSA key, and elliptic-curve keys below 256 bits fall short " +
			"of current minimums; RSA keys below 1024 bits are factorable with public tools (critical). An RSA " +
			"exponent of 1 is no encryption at all (critical), and an even exponent is not a valid RSA key.",
		Remediation: "Generate a new key pair (RSA 2048 bits or more, or ECDSA P-256 or larger) and reissue the " +
			"certificate; for a weak CA key in the chain, move to the CA's current hierarchy.",
		References: []string{
			"NIST SP 800-57 Part 1 Rev. 5, §5.6.1 (comparable algorithm strengths)",
			"NIST SP 800-131A Rev. 2, §3 and §4 (key lengths; DSA signature generation disallowed)",
			"CA/Browser Forum Baseline Requirements, §6.1.5 (key sizes)",
			"NIST SP 800-52 Rev. 2, §3.2 (server key sizes)",
		},
	}
}

// judge returns the reasons a key is weak and the severity they add up to; no reasons
// when it is fine or when nothing is known about it.
func judge(f *observe.CertFacts, t rules.Thresholds) (reasons []string, sev findings.Severity) {
	sev = findings.High
	switch f.KeyType {
	case "rsa":
		if f.KeyBits > 0 && f.KeyBits < t.MinRSABits {
			reasons = append(reasons, fmt.Sprintf("%d-bit RSA key (minimum %d)", f.KeyBits, t.MinRSABits))
			if f.KeyBits < t.CriticalRSABits {
				sev = findings.Critical
			}
		}
		switch {
		case f.RSAExponent == 1:
			reasons = append(reasons, "RSA exponent 1")
			sev = findings.Critical
		case f.RSAExponent > 0 && f.RSAExponent%2 == 0:
			reasons = append(reasons, fmt.Sprintf("even RSA exponent %d", f.RSAExponent))
		}
	case "dsa":
		reasons = append(reasons, fmt.Sprintf("%d-bit DSA key (DSA is deprecated)", f.KeyBits))
	case "ecdsa":
		if f.KeyBits > 0 && f.KeyBits < t.MinECBits {
			reasons = append(reasons, fmt.Sprintf("%d-bit EC key on %s (minimum %d)", f.KeyBits, f.Curve, t.MinECBits))
		}
	}
	return reasons, sev
}

func (keyWeak) Check(c *rules.Context) {
	for _, p := range c.Presentations() {
		reasons, sev := judge(p.Facts, c.Policy.Thresholds)
		if len(reasons) == 0 {
			continue
		}
		host, port := rules.HostPort(p.Endpoint)
		subj := p.Name()
		ev := p.Evidence(p.FirstSeen)
		ev["key_type"] = p.Facts.KeyType
		ev["key_bits"] = p.Facts.KeyBits
		ev["weaknesses"] = reasons
		if p.Facts.Curve != "" {
			ev["curve"] = p.Facts.Curve
		}
		if p.Facts.RSAExponent != 0 {
			ev["rsa_exponent"] = p.Facts.RSAExponent
		}
		ev["spki_sha256"] = p.Facts.SPKISHA256
		c.Emit(findings.Finding{
			Severity: sev,
			Host:     host,
			Port:     port,
			Subject:  p.Cert.SHA256.String(),
			Message: fmt.Sprintf("%s served %s certificate %s with a weak key: %s",
				p.Describe(), p.ChainRole(), subj, strings.Join(reasons, "; ")),
			Evidence:  ev,
			Time:      p.FirstSeen,
			FirstSeen: p.FirstSeen,
			LastSeen:  p.LastSeen,
			Source:    string(p.Source),
		})
	}
}
