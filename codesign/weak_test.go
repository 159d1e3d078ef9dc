package codesign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// mkCert issues a certificate from parent (self-signed when parent is nil).
func mkCert(t *testing.T, cn string, parent *x509.Certificate, parentKey any, key any, nb, na time.Time, eku []x509.ExtKeyUsage, ca bool) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: nb, NotAfter: na, ExtKeyUsage: eku, IsCA: ca, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	pub := key.(crypto.Signer).Public()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// TestCertWeaknesses checks each weakness tag of a signing certificate.
func TestCertWeaknesses(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cs := []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	cases := []struct {
		name    string
		cert    *x509.Certificate
		at      time.Time
		trusted bool
		want    []string
	}{
		{"sound", mkCert(t, "a", nil, nil, k, now.AddDate(-1, 0, 0), now.AddDate(2, 0, 0), cs, false), now, false, nil},
		{"no eku", mkCert(t, "b", nil, nil, k, now.AddDate(-1, 0, 0), now.AddDate(2, 0, 0), nil, false), now, false, []string{"no-code-signing-eku"}},
		{"server eku", mkCert(t, "c", nil, nil, k, now.AddDate(-1, 0, 0), now.AddDate(2, 0, 0), []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, false), now, false, []string{"no-code-signing-eku"}},
		{"30 years", mkCert(t, "d", nil, nil, k, now.AddDate(-1, 0, 0), now.AddDate(29, 0, 0), cs, false), now, false, []string{"long-lived"}},
		{"expired, no timestamp", mkCert(t, "e", nil, nil, k, now.AddDate(-3, 0, 0), now.AddDate(-1, 0, 0), cs, false), now, false, []string{"expired-at-signing"}},
		{"expired, trusted timestamp", mkCert(t, "f", nil, nil, k, now.AddDate(-3, 0, 0), now.AddDate(-1, 0, 0), cs, false), now, true, []string{"expired-at-timestamp"}},
		{"not yet valid", mkCert(t, "g", nil, nil, k, now.AddDate(1, 0, 0), now.AddDate(2, 0, 0), cs, false), now, false, []string{"not-yet-valid-at-signing"}},
		{"rsa 1024", mkCert(t, "h", nil, nil, small, now.AddDate(-1, 0, 0), now.AddDate(2, 0, 0), cs, false), now, false, []string{"rsa-below-2048"}},
		{"no time", mkCert(t, "i", nil, nil, k, now.AddDate(-3, 0, 0), now.AddDate(-1, 0, 0), cs, false), time.Time{}, false, nil},
	}
	for _, c := range cases {
		got := uniqueSorted(certWeaknesses(c.cert, c.at, c.trusted))
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestExpiredSignerCMS signs with a certificate expired at signing time (the signing
// time attribute says when): the signature verifies, and the weakness is reported.
func TestExpiredSignerCMS(t *testing.T) {
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := mkCert(t, "Root", nil, nil, rootKey, time.Now().AddDate(-5, 0, 0), time.Now().AddDate(5, 0, 0), nil, true)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := mkCert(t, "Expired Signer", root, rootKey, leafKey, time.Now().AddDate(-3, 0, 0), time.Now().AddDate(0, 0, -1),
		[]x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, false)
	img := image(10_000, 4)
	sd, err := pkcs7.NewSignedData(img)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(leaf, leafKey, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	sig, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	files := []File{
		{Name: "fw.bin", Origin: "file", Dir: "d", Size: int64(len(img)), Open: memOpener(img)},
		{Name: "fw.bin.p7s", Origin: "file", Dir: "d", Size: int64(len(sig)), Open: memOpener(sig)},
	}
	imgs, err := Examine(context.Background(), files, &Policy{Anchors: &Anchors{Certs: []*x509.Certificate{root}}}, Options{})
	if err != nil || len(imgs) != 1 {
		t.Fatalf("%v %v", imgs, err)
	}
	s := imgs[0].Signatures[0]
	if !s.Verifies || s.Trust != TrustTrusted || !slices.Contains(s.Weaknesses, "expired-at-signing") {
		t.Errorf("verifies %v trust %q (%s) weaknesses %v; want verified, trusted, expired-at-signing", s.Verifies, s.Trust, s.TrustReason, s.Weaknesses)
	}
	if imgs[0].SHA256 != SHA256Hex(img) {
		t.Errorf("sha256 %s computed wrong", imgs[0].SHA256)
	}
}
