package lint

import (
	"crypto/sha256"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	zl "github.com/zmap/zlint/v3/lint"

	"github.com/medscan/medscan/observe"
)

const emudhraLint = "e_cert_issued_by_compromised_emudhra_ca"

// Every lint of zlint's registry that looks for a compromised CA is gated by that CA's
// names, and every gated lint exists: a zlint upgrade that adds one (which would then run
// its signature checks on every certificate) or renames one fails here.
func TestCompromisedCALints(t *testing.T) {
	all := zl.GlobalRegistry().Names()
	for _, name := range all {
		if strings.Contains(name, "compromised") {
			if _, ok := compromisedCALints[name]; !ok {
				t.Errorf("zlint lint %s looks for a compromised CA but is not in compromisedCALints", name)
			}
		}
	}
	for name, issuers := range compromisedCALints {
		if !slices.Contains(all, name) {
			t.Errorf("compromisedCALints names %s, which zlint does not register", name)
		}
		if len(issuers) == 0 {
			t.Errorf("%s: no issuer names: the lint would never run", name)
		}
	}
}

// lintNames is the names of the certificate lints a registry holds.
func lintNames(r zl.Registry) []string {
	var out []string
	for _, l := range r.CertificateLints().Lints() {
		out = append(out, l.Name)
	}
	return out
}

// The compromised-CA lint runs on a certificate whose issuer carries the CA's name (and
// fires when the signature is the compromised key's), and on no other.
func TestCompromisedCALintByIssuer(t *testing.T) {
	minted, err := os.ReadFile(filepath.Join("testdata", "zlint-emudhra-ov-g3c-minted.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ders, err := ReadCerts(minted)
	if err != nil || len(ders) != 1 {
		t.Fatalf("%d certificates, %v", len(ders), err)
	}
	// A private CA that took one of the names: the lint runs, and passes, since the
	// signature is not the compromised key's.
	lookalike := mkcert(t, "EM OV TLS CA - G3C", &x509.Certificate{IsCA: true}, nil)
	spaced := mkcert(t, "  em ov tls CA -  g3c ", &x509.Certificate{IsCA: true}, nil)
	deviceCA := mkcert(t, "Ward Device CA", &x509.Certificate{IsCA: true}, nil)
	leaf := func(ca *tcert) []byte {
		return mkcert(t, "pump-0042", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca).der
	}
	for _, tc := range []struct {
		name     string
		der      []byte
		gated    bool   // the lint is in the certificate's registry
		wantFire string // the status it reports, "" for none
	}{
		{"signed by the compromised key", ders[0], true, "error"},
		{"issuer named like the compromised CA, another key", leaf(lookalike), true, ""},
		{"issuer name differing in case and spaces only", leaf(spaced), true, ""},
		{"private device CA", leaf(deviceCA), false, ""},
		{"the device CA itself", deviceCA.der, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zc, err := zx509.ParseCertificate(tc.der)
			if err != nil {
				t.Fatal(err)
			}
			comp := compromisedCAFor(zc)
			if got := slices.Contains(comp, emudhraLint); got != tc.gated {
				t.Fatalf("issuer %q: gated %v, want %v", zc.Issuer.String(), got, tc.gated)
			}
			reg, err := registryWith(registryKey{role: RoleDeviceIdentity, compromised: strings.Join(comp, ",")})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(lintNames(reg), emudhraLint); got != tc.gated {
				t.Errorf("registry holds %s: %v, want %v", emudhraLint, got, tc.gated)
			}
			set := observe.NewSet()
			set.AddCertificate(tc.der, observe.CertSighting{Source: observe.SourceFile, File: "x.pem"})
			Examine(set)
			f := set.Certificates[sha256.Sum256(tc.der)].Facts
			if f.LintError != "" {
				t.Fatal(f.LintError)
			}
			got := ""
			for _, l := range f.Lints {
				if l.Name == emudhraLint {
					got = l.Status
				}
			}
			if got != tc.wantFire {
				t.Errorf("%s: %q, want %q (lints %v)", emudhraLint, got, tc.wantFire, f.Lints)
			}
		})
	}
}

// The WebPKI rulebooks land on a TLS server certificate judged public, never on the same
// certificate judged private, nor on a device identity whatever the policy says.
func TestWebPKILintsByRoleAndPKI(t *testing.T) {
	ca := mkcert(t, "Site CA", &x509.Certificate{IsCA: true}, nil)
	// Valid five years: a CA/Browser Forum violation (398 days at most) that RFC 5280
	// does not mind.
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	server := mkcert(t, "ehr.example.org", &x509.Certificate{NotBefore: t0, NotAfter: t0.AddDate(5, 0, 0),
		DNSNames: []string{"ehr.example.org"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca)
	device := mkcert(t, "pump-0042", &x509.Certificate{NotBefore: t0, NotAfter: t0.AddDate(5, 0, 0),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca)
	webLints := func(der []byte, mode WebPKI) []string {
		set := observe.NewSet()
		set.AddCertificate(der, observe.CertSighting{Source: observe.SourceFile, File: "x.pem"})
		set.AddCertificate(ca.der, observe.CertSighting{Source: observe.SourceFile, File: "x.pem", Position: 1})
		ExamineWith(set, Options{WebPKI: mode})
		f := set.Certificates[sha256.Sum256(der)].Facts
		if f.Lints == nil {
			t.Fatalf("zlint did not run: %s", f.LintError)
		}
		var out []string
		for _, l := range f.Lints {
			switch zl.LintSource(l.Source) {
			case zl.CABFBaselineRequirements, zl.CABFEVGuidelines, zl.MozillaRootStorePolicy, zl.AppleRootStorePolicy,
				zl.ChromeRootStorePolicy, zl.EtsiEsi:
				out = append(out, l.Name)
			}
		}
		return out
	}
	if got := webLints(server.der, WebPKIAlways); len(got) == 0 {
		t.Error("public TLS server certificate valid five years: no WebPKI lint")
	}
	for _, tc := range []struct {
		name string
		der  []byte
		mode WebPKI
	}{
		{"private TLS server (auto)", server.der, WebPKIAuto},
		{"private TLS server (never)", server.der, WebPKINever},
		{"device identity (always)", device.der, WebPKIAlways},
		{"device identity (auto)", device.der, WebPKIAuto},
	} {
		if got := webLints(tc.der, tc.mode); len(got) > 0 {
			t.Errorf("%s: WebPKI lints %v", tc.name, got)
		}
	}
}

func TestStableDetails(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"KeyUsage [KeyEncipherment KeyAgreement DigitalSignature] (00010101) inconsistent with ExtKeyUsage serverAuth",
			"KeyUsage [DigitalSignature KeyAgreement KeyEncipherment] (00010101) inconsistent with ExtKeyUsage serverAuth"},
		{"KeyUsage [DigitalSignature] (00000001) is not allowed", "KeyUsage [DigitalSignature] (00000001) is not allowed"},
		{"KeyUsage [] (00000000)", "KeyUsage [] (00000000)"},
		{"KeyUsage [unterminated", "KeyUsage [unterminated"},
		{"no key usage here", "no key usage here"},
		{"The following extensions are duplicated: 2.5.29.35, 2.5.29.14", "The following extensions are duplicated: 2.5.29.14, 2.5.29.35"},
		{"The following extensions are duplicated: 2.5.29.14", "The following extensions are duplicated: 2.5.29.14"},
	} {
		if got := stableDetails(tc.in); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
