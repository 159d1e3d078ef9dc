package lint

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

func TestVerifyChain(t *testing.T) {
	root := mkcert(t, "Site Root", &x509.Certificate{IsCA: true, NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}, nil)
	inter := mkcert(t, "Site Issuing", &x509.Certificate{IsCA: true, NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, root)
	leaf := mkcert(t, "ehr.example", nil, inter)
	other := mkcert(t, "Other Root", &x509.Certificate{IsCA: true}, nil)
	stray := mkcert(t, "stray", nil, other)
	selfLeaf := mkcert(t, "pump", nil, nil)
	anchors, err := ParseAnchors([][]byte{root.der})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	set := observe.NewSet()
	add := func(server string, chain ...*tcert) []observe.CertRef {
		var ders [][]byte
		for _, c := range chain {
			ders = append(ders, c.der)
		}
		set.AddTLS(observe.TLSSession{FirstSeen: at, Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.9:1000"),
			Server: netip.MustParseAddrPort(server)}}, ders, nil)
		return set.TLSSessions[len(set.TLSSessions)-1].ServerChain
	}
	full := add("10.0.0.1:443", leaf, inter)
	withRoot := add("10.0.0.2:443", leaf, inter, root)
	outOfOrder := add("10.0.0.3:443", leaf, root, inter)
	leafOnly := add("10.0.0.4:443", leaf)
	foreign := add("10.0.0.5:443", stray, other)
	self := add("10.0.0.6:443", selfLeaf)
	v := NewVerifier(set, anchors)
	tests := []struct {
		name      string
		chain     []observe.CertRef
		at        time.Time
		trusted   bool
		missing   string
		completed int
	}{
		{"leaf and intermediate", full, at, true, "", 0},
		{"root sent too", withRoot, at, true, "", 0},
		{"out of order", outOfOrder, at, true, "", 0},
		{"intermediate omitted, seen in other sessions: never vouches", leafOnly, at, false, inter.tmpl.Subject.String(), 1},
		{"foreign root", foreign, at, false, "", 0},
		{"self-signed leaf", self, at, false, "", 0},
		{"intermediate expired when observed", full, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), false, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := v.Verify(tc.chain, tc.at)
			if got.Trusted != tc.trusted || (tc.missing != "" && got.MissingIssuer == "") || len(got.CompletedBy) != tc.completed {
				t.Errorf("got %+v", got)
			}
			if !got.Trusted && got.Reason == "" {
				t.Error("untrusted without a reason")
			}
		})
	}
	// Without anchors nothing is trusted, and a missing intermediate is still named.
	got := NewVerifier(set, nil).Verify(leafOnly, at)
	if got.Trusted || len(got.CompletedBy) != 1 {
		t.Errorf("no anchors: %+v", got)
	}
	if _, err := ParseAnchors(nil); err == nil {
		t.Error("empty anchors accepted")
	}
	if _, err := ParseAnchors([][]byte{{0x30, 0x03, 0x02, 0x01, 0x01}}); err == nil {
		t.Error("garbage anchor accepted")
	}
}

// TestVerifySignatures holds path building to the signature, for each kind of key a
// device PKI uses, whether the set's certificates were examined (their facts known:
// ECDSA is verified by hand, zcrypto parses nothing) or not: a leaf chains to the root
// that signed it, never to an impostor of the same name and another key.
func TestVerifySignatures(t *testing.T) {
	keys := map[string]func() crypto.Signer{
		"P-256":   func() crypto.Signer { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k },
		"P-384":   func() crypto.Signer { k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader); return k },
		"RSA":     func() crypto.Signer { k, _ := rsa.GenerateKey(rand.Reader, 1024); return k },
		"Ed25519": func() crypto.Signer { _, k, _ := ed25519.GenerateKey(rand.Reader); return k },
	}
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for name, gen := range keys {
		for _, examined := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s examined=%v", name, examined), func(t *testing.T) {
				rootKey, impostorKey, leafKey := gen(), gen(), gen()
				mk := func(cn string, ca bool, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, []byte) {
					tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(len(cn))), Subject: pkix.Name{CommonName: cn},
						NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(5, 0, 0), IsCA: ca, BasicConstraintsValid: ca,
						KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
					if parent == nil {
						parent, parentKey = tmpl, key
					}
					der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
					if err != nil {
						t.Fatal(err)
					}
					c, err := x509.ParseCertificate(der)
					if err != nil {
						t.Fatal(err)
					}
					return c, der
				}
				root, rootDER := mk("Site Root", true, rootKey, nil, nil)
				_, impostorDER := mk("Site Root", true, impostorKey, nil, nil)
				_, leafDER := mk("pump-0042", false, leafKey, root, rootKey)
				set := observe.NewSet()
				set.AddTLS(observe.TLSSession{FirstSeen: at, Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.9:1000"),
					Server: netip.MustParseAddrPort("10.0.0.1:443")}}, [][]byte{leafDER}, nil)
				chain := set.TLSSessions[0].ServerChain
				if examined {
					for _, c := range set.Certificates {
						c.Facts = Facts(c.DER)
					}
				}
				for _, tc := range []struct {
					anchor  []byte
					trusted bool
				}{{rootDER, true}, {impostorDER, false}} {
					anchors, err := ParseAnchors([][]byte{tc.anchor})
					if err != nil {
						t.Fatal(err)
					}
					if got := NewVerifier(set, anchors).Verify(chain, at); got.Trusted != tc.trusted {
						t.Errorf("anchored to the %s: %+v; want trusted %v", map[bool]string{true: "signer", false: "impostor"}[tc.trusted], got, tc.trusted)
					}
				}
			})
		}
	}
}
