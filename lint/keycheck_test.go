package lint

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	mrand "math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// rocaPrime builds a prime with Infineon RSALib's structure, p = k·M + (65537^a mod M),
// with M the primorial of the first 39 primes (2 to 167), the one the paper gives for
// 512-bit keys; k and a are random. For the fingerprint only M's prime divisors matter.
func rocaPrime(r *mrand.ChaCha8, bits int) *big.Int {
	m := big.NewInt(2)
	for _, p := range rocaPrimes {
		m.Mul(m, new(big.Int).SetUint64(p))
	}
	buf := make([]byte, bits/8)
	for {
		r.Read(buf)
		buf[0] |= 0xc0
		k := new(big.Int).SetBytes(buf)
		k.Quo(k, m)
		a := new(big.Int).SetUint64(r.Uint64() % (1 << 40))
		g := new(big.Int).Exp(big.NewInt(65537), a, m)
		p := k.Mul(k, m)
		p.Add(p, g)
		if p.BitLen() == bits && p.ProbablyPrime(0) {
			return p
		}
	}
}

// keyCert returns a certificate for the public key, signed by a throwaway P-256 key:
// lint reads the subject key, never uses the signature, so no private key is needed.
func keyCert(t testing.TB, pub crypto.PublicKey, cn string) []byte {
	t.Helper()
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, Issuer: pkix.Name{CommonName: "issuer"},
		NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: "issuer"}, PublicKey: signer.Public()}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// moduli are the kinds of modulus the checks must tell apart, built once.
type testModuli struct {
	ordinary, roca, fermat, small, square *big.Int
}

func makeModuli(t testing.TB) testModuli {
	t.Helper()
	r := mrand.NewChaCha8([32]byte{'k'})
	var m testModuli
	m.ordinary = new(big.Int).Mul(testPrime(r, 512), testPrime(r, 512))
	m.roca = new(big.Int).Mul(rocaPrime(r, 512), rocaPrime(r, 512))
	// Fermat: q is the next prime after p, as broken generators do.
	p := testPrime(r, 512)
	q := new(big.Int).Add(p, big.NewInt(2))
	for !q.ProbablyPrime(0) {
		q.Add(q, big.NewInt(2))
	}
	m.fermat = new(big.Int).Mul(p, q)
	m.small = new(big.Int).Mul(testPrime(r, 1008), big.NewInt(65521)) // the largest prime below 2^16
	pp := testPrime(r, 512)
	m.square = new(big.Int).Mul(pp, pp)
	return m
}

func TestKeyChecks(t *testing.T) {
	m := makeModuli(t)
	// A ROCA-structured modulus with a prime factor of another form must not match, nor
	// must 2048-bit keys from crypto/rsa.
	mixed := new(big.Int).Mul(rocaPrime(mrand.NewChaCha8([32]byte{'x'}), 512), testPrime(mrand.NewChaCha8([32]byte{'y'}), 512))
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                string
		n                   *big.Int
		roca, small, fermat bool
	}{
		{"ordinary", m.ordinary, false, false, false},
		{"crypto/rsa 2048", k.N, false, false, false},
		{"roca", m.roca, true, false, false},
		{"roca times ordinary prime", mixed, false, false, false},
		{"fermat close primes", m.fermat, false, false, true},
		{"perfect square", m.square, false, false, true},
		{"small factor", m.small, false, true, false},
		{"even", new(big.Int).Lsh(m.ordinary, 1), false, true, false},
		{"tiny prime is not 'divisible'", big.NewInt(65521), false, false, false},
		{"nil", nil, false, false, false},
		{"zero", new(big.Int), false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := HasROCAFingerprint(tc.n); got != tc.roca {
				t.Errorf("ROCA = %v, want %v", got, tc.roca)
			}
			if got := HasSmallFactor(tc.n); got != tc.small {
				t.Errorf("small factor = %v, want %v", got, tc.small)
			}
			if got := FermatFactorable(tc.n, fermatSteps); got != tc.fermat {
				t.Errorf("Fermat = %v, want %v", got, tc.fermat)
			}
		})
	}
}

func TestROCAFalsePositives(t *testing.T) {
	r := mrand.NewChaCha8([32]byte{'f'})
	for i := range 200 {
		n := new(big.Int).Mul(testPrime(r, 256), testPrime(r, 256))
		if HasROCAFingerprint(n) {
			t.Fatalf("ordinary modulus %d matched the ROCA fingerprint", i)
		}
	}
}

func spkiHex(t testing.TB, der []byte) string {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(s[:])
}

