//go:debug rsa1024min=0

package lint

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
)

func TestFactsGenerated(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rsa2048 := linttest.RSAKey(t, 2048)
	root := linttest.New(t, linttest.Spec{CN: "Test Root", Key: rsa2048, IsCA: true, NotAfter: t0.AddDate(30, 0, 0)})
	tests := []struct {
		name string
		spec linttest.Spec
		want observe.CertFacts // only the fields compared below
	}{
		{"rsa1024 self-signed", linttest.Spec{CN: "small", Key: linttest.RSAKey(t, 1024)},
			observe.CertFacts{Subject: "CN=small", KeyType: "rsa", KeyBits: 1024, RSAExponent: 65537, SignatureHash: "sha256", SelfSigned: true, ValidityDays: 366}},
		{"rsa512 self-signed", linttest.Spec{CN: "tiny", Key: linttest.RSAKey(t, 512)},
			observe.CertFacts{Subject: "CN=tiny", KeyType: "rsa", KeyBits: 512, RSAExponent: 65537, SignatureHash: "sha256", SelfSigned: true, ValidityDays: 366}},
		{"rsa2048 issued", linttest.Spec{CN: "leaf", Key: rsa2048, Issuer: root},
			observe.CertFacts{Subject: "CN=leaf", Issuer: "CN=Test Root", KeyType: "rsa", KeyBits: 2048, RSAExponent: 65537, SignatureHash: "sha256", ValidityDays: 366}},
		{"p256", linttest.Spec{CN: "ec", Key: linttest.ECKey(t, elliptic.P256())},
			observe.CertFacts{Subject: "CN=ec", KeyType: "ecdsa", KeyBits: 256, Curve: "P-256", SignatureHash: "sha256", SelfSigned: true, ValidityDays: 366}},
		{"p384", linttest.Spec{CN: "ec384", Key: linttest.ECKey(t, elliptic.P384())},
			observe.CertFacts{Subject: "CN=ec384", KeyType: "ecdsa", KeyBits: 384, Curve: "P-384", SignatureHash: "sha384", SelfSigned: true, ValidityDays: 366}},
		{"p224", linttest.Spec{CN: "ec224", Key: linttest.ECKey(t, elliptic.P224())},
			observe.CertFacts{Subject: "CN=ec224", KeyType: "ecdsa", KeyBits: 224, Curve: "P-224", SignatureHash: "sha256", SelfSigned: true, ValidityDays: 366}},
		{"ed25519", linttest.Spec{CN: "ed", Key: linttest.Ed25519Key(t)},
			observe.CertFacts{Subject: "CN=ed", KeyType: "ed25519", KeyBits: 256, Curve: "Ed25519", SignatureHash: "none", SelfSigned: true, ValidityDays: 366}},
		{"sha1 self-signed CA", linttest.Spec{CN: "old root", Key: rsa2048, IsCA: true, Hash: "sha1"},
			observe.CertFacts{Subject: "CN=old root", KeyType: "rsa", KeyBits: 2048, RSAExponent: 65537, SignatureHash: "sha1", IsCA: true, SelfSigned: true, ValidityDays: 366}},
		{"md5 issued", linttest.Spec{CN: "md5 leaf", Key: rsa2048, Issuer: root, Hash: "md5"},
			observe.CertFacts{Subject: "CN=md5 leaf", Issuer: "CN=Test Root", KeyType: "rsa", KeyBits: 2048, RSAExponent: 65537, SignatureHash: "md5", ValidityDays: 366}},
		{"expired 2001", linttest.Spec{CN: "expired", NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)},
			observe.CertFacts{Subject: "CN=expired", KeyType: "ecdsa", KeyBits: 256, Curve: "P-256", SignatureHash: "sha256", SelfSigned: true, ValidityDays: 366}},
		{"30 years minus a second", linttest.Spec{CN: "long", NotBefore: t0, NotAfter: t0.AddDate(30, 0, 0).Add(-time.Second)},
			observe.CertFacts{Subject: "CN=long", KeyType: "ecdsa", KeyBits: 256, Curve: "P-256", SignatureHash: "sha256", SelfSigned: true, ValidityDays: 10957}},
		{"escaped name", linttest.Spec{CN: " a,b+c\"d\\e<f>g;h ", Org: "#org"},
			observe.CertFacts{Subject: `CN=\ a\,b\+c\"d\\e\<f\>g\;h\ ,O=\#org`, KeyType: "ecdsa", KeyBits: 256, Curve: "P-256", SignatureHash: "sha256", SelfSigned: true, ValidityDays: 366}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := linttest.New(t, tc.spec)
			f := Facts(c.DER)
			if f.ParseError != "" {
				t.Fatalf("ParseError %q", f.ParseError)
			}
			w := tc.want
			if w.Issuer == "" {
				w.Issuer = w.Subject
			}
			w.IsCA = tc.spec.IsCA
			got := observe.CertFacts{Subject: f.Subject, Issuer: f.Issuer, KeyType: f.KeyType, KeyBits: f.KeyBits,
				RSAExponent: f.RSAExponent, Curve: f.Curve, SignatureHash: f.SignatureHash, IsCA: f.IsCA,
				SelfSigned: f.SelfSigned, ValidityDays: f.ValidityDays}
			if got.Subject != w.Subject || got.Issuer != w.Issuer || got.KeyType != w.KeyType || got.KeyBits != w.KeyBits ||
				got.RSAExponent != w.RSAExponent || got.Curve != w.Curve || got.SignatureHash != w.SignatureHash ||
				got.IsCA != w.IsCA || got.SelfSigned != w.SelfSigned || got.ValidityDays != w.ValidityDays {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			if !f.NotBefore.Equal(c.X509.NotBefore) || !f.NotAfter.Equal(c.X509.NotAfter) || f.NotAfter.Location() != time.UTC {
				t.Errorf("validity %v..%v, want %v..%v in UTC", f.NotBefore, f.NotAfter, c.X509.NotBefore, c.X509.NotAfter)
			}
			if f.SerialHex != c.X509.SerialNumber.Text(16) && "0"+c.X509.SerialNumber.Text(16) != f.SerialHex {
				t.Errorf("serial %s, want %s", f.SerialHex, c.X509.SerialNumber.Text(16))
			}
			if len(f.SPKISHA256) != 64 {
				t.Errorf("SPKISHA256 %q", f.SPKISHA256)
			}
			if !tc.spec.IsCA && (len(f.ExtKeyUsage) != 1 || f.ExtKeyUsage[0] != "serverAuth") {
				t.Errorf("ExtKeyUsage %v", f.ExtKeyUsage)
			}
		})
	}
}

