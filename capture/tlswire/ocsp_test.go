package tlswire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// stapleChain is a CA, a leaf it issued and an OCSP response about the leaf signed by
// the CA with status.
func stapleChain(t testing.TB, status int) (leaf, ca, resp []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Staple CA"}, NotBefore: now.AddDate(-1, 0, 0),
		NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	ca, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(ca)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(0x5150), Subject: pkix.Name{CommonName: "ehr"}, NotBefore: now.AddDate(0, -1, 0),
		NotAfter: now.AddDate(1, 0, 0)}
	leaf, err = x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = ocsp.CreateResponse(caCert, caCert, ocsp.Response{Status: status, SerialNumber: big.NewInt(0x5150), ThisUpdate: now,
		NextUpdate: now.AddDate(0, 0, 1), RevokedAt: now.AddDate(0, 0, -2), RevocationReason: ocsp.KeyCompromise}, key)
	if err != nil {
		t.Fatal(err)
	}
	return leaf, ca, resp
}

func TestReadStaple(t *testing.T) {
	leaf, ca, good := stapleChain(t, ocsp.Good)
	st := ReadStaple(good, [][]byte{leaf, ca})
	if st.Status != "good" || !st.Verified || !st.ForLeaf || st.Serial != "5150" || st.NextUpdate.IsZero() || st.Error != "" {
		t.Errorf("good staple read as %+v", st)
	}
	leaf2, ca2, revoked := stapleChain(t, ocsp.Revoked)
	st = ReadStaple(revoked, [][]byte{leaf2, ca2})
	if st.Status != "revoked" || st.Reason != "keyCompromise" || st.RevokedAt.IsZero() || !st.Verified {
		t.Errorf("revoked staple read as %+v", st)
	}
	// Signed by another CA of the same name: read, not verified.
	st = ReadStaple(revoked, [][]byte{leaf, ca})
	if st.Status != "revoked" || st.Verified {
		t.Errorf("a staple from another key: %+v", st)
	}
	// The leaf alone: nothing to verify with.
	if st = ReadStaple(good, [][]byte{leaf}); st.Status != "good" || st.Verified || !st.ForLeaf {
		t.Errorf("without the issuer: %+v", st)
	}
	if st = ReadStaple(ocsp.TryLaterErrorResponse, [][]byte{leaf, ca}); st.Status != "" || st.Error != "the responder answered try later" {
		t.Errorf("tryLater: %+v", st)
	}
	if st = ReadStaple([]byte{0x30, 0x03, 0x0a, 0x01}, nil); st.Status != "" || st.Error == "" {
		t.Errorf("garbage: %+v", st)
	}
}

func FuzzReadStaple(f *testing.F) {
	leaf, ca, good := stapleChain(f, ocsp.Good)
	f.Add(good)
	f.Add(ocsp.TryLaterErrorResponse)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		st := ReadStaple(data, [][]byte{leaf, ca})
		if st == nil {
			// Nothing stapled (an empty CertificateStatus), or more than a staple may be.
			if len(data) != 0 && len(data) <= MaxStaple {
				t.Fatalf("a staple of %d bytes read as none", len(data))
			}
			return
		}
		if (st.Status == "") == (st.Error == "") {
			t.Fatalf("a staple is read (status) or not (error), never both or neither: %+v", st)
		}
	})
}
