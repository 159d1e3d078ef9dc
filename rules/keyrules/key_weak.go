package keyrules

import (
	"fmt"
	"slices"
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
		Covers:  keyCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Weak public key",
		Default: findings.High,
		Rationale: "RSA keys below 2048 bits, any DSA key, and elliptic-curve keys below 256 bits fall short " +
			"of current minimums; RSA keys below 1024 bits are factorable with public tools (critical). An RSA " +
			"exponent of 1 is no encryption at all (critical), an even exponent is not a valid RSA key, and an " +
			"exponent below 65537 (3, 17) is outside what FIPS 186-5 allows and is what makes sloppy signature " +
			"checks forgeable (low). A modulus with the ROCA fingerprint (CVE-2017-15361, Infineon RSALib: TPMs, " +
			"smart cards, embedded devices) can be factored from the public key (critical below 2048 bits); one " +
			"divisible by a small prime, or whose primes are close enough for Fermat's method, has in effect been " +
			"factored already (critical); a key on the site's blocklist of known-compromised keys is critical.",
		Remediation: "Generate a new key pair (RSA 2048 bits or more with exponent 65537, or ECDSA P-256 or " +
			"larger) on a generator without the flaw (update the device's firmware or TPM/smart-card library for " +
			"ROCA) and reissue the certificate; for a weak CA key in the chain, move to the CA's current hierarchy.",
		References: []string{
			"NIST SP 800-57 Part 1 Rev. 5, §5.6.1 (comparable algorithm strengths)",
			"NIST SP 800-131A Rev. 2, §3 and §4 (key lengths; DSA signature generation disallowed)",
			"CA/Browser Forum Baseline Requirements, §6.1.5 and §6.1.6 (key sizes, RSA exponent)",
			"NIST SP 800-52 Rev. 2, §3.2 (server key sizes)",
			"FIPS 186-5, §A.1.1 (RSA public exponent 2^16 < e < 2^256)",
			"CVE-2017-15361 (ROCA); Nemec et al., The Return of Coppersmith's Attack, ACM CCS 2017",
			"CVE-2022-26320 (Fermat-factorable keys); H. Böck, fermatattack.secvuln.info",
		},
	}
}

// The key flaws lint.ExamineKeys records in CertFacts.KeyFlaws.
const (
	flawROCA        = "roca"
	flawSmallFactor = "small-factor"
	flawFermat      = "fermat"
	flawBlocklisted = "blocklisted"
)

// minRSAExponent is FIPS 186-5's lower bound (exclusive bound 2^16, so 65537 is the least).
const minRSAExponent = 65537

// judge returns the reasons a key is weak and the severity they add up to (the highest
// of theirs); no reasons when it is fine or when nothing is known about it.
func judge(f *observe.CertFacts, t rules.Thresholds) (reasons []string, sev findings.Severity) {
	sev = findings.Low
	add := func(s findings.Severity, reason string) {
		reasons = append(reasons, reason)
		if s > sev {
			sev = s
		}
	}
	switch f.KeyType {
	case "rsa":
		if f.KeyBits > 0 && f.KeyBits < t.MinRSABits {
			s := findings.High
			if f.KeyBits < t.CriticalRSABits {
				s = findings.Critical
			}
			add(s, fmt.Sprintf("%d-bit RSA key (minimum %d)", f.KeyBits, t.MinRSABits))
		}
		switch e := f.RSAExponent; {
		case e == 1:
			add(findings.Critical, "RSA exponent 1")
		case e > 0 && e%2 == 0:
			add(findings.High, fmt.Sprintf("even RSA exponent %d", e))
		case e > 1 && e < minRSAExponent:
			add(findings.Low, fmt.Sprintf("RSA exponent %d (below %d)", e, minRSAExponent))
		}
	case "dsa":
		add(findings.High, fmt.Sprintf("%d-bit DSA key (DSA is deprecated)", f.KeyBits))
	case "ecdsa":
		if f.KeyBits > 0 && f.KeyBits < t.MinECBits {
			add(findings.High, fmt.Sprintf("%d-bit EC key on %s (minimum %d)", f.KeyBits, f.Curve, t.MinECBits))
		}
	}
	// The codes are lint's (lint.Flaw*; rules do not import lint), checked by the test.
	for _, flaw := range f.KeyFlaws {
		switch flaw {
		case flawROCA:
			s := findings.High
			if f.KeyBits < 2048 {
				s = findings.Critical
			}
			add(s, "ROCA fingerprint (CVE-2017-15361): an Infineon RSALib key, factorable from the public key")
		case flawSmallFactor:
			add(findings.Critical, "modulus divisible by a small prime: factored by trial division")
		case flawFermat:
			add(findings.Critical, "primes too close together: factored by Fermat's method")
		case flawBlocklisted:
			add(findings.Critical, "on the key blocklist of known-compromised keys")
		}
	}
	return reasons, sev
}

// flawCVEs names the published vulnerabilities a key's flaws are instances of, for
// exports that file such a finding as a vulnerability (OCSF, DefectDojo): ROCA is
// CVE-2017-15361, and Fermat-factorable keys were published as CVE-2022-26320. A small
// factor or a blocklisted key has no CVE of its own.
func flawCVEs(flaws []string) []string {
	var out []string
	for _, f := range flaws {
		var cve string
		switch f {
		case flawROCA:
			cve = cveROCA
		case flawFermat:
			cve = cveFermat
		}
		if cve != "" && !slices.Contains(out, cve) {
			out = append(out, cve)
		}
	}
	return out
}

// The CVEs the key rules cite (their references name them too).
const (
	cveROCA   = "CVE-2017-15361"
	cveFermat = "CVE-2022-26320"
)

func (keyWeak) Check(c *rules.Context) {
	for _, p := range c.Presentations() {
		reasons, sev := judge(p.Facts, c.Policy.Thresholds)
		if len(reasons) == 0 {
			continue
		}
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
		if len(p.Facts.KeyFlaws) > 0 {
			ev["key_flaws"] = slices.Clone(p.Facts.KeyFlaws)
		}
		if cves := flawCVEs(p.Facts.KeyFlaws); len(cves) > 0 {
			ev[findings.EvidenceCVE] = cves
		}
		c.Emit(p.Place(findings.Finding{
			Severity: sev,
			Subject:  p.Cert.SHA256.String(),
			Message: fmt.Sprintf("%s served %s certificate %s with a weak key: %s",
				p.Describe(), p.ChainRole(), subj, strings.Join(reasons, "; ")),
			Evidence:  ev,
			Time:      p.FirstSeen,
			FirstSeen: p.FirstSeen,
			LastSeen:  p.LastSeen,
			Source:    string(p.Source),
		}))
	}
}
