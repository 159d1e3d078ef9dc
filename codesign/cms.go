package codesign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/medscan/medscan/observe"
)

// OIDs this file reads.
var (
	oidMD5           = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSAPSS        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidCounterSign   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
	oidTimeStampTok  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidMSTimeStamp   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}
)

// hashForOID maps a CMS digest algorithm to its hash; MD5 and SHA-1 included, since a
// signature made with them must be reported, not refused.
func hashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidMD5):
		return crypto.MD5, true
	case oid.Equal(oidSHA1):
		return crypto.SHA1, true
	case oid.Equal(oidSHA224):
		return crypto.SHA224, true
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

// parseCMS parses a CMS/PKCS #7 SignedData from DER, PEM or S/MIME. The parser is a
// third-party one fed untrusted bytes: a panic in it is turned into an error.
func parseCMS(data []byte) (p7 *pkcs7.PKCS7, err error) {
	der, err := cmsDER(data)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			p7, err = nil, fmt.Errorf("malformed CMS (%v)", r)
		}
	}()
	p7, err = pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("malformed CMS: %v", err)
	}
	if len(p7.Signers) == 0 {
		return nil, errors.New("CMS without a signer")
	}
	return p7, nil
}

// cmsDER unwraps PEM and S/MIME (openssl cms -sign's default output) to DER.
func cmsDER(data []byte) ([]byte, error) {
	t := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(t, []byte("-----BEGIN")):
		b, _ := pem.Decode(t)
		if b == nil {
			return nil, errors.New("malformed PEM")
		}
		return b.Bytes, nil
	case bytes.HasPrefix(t, []byte("MIME-Version:")), bytes.HasPrefix(t, []byte("Content-Type:")):
		return smimeSignature(t)
	}
	return data, nil
}

// smimeSignature finds the application/pkcs7-signature part of an S/MIME message (or the
// body of a message that is only that part) and decodes it.
func smimeSignature(t []byte) ([]byte, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(t))
	if err != nil {
		return nil, fmt.Errorf("malformed S/MIME: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("malformed S/MIME Content-Type: %v", err)
	}
	if strings.Contains(mt, "pkcs7") {
		return decodeBase64Body(msg.Body)
	}
	if !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return nil, fmt.Errorf("S/MIME of type %q holds no signature", mt)
	}
	// The parts are split by hand rather than with mime/multipart: the first part is the
	// signed image itself, raw binary, which a MIME reader need not accept.
	body, err := io.ReadAll(io.LimitReader(msg.Body, MaxSignatureSize))
	if err != nil {
		return nil, err
	}
	delim := []byte("--" + params["boundary"])
	for _, part := range bytes.Split(body, delim) {
		hdrEnd := bytes.Index(part, []byte("\n\n"))
		if k := bytes.Index(part, []byte("\r\n\r\n")); k >= 0 && (hdrEnd < 0 || k < hdrEnd) {
			hdrEnd = k
		}
		if hdrEnd < 0 || !bytes.Contains(bytes.ToLower(part[:hdrEnd]), []byte("pkcs7-signature")) {
			continue
		}
		return decodeBase64Body(bytes.NewReader(part[hdrEnd:]))
	}
	return nil, errors.New("S/MIME without a pkcs7-signature part")
}

func decodeBase64Body(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSignatureSize))
	if err != nil {
		return nil, err
	}
	b = bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, b)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	if err != nil {
		return nil, fmt.Errorf("S/MIME base64: %v", err)
	}
	return out[:n], nil
}

