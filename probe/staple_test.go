package probe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/medscan/medscan/observe"
)

// stapledCert is a server certificate issued by a test CA, sent with the CA, and an OCSP
// response of status about it signed by the CA, stapled.
func stapledCert(t *testing.T, status int) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Ward Staple CA"}, NotBefore: now.AddDate(-1, 0, 0),
		NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	ca, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(ca)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(0x5150), Subject: pkix.Name{CommonName: "pacs.ward.example"},
		DNSNames: []string{"pacs.ward.example"}, NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(1, 0, 0)}
	leaf, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.CreateResponse(caCert, caCert, ocsp.Response{Status: status, SerialNumber: big.NewInt(0x5150),
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.AddDate(0, 0, 1), RevokedAt: now.AddDate(0, 0, -2),
		RevocationReason: ocsp.Superseded}, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{leaf, ca}, PrivateKey: key, OCSPStaple: resp}
}

// TestEnumerateStapledOCSP: the first handshake, in every profile, asks for a stapled
// OCSP response and reads it with the passive path's reader, in TLS 1.2 (a
// CertificateStatus message in the clear) and TLS 1.3 (inside the encrypted Certificate
// message, which only the TLS client sees), without a connection of its own; a server
// that staples nothing is recorded as not stapling.
func TestEnumerateStapledOCSP(t *testing.T) {
	for _, c := range []struct {
		name    string
		version uint16
		status  int  // ocsp.Good or ocsp.Revoked
		staple  bool // the server staples
	}{
		{"TLS 1.3 revoked", tls.VersionTLS13, ocsp.Revoked, true},
		{"TLS 1.2 revoked", tls.VersionTLS12, ocsp.Revoked, true},
		{"TLS 1.3 good", tls.VersionTLS13, ocsp.Good, true},
		{"TLS 1.3 no staple", tls.VersionTLS13, ocsp.Good, false},
		{"TLS 1.2 no staple", tls.VersionTLS12, ocsp.Good, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert := stapledCert(t, c.status)
			if !c.staple {
				cert.OCSPStaple = nil
			}
			srv := tlsServeGo(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: c.version, MaxVersion: c.version})
			r, _ := tlsEnumerate(t, srv, ProfileInventory)
			if r.Outcome != observe.ProbeTLS || r.Connections != 1 || len(r.Handshakes) != 1 {
				t.Fatalf("outcome %s connections %d handshakes %d (%v): the staple must come with the one handshake",
					r.Outcome, r.Connections, len(r.Handshakes), r.Err)
			}
			st := r.Handshakes[0].Session.OCSPStaple
			if !c.staple {
				if st != nil || r.Profile.OCSPStapling != "no" {
					t.Fatalf("no staple: session staple %+v, profile %q", st, r.Profile.OCSPStapling)
				}
				return
			}
			want := map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked"}[c.status]
			if r.Profile.OCSPStapling != "yes" || st == nil || st.Status != want || !st.ForLeaf || !st.Verified || st.Serial != "5150" {
				t.Fatalf("profile %q, staple %+v; want %s, for the leaf, verified", r.Profile.OCSPStapling, st, want)
			}
			if c.status == ocsp.Revoked && st.Reason != "superseded" {
				t.Errorf("reason %q", st.Reason)
			}
		})
	}
}
