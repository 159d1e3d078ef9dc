package lint

import (
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
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
			got := kinds(FindMaterial(data))
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
		if got := kinds(FindMaterial(data)); !slices.Equal(got, []Material{want}) {
			t.Errorf("%s: FindMaterial = %+v, want %+v", file, got, want)
		}
	}
}

// kinds keeps what TestFindMaterial compares of each Material: its kind and whether it
// is encrypted (the key facts have a test of their own).
func kinds(ms []Material) []Material {
	var out []Material
	for _, m := range ms {
		out = append(out, Material{Kind: m.Kind, Encrypted: m.Encrypted})
	}
	return out
}

// TestFindMaterialKeyFacts: a private key in every encoding is described by its public
// half exactly as its certificate describes its key (type, size, curve, SPKI SHA-256),
// so that a key file is matched with its certificate; an encrypted key tells only what
// its encoding shows, except OpenSSH's, whose public key is in clear.
func TestFindMaterialKeyFacts(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var dsaKey dsa.PrivateKey
	if err := dsa.GenerateParameters(&dsaKey.Parameters, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	if err := dsa.GenerateKey(&dsaKey, rand.Reader); err != nil {
		t.Fatal(err)
	}
	spkiOf := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(der)
		return hex.EncodeToString(sum[:])
	}
	pemOf := func(typ string, der []byte, headers map[string]string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	dsaDER, err := asn1.Marshal(struct {
		Version       int
		P, Q, G, Y, X *big.Int
	}{0, dsaKey.P, dsaKey.Q, dsaKey.G, dsaKey.Y, dsaKey.X})
	if err != nil {
		t.Fatal(err)
	}
	// Go parses a DSA SubjectPublicKeyInfo (not a DSA private key): the one dsaSPKI
	// builds must read back as the same key.
	dsaSPKIHex := ""
	if spki := dsaSPKI(dsaDER); spki != nil {
		pub, err := x509.ParsePKIXPublicKey(spki)
		if p, ok := pub.(*dsa.PublicKey); err != nil || !ok || p.Y.Cmp(dsaKey.Y) != 0 || p.P.Cmp(dsaKey.P) != 0 {
			t.Errorf("dsaSPKI does not read back as the key: %v", err)
		}
		sum := sha256.Sum256(spki)
		dsaSPKIHex = hex.EncodeToString(sum[:])
	}
	sshPlain, err := ssh.MarshalPrivateKey(edKey, "")
	if err != nil {
		t.Fatal(err)
	}
	sshEnc, err := ssh.MarshalPrivateKeyWithPassphrase(rsaKey, "", []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want Material
	}{
		{"rsa pkcs8 pem", pemOf("PRIVATE KEY", pkcs8(rsaKey), nil),
			Material{Format: FormatPKCS8, KeyType: "rsa", KeyBits: 2048, SPKISHA256: spkiOf(&rsaKey.PublicKey)}},
		{"rsa pkcs1 der", x509.MarshalPKCS1PrivateKey(rsaKey),
			Material{Format: FormatPKCS1, KeyType: "rsa", KeyBits: 2048, SPKISHA256: spkiOf(&rsaKey.PublicKey)}},
		{"ec sec1 pem", pemOf("EC PRIVATE KEY", sec1, nil),
			Material{Format: FormatSEC1, KeyType: "ecdsa", KeyBits: 384, Curve: "P-384", SPKISHA256: spkiOf(&ecKey.PublicKey)}},
		{"ec pkcs8 der", pkcs8(ecKey),
			Material{Format: FormatPKCS8, KeyType: "ecdsa", KeyBits: 384, Curve: "P-384", SPKISHA256: spkiOf(&ecKey.PublicKey)}},
		{"ed25519 pkcs8 pem", pemOf("PRIVATE KEY", pkcs8(edKey), nil),
			Material{Format: FormatPKCS8, KeyType: "ed25519", KeyBits: 256, Curve: "Ed25519", SPKISHA256: spkiOf(edKey.Public())}},
		{"dsa pem", pemOf("DSA PRIVATE KEY", dsaDER, nil),
			Material{Format: FormatDSA, KeyType: "dsa", KeyBits: 1024, SPKISHA256: dsaSPKIHex}},
		{"openssh ed25519", pem.EncodeToMemory(sshPlain),
			Material{Format: FormatOpenSSH, KeyType: "ed25519", KeyBits: 256, Curve: "Ed25519", SPKISHA256: spkiOf(edKey.Public())}},
		{"openssh rsa, encrypted: its public key is in clear", pem.EncodeToMemory(sshEnc),
			Material{Encrypted: true, Format: FormatOpenSSH, KeyType: "rsa", KeyBits: 2048, SPKISHA256: spkiOf(&rsaKey.PublicKey)}},
		{"legacy encrypted rsa: the type only", pemOf("RSA PRIVATE KEY", []byte{1, 2, 3}, map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}),
			Material{Encrypted: true, Format: FormatPKCS1, KeyType: "rsa"}},
		{"encrypted pkcs8: nothing", pemOf("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}, nil),
			Material{Encrypted: true, Format: FormatPKCS8, KeyType: "unknown"}},
		{"garbage in a key block", pemOf("PRIVATE KEY", []byte("not a key"), nil),
			Material{Format: FormatPKCS8, KeyType: "unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Kind = MaterialPrivateKey
			got := FindMaterial(tc.data)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("FindMaterial =\n%+v, want\n%+v", got, tc.want)
			}
		})
	}
	// The committed openssl-made key and its certificate (made with it by openssl)
	// would agree; here, a certificate made with the RSA key carries the same SPKI digest
	// in its facts.
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1e9, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsaKey.PublicKey, rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	f, _, _ := facts(der)
	if f.SPKISHA256 != spkiOf(&rsaKey.PublicKey) || f.KeyType != "rsa" || f.KeyBits != 2048 {
		t.Errorf("certificate facts %s %d %s, key %s", f.KeyType, f.KeyBits, f.SPKISHA256, spkiOf(&rsaKey.PublicKey))
	}
}
