package lint

import (
	encasn1 "encoding/asn1"
	"errors"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// rawCert is what the DER reader could take out of a certificate. Every field is
// optional: reading stops at the first malformed element and keeps what came before.
type rawCert struct {
	tbs       []byte // the whole TBSCertificate element, header included
	serial    []byte // INTEGER content octets
	issuer    []byte // Name element, header included
	subject   []byte
	notBefore time.Time
	notAfter  time.Time
	haveTimes bool
	spki      []byte // SubjectPublicKeyInfo element
	keyAlg    encasn1.ObjectIdentifier
	keyParams cryptobyte.String // AlgorithmIdentifier parameters element, may be empty
	keyBits   []byte            // subjectPublicKey BIT STRING content, right-aligned
	sigAlg    encasn1.ObjectIdentifier
	sigParams cryptobyte.String
	signature []byte

	basicConstraints bool // the extension is present
	isCA             bool
	dnsNames         []string
	ipAddresses      []string
	extKeyUsage      []string
}

var (
	errOuter     = errors.New("not a DER certificate")
	errTBS       = errors.New("malformed TBSCertificate")
	errNames     = errors.New("malformed issuer or subject")
	errTimes     = errors.New("malformed validity")
	errSPKI      = errors.New("malformed subject public key info")
	errTrailer   = errors.New("malformed signature algorithm or value")
	errTruncated = errors.New("truncated certificate")
)

// Extension OIDs read here.
var (
	oidBasicConstraints = encasn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectAltName   = encasn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtKeyUsage      = encasn1.ObjectIdentifier{2, 5, 29, 37}
)

// readCert walks the certificate structure. The error says where reading stopped;
// the fields read before that point are kept.
func readCert(der []byte) (r *rawCert, err error) {
	r = &rawCert{}
	in := cryptobyte.String(der)
	var cert cryptobyte.String
	truncated := false
	if !in.ReadASN1(&cert, asn1.SEQUENCE) {
		// A certificate cut short (a truncated capture) still has readable names up front:
		// read on into what is there, and report the truncation at the end.
		var ok bool
		if cert, ok = truncatedSequence(der); !ok {
			return r, errOuter
		}
		truncated = true
	}
	var tbsElem, tbs cryptobyte.String
	if cert.ReadASN1Element(&tbsElem, asn1.SEQUENCE) {
		r.tbs = tbsElem
		if !tbsElem.ReadASN1(&tbs, asn1.SEQUENCE) {
			return r, errTBS
		}
	} else {
		var ok bool
		if tbs, ok = truncatedSequence(cert); !ok {
			return r, errTBS
		}
		truncated = true
		cert = nil
	}
	if truncated {
		defer func() {
			if err == nil {
				err = errTruncated
			}
		}()
	}
	// The trailer first: the signature algorithm and value are useful even when the TBS
	// turns out to be malformed further down.
	var sigAlg cryptobyte.String
	var sig encasn1.BitString
	if cert.ReadASN1(&sigAlg, asn1.SEQUENCE) && sigAlg.ReadASN1ObjectIdentifier(&r.sigAlg) {
		r.sigParams = sigAlg
		if cert.ReadASN1BitString(&sig) {
			r.signature = sig.RightAlign()
		}
	}
	if !tbs.SkipOptionalASN1(asn1.Tag(0).Constructed().ContextSpecific()) {
		return r, errTBS
	}
	var serial cryptobyte.String
	if !tbs.ReadASN1(&serial, asn1.INTEGER) {
		return r, errTBS
	}
	r.serial = serial
	if !tbs.SkipASN1(asn1.SEQUENCE) { // the inner signature algorithm
		return r, errTBS
	}
	var issuer, validity, subject cryptobyte.String
	if !tbs.ReadASN1Element(&issuer, asn1.SEQUENCE) {
		return r, errNames
	}
	r.issuer = issuer
	if !tbs.ReadASN1(&validity, asn1.SEQUENCE) {
		return r, errTimes
	}
	nb, ok1 := readTime(&validity)
	na, ok2 := readTime(&validity)
	if ok1 && ok2 {
		r.notBefore, r.notAfter, r.haveTimes = nb, na, true
	}
	if !tbs.ReadASN1Element(&subject, asn1.SEQUENCE) {
		return r, errNames
	}
	r.subject = subject
	var spki cryptobyte.String
	if !tbs.ReadASN1Element(&spki, asn1.SEQUENCE) {
		return r, errSPKI
	}
	r.spki = spki
	var spkiBody, alg cryptobyte.String
	var key encasn1.BitString
	if !spki.ReadASN1(&spkiBody, asn1.SEQUENCE) || !spkiBody.ReadASN1(&alg, asn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&r.keyAlg) || !spkiBody.ReadASN1BitString(&key) {
		return r, errSPKI
	}
	r.keyParams = alg
	r.keyBits = key.RightAlign()
	if !ok1 || !ok2 {
		return r, errTimes
	}
	// Optional issuerUniqueID [1] and subjectUniqueID [2], then extensions [3].
	tbs.SkipOptionalASN1(asn1.Tag(1).ContextSpecific())
	tbs.SkipOptionalASN1(asn1.Tag(2).ContextSpecific())
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, asn1.Tag(3).Constructed().ContextSpecific()) {
		return r, errTBS
	}
	if present {
		r.readExtensions(exts)
	}
	if r.sigAlg == nil || r.signature == nil {
		return r, errTrailer
	}
	return r, nil
}

