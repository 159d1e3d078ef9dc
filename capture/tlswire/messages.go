package tlswire

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/bits"
	"slices"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// certificate reads a Certificate message: the TLS <= 1.2 format, or the TLS 1.3 format
// (request context, and extensions after each entry) should one ever be seen in clear.
func (s *stream) certificate(dir dissect.Direction, body []byte) {
	chain := &s.clientChain
	if dir == dissect.ServerToClient {
		chain = &s.serverChain
	}
	if *chain != nil {
		return // the first chain a side sends is the one that counts
	}
	var spans []span
	var ok bool
	if s.sess.Version == 0x0304 {
		spans, ok = certList(body, true)
	} else if spans, ok = certList(body, false); !ok {
		spans, ok = certList(body, true)
	}
	if !ok {
		s.count("tls_bad_certificates", 1)
		return
	}
	// One copy of the whole message: the caller's bytes are only valid during Data, and
	// the certificates are kept until the session is emitted.
	own := slices.Clone(body)
	out := make([][]byte, len(spans))
	for i, sp := range spans {
		out[i] = own[sp.off : sp.off+sp.n : sp.off+sp.n]
	}
	*chain = out
}

// span locates one certificate inside a Certificate message body.
type span struct{ off, n int }

// certList parses certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>, or with tls13 the
// TLS 1.3 form: a request context first, and extensions after each certificate.
func certList(body []byte, tls13 bool) ([]span, bool) {
	r := rd(body)
	if tls13 {
		if _, ok := r.vec8(); !ok {
			return nil, false
		}
	}
	list, ok := r.vec24()
	if !ok || !r.empty() {
		return nil, false
	}
	// list runs to the end of body, so an entry's offset follows from what is left.
	var spans []span
	for !list.empty() {
		c, ok := list.vec24()
		if !ok || len(c) == 0 {
			return nil, false
		}
		if len(spans) < maxCerts {
			spans = append(spans, span{off: len(body) - len(list) - len(c), n: len(c)})
		}
		if tls13 {
			if _, ok := list.vec16(); !ok {
				return nil, false
			}
		}
	}
	return spans, true
}

// serverKeyExchange reads the group of an ephemeral (EC)DH key exchange. The message
// format depends on the suite, so it needs the ServerHello.
func (s *stream) serverKeyExchange(body []byte) {
	info, ok := observe.Suite(s.sess.Suite)
	if !s.sess.SawServerHello || !ok {
		return
	}
	r := rd(body)
	switch info.KeyExchange {
	case "DHE_PSK", "ECDHE_PSK":
		if _, ok := r.vec16(); !ok { // psk_identity_hint
			s.count("tls_bad_key_exchanges", 1)
			return
		}
	}
	switch info.KeyExchange {
	case "DHE", "DHE_PSK":
		p, ok := r.vec16()
		if !ok {
			s.count("tls_bad_key_exchanges", 1)
			return
		}
		s.sess.DHBits = bitLen(p)
	case "ECDHE", "ECDHE_PSK":
		curveType, ok := r.u8()
		if !ok {
			s.count("tls_bad_key_exchanges", 1)
			return
		}
		switch curveType {
		case 3: // named_curve
			if g, ok := r.u16(); ok {
				s.sess.ECDHCurve = g
			}
		case 1:
			s.sess.ECDHCurve = 0xff01 // arbitrary_explicit_prime_curves
		case 2:
			s.sess.ECDHCurve = 0xff02 // arbitrary_explicit_char2_curves
		}
	}
}

// bitLen counts the significant bits of a big-endian unsigned integer, so that a prime
// sent with a leading zero byte is not counted 8 bits too large.
func bitLen(p []byte) int {
	for len(p) > 0 && p[0] == 0 {
		p = p[1:]
	}
	if len(p) == 0 {
		return 0
	}
	return (len(p)-1)*8 + bits.Len8(p[0])
}

// certificateRequest reads a TLS 1.0-1.2 CertificateRequest: certificate types, the
// signature algorithms (TLS 1.2 only) and the CA names the server accepts.
func (s *stream) certificateRequest(body []byte) {
	s.sess.CertRequest = true
	v := s.sess.Version
	var cas []string
	var ok bool
	switch {
	case v == 0x0303:
		cas, ok = certRequestCAs(body, true)
	case v != 0 && v < 0x0303:
		cas, ok = certRequestCAs(body, false)
	default:
		// No ServerHello seen: whichever layout parses exactly.
		if cas, ok = certRequestCAs(body, true); !ok {
			cas, ok = certRequestCAs(body, false)
		}
	}
	if !ok {
		s.count("tls_bad_certificate_requests", 1)
	}
	s.sess.CertRequestCAs = cas
}

func certRequestCAs(body []byte, sigAlgs bool) ([]string, bool) {
	r := rd(body)
	if _, ok := r.vec8(); !ok {
		return nil, false
	}
	if sigAlgs {
		if algs, ok := r.vec16(); !ok || len(algs)%2 != 0 {
			return nil, false
		}
	}
	list, ok := r.vec16()
	if !ok || !r.empty() {
		return nil, false
	}
	var cas []string
	for !list.empty() {
		dn, ok := list.vec16()
		if !ok {
			return cas, false
		}
		if len(cas) >= maxCAs {
			continue
		}
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(dn, &rdn); err != nil || len(rest) != 0 {
			return cas, false
		}
		cas = append(cas, rdn.String())
	}
	return cas, true
}
