package lint

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// materialCases are the committed openssl-made files of testdata/material (so that go
// test without openssl still covers them), by what FindMaterial must call them.
var materialCases = []struct {
	file      string
	kind      string
	encrypted bool
}{
	{"pkcs8.pem", MaterialPrivateKey, false},
	{"pkcs8.der", MaterialPrivateKey, false},
	{"pkcs1.pem", MaterialPrivateKey, false},
	{"pkcs1.der", MaterialPrivateKey, false},
	{"sec1.pem", MaterialPrivateKey, false},
	{"sec1.der", MaterialPrivateKey, false},
	{"encrypted.pem", MaterialPrivateKey, true},
	{"encrypted.der", MaterialPrivateKey, true},
	{"proctype.pem", MaterialPrivateKey, true},
	{"request.csr", MaterialCSR, false},
	{"request.der", MaterialCSR, false},
}

func TestFindMaterial(t *testing.T) {
	for _, tc := range materialCases {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "material", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := FindMaterial(data)
			if want := []Material{{Kind: tc.kind, Encrypted: tc.encrypted}}; !slices.Equal(got, want) {
				t.Errorf("FindMaterial = %+v, want %+v", got, want)
			}
			// Not a certificate, and not a problem either: ReadCerts says only that.
			if ders, err := ReadCerts(data); len(ders) != 0 || err != ErrNotCertificate {
				t.Errorf("ReadCerts = %d certificates, %v; want ErrNotCertificate alone", len(ders), err)
			}
		})
	}
	pump, err := os.ReadFile(filepath.Join("testdata", "ward-pump-0013.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join("testdata", "material", "pkcs8.pem"))
	for name, data := range map[string][]byte{"certificate": pump, "README": []byte("# certs\nthe device PKI\n"), "empty": nil} {
		if got := FindMaterial(data); len(got) != 0 {
			t.Errorf("%s: FindMaterial = %+v, want none", name, got)
		}
	}
	// A certificate and its key in one PEM file: the certificate is read, the key
	// counted, and nothing is a problem.
	both := append(append([]byte{}, pump...), key...)
	if ders, err := ReadCerts(both); len(ders) != 1 || err != nil {
		t.Errorf("certificate and key: %d certificates, %v", len(ders), err)
	}
	if got := FindMaterial(both); len(got) != 1 || got[0].Kind != MaterialPrivateKey {
		t.Errorf("certificate and key: FindMaterial = %+v", got)
	}
}

// The same recognition on files openssl makes now, in every format it writes, when it
// is installed.
func TestFindMaterialOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed; the committed files of testdata/material cover the formats")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "k.pem")
	run("pkcs8", "-topk8", "-nocrypt", "-in", "k.pem", "-outform", "DER", "-out", "k8.der")
	run("ec", "-in", "k.pem", "-outform", "DER", "-out", "sec1.der")
	run("pkcs8", "-topk8", "-in", "k.pem", "-v2", "aes-256-cbc", "-passout", "pass:x", "-out", "enc.pem")
	run("pkcs8", "-topk8", "-in", "k.pem", "-v2", "aes-256-cbc", "-passout", "pass:x", "-outform", "DER", "-out", "enc.der")
	run("req", "-new", "-key", "k.pem", "-subj", "/CN=x", "-out", "r.csr")
	run("req", "-in", "r.csr", "-outform", "DER", "-out", "r.der")
	for file, want := range map[string]Material{
		"k.pem": {Kind: MaterialPrivateKey}, "k8.der": {Kind: MaterialPrivateKey}, "sec1.der": {Kind: MaterialPrivateKey},
		"enc.pem": {Kind: MaterialPrivateKey, Encrypted: true}, "enc.der": {Kind: MaterialPrivateKey, Encrypted: true},
		"r.csr": {Kind: MaterialCSR}, "r.der": {Kind: MaterialCSR},
	} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := FindMaterial(data); !slices.Equal(got, []Material{want}) {
			t.Errorf("%s: FindMaterial = %+v, want %+v", file, got, want)
		}
	}
}
