package lint

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	zl "github.com/zmap/zlint/v3/lint"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
)

func TestRegistriesBuild(t *testing.T) {
	for _, role := range []string{RoleTrustAnchor, RoleIntermediate, RoleTLSServer, RoleDeviceIdentity, RoleCodeSigning, RoleOther} {
		for _, public := range []bool{false, true} {
			r, err := registryFor(role, public)
			if err != nil {
				t.Fatalf("%s public=%v: %v", role, public, err)
			}
			web := false
			for _, l := range r.CertificateLints().Lints() {
				name := l.Name
				switch l.Source {
				case zl.CABFBaselineRequirements, zl.CABFEVGuidelines, zl.MozillaRootStorePolicy, zl.AppleRootStorePolicy, zl.ChromeRootStorePolicy:
					web = true
				}
				if name == "e_rsa_fermat_factorization" || (!public && name == "e_rfc_dnsname_underscore_in_sld") {
					t.Errorf("%s public=%v: %s should be excluded", role, public, name)
				}
			}
			wantWeb := public && (role == RoleTrustAnchor || role == RoleIntermediate || role == RoleTLSServer)
			if web != wantWeb {
				t.Errorf("%s public=%v: WebPKI lints %v, want %v", role, public, web, wantWeb)
			}
		}
	}
}

// A device certificate without an EKU, sent by a client or read from a file, collects
// no CA/Browser Forum findings even when the policy calls everything public WebPKI.
func TestDeviceCertWithoutEKUGetsNoCABFLints(t *testing.T) {
	ca := mkcert(t, "Device CA", &x509.Certificate{IsCA: true}, nil)
	dev := mkcert(t, "pump-0042 SN 12345", &x509.Certificate{NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}, ca)
	for _, mode := range []WebPKI{WebPKIAuto, WebPKIAlways} {
		set := observe.NewSet()
		set.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.5:40000"),
			Server: netip.MustParseAddrPort("10.0.0.1:8443")}}, nil, [][]byte{dev.der, ca.der})
		ExamineWith(set, Options{WebPKI: mode})
		f := set.Certificates[sha256.Sum256(dev.der)].Facts
		if f.Role != RoleDeviceIdentity {
			t.Fatalf("%s: role %s %v", mode, f.Role, f.RoleReasons)
		}
		if f.Lints == nil {
			t.Fatalf("%s: zlint did not run: %s", mode, f.LintError)
		}
		for _, l := range f.Lints {
			if strings.HasPrefix(l.Source, "CABF") || l.Source == "Mozilla" || l.Source == "Apple" || l.Source == "Chrome" {
				t.Errorf("%s: device certificate got %s lint %s", mode, l.Source, l.Name)
			}
		}
	}
}

func TestWebPKIAutoByPublicRootName(t *testing.T) {
	// The subject name DER of a root in webpki_roots.txt is needed; take the first line's
	// name from the embedded list through its hash, which is what matching uses.
	if publicRootName(nil) != "" || len(rootNames) == 0 {
		t.Fatalf("public roots not loaded (%d)", len(rootNames))
	}
	for h, name := range rootNames {
		if name == "" || h == ([32]byte{}) {
			t.Errorf("bad root entry %x %q", h, name)
		}
	}
}

// A self-signed leaf may omit the authority key identifier (RFC 5280 §4.2.1.1), so the
// ward pump's factory certificate, which cert-self-signed reports, is not also reported
// by zlint for lacking one; a certificate that only looks self-issued (its issuer's name
// but another key) and a CA-issued leaf still are.
func TestAKILintAndSelfSigned(t *testing.T) {
	pumpPEM, err := os.ReadFile(filepath.Join("testdata", "ward-pump-0013.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pumpPEM)
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	mk := func(subject, issuer string, signer *ecdsa.PrivateKey, ca bool) []byte {
		key := newKey()
		if signer == nil {
			signer = key
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: subject},
			NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			BasicConstraintsValid: true, IsCA: ca, SubjectKeyId: []byte{1, 2, 3, 4}}
		parent := &x509.Certificate{Subject: pkix.Name{CommonName: issuer}} // no key identifier: no AKI written
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	const aki = "e_ext_authority_key_identifier_no_key_identifier"
	tests := []struct {
		name       string
		der        []byte
		selfSigned bool
		akiLint    bool
	}{
		{"ward pump-0013, self-signed leaf without AKI", blk.Bytes, true, false},
		{"self-signed leaf made here", mk("dev-1", "dev-1", nil, false), true, false},
		{"self-issued, signed by another key", mk("dev-2", "dev-2", newKey(), false), false, true},
		{"leaf issued by a CA without AKI", mk("dev-3", "Some CA", newKey(), false), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := observe.NewSet()
			ref := set.AddCertificate(tt.der, observe.CertSighting{Source: observe.SourceFile})
			ExamineWith(set, Options{})
			f := set.Certificates[ref].Facts
			if f.SelfSigned != tt.selfSigned || f.Lints == nil {
				t.Fatalf("self-signed %v (want %v), lints %v %s", f.SelfSigned, tt.selfSigned, f.Lints, f.LintError)
			}
			got := slices.ContainsFunc(f.Lints, func(l observe.CertLint) bool { return l.Name == aki })
			if got != tt.akiLint {
				t.Errorf("%s reported %v, want %v (lints %v)", aki, got, tt.akiLint, f.Lints)
			}
		})
	}
}

// The Baseline Requirements' SHA-1 lints judge what a CA signed; a self-signed
// certificate's signature is its own and vouches for nothing, so even judged as public
// WebPKI it does not collect them (cert-weak-signature exempts it alike), while a leaf a
// CA signed with SHA-1 does.
func TestSHA1LintsAndSelfSigned(t *testing.T) {
	key := linttest.RSAKey(t, 2048)
	ca := linttest.New(t, linttest.Spec{CN: "Issuing CA", Key: key, IsCA: true})
	selfLeaf := linttest.New(t, linttest.Spec{CN: "pump.example", Key: key, Hash: "sha1", DNSNames: []string{"pump.example"}})
	caLeaf := linttest.New(t, linttest.Spec{CN: "ehr.example", Key: key, Issuer: ca, Hash: "sha1", DNSNames: []string{"ehr.example"}})
	sha1Lints := []string{"e_sub_cert_or_sub_ca_using_sha1", "w_sub_cert_sha1_expiration_too_long"}
	for _, tt := range []struct {
		name       string
		der        []byte
		selfSigned bool
		want       bool
	}{
		{"self-signed SHA-1 leaf", selfLeaf.DER, true, false},
		{"CA-signed SHA-1 leaf", caLeaf.DER, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set := observe.NewSet()
			ref := set.AddCertificate(tt.der, observe.CertSighting{Source: observe.SourceFile})
			ExamineWith(set, Options{WebPKI: WebPKIAlways})
			f := set.Certificates[ref].Facts
			if f.SelfSigned != tt.selfSigned || !f.WebPKI || f.Lints == nil {
				t.Fatalf("self-signed %v (want %v), webpki %v, lints %v %s", f.SelfSigned, tt.selfSigned, f.WebPKI, f.Lints, f.LintError)
			}
			for _, name := range sha1Lints {
				got := slices.ContainsFunc(f.Lints, func(l observe.CertLint) bool { return l.Name == name })
				if got != tt.want {
					t.Errorf("%s reported %v, want %v (lints %v)", name, got, tt.want, f.Lints)
				}
			}
		})
	}
}