// truncatedSequence returns the content of a SEQUENCE whose length runs past the end of
// the input: whatever of it is there. It refuses anything that is not a SEQUENCE header.
func truncatedSequence(b []byte) (cryptobyte.String, bool) {
	if len(b) < 2 || b[0] != 0x30 {
		return nil, false
	}
	n := int(b[1])
	if n < 0x80 {
		return cryptobyte.String(b[2:]), true
	}
	n &= 0x7f
	if n == 0 || n > 4 || len(b) < 2+n {
		return nil, false
	}
	return cryptobyte.String(b[2+n:]), true
}

// readTime reads a UTCTime or GeneralizedTime.
func readTime(s *cryptobyte.String) (time.Time, bool) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(asn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, false
		}
	case s.PeekASN1Tag(asn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, false
		}
	default:
		return t, false
	}
	return t.UTC(), true
}

// readExtensions reads the extensions rules need; a malformed one is skipped, not fatal,
// because the facts of the rest of the certificate are still worth having.
func (r *rawCert) readExtensions(exts cryptobyte.String) {
	var list cryptobyte.String
	if !exts.ReadASN1(&list, asn1.SEQUENCE) {
		return
	}
	for !list.Empty() {
		var ext cryptobyte.String
		var id encasn1.ObjectIdentifier
		var value []byte
		if !list.ReadASN1(&ext, asn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) {
			return
		}
		readOptionalBool(&ext) // critical: rules do not need it
		if !ext.ReadASN1Bytes(&value, asn1.OCTET_STRING) {
			continue
		}
		switch {
		case id.Equal(oidBasicConstraints):
			r.basicConstraints = true
			v := cryptobyte.String(value)
			var seq cryptobyte.String
			if v.ReadASN1(&seq, asn1.SEQUENCE) {
				r.isCA = readOptionalBool(&seq)
			}
		case id.Equal(oidSubjectAltName):
			r.readSAN(value)
		case id.Equal(oidExtKeyUsage):
			r.readEKU(value)
		}
	}
}

// readOptionalBool reads a BOOLEAN if one comes next, false otherwise. Any non-zero
// content counts as true: BER allows it and old CAs wrote 0x01.
func readOptionalBool(s *cryptobyte.String) bool {
	if !s.PeekASN1Tag(asn1.BOOLEAN) {
		return false
	}
	var v cryptobyte.String
	if !s.ReadASN1(&v, asn1.BOOLEAN) {
		return false
	}
	for _, b := range v {
		if b != 0 {
			return true
		}
	}
	return false
}

// readSAN collects dNSName and iPAddress general names.
func (r *rawCert) readSAN(value []byte) {
	v := cryptobyte.String(value)
	var seq cryptobyte.String
	if !v.ReadASN1(&seq, asn1.SEQUENCE) {
		return
	}
	for !seq.Empty() {
		var gn cryptobyte.String
		var tag asn1.Tag
		if !seq.ReadAnyASN1(&gn, &tag) {
			return
		}
		switch tag {
		case asn1.Tag(2).ContextSpecific():
			r.dnsNames = append(r.dnsNames, printableString(gn))
		case asn1.Tag(7).ContextSpecific():
			if a, ok := netip.AddrFromSlice(gn); ok {
				r.ipAddresses = append(r.ipAddresses, a.Unmap().String())
			}
		}
	}
}

// ekuNames maps the extended key usages that matter to a TLS scanner to short names;
// others are kept as dotted OIDs.
var ekuNames = map[string]string{
	"2.5.29.37.0":             "any",
	"1.3.6.1.5.5.7.3.1":       "serverAuth",
	"1.3.6.1.5.5.7.3.2":       "clientAuth",
	"1.3.6.1.5.5.7.3.3":       "codeSigning",
	"1.3.6.1.5.5.7.3.4":       "emailProtection",
	"1.3.6.1.5.5.7.3.8":       "timeStamping",
	"1.3.6.1.5.5.7.3.9":       "OCSPSigning",
	"1.3.6.1.5.5.7.3.5":       "ipsecEndSystem",
	"1.3.6.1.5.5.7.3.6":       "ipsecTunnel",
	"1.3.6.1.5.5.7.3.7":       "ipsecUser",
	"1.3.6.1.4.1.311.10.3.3":  "microsoftServerGatedCrypto",
	"2.16.840.1.113730.4.1":   "netscapeServerGatedCrypto",
	"1.3.6.1.4.1.311.20.2.2":  "microsoftSmartcardLogon",
	"1.3.6.1.4.1.311.10.3.12": "microsoftDocumentSigning",
}

func (r *rawCert) readEKU(value []byte) {
	v := cryptobyte.String(value)
	var seq cryptobyte.String
	if !v.ReadASN1(&seq, asn1.SEQUENCE) {
		return
	}
	for !seq.Empty() {
		var id encasn1.ObjectIdentifier
		if !seq.ReadASN1ObjectIdentifier(&id) {
			return
		}
		s := id.String()
		if n, ok := ekuNames[s]; ok {
			s = n
		}
		r.extKeyUsage = append(r.extKeyUsage, s)
	}
}

// printableString keeps a byte string as text, replacing what is not valid UTF-8 so that
// JSON and terminals downstream get well-formed strings.
func printableString(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
