package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	zl "github.com/zmap/zlint/v3/lint"

	"github.com/medscan/medscan/observe"
)

// baseSources are the lint sources that apply to every certificate whatever its PKI:
// the IETF profiles (RFC 5280 and the RFCs it leans on for algorithms, names and
// certificate transparency) and zlint's community lints, which check encodings every
// relying party trips over (NUL bytes in names, wildcards in the wrong label, a
// non-positive validity).
var baseSources = zl.SourceList{
	zl.RFC3279, zl.RFC5280, zl.RFC5480, zl.RFC5891, zl.RFC6960, zl.RFC6962, zl.RFC8813, zl.Community,
}

// webSources are the rulebooks of the public TLS WebPKI: they bind CAs that chain to
// the browsers' roots, and say nothing about a hospital's private PKI or a device's
// factory identity.
var webSources = zl.SourceList{
	zl.CABFBaselineRequirements, zl.CABFEVGuidelines,
	zl.MozillaRootStorePolicy, zl.AppleRootStorePolicy, zl.ChromeRootStorePolicy,
}

// alwaysExcluded are lints medscan runs itself: each key is examined once by the key
// rules (key-weak's Fermat check), and a second report of the same weakness per
// certificate would only add noise.
var alwaysExcluded = []string{"e_rsa_fermat_factorization"}

// privateExcluded are lints filed under RFC 5280 or Community that judge DNS names
// against the public suffix list: they find the "second-level domain" or the "bare
// public suffix" of a name, notions of the public DNS that mean nothing for a private
// namespace (pump-01.ward.internal, single-label device names). They run only on
// public WebPKI certificates, where that notion is the registrable domain.
var privateExcluded = []string{
	"e_rfc_dnsname_hyphen_in_sld",
	"e_rfc_dnsname_underscore_in_sld",
	"w_rfc_dnsname_underscore_in_trd",
	"n_san_iana_pub_suffix_empty",
	"w_ian_iana_pub_suffix_empty",
}

// selfSignedExcluded are lints whose verdict on a self-signed certificate contradicts
// RFC 5280, dropped for every certificate whose self-signature verifies (CertFacts.
// SelfSigned), with why.
//
// e_ext_authority_key_identifier_no_key_identifier: RFC 5280 §4.2.1.1 lets a
// self-signed certificate omit the authority key identifier (its issuer's key is its
// own, and the subject key identifier is all path building needs), and the lint's own
// description says it is about "non-self-issued certificates"; zlint grants the
// exception only when the certificate is also a CA, so it fails every self-signed
// device leaf (a pump's factory certificate) that cert-self-signed already reports. A
// self-issued certificate whose signature does not verify with its own key (a CA's key
// rollover) is not self-signed and keeps the lint: there the identifier matters.
//
// e_sub_cert_or_sub_ca_using_sha1, w_sub_cert_sha1_expiration_too_long: the Baseline
// Requirements' SHA-1 sunset is about what a CA signs, "Subscriber certificates or
// Subordinate CA certificates" in the lint's own words, and a self-signed certificate is
// neither. Its signature is made with its own key and vouches for nothing, which is why
// cert-weak-signature leaves self-signed certificates alone; with webpki: always, these
// two lints would raise the same complaint under cert-lint. A CA-issued certificate
// keeps them.
var selfSignedExcluded = []string{
	"e_ext_authority_key_identifier_no_key_identifier",
	"e_sub_cert_or_sub_ca_using_sha1",
	"w_sub_cert_sha1_expiration_too_long",
}