func TestExamineKeys(t *testing.T) {
	m := makeModuli(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	certs := map[string][]byte{
		"ordinary":   keyCert(t, &rsa.PublicKey{N: m.ordinary, E: 65537}, "ordinary"),
		"roca":       keyCert(t, &rsa.PublicKey{N: m.roca, E: 65537}, "roca"),
		"roca-again": keyCert(t, &rsa.PublicKey{N: m.roca, E: 65537}, "roca again"),
		"fermat":     keyCert(t, &rsa.PublicKey{N: m.fermat, E: 65537}, "fermat"),
		"small":      keyCert(t, &rsa.PublicKey{N: m.small, E: 65537}, "small"),
		"ec":         keyCert(t, ec.Public(), "ec"),
	}
	bl, err := ParseBlocklist(strings.NewReader("# known-compromised keys\n"+spkiHex(t, certs["ec"])+"  # the EC one\n\n"+
		strings.ToUpper(spkiHex(t, certs["ordinary"]))+"\n"), "test.txt")
	if err != nil {
		t.Fatal(err)
	}
	set := observe.NewSet()
	names := map[observe.CertRef]string{}
	for name, der := range certs {
		at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		set.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: netip.MustParseAddrPort("192.0.2.9:5000"),
			Server: netip.MustParseAddrPort("192.0.2.1:443")}, FirstSeen: at, SawServerHello: true, Version: 0x0303}, [][]byte{der}, nil)
		names[sha256.Sum256(der)] = name
	}
	Examine(set)
	ExamineKeys(set, KeyOptions{Blocklist: bl})
	want := map[string]struct {
		flaws  []string
		method string
	}{
		"ordinary":   {[]string{FlawBlocklisted}, ""},
		"roca":       {[]string{FlawROCA}, ""},
		"roca-again": {[]string{FlawROCA}, ""},
		"fermat":     {[]string{FlawFermat}, FactorFermat},
		"small":      {[]string{FlawSmallFactor}, FactorSmallFactor},
		"ec":         {[]string{FlawBlocklisted}, ""},
	}
	for ref, c := range set.Certificates {
		name := names[ref]
		w := want[name]
		if !slices.Equal(c.Facts.KeyFlaws, w.flaws) || c.Facts.FactorMethod != w.method || c.Facts.Factorable != (w.method != "") {
			t.Errorf("%s: flaws %v method %q factorable %v; want %v %q", name, c.Facts.KeyFlaws, c.Facts.FactorMethod,
				c.Facts.Factorable, w.flaws, w.method)
		}
	}
	// Without a blocklist, nothing is blocklisted, and a nil set is fine.
	ExamineKeys(nil, KeyOptions{})
}

func TestParseBlocklist(t *testing.T) {
	h := strings.Repeat("ab", 32)
	tests := []struct {
		name, in string
		n        int
		err      string
	}{
		{"empty", "", 0, ""},
		{"comments and blanks", "# header\n\n   \n" + h + "\n" + h + " # again\n", 1, ""},
		{"crlf", h + "\r\n" + strings.Repeat("cd", 32) + "\r\n", 2, ""},
		{"short digest", "# x\nabcd\n", 0, "test.txt:2: want the 64-digit hex SHA-256"},
		{"not hex", strings.Repeat("zz", 32) + "\n", 0, "test.txt:1:"},
		{"sha1 of modulus", strings.Repeat("ab", 20), 0, "test.txt:1:"},
		{"overlong line", strings.Repeat("a", 5000), 0, "test.txt: line 1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseBlocklist(strings.NewReader(tc.in), "test.txt")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || b.Len() != tc.n || b.Name() != "test.txt" {
				t.Fatalf("got %v, %d keys; want %d", err, b.Len(), tc.n)
			}
			if tc.n > 0 && (!b.Contains(h) && !b.Contains(strings.Repeat("cd", 32)) || b.Contains(strings.Repeat("ef", 32))) {
				t.Error("Contains is wrong")
			}
		})
	}
	var none *Blocklist
	if none.Contains(h) || none.Len() != 0 {
		t.Error("a nil blocklist must contain nothing")
	}
	if _, err := LoadBlocklist("/nonexistent/blocklist.txt"); err == nil || !strings.Contains(err.Error(), "/nonexistent/blocklist.txt") {
		t.Errorf("LoadBlocklist error %v must name the file", err)
	}
}

// FuzzKeyChecks runs the key reader and every check on arbitrary certificate bytes: none
// may panic, and the checks must agree with themselves.
func FuzzKeyChecks(f *testing.F) {
	m := makeModuli(f)
	for _, n := range []*big.Int{m.ordinary, m.roca, m.fermat, m.small} {
		f.Add(keyCert(f, &rsa.PublicKey{N: n, E: 65537}, "seed"))
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		n, ok := RSAModulus(der)
		if !ok {
			return
		}
		HasROCAFingerprint(n)
		HasSmallFactor(n)
		if n.BitLen() <= 8192 {
			FermatFactorable(n, 10)
		}
		BatchGCD([]*big.Int{n, n, big.NewInt(15)}, 2)
	})
}

// FuzzParseBlocklist: any bytes give a list or an error naming the file, never a panic.
func FuzzParseBlocklist(f *testing.F) {
	f.Add([]byte("# x\n" + strings.Repeat("ab", 32) + "\n"))
	f.Add([]byte(strings.Repeat("a", 64) + " # c\r\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := ParseBlocklist(strings.NewReader(string(b)), "fuzz.txt")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.txt") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		_ = bl.Len()
	})
}
