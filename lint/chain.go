package lint

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"

	"github.com/medscan/medscan/observe"
)

// maxChainDepth bounds path building: no real chain is deeper, and a crafted one (a
// server sending thousands of cross-signed certificates) must not make it slow.
const maxChainDepth = 12

// node is one certificate as path building needs it.
type node struct {
	ref   observe.CertRef
	der   []byte
	r     *rawCert
	key   keyFacts
	sig   sigInfo
	facts *observe.CertFacts

	zc     *zx509.Certificate // zcrypto's view, parsed on first need (zcParsed)
	zcDone bool
	ec     *ecdsa.PublicKey // the key for ECDSA verification by hand, read on first need
	ecDone bool
}

// newNode reads a certificate for path building, its facts included.
func newNode(der []byte) *node {
	f, r, zc := facts(der)
	n := nodeOf(der, r, f)
	n.zc, n.zcDone = zc, true
	return n
}

// nodeWith reads a certificate whose facts are known (a set's certificates carry them
// once examined): only the structure reader runs now. zcrypto's parse, most of what
// reading a certificate costs, waits until a signature needs it (zcParsed), and an
// ECDSA signature, the usual one of a device PKI, never needs it (issuedBy).
func nodeWith(der []byte, f *observe.CertFacts) *node {
	r, _ := readCert(der)
	return nodeOf(der, r, f)
}

func nodeOf(der []byte, r *rawCert, f *observe.CertFacts) *node {
	n := &node{ref: sha256.Sum256(der), der: der, r: r, facts: f}
	if r.keyAlg != nil {
		n.key = readKey(r.keyAlg, r.keyParams, r.keyBits)
	}
	n.sig = readSigAlg(r.sigAlg, r.sigParams)
	return n
}

// zcRefused reports whether zcrypto refused the certificate (Facts' ParseError says so):
// such a certificate verifies nothing and is verified by nothing but by hand (RSA).
func (n *node) zcRefused() bool { return strings.HasPrefix(n.facts.ParseError, zcryptoRefused) }

// zcParsed is zcrypto's view of the certificate, nil when it refuses it.
func (n *node) zcParsed() *zx509.Certificate {
	if !n.zcDone {
		n.zcDone = true
		if !n.zcRefused() {
			if zc, err := zx509.ParseCertificate(n.der); err == nil {
				n.zc = zc
			}
		}
	}
	return n.zc
}

// ecdsaKey is the certificate's ECDSA key as the standard library reads it, nil when it
// is not one or is on a curve the library does not have (zcrypto's path then decides).
func (n *node) ecdsaKey() *ecdsa.PublicKey {
	if !n.ecDone {
		n.ecDone = true
		if n.key.typ == "ecdsa" {
			if k, err := x509.ParsePKIXPublicKey(n.r.spki); err == nil {
				n.ec, _ = k.(*ecdsa.PublicKey)
			}
		}
	}
	return n.ec
}

func (n *node) name() string {
	if n.facts.Subject != "" {
		return n.facts.Subject
	}
	return "sha256:" + n.ref.String()[:16]
}

// ecdsaHashes are the digests zcrypto verifies ECDSA signatures with (not SHA-224).
var ecdsaHashes = map[string]bool{"sha1": true, "sha256": true, "sha384": true, "sha512": true}

// issuedBy reports whether parent's name is child's issuer and parent's key verifies
// child's signature. RSA PKCS #1 v1.5 is verified by hand, so that MD2 and small keys
// still chain; ECDSA by hand too, as zcrypto would verify it (both certificates read
// by it, the same digests, a DER signature without trailing data), so that a chain of a
// device PKI is verified without zcrypto's parse of each certificate; other algorithms
// go through zcrypto.
func issuedBy(child, parent *node) bool {
	if !sameBytes(child.r.issuer, parent.r.subject) || child.r.tbs == nil || child.r.signature == nil {
		return false
	}
	if parent.key.typ == "rsa" && parent.key.n != nil {
		if _, ok := digestInfoPrefix[child.sig.hash]; ok && len(child.sig.name) > 4 && child.sig.name[len(child.sig.name)-4:] == "-RSA" {
			return verifyRSAPKCS1(parent.key.n, parent.key.e, child.sig.hash, child.r.tbs, child.r.signature)
		}
	}
	if child.zcRefused() || parent.zcRefused() {
		return false
	}
	if strings.HasPrefix(child.sig.name, "ECDSA-") && ecdsaHashes[child.sig.hash] {
		if pub := parent.ecdsaKey(); pub != nil {
			return ecdsa.VerifyASN1(pub, digest(child.sig.hash, child.r.tbs), child.r.signature)
		}
	}
	czc, pzc := child.zcParsed(), parent.zcParsed()
	if czc == nil || pzc == nil || pzc.PublicKey == nil {
		return false
	}
	return zx509.CheckSignatureFromKey(pzc.PublicKey, czc.SignatureAlgorithm, czc.RawTBSCertificate, czc.Signature) == nil
}