// checkCMSDetached verifies a detached CMS signature file over the image's bytes.
func checkCMSDetached(sig observe.UpdateSignature, data []byte, img *File, anchors *Anchors) observe.UpdateSignature {
	p7, err := parseCMS(data)
	if err != nil {
		sig.Reason = err.Error()
		return sig
	}
	digest := func(h crypto.Hash) ([]byte, error) { return streamDigest(img.Open, h) }
	if len(p7.Content) > 0 {
		// An attached signature: it signs its own copy, which must be the image.
		sum := sha256.Sum256(p7.Content)
		if hex.EncodeToString(sum[:]) != strings.ToLower(img.SHA256) && img.SHA256 != "" {
			sig.Checked, sig.Reason = true, "the signature carries other content than the image (a signature for another file)"
			describeCMSSigner(&sig, p7)
			return sig
		}
		content := p7.Content
		digest = func(h crypto.Hash) ([]byte, error) { return memDigest(content, h), nil }
	}
	return verifyCMS(sig, p7, digest, anchors)
}

func streamDigest(open func() (io.ReadSeekCloser, error), h crypto.Hash) ([]byte, error) {
	if !h.Available() {
		return nil, fmt.Errorf("hash %v not available", h)
	}
	r, err := open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	w := h.New()
	if _, err := io.Copy(w, r); err != nil {
		return nil, err
	}
	return w.Sum(nil), nil
}

func memDigest(b []byte, h crypto.Hash) []byte {
	w := h.New()
	w.Write(b)
	return w.Sum(nil)
}

// signerInfo mirrors RFC 5652's SignerInfo, for the countersignature (an unsigned
// attribute holding one) and for the raw signed attributes.
type signerInfo struct {
	Version                   int
	IssuerAndSerialNumber     issuerAndSerial
	DigestAlgorithm           algorithmIdentifier
	AuthenticatedAttributes   []attribute `asn1:"optional,omitempty,tag:0"`
	DigestEncryptionAlgorithm algorithmIdentifier
	EncryptedDigest           []byte
	UnauthenticatedAttributes []attribute `asn1:"optional,omitempty,tag:1"`
}

