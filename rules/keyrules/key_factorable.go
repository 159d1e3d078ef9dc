package keyrules

import (
	"fmt"
	"slices"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(keyFactorable{}) }

// keyFactorable flags RSA keys whose modulus medscan has factored: by a prime shared
// with another key seen in any scan of the store (batch GCD), by Fermat's method, or by
// a small prime factor. The private key is then computable by anyone who sees the public
// keys; medscan keeps only the verdict, never a factor.
type keyFactorable struct{}

func (keyFactorable) Meta() rules.Meta {
	return rules.Meta{
		ID:      "key-factorable",
		Covers:  keyCoverage,
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskSharedSecrets,
		Title:   "Factorable RSA key",
		Default: findings.Critical,
		Rationale: "Two RSA keys that share a prime are both broken: one gcd of the public moduli gives the " +
			"prime, and with it both private keys. This happens when devices generate keys with too little " +
			"entropy at first boot, and was found in tens of thousands of embedded devices on the Internet. A " +
			"modulus whose primes are very close together falls to Fermat's method in a few steps, and one with " +
			"a small prime factor to trial division. medscan compares every RSA modulus it has ever stored, so " +
			"a key seen last month and one seen today are checked against each other.",
		Remediation: "Treat the private key as public: replace the key pair and certificate on the device at " +
			"once, after updating its firmware so the new key is generated with enough entropy (or by a fixed " +
			"generator), and revoke the old certificate where it was issued by a CA.",
		References: []string{
			"Heninger, Durumeric, Wustrow, Halderman, Mining Your Ps and Qs: Detection of Widespread Weak Keys in Network Devices, USENIX Security 2012",
			"D. J. Bernstein, How to find smooth parts of integers (batch GCD: product and remainder trees), 2004",
			"CVE-2022-26320 (Fermat-factorable keys); H. Böck, fermatattack.secvuln.info",
			"NIST SP 800-90A Rev. 1 (random bit generation for key generation)",
		},
	}
}

// factorReason says how the key was factored, in words, never with the factor.
func factorReason(method string, partners int) string {
	switch method {
	case factorFermat:
		return "its primes are close enough for Fermat's method"
	case factorSmallFactor:
		return "its modulus has a small prime factor"
	default:
		return fmt.Sprintf("it shares a prime with %d other %s seen by medscan", partners, plural(partners, "key", "keys"))
	}
}

// The methods lint and the store-wide check record in CertFacts.FactorMethod
// (lint.Factor*; rules do not import lint), checked by the test.
const (
	factorSharedPrime = "shared-prime"
	factorFermat      = "fermat"
	factorSmallFactor = "small-factor"
)

func (keyFactorable) Check(c *rules.Context) {
	for _, p := range c.Presentations() {
		f := p.Facts
		if !f.Factorable {
			continue
		}
		reason := factorReason(f.FactorMethod, len(f.SharedPrimeWith))
		if f.FactorMethod != factorSharedPrime && len(f.SharedPrimeWith) > 0 {
			reason += fmt.Sprintf(", and it shares a prime with %d other %s", len(f.SharedPrimeWith),
				plural(len(f.SharedPrimeWith), "key", "keys"))
		}
		ev := p.Evidence(p.FirstSeen)
		ev["spki_sha256"] = f.SPKISHA256
		ev["key_type"] = f.KeyType
		ev["key_bits"] = f.KeyBits
		ev["factor_method"] = f.FactorMethod
		if f.FactorMethod == factorFermat {
			ev[findings.EvidenceCVE] = []string{cveFermat}
		}
		if len(f.SharedPrimeWith) > 0 {
			ev["shares_prime_with"] = slices.Clone(f.SharedPrimeWith)
		}
		// Partners seen at other sites (the store-wide check records them in the Fleet):
		// one weak key generator across the fleet.
		if fl := c.Set.Fleet; fl != nil && len(fl.FactorSites[f.SPKISHA256]) > 1 {
			sites := fl.FactorSites[f.SPKISHA256]
			ev["sites"] = slices.Clone(sites)
			reason += ", across sites " + siteList(sites)
		}
		c.Emit(p.Place(findings.Finding{
			Subject: p.Cert.SHA256.String(),
			Message: fmt.Sprintf("%s served %s certificate %s whose %d-bit RSA key is factorable: %s",
				p.Describe(), p.ChainRole(), p.Name(), f.KeyBits, reason),
			Evidence:  ev,
			Time:      p.FirstSeen,
			FirstSeen: p.FirstSeen,
			LastSeen:  p.LastSeen,
			Source:    string(p.Source),
		}))
	}
}
