package keyrules

import (
	"fmt"
	"math"
	"slices"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(keyNotRotated{}) }

// keyNotRotated flags a server whose certificate was renewed while its key was kept,
// once that key has been in use there longer than the policy's key lifetime
// (thresholds.key_max_days). Renewal is the moment to rotate: a new certificate on an
// old key resets the certificate's clock and none of the key's exposure (every backup,
// every support engineer, every firmware dump that held it). Low up to twice the
// lifetime, medium beyond. The history is the store's: the first scan of an endpoint
// cannot know that a key is old, only a later one that saw its earlier certificate.
type keyNotRotated struct{}

func (keyNotRotated) Meta() rules.Meta {
	return rules.Meta{
		ID:      "key-not-rotated",
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Covers:  keyCoverage,
		Title:   "Certificate renewed on the same key",
		Default: findings.Low,
		Rationale: "When a server's certificate is renewed, its key pair should be replaced too. A key kept " +
			"across renewals for years has been exposed for years: every backup, image and engineer that ever " +
			"held it still can impersonate the server or, without forward secrecy, read its recorded traffic, " +
			"and a compromise years ago is still in force. Short certificates on an old key only look fresh.",
		Remediation: "Generate a new key pair at each renewal (certbot and most ACME clients do by default; " +
			"for device and middleware certificates, make key generation part of the renewal procedure), and " +
			"revoke the certificates of the old key. Set thresholds.key_max_days to the site's key lifetime.",
		References: []string{
			"NIST SP 800-57 Part 1 Rev. 5, §5.3.6 (cryptoperiods: one to two years for private authentication keys)",
			"NIST SP 1800-16, Securing Web Transactions: TLS Server Certificate Management (key rotation at renewal)",
			"IEC 62443-3-3, SR 1.9 (strength of public key authentication: certificate lifecycle)",
		},
	}
}

func (keyNotRotated) Check(c *rules.Context) {
	limit := c.Policy.Thresholds.KeyMaxDays
	for _, r := range c.Set.KeyRenewals {
		if r.Since.IsZero() || r.Seen.IsZero() {
			continue
		}
		days := int(math.Floor(r.Seen.Sub(r.Since).Hours() / 24))
		if days <= limit {
			continue
		}
		sev := findings.Low
		if days > 2*limit {
			sev = findings.Medium
		}
		host := findings.AddrText(r.Endpoint.Addr())
		c.Emit(findings.Finding{
			Host:     host,
			Port:     int(r.Endpoint.Port()),
			Subject:  r.SPKISHA256,
			Severity: sev,
			Message: fmt.Sprintf("%s kept the same key across %d certificates (newest %s) for %d days, longer than the key lifetime of %d days",
				findings.Target(host, int(r.Endpoint.Port())), len(r.Certificates), r.Subject, days, limit),
			Evidence: map[string]any{
				"spki_sha256":      r.SPKISHA256,
				"certificates":     slices.Clone(r.Certificates),
				"cert_sha256":      r.Certificates[len(r.Certificates)-1],
				"key_in_use_since": rules.TimeString(r.Since),
				"key_age_days":     days,
				"key_max_days":     limit,
				"earlier_scans":    slices.Clone(r.Scans),
			},
			Time:      r.Seen,
			FirstSeen: r.Seen,
			LastSeen:  r.Seen,
		})
	}
}
