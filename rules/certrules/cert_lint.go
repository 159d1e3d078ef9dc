package certrules

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(certLint{}) }

// lintSeverity maps a zlint status to a finding's severity, the one table for it.
//   - fatal: zlint could not even read what it checks (a malformed extension), or medscan
//     could not parse the certificate at all: strict relying parties refuse it, lenient
//     ones read it in ways no one can predict, so whether it authenticates anything is
//     unknowable. High.
//   - error: a MUST of the profile is broken. Validators diverge on such certificates and
//     the divergence is how name and constraint checks are bypassed; it is rarely an
//     attack by itself. Medium.
//   - warn: a SHOULD is not followed: hygiene, worth fixing at the next reissue. Low.
var lintSeverity = map[string]findings.Severity{
	"fatal": findings.High,
	"error": findings.Medium,
	"warn":  findings.Low,
}

// certLint turns zlint's results for each certificate's role and PKI into findings.
type certLint struct{}

func (certLint) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-lint",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Certificate breaks its profile (zlint)",
		Default: findings.Medium,
		Rationale: "A certificate that breaks RFC 5280 (or, for public WebPKI certificates, the CA/Browser " +
			"Forum and browser programme rules) is read differently by different validators, or refused by " +
			"strict ones; such divergence is where name and constraint checks get bypassed. zlint's lints are " +
			"chosen by the certificate's role and PKI: the IETF profile always, the CA/Browser Forum rulebook " +
			"only for public WebPKI server certificates and their CAs, never for a device identity. The lint's " +
			"status sets the severity: fatal high, error medium, warn low. A certificate medscan cannot parse " +
			"at all is reported as lint medscan_x509_parse, fatal.",
		Remediation: "Reissue the certificate from a CA profile that follows RFC 5280 (and the Baseline " +
			"Requirements for public certificates); the lint's citation names the clause. For device " +
			"certificates, ask the manufacturer for a conforming profile.",
		References: []string{
			"RFC 5280, Internet X.509 Public Key Infrastructure Certificate and CRL Profile",
			"CA/Browser Forum Baseline Requirements, §7.1 (certificate profile)",
			"zlint v3, https://github.com/zmap/zlint",
		},
	}
}

func (certLint) Check(c *rules.Context) {
	for _, p := range c.Presentations() {
		results := p.Facts.Lints
		if p.Facts.ParseError != "" {
			results = append([]observe.CertLint{{Name: "medscan_x509_parse", Status: "fatal", Source: "medscan",
				Citation: "RFC 5280, §4.1", Description: "the certificate does not parse as X.509",
				Details: p.Facts.ParseError}}, results...)
		}
		for _, l := range results {
			sev, ok := lintSeverity[l.Status]
			if !ok {
				continue
			}
			what := l.Description
			if what == "" {
				what = l.Name
			}
			f := finding(p, p.FirstSeen, fmt.Sprintf("%s presented %s, which fails %s (%s): %s",
				p.Describe(), name(p), l.Name, l.Status, what))
			f.Subject = p.Cert.SHA256.String() + ":" + l.Name
			f.Severity = sev
			f.Evidence["lint"] = l.Name
			f.Evidence["lint_status"] = l.Status
			f.Evidence["lint_source"] = l.Source
			f.Evidence["lint_citation"] = l.Citation
			if l.Details != "" {
				f.Evidence["lint_details"] = l.Details
			}
			f.Evidence["cert_role"] = p.Facts.Role
			f.Evidence["webpki"] = p.Facts.WebPKI
			c.Emit(f)
		}
	}
}
