// Package linttest generates certificates for the tests of lint and rules: keys of any
// size (cached, since RSA generation is slow), chains, and signatures with broken digests
// that crypto/x509 refuses to produce. It is imported by tests only.
package linttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var (
	mu      sync.Mutex
	rsaKeys = map[int]*rsa.PrivateKey{}
	ecKeys  = map[string]*ecdsa.PrivateKey{}
	serial  int64
)

// RSAKey returns a cached RSA key of the given size. Sizes below 1024 need the test
// binary to run with GODEBUG rsa1024min=0 (a //go:debug line in the test file).
func RSAKey(tb testing.TB, bits int) *rsa.PrivateKey {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if k := rsaKeys[bits]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatalf("linttest: rsa %d: %v", bits, err)
	}
	rsaKeys[bits] = k
	return k
}

// ECKey returns a cached ECDSA key on the curve.
func ECKey(tb testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	name := c.Params().Name
	if k := ecKeys[name]; k != nil {
		return k
	}
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		tb.Fatalf("linttest: ecdsa %s: %v", name, err)
	}
	ecKeys[name] = k
	return k
}

// Ed25519Key returns a fresh Ed25519 key.
func Ed25519Key(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// Spec describes a certificate to generate. Zero values give a one-year leaf valid from
// 2024-01-01, self-signed, with a P-256 key and a SHA-256 signature.
type Spec struct {
	CN        string
	Org       string
	Key       crypto.Signer // nil: a cached P-256 key
	NotBefore time.Time
	NotAfter  time.Time
	IsCA      bool
	Issuer    *Cert  // nil: self-signed
	Hash      string // "md5" or "sha1" to re-sign an RSA certificate with a broken digest
	DNSNames  []string
	IPs       []netip.Addr
	EKU       []x509.ExtKeyUsage // nil: serverAuth on a leaf, none on a CA
}

// Cert is a generated certificate with its key.
type Cert struct {
	DER  []byte
	Key  crypto.Signer
	X509 *x509.Certificate
}

// New generates a certificate.
func New(tb testing.TB, s Spec) *Cert {
	tb.Helper()
	if s.Key == nil {
		s.Key = ECKey(tb, elliptic.P256())
	}
	if s.NotBefore.IsZero() {
		s.NotBefore = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if s.NotAfter.IsZero() {
		s.NotAfter = s.NotBefore.AddDate(1, 0, 0)
	}
	if s.CN == "" {
		s.CN = "device.example"
	}
	mu.Lock()
	serial++
	n := serial
	mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(n),
		Subject:               pkix.Name{CommonName: s.CN},
		NotBefore:             s.NotBefore,
		NotAfter:              s.NotAfter,
		BasicConstraintsValid: true,
		IsCA:                  s.IsCA,
		DNSNames:              s.DNSNames,
	}
	for _, ip := range s.IPs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	}
	if s.Org != "" {
		tmpl.Subject.Organization = []string{s.Org}
	}
	if s.IsCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if s.EKU != nil {
		tmpl.ExtKeyUsage = s.EKU
	}
	parent, signer := tmpl, s.Key
	if s.Issuer != nil {
		parent, signer = s.Issuer.X509, s.Issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, s.Key.Public(), signer)
	if err != nil {
		tb.Fatalf("linttest: create %s: %v", s.CN, err)
	}
	if s.Hash != "" {
		rk, ok := signer.(*rsa.PrivateKey)
		if !ok {
			tb.Fatalf("linttest: re-signing with %s needs an RSA issuer key", s.Hash)
		}
		var oid asn1.ObjectIdentifier
		var h crypto.Hash
		switch s.Hash {
		case "md5":
			oid, h = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, crypto.MD5
		case "sha1":
			oid, h = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, crypto.SHA1
		default:
			tb.Fatalf("linttest: unknown hash %q", s.Hash)
		}
		der = Resign(tb, der, oid, func(tbs []byte) []byte {
			d := h.New()
			d.Write(tbs)
			sig, err := rsa.SignPKCS1v15(rand.Reader, rk, h, d.Sum(nil))
			if err != nil {
				tb.Fatalf("linttest: sign: %v", err)
			}
			return sig
		})
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("linttest: parse %s: %v", s.CN, err)
	}
	return &Cert{DER: der, Key: s.Key, X509: parsed}
}

type certificate struct {
	TBS    asn1.RawValue
	SigAlg pkix.AlgorithmIdentifier
	Sig    asn1.BitString
}

type tbsCertificate struct {
	Raw        asn1.RawContent
	Version    int `asn1:"optional,explicit,default:0,tag:0"`
	Serial     *big.Int
	SigAlg     pkix.AlgorithmIdentifier
	Issuer     asn1.RawValue
	Validity   asn1.RawValue
	Subject    asn1.RawValue
	PublicKey  asn1.RawValue
	Extensions []pkix.Extension `asn1:"optional,explicit,tag:3"`
}

// Resign replaces a certificate's signature algorithm (in the TBS and outside it) with
// oid and signs the new TBS with sign, which returns the signature value.
func Resign(tb testing.TB, der []byte, oid asn1.ObjectIdentifier, sign func(tbs []byte) []byte) []byte {
	tb.Helper()
	var c certificate
	if _, err := asn1.Unmarshal(der, &c); err != nil {
		tb.Fatalf("linttest: resign: %v", err)
	}
	var t tbsCertificate
	if _, err := asn1.Unmarshal(c.TBS.FullBytes, &t); err != nil {
		tb.Fatalf("linttest: resign tbs: %v", err)
	}
	t.Raw = nil
	alg := pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue}
	t.SigAlg = alg
	tbs, err := asn1.Marshal(t)
	if err != nil {
		tb.Fatalf("linttest: resign marshal: %v", err)
	}
	sig := sign(tbs)
	out, err := asn1.Marshal(certificate{
		TBS:    asn1.RawValue{FullBytes: tbs},
		SigAlg: alg,
		Sig:    asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		tb.Fatalf("linttest: resign marshal: %v", err)
	}
	return out
}