// Anchors are a site's trust anchors: the roots its devices and middleware are meant to
// trust. Only their name and key matter (RFC 5280 §6.1.1 (d)); their validity does not,
// as most relying parties ignore an anchor's dates.
type Anchors struct {
	nodes []*node
	ders  [][]byte
}

// ParseAnchors reads trust anchors from DER certificates. A certificate that does not
// parse well enough to give a name and a key is an error naming its position.
func ParseAnchors(ders [][]byte) (*Anchors, error) {
	a := &Anchors{}
	for i, der := range ders {
		n := newNode(der)
		if n.r.subject == nil || n.r.keyAlg == nil {
			return nil, fmt.Errorf("lint: trust anchor %d: no readable subject and key (%s)", i+1, n.facts.ParseError)
		}
		a.nodes = append(a.nodes, n)
		a.ders = append(a.ders, der)
	}
	if len(a.nodes) == 0 {
		return nil, errors.New("lint: no trust anchor")
	}
	return a, nil
}

// Len is the number of anchors.
func (a *Anchors) Len() int {
	if a == nil {
		return 0
	}
	return len(a.nodes)
}

// Facts are the anchors' parsed facts (subject, key), for listings that name the chain
// a certificate's issuers end at (medscan certs).
func (a *Anchors) Facts() []observe.CertFacts {
	if a == nil {
		return nil
	}
	out := make([]observe.CertFacts, 0, len(a.nodes))
	for _, n := range a.nodes {
		out = append(out, *n.facts)
	}
	return out
}

// DERs are the anchors' certificates, for the checks that need one as issuer (a CRL's
// signature).
func (a *Anchors) DERs() [][]byte {
	if a == nil {
		return nil
	}
	return a.ders
}

// is reports whether n is one of the anchors: the same certificate, or the same name
// and key (a re-issued root).
func (a *Anchors) is(n *node) *node {
	if a == nil {
		return nil
	}
	for _, t := range a.nodes {
		if t.ref == n.ref || (sameBytes(t.r.subject, n.r.subject) && bytes.Equal(t.r.spki, n.r.spki)) {
			return t
		}
	}
	return nil
}

// ChainVerdict is what path building found for one chain as one session sent it.
type ChainVerdict struct {
	// Trusted is true when a path leads from the leaf to a trust anchor through
	// certificates this chain sent, each valid at the observation time (the leaf's own
	// validity is left to the expiry rules).
	Trusted bool
	// Anchor is the subject of the anchor reached.
	Anchor string
	// Path lists the SHA-256 of the certificates used, leaf first, then the anchor's.
	Path []string
	// Reason says, in words, why no path to an anchor was found.
	Reason string
	// MissingIssuer is the subject of an issuer the chain needed but did not send and
	// that is not an anchor: "" when nothing was missing.
	MissingIssuer string
	// CompletedBy lists certificates seen elsewhere in the scan (other sessions, files)
	// that carry that issuer's name, verify the link and are not self-signed (a root may
	// be left out): evidence that the sender omits an intermediate, never used to vouch
	// for this chain.
	CompletedBy []string
}

// Verifier builds paths for the sessions of one set. Each chain is built from what its
// own session sent and the anchors only; the rest of the set is consulted solely to
// name a missing intermediate. Certificates are parsed when a chain needs them, not
// when the Verifier is made: a lint run of files has no chain, and a scan's chains
// name few of its certificates.
type Verifier struct {
	set     *observe.Set
	anchors *Anchors
	nodes   map[observe.CertRef]*node
	bySubj  map[string][]observe.CertRef // subject DER (as a string) → certificates in the set; nil until needed
}

// NewVerifier prepares path building over a set's certificates; anchors may be nil.
func NewVerifier(set *observe.Set, anchors *Anchors) *Verifier {
	return &Verifier{set: set, anchors: anchors, nodes: map[observe.CertRef]*node{}}
}

// withSubject returns the set's certificates whose subject is the DER name subj,
// indexing every certificate's subject with the structure reader on first use.
func (v *Verifier) withSubject(subj []byte) []observe.CertRef {
	if v.bySubj == nil {
		v.bySubj = map[string][]observe.CertRef{}
		if v.set != nil {
			for ref, c := range v.set.Certificates {
				if c == nil {
					continue
				}
				if r, _ := readCert(c.DER); r != nil && r.subject != nil {
					v.bySubj[string(r.subject)] = append(v.bySubj[string(r.subject)], ref)
				}
			}
		}
		for _, refs := range v.bySubj {
			// In a fixed order, so that CompletedBy does not follow the map's.
			slices.SortFunc(refs, func(a, b observe.CertRef) int { return bytes.Compare(a[:], b[:]) })
		}
	}
	return v.bySubj[string(subj)]
}