type issuerAndSerial struct {
	IssuerName   asn1.RawValue
	SerialNumber *big.Int
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

// signerView is what verifying one signer needs, from the library's SignerInfo or ours.
type signerView struct {
	ias       issuerAndSerial
	digestAlg asn1.ObjectIdentifier
	sigAlg    asn1.ObjectIdentifier
	signed    []attribute
	unsigned  []attribute
	signature []byte
}

func viewsOf(p7 *pkcs7.PKCS7) []signerView {
	var out []signerView
	for _, s := range p7.Signers {
		v := signerView{
			ias:       issuerAndSerial{IssuerName: s.IssuerAndSerialNumber.IssuerName, SerialNumber: s.IssuerAndSerialNumber.SerialNumber},
			digestAlg: s.DigestAlgorithm.Algorithm,
			sigAlg:    s.DigestEncryptionAlgorithm.Algorithm,
			signature: s.EncryptedDigest,
		}
		for _, a := range s.AuthenticatedAttributes {
			v.signed = append(v.signed, attribute{Type: a.Type, Value: a.Value})
		}
		for _, a := range s.UnauthenticatedAttributes {
			v.unsigned = append(v.unsigned, attribute{Type: a.Type, Value: a.Value})
		}
		out = append(out, v)
	}
	return out
}

func findCert(certs []*x509.Certificate, ias issuerAndSerial) *x509.Certificate {
	for _, c := range certs {
		if ias.SerialNumber != nil && c.SerialNumber.Cmp(ias.SerialNumber) == 0 && bytes.Equal(c.RawIssuer, ias.IssuerName.FullBytes) {
			return c
		}
	}
	return nil
}

func describeCMSSigner(sig *observe.UpdateSignature, p7 *pkcs7.PKCS7) {
	vs := viewsOf(p7)
	if len(vs) == 0 {
		return
	}
	if c := findCert(p7.Certificates, vs[0].ias); c != nil {
		describeCert(&sig.Signer, c)
	}
}

func describeCert(s *observe.UpdateSigner, c *x509.Certificate) {
	sum := sha256.Sum256(c.Raw)
	s.Subject = observe.Clean(c.Subject.String())
	s.Issuer = observe.Clean(c.Issuer.String())
	s.Serial = strings.ToUpper(c.SerialNumber.Text(16))
	s.CertSHA256 = hex.EncodeToString(sum[:])
	s.NotBefore, s.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
	s.KeyType, s.KeyBits = pubKeyInfo(c.PublicKey)
}

// signerResult is one signer's verification.
type signerResult struct {
	cert        *x509.Certificate
	hash        crypto.Hash
	verifies    bool
	checked     bool
	reason      string
	signingTime time.Time
}

// verifySigner checks one SignerInfo: the content digest against the messageDigest
// attribute (when signed attributes are present), then the signature over the
// attributes (or over the content's digest when there are none).
func verifySigner(v signerView, certs []*x509.Certificate, contentDigest func(crypto.Hash) ([]byte, error)) signerResult {
	var r signerResult
	r.cert = findCert(certs, v.ias)
	if r.cert == nil {
		r.reason = "the signature does not carry its signer's certificate"
		return r
	}
	h, ok := hashForOID(v.digestAlg)
	if !ok {
		r.reason = "unsupported digest algorithm " + v.digestAlg.String()
		return r
	}
	r.hash = h
	d, err := contentDigest(h)
	if err != nil {
		r.reason = "image not read: " + err.Error()
		return r
	}
	message, digest := []byte(nil), d
	if len(v.signed) > 0 {
		var md []byte
		if !attrValue(v.signed, oidMessageDigest, &md) {
			r.checked, r.reason = true, "signed attributes without a message digest"
			return r
		}
		var st time.Time
		if attrValue(v.signed, oidSigningTime, &st) {
			r.signingTime = st.UTC()
		}
		if !bytes.Equal(md, d) {
			r.checked, r.reason = true, "digest mismatch: the image was modified after signing, or the signature is for another file"
			return r
		}
		message, err = marshalSet(v.signed)
		if err != nil {
			r.reason = "signed attributes not re-encoded: " + err.Error()
			return r
		}
		digest = memDigest(message, h)
	}
	r.checked = true
	if err := verifyDigest(r.cert.PublicKey, h, digest, message, v.signature, v.sigAlg); err != nil {
		r.reason = "the signature does not verify with the signer's key: " + err.Error()
		return r
	}
	r.verifies = true
	return r
}

// attrValue unmarshals the first value of the attribute of type oid.
func attrValue(attrs []attribute, oid asn1.ObjectIdentifier, out any) bool {
	for _, a := range attrs {
		if a.Type.Equal(oid) {
			_, err := asn1.Unmarshal(a.Value.Bytes, out)
			return err == nil
		}
	}
	return false
}

// marshalSet re-encodes signed attributes as the DER SET OF the signature covers
// (RFC 5652 §5.4): each attribute's encoding, sorted, under a SET tag.
func marshalSet(attrs []attribute) ([]byte, error) {
	var encs [][]byte
	for _, a := range attrs {
		b, err := asn1.Marshal(a)
		if err != nil {
			return nil, err
		}
		encs = append(encs, b)
	}
	slices.SortFunc(encs, bytes.Compare)
	raw := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(encs, nil)}
	return asn1.Marshal(raw)
}

// verifyDigest checks a signature given the digest of what was signed (message too, for
// Ed25519, which signs the message itself). It accepts MD5, SHA-1 and small RSA keys on
// purpose: they are reported as weak, not refused.
func verifyDigest(pub crypto.PublicKey, h crypto.Hash, digest, message, signature []byte, sigAlg asn1.ObjectIdentifier) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if sigAlg.Equal(oidRSAPSS) {
			return rsa.VerifyPSS(k, h, digest, signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		}
		return rsa.VerifyPKCS1v15(k, h, digest, signature)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, signature) {
			return errors.New("ECDSA verification failure")
		}
		return nil
	case ed25519.PublicKey:
		if message == nil {
			return errors.New("Ed25519 without signed attributes is not supported")
		}
		if !ed25519.Verify(k, message, signature) {
			return errors.New("Ed25519 verification failure")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", pub)
}

