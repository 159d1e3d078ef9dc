package scan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadCertificatesAreReported runs certificates that strict parsers refuse or that
// break assumptions through the whole file path (facts, roles, zlint, rules, store):
// each is reported with the facts that could be read, and none stops the run.
func TestBadCertificatesAreReported(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	make := func(mod func(*x509.Certificate)) []byte {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(7),
			Subject:      pkix.Name{CommonName: "device.example"},
			NotBefore:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
			NotAfter:     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		}
		mod(tmpl)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	// A negative serial cannot be created by crypto/x509 any more: flip the sign bit of a
	// valid one in place (the signature no longer verifies, which is part of the case).
	neg := make(func(c *x509.Certificate) { c.SerialNumber = big.NewInt(0x55) })
	if i := strings.Index(string(neg), "\x02\x01\x55"); i >= 0 {
		neg[i+2] = 0xd5
	} else {
		t.Fatal("serial not found")
	}
	cases := map[string][]byte{
		"nul-in-name.pem": make(func(c *x509.Certificate) { c.Subject.CommonName = "pump.example\x00.attacker.example" }),
		"before-1970.pem": make(func(c *x509.Certificate) { c.NotBefore = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"after-2049.pem":  make(func(c *x509.Certificate) { c.NotAfter = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"unknown-critical.pem": make(func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}, Critical: true, Value: []byte{5, 0}}}
		}),
		"negative-serial.pem": neg,
	}
	dir := t.TempDir()
	for name, der := range cases {
		os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	}
	// An enormous chain: a bundle of 500 certificates in one file.
	var bundle []byte
	for i := range 500 {
		der := make(func(c *x509.Certificate) { c.SerialNumber = big.NewInt(int64(1000 + i)) })
		bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	os.WriteFile(filepath.Join(dir, "enormous-bundle.pem"), bundle, 0o644)
	truncated := make(func(c *x509.Certificate) { c.Subject.CommonName = "cut.example" })[:200]
	os.WriteFile(filepath.Join(dir, "truncated.der"), truncated, 0o644)

	st := openStore(t)
	var fileErrs []string
	res, err := RunFiles(context.Background(), st, FileOptions{Paths: []string{dir},
		FileError: func(err error) { fileErrs = append(fileErrs, err.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Certificates) < 500+len(cases) {
		t.Errorf("%d certificates reported, want at least %d", len(rep.Certificates), 500+len(cases))
	}
	bySubject := map[string]bool{}
	var sawNegative, saw1960, saw2100 bool
	for _, c := range rep.Certificates {
		bySubject[c.Subject] = true
		sawNegative = sawNegative || strings.HasPrefix(c.SerialHex, "-")
		saw1960 = saw1960 || c.NotBefore.Year() == 1960
		saw2100 = saw2100 || c.NotAfter.Year() == 2100
	}
	if !saw1960 || !saw2100 {
		t.Errorf("dates outside UTCTime's usual range lost: 1960 %v, 2100 %v", saw1960, saw2100)
	}
	if !sawNegative {
		t.Error("the negative serial is not reported as negative")
	}
	nulKept := false
	for s := range bySubject {
		nulKept = nulKept || (strings.Contains(s, "pump.example") && strings.Contains(s, "attacker"))
	}
	if !nulKept {
		t.Error("the subject with a NUL byte is not reported")
	}
	// The truncated certificate is reported as a certificate that does not parse, with
	// what could be read of it.
	var cut bool
	for _, c := range rep.Certificates {
		cut = cut || (c.ParseError != "" && strings.Contains(c.Subject, "cut.example"))
	}
	if !cut && !strings.Contains(strings.Join(fileErrs, "\n"), "truncated.der") {
		t.Errorf("the truncated certificate was not reported: file errors %q", fileErrs)
	}
	var longLived bool
	for _, f := range rep.Findings {
		longLived = longLived || f.Rule == "cert-long-lived"
	}
	if !longLived {
		t.Error("the certificate valid until 2100 raised no cert-long-lived")
	}
}
