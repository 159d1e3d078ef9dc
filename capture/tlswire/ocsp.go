package tlswire

import (
	"crypto/x509"
	"errors"
	"slices"

	"golang.org/x/crypto/ocsp"

	"github.com/medscan/medscan/observe"
)

// hsCertificateStatus is the TLS 1.2 handshake message that carries a stapled OCSP
// response (RFC 6066 §8).
const hsCertificateStatus = 22

// statusOCSP is CertificateStatusType ocsp.
const statusOCSP = 1

// MaxStaple bounds a stapled response: a few kilobytes in practice, with the
// responder's certificate.
const MaxStaple = 64 << 10

// certificateStatus keeps the stapled OCSP response until the session is emitted, when
// the chain it speaks of is known.
func (s *stream) certificateStatus(body []byte) {
	r := rd(body)
	typ, ok := r.u8()
	if !ok || typ != statusOCSP {
		s.count("tls_bad_certificate_status", 1)
		return
	}
	resp, ok := r.vec24()
	if !ok || !r.empty() || len(resp) == 0 {
		s.count("tls_bad_certificate_status", 1)
		return
	}
	if len(resp) > MaxStaple {
		s.count("tls_staples_too_large", 1)
		return
	}
	s.staple = slices.Clone(resp)
}

// reasonNames are RFC 5280's CRLReason names by code, as OCSP gives them.
var reasonNames = map[int]string{ocsp.Unspecified: "unspecified", ocsp.KeyCompromise: "keyCompromise",
	ocsp.CACompromise: "cACompromise", ocsp.AffiliationChanged: "affiliationChanged", ocsp.Superseded: "superseded",
	ocsp.CessationOfOperation: "cessationOfOperation", ocsp.CertificateHold: "certificateHold",
	ocsp.RemoveFromCRL: "removeFromCRL", ocsp.PrivilegeWithdrawn: "privilegeWithdrawn", ocsp.AACompromise: "aACompromise"}

// ReadStaple reads a stapled OCSP response against the server's chain (leaf first):
// what it says, of which serial, and whether its signature verifies with the issuer
// sent. It is the one reader of staples: the passive dissector calls it on a TLS 1.2
// CertificateStatus message, and the prober on the response its TLS client received
// (inside TLS 1.3's encrypted Certificate message, which no dissector sees). An empty
// response (nothing stapled) or one larger than MaxStaple is not read: nil.
func ReadStaple(der []byte, chain [][]byte) *observe.OCSPStaple {
	if len(der) == 0 || len(der) > MaxStaple {
		return nil
	}
	var issuer *x509.Certificate
	if len(chain) > 1 {
		issuer, _ = x509.ParseCertificate(chain[1])
	}
	st := &observe.OCSPStaple{}
	resp, err := ocsp.ParseResponse(der, issuer)
	if err != nil && issuer != nil {
		// The signature may be what failed: read it again unverified, so that what the
		// response says is still reported, and say it did not verify.
		if resp2, err2 := ocsp.ParseResponse(der, nil); err2 == nil {
			resp, err = resp2, nil
			issuer = nil
		}
	}
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) {
			st.Error = "the responder answered " + re.Status.String()
		} else {
			st.Error = "not an OCSP response: " + observe.Clean(err.Error())
		}
		return st
	}
	switch resp.Status {
	case ocsp.Good:
		st.Status = "good"
	case ocsp.Revoked:
		st.Status = "revoked"
		st.RevokedAt = resp.RevokedAt.UTC()
		st.Reason = reasonNames[resp.RevocationReason]
	default:
		st.Status = "unknown"
	}
	if resp.SerialNumber != nil {
		st.Serial = resp.SerialNumber.Text(16)
	}
	st.ProducedAt, st.ThisUpdate, st.NextUpdate = resp.ProducedAt.UTC(), resp.ThisUpdate.UTC(), resp.NextUpdate.UTC()
	st.Verified = issuer != nil
	if len(chain) > 0 && resp.SerialNumber != nil {
		// A leaf crypto/x509 refuses (a device's malformed one) is not matched.
		if leaf, err := x509.ParseCertificate(chain[0]); err == nil {
			st.ForLeaf = leaf.SerialNumber.Cmp(resp.SerialNumber) == 0
		}
	}
	return st
}