// verifyCMS fills sig from the first signer of p7 that verifies (or the first signer).
func verifyCMS(sig observe.UpdateSignature, p7 *pkcs7.PKCS7, contentDigest func(crypto.Hash) ([]byte, error), anchors *Anchors) observe.UpdateSignature {
	views := viewsOf(p7)
	var best signerResult
	var bestView signerView
	for i, v := range views {
		r := verifySigner(v, p7.Certificates, contentDigest)
		if i == 0 || r.verifies && !best.verifies {
			best, bestView = r, v
		}
		if r.verifies {
			break
		}
	}
	sig.Checked, sig.Verifies, sig.Reason = best.checked, best.verifies, best.reason
	sig.Digest = hashName(best.hash)
	sig.SigningTime = best.signingTime
	if best.cert == nil {
		return sig
	}
	describeCert(&sig.Signer, best.cert)
	if !best.verifies {
		return sig
	}
	ts := checkTimestamp(bestView, p7.Certificates, anchors)
	sig.Timestamp, sig.TimestampSigner, sig.TimestampValid, sig.TimestampTrusted = ts.at, ts.signer, ts.valid, ts.trusted
	at, trustedTime := sig.SigningTime, false
	if ts.valid && (ts.trusted || anchors.Empty()) {
		at, trustedTime = ts.at, true
	}
	sig.Trust, sig.TrustReason = judgeChain(best.cert, p7.Certificates, anchors, at)
	sig.Weaknesses = uniqueSorted(append(digestWeakness(best.hash), certWeaknesses(best.cert, at, trustedTime)...))
	return sig
}

// judgeChain says whether the signer chains to the anchors. Time is judged apart (as
// weaknesses): the chain is built at a moment inside the signer's validity, at the
// signing time when it falls there.
func judgeChain(leaf *x509.Certificate, certs []*x509.Certificate, anchors *Anchors, at time.Time) (string, string) {
	if anchors.Empty() || len(anchors.Certs) == 0 {
		if anchors.Empty() {
			return TrustNotJudged, "no anchors in the policy"
		}
		return TrustUntrusted, "the policy's anchors for this image hold no certificate (OpenPGP or bare public keys only)"
	}
	if at.IsZero() || at.Before(leaf.NotBefore) || at.After(leaf.NotAfter) {
		at = leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	}
	inter := x509.NewCertPool()
	for _, c := range certs {
		if c != leaf {
			inter.AddCert(c)
		}
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: anchors.pool(), Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		// crypto/x509 refuses SHA-1 (and MD5) certificate signatures outright; such a
		// chain is still the vendor's, and its weakness is reported apart.
		if legacyChain(leaf, certs, anchors) {
			return TrustTrusted, "chains to the anchors (through a certificate signed with a legacy digest)"
		}
		return TrustUntrusted, "does not chain to the anchors: " + err.Error()
	}
	return TrustTrusted, "chains to the anchors"
}

// legacyChain walks up from leaf by issuer name and signature, checking each signature
// by hand (MD5 and SHA-1 included), until it meets an anchor; at most 8 steps.
func legacyChain(leaf *x509.Certificate, certs []*x509.Certificate, anchors *Anchors) bool {
	isAnchor := func(c *x509.Certificate) bool {
		return slices.ContainsFunc(anchors.Certs, func(a *x509.Certificate) bool { return bytes.Equal(a.Raw, c.Raw) })
	}
	cand := append(slices.Clone(anchors.Certs), certs...)
	cur := leaf
	for range 8 {
		if isAnchor(cur) {
			return true
		}
		var next *x509.Certificate
		for _, p := range cand {
			if p == cur || !bytes.Equal(p.RawSubject, cur.RawIssuer) || !p.IsCA {
				continue
			}
			if legacyCheck(p, cur) {
				next = p
				break
			}
		}
		if next == nil {
			return false
		}
		cur = next
	}
	return false
}