func TestFactsSANs(t *testing.T) {
	c := linttest.New(t, linttest.Spec{CN: "pump", DNSNames: []string{"pump.example", "pump"},
		IPs: []netip.Addr{netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("2001:db8::1")}})
	f := Facts(c.DER)
	if len(f.DNSNames) != 2 || f.DNSNames[0] != "pump.example" || f.DNSNames[1] != "pump" {
		t.Errorf("DNSNames %v", f.DNSNames)
	}
	if len(f.IPAddresses) != 2 || f.IPAddresses[0] != "10.0.0.7" || f.IPAddresses[1] != "2001:db8::1" {
		t.Errorf("IPAddresses %v", f.IPAddresses)
	}
}

// TestSelfIssuedNotSelfSigned: a certificate whose issuer equals its subject but which
// another key signed (a CA's key-rollover certificate) is not self-signed.
func TestSelfIssuedNotSelfSigned(t *testing.T) {
	other := linttest.New(t, linttest.Spec{CN: "Same Name", Key: linttest.RSAKey(t, 1024), IsCA: true})
	c := linttest.New(t, linttest.Spec{CN: "Same Name", Key: linttest.RSAKey(t, 2048), IsCA: true, Issuer: other})
	f := Facts(c.DER)
	if f.Subject != f.Issuer {
		t.Fatalf("subject %q issuer %q", f.Subject, f.Issuer)
	}
	if f.SelfSigned {
		t.Error("self-issued certificate signed by another key reported as self-signed")
	}
}

// TestMD2SelfSigned builds a self-signed MD2-RSA certificate (as old roots were), which no
// library will verify, and checks it is still recognised as self-signed.
func TestMD2SelfSigned(t *testing.T) {
	key := linttest.RSAKey(t, 1024)
	base := linttest.New(t, linttest.Spec{CN: "md2 root", Key: key, IsCA: true})
	der := linttest.Resign(t, base.DER, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 2}, func(tbs []byte) []byte {
		d := md2Sum(tbs)
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.Hash(0), append(append([]byte(nil), digestInfoPrefix["md2"]...), d[:]...))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	})
	f := Facts(der)
	if f.SignatureHash != "md2" || f.SignatureAlgorithm != "MD2-RSA" || !f.SelfSigned || !f.IsCA {
		t.Errorf("got %+v", f)
	}
}

