package lint

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// testCRL is a CA and a CRL it signed revoking serial 0x1001 (and a negative serial).
func testCRL(t testing.TB) (caDER, crlDER []byte, caKey *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CRL Test CA"}, NotBefore: now.AddDate(-1, 0, 0),
		NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign}
	caDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	crlDER, err = x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(3), ThisUpdate: now, NextUpdate: now.AddDate(0, 0, 7),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(0x1001), RevocationTime: now, ReasonCode: 1},
			{SerialNumber: big.NewInt(-5), RevocationTime: now}}}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	return caDER, crlDER, key
}

func TestCRL(t *testing.T) {
	caDER, crlDER, caKey := testCRL(t)
	crl, err := ParseCRL("site.crl", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER}))
	if err != nil {
		t.Fatal(err)
	}
	if crl.Issuer != "CN=CRL Test CA" || crl.Number != "3" || len(crl.Revoked) != 2 || crl.Revoked["1001"].Reason != "keyCompromise" {
		t.Fatalf("parsed %+v", crl)
	}
	if got := crl.Signer([][]byte{[]byte("junk"), caDER}); got != "CN=CRL Test CA" {
		t.Errorf("Signer = %q", got)
	}
	_, otherCRL, _ := testCRL(t) // same name, another key
	other, err := ParseCRL("other.crl", otherCRL)
	if err != nil {
		t.Fatal(err)
	}
	if got := other.Signer([][]byte{caDER}); got != "" {
		t.Errorf("a CRL signed by another key of the same name was verified by %q", got)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64) []byte {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"}, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	for _, c := range []struct {
		der  []byte
		want string
	}{{leaf(0x1001), "revoked"}, {leaf(0x1002), "good"}, {caDER, ""}} {
		if got := RevocationOf(c.der, []*CRL{crl}).Status; got != c.want {
			t.Errorf("status %q, want %q", got, c.want)
		}
	}
	if got := RevocationOf(leaf(0x1001), nil).Status; got != "" {
		t.Errorf("without CRLs: %q", got)
	}
}

func FuzzParseCRL(f *testing.F) {
	caDER, crlDER, _ := testCRL(f)
	f.Add(crlDER)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER}))
	f.Add([]byte("-----BEGIN X509 CRL-----\n"))
	f.Add(caDER)
	f.Fuzz(func(t *testing.T, data []byte) {
		crl, err := ParseCRL("f.crl", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.crl: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q: want one line naming the file", err)
			}
			return
		}
		_ = crl.Signer([][]byte{caDER, data})
		_ = RevocationOf(caDER, []*CRL{crl})
		for serial := range crl.Revoked {
			if serial == "" {
				t.Fatal("an empty serial")
			}
		}
	})
}
