package lint

import (
	"cmp"
	"fmt"
	"slices"
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

type registryKey struct {
	role   string
	public bool
}

var (
	regMu      sync.Mutex
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

// registryFor returns zlint's registry filtered for a role and PKI, built once.
func registryFor(role string, public bool) (zl.Registry, error) {
	regMu.Lock()
	defer regMu.Unlock()
	k := registryKey{role, public}
	if r := registries[k]; r != nil {
		return r, nil
	}
	excl := slices.Clone(alwaysExcluded)
	if !public {
		excl = append(excl, privateExcluded...)
	}
	r, err := zl.GlobalRegistry().Filter(zl.FilterOptions{IncludeSources: sourcesFor(role, public), ExcludeNames: excl})
	if err != nil {
		return nil, fmt.Errorf("lint: zlint registry for %s: %w", role, err)
	}
	registries[k] = r
	return r, nil
}

// runZLint lints one parsed certificate for its role and PKI and returns the results
// at warn or worse, sorted by name, leaving out selfSignedExcluded when selfSigned (the
// certificate's facts say its self-signature verifies). A lint that panics on a malformed certificate is
// reported as an error of the run, never propagated: one certificate must not stop a
// scan.
func runZLint(zc *zx509.Certificate, role string, public, selfSigned bool) (out []observe.CertLint, err error) {
	reg, err := registryFor(role, public)
	if err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("zlint panicked: %v", p)
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
			Details:     r.Details,
		})
	}
	slices.SortFunc(out, func(a, b observe.CertLint) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}