func TestMD2Vectors(t *testing.T) {
	for in, want := range map[string]string{
		"":               "8350e5a3e24c153df2275c9f80692773",
		"abc":            "da853b0d3f88d99b30283a69e6ded6bb",
		"message digest": "ab4f496bfb2a530b219ff33031fe06b0",
		"12345678901234567890123456789012345678901234567890123456789012345678901234567890": "d5976f79d83d3a0dc9806c3c66f3efd8",
	} {
		d := md2Sum([]byte(in))
		if got := hex.EncodeToString(d[:]); got != want {
			t.Errorf("md2(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestFactsMalformed: what zcrypto refuses still yields what can be read, and garbage
// yields a ParseError without a panic.
func TestFactsMalformed(t *testing.T) {
	c := linttest.New(t, linttest.Spec{CN: "cut"})
	tests := []struct {
		name        string
		der         []byte
		wantSubject string
	}{
		{"empty", nil, ""},
		{"garbage", []byte("not a certificate"), ""},
		{"truncated after subject", truncateAfterSubject(t, c.DER), "CN=cut"},
		{"trailing data", append(append([]byte(nil), c.DER...), 0, 0), "CN=cut"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Facts(tc.der)
			if f.ParseError == "" {
				t.Error("no ParseError")
			}
			if f.Subject != tc.wantSubject {
				t.Errorf("Subject %q, want %q", f.Subject, tc.wantSubject)
			}
			if f.KeyType == "" {
				t.Error("KeyType empty, want at least \"unknown\"")
			}
		})
	}
}

// truncateAfterSubject cuts a certificate in the middle of its public key, rewriting
// nothing else: the outer lengths then overrun, and only a structure reader that keeps
// partial results can still name the subject.
func truncateAfterSubject(t *testing.T, der []byte) []byte {
	r, err := readCert(der)
	if err != nil {
		t.Fatal(err)
	}
	// The SPKI element starts right after the subject; keep 10 bytes of it.
	idx := indexOf(der, r.spki)
	if idx < 0 {
		t.Fatal("spki not found")
	}
	return append([]byte(nil), der[:idx+10]...)
}

func indexOf(hay, needle []byte) int {
	for i := 0; i+len(needle) <= len(hay); i++ {
		if string(hay[i:i+len(needle)]) == string(needle) {
			return i
		}
	}
	return -1
}

func TestExamine(t *testing.T) {
	a := linttest.New(t, linttest.Spec{CN: "a"})
	b := linttest.New(t, linttest.Spec{CN: "b", Issuer: a})
	set := observe.NewSet()
	set.AddTLS(observe.TLSSession{
		Flow:           observe.Flow{Client: netip.MustParseAddrPort("10.0.0.2:5000"), Server: netip.MustParseAddrPort("10.0.0.1:443")},
		SawServerHello: true, Version: 0x0303,
	}, [][]byte{b.DER, a.DER}, nil)
	pre := &observe.CertFacts{Subject: "kept"}
	for _, c := range set.Certificates {
		if string(c.DER) == string(a.DER) {
			c.Facts = pre
		}
	}
	Examine(set)
	Examine(nil)
	for _, c := range set.Certificates {
		switch string(c.DER) {
		case string(a.DER):
			if c.Facts != pre {
				t.Error("existing facts replaced")
			}
		case string(b.DER):
			if c.Facts == nil || c.Facts.Subject != "CN=b" {
				t.Errorf("facts %+v", c.Facts)
			}
		}
	}
}

func TestValidityDays(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for _, tc := range []struct {
		nb, na string
		want   int
	}{
		{"2014-11-08T00:00:00Z", "2019-11-07T23:59:59Z", 1825},
		{"2020-12-10T19:38:28Z", "2022-03-10T19:38:28Z", 455},
		{"2020-01-02T00:00:00Z", "2020-01-01T00:00:00Z", -1},
		{"2020-01-02T00:00:00Z", "2020-01-01T12:00:00Z", -1},
		{"1950-01-01T00:00:00Z", "9999-12-31T23:59:59Z", 2940201},
	} {
		if got := validityDays(d(tc.nb), d(tc.na)); got != tc.want {
			t.Errorf("%s..%s = %d, want %d", tc.nb, tc.na, got, tc.want)
		}
	}
}

func FuzzFacts(f *testing.F) {
	if dir, ok := corpusDirIfPresent(); ok {
		for _, der := range corpusCertsQuiet(dir) {
			f.Add(der)
		}
	}
	f.Add(linttest.New(f, linttest.Spec{CN: "seed", Key: linttest.RSAKey(f, 1024)}).DER)
	f.Add(linttest.New(f, linttest.Spec{CN: "seed-ec"}).DER)
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		fa := Facts(der)
		if fa == nil || fa.KeyType == "" {
			t.Fatalf("facts %+v", fa)
		}
	})
}

func BenchmarkFacts(b *testing.B) {
	root := linttest.New(b, linttest.Spec{CN: "Root", Key: linttest.RSAKey(b, 2048), IsCA: true})
	leaf := linttest.New(b, linttest.Spec{CN: "leaf", Key: linttest.RSAKey(b, 2048), Issuer: root, DNSNames: []string{"a.example", "b.example"}})
	for _, c := range []struct {
		name string
		der  []byte
	}{{"rsa-leaf", leaf.DER}, {"rsa-self-signed-root", root.DER}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Facts(c.der)
			}
		})
	}
}