func (v *Verifier) node(ref observe.CertRef) *node {
	if n, ok := v.nodes[ref]; ok {
		return n
	}
	var n *node
	if c := v.set.Certificates[ref]; c != nil {
		if c.Facts != nil {
			n = nodeWith(c.DER, c.Facts)
		} else {
			n = newNode(c.DER)
		}
	}
	v.nodes[ref] = n
	return n
}

// validAt reports whether a certificate's validity covers t; an unknown time or
// unreadable validity passes, since nothing can be concluded.
func validAt(n *node, t time.Time) bool {
	if t.IsZero() || !n.r.haveTimes {
		return true
	}
	return !t.Before(n.r.notBefore) && !t.After(n.r.notAfter)
}

// Verify builds a path for one chain (leaf first) as sent, observed at time at.
func (v *Verifier) Verify(chain []observe.CertRef, at time.Time) ChainVerdict {
	var sent []*node
	for _, ref := range chain {
		if n := v.node(ref); n != nil {
			sent = append(sent, n)
		}
	}
	if len(sent) == 0 || len(chain) == 0 || sent[0].ref != chain[0] {
		return ChainVerdict{Reason: "the leaf could not be read"}
	}
	b := &builder{v: v, sent: sent, at: at}
	path, anchor := b.walk(sent[0], nil, 0)
	out := ChainVerdict{}
	if anchor != nil {
		out.Trusted = true
		out.Anchor = anchor.facts.Subject
		for _, n := range path {
			out.Path = append(out.Path, n.ref.String())
		}
		return out
	}
	out.Reason = b.reason
	if b.missing != nil {
		out.MissingIssuer = b.missing.facts.Issuer
		for _, ref := range v.withSubject(b.missing.r.issuer) {
			cand := v.node(ref)
			if cand == nil || cand.ref == b.missing.ref || cand.facts.SelfSigned || b.inSent(cand) || !issuedBy(b.missing, cand) {
				continue
			}
			out.CompletedBy = append(out.CompletedBy, cand.ref.String())
		}
	}
	if out.Reason == "" {
		out.Reason = "no path to a trust anchor"
	}
	return out
}

// builder is one path search.
type builder struct {
	v       *Verifier
	sent    []*node
	at      time.Time
	reason  string
	missing *node // a certificate whose issuer was neither sent nor an anchor
}

func (b *builder) inSent(n *node) bool {
	for _, s := range b.sent {
		if s.ref == n.ref {
			return true
		}
	}
	return false
}

func (b *builder) note(format string, args ...any) {
	if b.reason == "" {
		b.reason = fmt.Sprintf(format, args...)
	}
}

// walk searches depth first from cur towards an anchor; it returns the path (cur
// first) and the anchor reached, or nil.
func (b *builder) walk(cur *node, seen []*node, depth int) ([]*node, *node) {
	if depth > maxChainDepth {
		b.note("the chain is deeper than %d certificates", maxChainDepth)
		return nil, nil
	}
	if a := b.v.anchors.is(cur); a != nil {
		return []*node{cur}, a
	}
	if b.v.anchors != nil {
		for _, a := range b.v.anchors.nodes {
			if issuedBy(cur, a) {
				return []*node{cur, a}, a
			}
		}
	}
	seen = append(seen, cur)
	candidates := 0
	for _, n := range b.sent {
		if n == cur || contains(seen, n) || !sameBytes(cur.r.issuer, n.r.subject) {
			continue
		}
		candidates++
		if !issuedBy(cur, n) {
			b.note("%s does not verify the signature of %s", n.name(), cur.name())
			continue
		}
		if !validAt(n, b.at) {
			b.note("%s was outside its validity (%s to %s) when observed", n.name(),
				n.r.notBefore.UTC().Format(time.DateOnly), n.r.notAfter.UTC().Format(time.DateOnly))
			continue
		}
		if path, a := b.walk(n, seen, depth+1); a != nil {
			return append([]*node{cur}, path...), a
		}
	}
	if candidates == 0 {
		switch {
		case cur.facts.SelfSigned:
			b.note("the chain ends in %s, which is self-signed and not a trust anchor", cur.name())
		case b.missing == nil:
			b.missing = cur
			b.note("the issuer of %s (%s) was not sent and is not a trust anchor", cur.name(), cur.facts.Issuer)
		}
	}
	return nil, nil
}

func contains(list []*node, n *node) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}