// compromisedCALints are zlint's lints that look for the keys of one named CA known to
// be compromised, with the names (issuer commonName) that CA's certificates carry. Such
// a lint verifies the certificate's signature with every key on its list (eight P-384
// verifications for eMudhra's, 81% of medscan lint's time on a device fleet before it
// was gated), so it runs only on a certificate whose issuer carries one of the names:
// a certificate signed by one of those keys names that CA as its issuer, since no
// relying party would otherwise build a path through it. A forger holding the key who
// writes another issuer name makes a certificate nothing chains, which the chain rules
// report. The names come from the lint's source (zlint v3.7.3,
// lints/community/lint_cert_issued_by_compromised_emudhra_ca.go); TestCompromisedCALints
// fails when a zlint upgrade brings a compromised-CA lint that is not listed here.
var compromisedCALints = map[string][]string{
	"e_cert_issued_by_compromised_emudhra_ca": {
		"EM EV TLS CA - G3B", "EM OV TLS CA - G3B", "EM DV TLS CA - G3B",
		"EM EV TLS CA - G3C", "EM OV TLS CA - G3C", "EM DV TLS CA - G3C",
		"EM OV CS CA - G3B", "EM OV CS CA - G3C",
	},
}

// compromisedIssuers maps each compromised CA's name, folded by foldName, to its lint.
var compromisedIssuers = func() map[string]string {
	m := map[string]string{}
	for lint, names := range compromisedCALints {
		for _, n := range names {
			m[foldName(n)] = lint
		}
	}
	return m
}()

