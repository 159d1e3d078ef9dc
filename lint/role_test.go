package lint

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// testKey is one P-256 key for every generated certificate: the role and chain tests
// judge names and extensions, and share keys only where a test says so.
var testKey = func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}()

// tcert is a generated certificate with its template, for signing children.
type tcert struct {
	der  []byte
	tmpl *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serialN int64

// mkcert issues a certificate from tmpl, signed by parent (nil: self-signed). It fills
// a serial, a subject from cn and a year's validity from 2024 unless tmpl sets them.
func mkcert(tb testing.TB, cn string, tmpl *x509.Certificate, parent *tcert) *tcert {
	tb.Helper()
	if tmpl == nil {
		tmpl = &x509.Certificate{}
	}
	serialN++
	tmpl.SerialNumber = big.NewInt(serialN)
	tmpl.Subject = pkix.Name{CommonName: cn, Organization: []string{"Test"}}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		tmpl.NotAfter = tmpl.NotBefore.AddDate(1, 0, 0)
	}
	if tmpl.IsCA {
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	key := testKey
	ptmpl, pkey := tmpl, key
	if parent != nil {
		ptmpl, pkey = parent.tmpl, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ptmpl, &key.PublicKey, pkey)
	if err != nil {
		tb.Fatal(err)
	}
	return &tcert{der: der, tmpl: tmpl, key: key}
}

func TestDecideRole(t *testing.T) {
	root := mkcert(t, "Root", &x509.Certificate{IsCA: true}, nil)
	inter := mkcert(t, "Inter", &x509.Certificate{IsCA: true}, root)
	server := mkcert(t, "srv", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, inter)
	client := mkcert(t, "dev", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, inter)
	both := mkcert(t, "both", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}, inter)
	code := mkcert(t, "code", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}, inter)
	noEKU := mkcert(t, "noeku", nil, inter)
	// otherName { id-on-hardwareModuleName, [0] EXPLICIT HardwareModuleName { hwType, hwSerialNum } }
	hw := []byte{0x30, 0x08, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x04, 0x01, 0x07}
	oid, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 4})
	hwName := append(append([]byte{0x30, 0}, oid...), append([]byte{0xa0, byte(len(hw))}, hw...)...)
	hwName[1] = byte(len(hwName) - 2)
	san, _ := asn1.Marshal([]asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: hwName[2:]}})
	devid := mkcert(t, "idevid", &x509.Certificate{ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: san}}}, inter)
	v1root := mkcert(t, "v1", nil, nil)

	srv := func(pos int) []observe.CertSighting {
		return []observe.CertSighting{{Endpoint: netip.MustParseAddrPort("192.0.2.1:443"), Role: "server", Position: pos}}
	}
	cli := []observe.CertSighting{{Role: "client", Position: 0}}
	file := []observe.CertSighting{{Source: observe.SourceFile, Position: 3}}
	tests := []struct {
		name   string
		der    []byte
		seen   []observe.CertSighting
		want   string
		reason string
	}{
		{"self-signed CA", root.der, nil, RoleTrustAnchor, "self-signed"},
		{"intermediate", inter.der, srv(1), RoleIntermediate, "basicConstraints cA=TRUE"},
		{"serverAuth leaf served", server.der, srv(0), RoleTLSServer, "sent by a server at position 0"},
		{"serverAuth leaf from a file", server.der, file, RoleTLSServer, "EKU serverAuth"},
		{"clientAuth leaf from a client", client.der, cli, RoleDeviceIdentity, "sent by a client at position 0"},
		{"both EKUs, sent by a client", both.der, cli, RoleDeviceIdentity, "EKU clientAuth"},
		{"both EKUs, served", both.der, srv(0), RoleTLSServer, "EKU serverAuth"},
		{"code signing", code.der, file, RoleCodeSigning, "EKU codeSigning"},
		{"no EKU from a file is other, never a TLS server", noEKU.der, file, RoleOther, "no EKU"},
		{"no EKU served", noEKU.der, srv(0), RoleTLSServer, "no EKU"},
		{"no EKU from a client", noEKU.der, cli, RoleDeviceIdentity, "no EKU"},
		{"802.1AR hardwareModuleName", devid.der, file, RoleDeviceIdentity, "subjectAltName hardwareModuleName (IEEE 802.1AR)"},
		{"self-signed leaf served above a leaf", v1root.der, srv(2), RoleTrustAnchor, "self-signed and sent above the leaf of a chain"},
		{"self-signed leaf served as the leaf", v1root.der, srv(0), RoleTLSServer, "sent by a server at position 0"},
		{"position in a file bundle is not a chain", noEKU.der, file, RoleOther, "read from a file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, _, zc := facts(tc.der)
			role, why := decideRole(f, hintsOf(zc), tc.seen)
			if f.ParseError != "" {
				t.Logf("parse: %s", f.ParseError)
			}
			if role != tc.want || !slices.Contains(why, tc.reason) {
				t.Errorf("role %s %v, want %s with %q", role, why, tc.want, tc.reason)
			}
		})
	}
}

func TestExamineRecordsRoleAndLints(t *testing.T) {
	root := mkcert(t, "Root", &x509.Certificate{IsCA: true}, nil)
	leaf := mkcert(t, "leaf.example", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"leaf.example"}}, root)
	set := observe.NewSet()
	set.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: netip.MustParseAddrPort("192.0.2.9:5000"),
		Server: netip.MustParseAddrPort("192.0.2.1:443")}}, [][]byte{leaf.der, root.der}, nil)
	Examine(set)
	l := set.Certificates[sha256.Sum256(leaf.der)].Facts
	r := set.Certificates[sha256.Sum256(root.der)].Facts
	if l.Role != RoleTLSServer || r.Role != RoleTrustAnchor || l.WebPKI || r.WebPKI {
		t.Errorf("leaf %s %v, root %s %v", l.Role, l.WebPKI, r.Role, r.WebPKI)
	}
	if l.Lints == nil || l.LintError != "" {
		t.Errorf("zlint did not run: %q", l.LintError)
	}
	for _, x := range append(l.Lints, r.Lints...) {
		if x.Source != "RFC5280" && x.Source != "RFC5480" && x.Source != "Community" && x.Source != "RFC3279" {
			t.Errorf("private chain got a %s lint: %s", x.Source, x.Name)
		}
	}
	// The same chain, judged public by the policy, gets the CA/Browser Forum's lints.
	set2 := observe.NewSet()
	set2.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: netip.MustParseAddrPort("192.0.2.9:5000"),
		Server: netip.MustParseAddrPort("192.0.2.1:443")}}, [][]byte{leaf.der, root.der}, nil)
	ExamineWith(set2, Options{WebPKI: WebPKIAlways})
	l2 := set2.Certificates[sha256.Sum256(leaf.der)].Facts
	br := false
	for _, x := range l2.Lints {
		br = br || x.Source == "CABF_BR"
	}
	if !l2.WebPKI || !br {
		t.Errorf("webpki always: public=%v, lints %v", l2.WebPKI, l2.Lints)
	}
}
