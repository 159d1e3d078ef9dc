package certrules

import (
	"net/netip"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(nameMismatch{}) }

// nameMismatch flags a server leaf that does not carry the name the client asked for
// (SNI). Names are matched as RFC 6125 says: the subjectAltName DNS names (and IP
// addresses, for clients that put an address in SNI), case-insensitively and without a
// trailing dot; a wildcard only as the whole leftmost label, matching exactly one label,
// and never directly above a single-label suffix ("*.com"); the subject's common name
// only when the certificate has no DNS or IP subjectAltName at all. Certificates whose
// names lint did not read (no role decided) are not judged.
type nameMismatch struct{}

func (nameMismatch) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-name-mismatch",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Certificate does not match the server name",
		Default: findings.Medium,
		Rationale: "A client that checks the server's name refuses a certificate that does not carry it; " +
			"clients that keep working do not check names, so any certificate from any trusted CA (or any " +
			"device's certificate) can impersonate the server.",
		Remediation: "Issue the service a certificate whose subjectAltName lists every name clients use " +
			"(DNS names, and IP addresses where clients connect by address); stop relying on the common name.",
		References: []string{
			"RFC 6125, §6 (verifying service identity)",
			"RFC 9110, §4.3.4 (https certificate verification)",
			"NIST SP 800-52 Rev. 2, §3.5",
		},
	}
}

func (nameMismatch) Check(c *rules.Context) {
	for _, sc := range sentChains(c.Set) {
		if sc.client || sc.s.SNI == "" {
			continue
		}
		leaf := c.Set.Certificates[sc.chain[0]]
		if leaf == nil || leaf.Facts == nil || leaf.Facts.Role == "" || leaf.Facts.ParseError != "" && len(leaf.Facts.DNSNames) == 0 {
			continue
		}
		if nameMatches(leaf.Facts.DNSNames, leaf.Facts.IPAddresses, leaf.Facts.Subject, sc.s.SNI) {
			continue
		}
		who := rules.Presentation{Cert: leaf, Facts: leaf.Facts}.Name()
		f, ok := chainFinding(c, sc, "served certificate "+who+" for the name "+sc.s.SNI+", which it does not carry")
		if !ok {
			continue
		}
		f.Evidence["requested_name"] = sc.s.SNI
		f.Evidence["names"] = certNames(leaf.Facts.DNSNames, leaf.Facts.IPAddresses, leaf.Facts.Subject)
		c.Emit(f)
	}
}

// certNames lists the names a certificate answers to, for evidence.
func certNames(dns, ips []string, subject string) []string {
	out := append(append([]string{}, dns...), ips...)
	if len(out) == 0 {
		if cn := rules.Attribute(subject, "CN"); cn != "" {
			out = append(out, "CN="+cn)
		}
	}
	return out
}

// nameMatches reports whether a certificate with these names answers to host.
func nameMatches(dns, ips []string, subject, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if addr, err := netip.ParseAddr(host); err == nil {
		for _, ip := range ips {
			if a, err := netip.ParseAddr(ip); err == nil && a.Unmap() == addr.Unmap() {
				return true
			}
		}
		return false
	}
	names := dns
	if len(dns) == 0 && len(ips) == 0 {
		if cn := rules.Attribute(subject, "CN"); cn != "" {
			names = []string{cn}
		}
	}
	for _, n := range names {
		if dnsMatch(strings.ToLower(strings.TrimSuffix(n, ".")), host) {
			return true
		}
	}
	return false
}

// dnsMatch matches one lowercase pattern against a lowercase host name.
func dnsMatch(pattern, host string) bool {
	if pattern == host {
		return pattern != ""
	}
	rest, ok := strings.CutPrefix(pattern, "*.")
	if !ok || !strings.Contains(rest, ".") {
		return false
	}
	label, tail, ok := strings.Cut(host, ".")
	return ok && label != "" && tail == rest
}