// legacyCheck verifies child's signature with parent's key for the algorithms x509
// refuses; others go through CheckSignatureFrom.
func legacyCheck(parent, child *x509.Certificate) bool {
	var h crypto.Hash
	switch child.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		h = crypto.SHA1
	case x509.MD5WithRSA:
		h = crypto.MD5
	default:
		return child.CheckSignatureFrom(parent) == nil
	}
	return verifyDigest(parent.PublicKey, h, memDigest(child.RawTBSCertificate, h), child.RawTBSCertificate, child.Signature, nil) == nil
}

// timestamp is what a countersignature or RFC 3161 token says of a signature's time.
type timestamp struct {
	at      time.Time
	signer  string
	valid   bool
	trusted bool
}

// tstInfo is RFC 3161's TSTInfo, as far as it is read.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time     `asn1:"generalized"`
	Rest           asn1.RawValue `asn1:"optional"`
}

type messageImprint struct {
	HashAlgorithm algorithmIdentifier
	HashedMessage []byte
}

// checkTimestamp reads the signer's unsigned attributes for an RFC 3161 timestamp token
// (id-aa-timeStampToken, or Authenticode's 1.3.6.1.4.1.311.3.3.1) or a PKCS #9
// countersignature, and verifies that it covers this signature.
func checkTimestamp(v signerView, certs []*x509.Certificate, anchors *Anchors) timestamp {
	for _, a := range v.unsigned {
		switch {
		case a.Type.Equal(oidTimeStampTok), a.Type.Equal(oidMSTimeStamp):
			if t, ok := rfc3161(a.Value.Bytes, v.signature, anchors); ok {
				return t
			}
		case a.Type.Equal(oidCounterSign):
			var cs signerInfo
			if _, err := asn1.Unmarshal(a.Value.Bytes, &cs); err != nil {
				continue
			}
			cv := signerView{ias: cs.IssuerAndSerialNumber, digestAlg: cs.DigestAlgorithm.Algorithm,
				sigAlg: cs.DigestEncryptionAlgorithm.Algorithm, signed: cs.AuthenticatedAttributes, signature: cs.EncryptedDigest}
			r := verifySigner(cv, certs, func(h crypto.Hash) ([]byte, error) { return memDigest(v.signature, h), nil })
			t := timestamp{at: r.signingTime, valid: r.verifies && !r.signingTime.IsZero()}
			if r.cert != nil {
				t.signer = observe.Clean(r.cert.Subject.String())
				tr, _ := judgeChain(r.cert, certs, anchors, r.signingTime)
				t.trusted = tr == TrustTrusted
			}
			return t
		}
	}
	return timestamp{}
}

func rfc3161(token, signature []byte, anchors *Anchors) (timestamp, bool) {
	p7, err := parseCMS(token)
	if err != nil || len(p7.Content) == 0 {
		return timestamp{}, false
	}
	var info tstInfo
	if _, err := asn1.Unmarshal(p7.Content, &info); err != nil {
		return timestamp{}, false
	}
	t := timestamp{at: info.GenTime.UTC()}
	h, ok := hashForOID(info.MessageImprint.HashAlgorithm.Algorithm)
	if !ok || !bytes.Equal(memDigest(signature, h), info.MessageImprint.HashedMessage) {
		return t, true // a token for another signature: present, not valid
	}
	content := p7.Content
	for _, v := range viewsOf(p7) {
		r := verifySigner(v, p7.Certificates, func(h crypto.Hash) ([]byte, error) { return memDigest(content, h), nil })
		if r.cert != nil {
			t.signer = observe.Clean(r.cert.Subject.String())
		}
		if r.verifies {
			t.valid = true
			tr, _ := judgeChain(r.cert, p7.Certificates, anchors, t.at)
			t.trusted = tr == TrustTrusted
			break
		}
	}
	return t, true
}
