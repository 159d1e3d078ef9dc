package rules

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeRoot(t *testing.T, dir string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Vendor Root"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(2e9, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "root.der"), der, 0o644)
}

// TestCodeSigningPolicy checks the code_signing section: the simplest form as written,
// vendors, and errors by file and line.
func TestCodeSigningPolicy(t *testing.T) {
	dir := t.TempDir()
	writeRoot(t, dir)
	load := func(body string) (*Policy, error) {
		p := filepath.Join(dir, "policy.yaml")
		os.WriteFile(p, []byte("version: 1\n"+body), 0o644)
		return LoadPolicy(p)
	}
	p, err := load("code_signing: {anchors: [root.pem, root.der]}\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.CodeSigning == nil || len(p.CodeSigning.Anchors.Certs) != 2 {
		t.Fatalf("anchors not loaded: %+v", p.CodeSigning)
	}
	p, err = load("code_signing:\n  must_sign: [\"*.bin\"]\n  vendors:\n    - name: acme\n      servers: [10.0.0.5]\n      anchors: [root.pem]\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.CodeSigning.Vendors) != 1 || p.CodeSigning.Vendors[0].Anchors == nil || p.CodeSigning.MustSign[0] != "*.bin" {
		t.Fatalf("vendors not loaded: %+v", p.CodeSigning)
	}
	for _, c := range []struct{ body, want string }{
		{"code_signing:\n  anchors: [missing.pem]\n", "policy.yaml: line 3: code_signing: anchors: missing.pem"},
		{"code_signing:\n  anchors:\n    - root.pem\n    - policy.yaml\n", "policy.yaml: line 5: code_signing: anchors: policy.yaml: neither a certificate"},
		{"code_signing:\n  vendors:\n    - name: acme\n      anchors: [root.pem]\n", "policy.yaml: line 4: code_signing: vendors: acme: name servers or images"},
		{"code_signing:\n  vendors:\n    - servers: [x]\n", "vendors: entry 1 has no name"},
		{"code_signing:\n  must_sign: [\"[\"]\n", "must_sign: bad name pattern"},
		{"code_signing:\n  anchor: [root.pem]\n", "unknown key \"anchor\""},
	} {
		_, err := load(c.body)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to hold %q", c.body, err, c.want)
		}
	}
}