// foldName compares names as RFC 5280 §7.1 has relying parties compare them (after RFC
// 4518's preparation): case folded, leading and trailing space dropped, inner runs of
// space collapsed. It is cheaper than a signature check by four orders of magnitude.
func foldName(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// compromisedCAFor returns the compromised-CA lints whose CA names the certificate's
// issuer carries (any commonName of the issuer), sorted; nil for nearly every
// certificate.
func compromisedCAFor(zc *zx509.Certificate) []string {
	var out []string
	for _, v := range zc.Issuer.CommonNames {
		if l, ok := compromisedIssuers[foldName(v)]; ok && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// registryKey says which of zlint's lints a certificate gets: its role, whether it is
// public WebPKI, and the compromised-CA lints its issuer calls for (joined by commas).
type registryKey struct {
	role        string
	public      bool
	compromised string
}

var (
	regMu      sync.RWMutex
	registries = map[registryKey]zl.Registry{}
)

// sourcesFor is the lint sources that apply to a role in a PKI. CA/Browser Forum and
// root-programme lints apply only to public WebPKI certificates that play a role those
// rulebooks govern (TLS server leaves and the CAs above them); the code-signing
// Baseline Requirements only to public code-signing leaves. A device identity, or a
// leaf of no known purpose, gets the IETF profile alone, whichever PKI issued it.
func sourcesFor(role string, public bool) zl.SourceList {
	src := slices.Clone(baseSources)
	if !public {
		return src
	}
	switch role {
	case RoleTrustAnchor, RoleIntermediate, RoleTLSServer:
		src = append(src, webSources...)
	case RoleCodeSigning:
		src = append(src, zl.CABFCSBaselineRequirements)
	}
	return src
}

// registryFor returns zlint's registry filtered for a role and PKI, without the
// compromised-CA lints, built once and shared by every certificate of that kind.
func registryFor(role string, public bool) (zl.Registry, error) {
	return registryWith(registryKey{role: role, public: public})
}

// registryWith returns zlint's registry for k, built once: zlint's filter copies the
// registry, which costs more than linting a certificate.
func registryWith(k registryKey) (zl.Registry, error) {
	regMu.RLock()
	r := registries[k]
	regMu.RUnlock()
	if r != nil {
		return r, nil
	}
	regMu.Lock()
	defer regMu.Unlock()
	if r := registries[k]; r != nil {
		return r, nil
	}
	excl := slices.Clone(alwaysExcluded)
	if !k.public {
		excl = append(excl, privateExcluded...)
	}
	want := strings.Split(k.compromised, ",")
	for name := range compromisedCALints {
		if !slices.Contains(want, name) {
			excl = append(excl, name)
		}
	}
	slices.Sort(excl)
	r, err := zl.GlobalRegistry().Filter(zl.FilterOptions{IncludeSources: sourcesFor(k.role, k.public), ExcludeNames: excl})
	if err != nil {
		return nil, fmt.Errorf("lint: zlint registry for %s: %w", k.role, err)
	}
	registries[k] = r
	return r, nil
}

// clockLints are zlint's lints whose verdict depends on the day they run, not only on
// the certificate: they ask whether a name's top-level domain is delegated now
// (util.HasValidTLD with time.Now), so a TLD withdrawn from the root zone changes their
// answer for the same certificate. Results from a registry holding one of them are
// never kept in the lint cache (cache.go). TestClockLints reads zlint's source and fails
// when a zlint upgrade brings another lint that reads the clock and is not listed here.
var clockLints = []string{
	"w_sub_cert_aia_contains_internal_names",
	"w_smime_aia_contains_internal_names",
}

// readsClock says whether a registry holds one of clockLints.
func readsClock(reg zl.Registry) bool {
	for _, name := range clockLints {
		if reg.ByName(name) != nil {
			return true
		}
	}
	return false
}

// runZLint lints one parsed certificate for its role and PKI and returns the results
// at warn or worse, sorted by name, leaving out selfSignedExcluded when selfSigned (the
// certificate's facts say its self-signature verifies), and whether a lint that ran
// reads the clock (clockLints: then the results must not be kept for a later day). A
// lint that panics on a malformed certificate is reported as an error of the run,
// never propagated: one certificate must not stop a scan.
func runZLint(zc *zx509.Certificate, role string, public, selfSigned bool) (out []observe.CertLint, clock bool, err error) {
	reg, err := registryWith(registryKey{role: role, public: public, compromised: strings.Join(compromisedCAFor(zc), ",")})
	if err != nil {
		return nil, false, err
	}
	clock = readsClock(reg)
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("zlint panicked: %v", p)
			clock = true // not kept either way: an error is never cached
		}
	}()
	rs := zlint.LintCertificateEx(zc, reg)
	out = []observe.CertLint{}
	for name, r := range rs.Results {
		if r == nil || r.Status < zl.Warn || selfSigned && slices.Contains(selfSignedExcluded, name) {
			continue
		}
		out = append(out, observe.CertLint{
			Name:        name,
			Status:      r.Status.String(),
			Source:      string(r.LintMetadata.Source),
			Citation:    r.LintMetadata.Citation,
			Description: r.LintMetadata.Description,
			Details:     stableDetails(r.Details),
		})
	}
	slices.SortFunc(out, func(a, b observe.CertLint) int { return cmp.Compare(a.Name, b.Name) })
	return out, clock, nil
}

// stableDetails puts in order the lists zlint writes in the order of a map's
// iteration, so that the same certificate gives the same evidence from run to run
// (medscan's findings are the same byte for byte, and the lint cache keeps one run's
// words for the next). zlint v3.7.3 has two: the key usages of
// e_key_usage_and_extended_key_usage_inconsistent ("KeyUsage [KeyEncipherment
// DigitalSignature] (00000101) inconsistent with…", from util.GetKeyUsageStrings), and the
// OIDs of e_ext_duplicate_extension ("The following extensions are duplicated: 2.5.29.35,
// 2.5.29.14").
func stableDetails(d string) string {
	const dup = "The following extensions are duplicated: "
	if rest, ok := strings.CutPrefix(d, dup); ok {
		oids := strings.Split(rest, ", ")
		slices.Sort(oids)
		return dup + strings.Join(oids, ", ")
	}
	const marker = "KeyUsage ["
	i := strings.Index(d, marker)
	if i < 0 {
		return d
	}
	start := i + len(marker)
	n := strings.IndexByte(d[start:], ']')
	if n < 0 {
		return d
	}
	words := strings.Fields(d[start : start+n])
	slices.Sort(words)
	return d[:start] + strings.Join(words, " ") + d[start+n:]
}
