package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// genCert makes a certificate for the CLI tests: a CA when ca, else a leaf signed by
// parent (nil: self-signed), without an EKU.
func genCert(t *testing.T, cn string, ca bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(0, 6, 0),
		IsCA: ca, BasicConstraintsValid: ca}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func TestLintCommand(t *testing.T) {
	work := t.TempDir()
	ca, caKey := genCert(t, "Lint CA", true, nil, nil)
	leaf, _ := genCert(t, "device-7", false, ca, caKey)
	certs := filepath.Join(work, "certs")
	if err := os.MkdirAll(filepath.Join(certs, "nested"), 0o755); err != nil {
		t.Fatal(err)
	}
	pemOf := func(ders ...[]byte) []byte {
		var out []byte
		for _, d := range ders {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
		}
		return out
	}
	p7, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: mustSignedData(t, leaf.Raw, ca.Raw)}})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"bundle.pem":        pemOf(leaf.Raw, ca.Raw),
		"nested/leaf.der":   leaf.Raw,
		"nested/chain.p7b":  p7,
		"nested/broken.der": leaf.Raw[:len(leaf.Raw)-40],
		"nested/readme.txt": []byte("not a certificate"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(certs, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(work, "m.db")
	res := medscan(t, work, nil, "lint", certs, "--format", "json", "--db", db)
	// readme.txt is skipped and counted, never a problem (issue 12, defect 2).
	if res.code != 0 || !strings.Contains(res.stderr, "skipped: 1 other file") || strings.Contains(res.stderr, "bundle.pem") {
		t.Fatalf("exit %d\nstderr: %s", res.code, res.stderr)
	}
	rep := parseReport(t, res.stdout)
	if !rep.Scan.Complete || len(rep.Scan.Problems) != 0 {
		t.Errorf("scan %+v", rep.Scan)
	}
	broken := false
	for _, f := range rep.Findings {
		if f.Host != "" || f.Port != 0 {
			t.Errorf("file finding with an endpoint: %+v", f)
		}
		if strings.Contains(f.Subject, "medscan_x509_parse") {
			broken = true
		}
		if f.Rule == "cert-lint" && (strings.Contains(f.Message, "e_sub_cert") || strings.Contains(f.Message, "cabf")) {
			t.Errorf("CA/B Forum lint on a private device certificate: %s", f.Message)
		}
	}
	if !broken {
		t.Errorf("the truncated certificate is not reported: %s", res.stdout)
	}

	// Again from the store: "latest" is the latest network scan, and the store holds
	// only a lint run, which --kind lint names.
	res = medscan(t, work, nil, "lint", "--scan", "latest", "--format", "json", "--db", db)
	if res.code != 1 || !strings.Contains(res.stderr, "no scan in") || !strings.Contains(res.stderr, "--kind lint") {
		t.Errorf("--scan latest with only a lint run stored: exit %d\nstderr: %s", res.code, res.stderr)
	}
	res = medscan(t, work, nil, "lint", "--scan", "latest", "--kind", "lint", "--format", "json", "--db", db)
	if res.code != 0 {
		t.Fatalf("--scan latest: exit %d\nstderr: %s", res.code, res.stderr)
	}
	if rep := parseReport(t, res.stdout); !rep.Scan.Complete || rep.Scan.Sources[0] != "scan:1" {
		t.Errorf("--scan latest: %+v", rep.Scan)
	}

	// Usage errors.
	if res := medscan(t, work, nil, "lint", "--db", db); res.code != 2 {
		t.Errorf("no arguments: exit %d", res.code)
	}
	if res := medscan(t, work, nil, "lint", filepath.Join(work, "nope.pem"), "--db", db); res.code != 1 || !strings.Contains(res.stderr, "nope.pem") {
		t.Errorf("missing file: exit %d %s", res.code, res.stderr)
	}
}

// mustSignedData is a certificates-only PKCS #7 SignedData body.
func mustSignedData(t *testing.T, certs ...[]byte) []byte {
	t.Helper()
	var set []byte
	for _, c := range certs {
		set = append(set, c...)
	}
	b, err := asn1.Marshal(struct {
		Version      int
		Digests      asn1.RawValue
		Content      struct{ Type asn1.ObjectIdentifier }
		Certificates asn1.RawValue
		Signers      asn1.RawValue
	}{1, asn1.RawValue{Tag: 17, IsCompound: true}, struct{ Type asn1.ObjectIdentifier }{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}},
		asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: set}, asn1.RawValue{Tag: 17, IsCompound: true}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zlint's own test certificates, hostile on purpose, go through medscan lint without a
// crash: every one is read, stored and reported.
func TestLintZLintTestdata(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "zmap", "zlint", "v3@v3.7.3", "testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("zlint testdata not in the module cache (%v)", err)
	}
	work := t.TempDir()
	res := medscan(t, work, nil, "lint", dir, "--format", "json", "--db", filepath.Join(work, "m.db"), "-o", filepath.Join(work, "r.json"))
	if res.code != 0 && res.code != 1 {
		t.Fatalf("exit %d\nstderr: %s", res.code, res.stderr)
	}
	if strings.Contains(res.stderr, "panic") || !strings.Contains(res.stderr, "certificate(s)") {
		t.Fatalf("stderr: %s", res.stderr)
	}
}
