package ldapwire

import (
	"bytes"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/frame"
	"github.com/medscan/medscan/observe"
)

// Dissector is the LDAP dissector.
var Dissector = dissect.Dissector{Name: "ldap", Detect: Detect, New: New}

// MaxMessage is the longest message read: binds and extended operations are small.
const MaxMessage = 16 << 10

// StartTLSOID names the StartTLS extended operation.
const StartTLSOID = "1.3.6.1.4.1.1466.20037"

// protocolOp tags (RFC 4511 §4.2-4.14): class APPLICATION, constructed unless noted.
const (
	opBindRequest     = 0x60
	opBindResponse    = 0x61
	opUnbindRequest   = 0x42 // primitive
	opSearchRequest   = 0x63
	opSearchEntry     = 0x64
	opSearchDone      = 0x65
	opModifyRequest   = 0x66
	opModifyResponse  = 0x67
	opAddRequest      = 0x68
	opAddResponse     = 0x69
	opDelRequest      = 0x4a // primitive
	opDelResponse     = 0x6b
	opModDNRequest    = 0x6c
	opModDNResponse   = 0x6d
	opCompareRequest  = 0x6e
	opCompareResponse = 0x6f
	opAbandonRequest  = 0x50 // primitive
	opSearchRef       = 0x73
	opExtendedRequest = 0x77
	opExtendedResp    = 0x78
	opIntermediate    = 0x79

	maxUser  = 256
	headMax  = 6 // tag and a length of up to four bytes
	tagSeq   = 0x30
	tagInt   = 0x02
	tagOctet = 0x04
	tagEnum  = 0x0a
)

func isRequest(op byte) bool {
	switch op {
	case opBindRequest, opUnbindRequest, opSearchRequest, opModifyRequest, opAddRequest, opDelRequest,
		opModDNRequest, opCompareRequest, opAbandonRequest, opExtendedRequest:
		return true
	}
	return false
}

func isResponse(op byte) bool {
	switch op {
	case opBindResponse, opSearchEntry, opSearchDone, opModifyResponse, opAddResponse, opDelResponse,
		opModDNResponse, opCompareResponse, opSearchRef, opExtendedResp, opIntermediate:
		return true
	}
	return false
}

var (
	needMore  = dissect.Match{Verdict: dissect.NeedMore}
	no        = dissect.Match{}
	yes       = dissect.Match{Verdict: dissect.Yes}
	yesServer = dissect.Match{Verdict: dissect.Yes, FromServer: true}
)

// header reads a BER tag and definite length at the start of b: the content's offset
// and length. more is true when b is too short to tell; bad when the bytes are not a
// definite-length element LDAP could send (long-form lengths of at most 4 bytes).
func header(b []byte) (off, n int, more, bad bool) {
	if len(b) < 2 {
		return 0, 0, true, false
	}
	if b[0]&0x1f == 0x1f {
		return 0, 0, false, true // multi-byte tags are not LDAP's
	}
	l := b[1]
	if l < 0x80 {
		return 2, int(l), false, false
	}
	k := int(l & 0x7f)
	if k == 0 || k > 4 {
		return 0, 0, false, true // indefinite, or longer than LDAP needs
	}
	if len(b) < 2+k {
		return 0, 0, true, false
	}
	v := 0
	for _, c := range b[2 : 2+k] {
		v = v<<8 | int(c)
	}
	if v > 1<<30 {
		return 0, 0, false, true
	}
	return 2 + k, v, false, false
}

// Detect claims a client's or a server's first LDAPMessage.
func Detect(first []byte) dissect.Match {
	if len(first) == 0 {
		return needMore
	}
	if first[0] != tagSeq {
		return no
	}
	off, n, more, bad := header(first)
	switch {
	case bad:
		return no
	case more:
		return needMore
	}
	// messageID: INTEGER of 1..4 bytes, non-negative
	if len(first) < off+2 {
		return needMore
	}
	if first[off] != tagInt || first[off+1] < 1 || first[off+1] > 4 || n < 2+int(first[off+1])+2 {
		return no
	}
	opAt := off + 2 + int(first[off+1])
	if len(first) < opAt+1 {
		return needMore
	}
	if first[off+2]&0x80 != 0 {
		return no
	}
	op := first[opAt]
	if !isRequest(op) && !isResponse(op) {
		return no
	}
	ooff, on, more, bad := header(first[opAt:])
	switch {
	case bad:
		return no
	case more:
		return needMore
	case opAt-off+ooff+on > n:
		return no // the protocolOp does not fit its message
	}
	if isResponse(op) {
		return yesServer
	}
	return yes
}

// messageLength frames LDAPMessages for capture/internal/frame.
func messageLength(head []byte) (int, bool) {
	if len(head) > 0 && head[0] != tagSeq {
		return 0, true
	}
	off, n, more, bad := header(head)
	if more {
		return 0, false
	}
	return off + n, bad
}

// element reads one BER element from b: its tag, content and what follows it.
func element(b []byte) (tag byte, content, rest []byte, ok bool) {
	off, n, more, bad := header(b)
	if more || bad || len(b)-off < n {
		return 0, nil, nil, false
	}
	return b[0], b[off : off+n], b[off+n:], true
}

// integer reads a non-negative INTEGER or ENUMERATED of at most 4 bytes.
func integer(c []byte) (int64, bool) {
	if len(c) == 0 || len(c) > 4 {
		return 0, false
	}
	var v int64
	for _, x := range c {
		v = v<<8 | int64(x)
	}
	if c[0]&0x80 != 0 {
		v -= 1 << (8 * len(c))
	}
	return v, true
}

type stream struct {
	ctx *dissect.Context
	fr  [2]frame.Reader
	t   time.Time

	startTLS []int64 // message IDs of StartTLS requests not yet answered (at most maxPending)
	done     bool
	handoff  bool
}

const maxPending = 8

// New starts an LDAP stream dissector.
func New(ctx *dissect.Context) dissect.Stream {
	s := &stream{ctx: ctx}
	for i := range s.fr {
		s.fr[i] = frame.Reader{Max: MaxMessage, HeadMax: headMax}
	}
	return s
}

func (s *stream) count(name string, n uint64) {
	if s.ctx.Count != nil && n > 0 {
		s.ctx.Count(name, n)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if s.done || dir > dissect.ServerToClient || s.fr[dir].Lost() {
		return
	}
	s.t = t
	handle := s.response
	if dir == dissect.ClientToServer {
		handle = s.request
	}
	used, over, bad := s.fr[dir].Feed(b, messageLength, handle)
	s.count("ldap_oversized_message", uint64(over))
	if bad {
		s.count("ldap_bad_message", 1)
	}
	if s.handoff && used < len(b) {
		s.count("ldap_starttls_trailing_bytes", 1)
	}
}

// message splits an LDAPMessage into its ID, protocolOp tag and the op's content.
func message(m []byte) (id int64, op byte, content []byte, ok bool) {
	_, body, _, ok := element(m)
	if !ok {
		return 0, 0, nil, false
	}
	tag, idc, rest, ok := element(body)
	if !ok || tag != tagInt {
		return 0, 0, nil, false
	}
	if id, ok = integer(idc); !ok {
		return 0, 0, nil, false
	}
	op, content, _, ok = element(rest)
	return id, op, content, ok
}

// request reads one client message: binds and StartTLS requests matter.
func (s *stream) request(m []byte) bool {
	id, op, c, ok := message(m)
	if !ok {
		s.count("ldap_bad_message", 1)
		return true
	}
	switch op {
	case opBindRequest:
		s.bind(c)
	case opExtendedRequest:
		// requestName [0] LDAPOID (primitive context tag 0x80)
		tag, name, _, ok := element(c)
		if ok && tag == 0x80 && string(name) == StartTLSOID {
			s.count("ldap_starttls_requests", 1)
			if len(s.startTLS) < maxPending {
				s.startTLS = append(s.startTLS, id)
			}
		}
	}
	return true
}

// bind reads a BindRequest: version, name, then simple [0] or sasl [3].
func (s *stream) bind(c []byte) {
	tag, _, rest, ok := element(c)
	if !ok || tag != tagInt {
		return
	}
	tag, name, rest, ok := element(rest)
	if !ok || tag != tagOctet {
		return
	}
	tag, auth, _, ok := element(rest)
	if !ok {
		return
	}
	user := observe.Text(name, maxUser)
	switch tag {
	case 0x80: // simple
		if len(auth) == 0 {
			return // anonymous or unauthenticated: no secret
		}
		s.credential("ldap-simple-bind", "BindRequest simple", user, auth)
	case 0xa3: // sasl: mechanism OCTET STRING, credentials OCTET STRING OPTIONAL
		tag, mech, rest, ok := element(auth)
		if !ok || tag != tagOctet || string(mech) != "PLAIN" {
			return
		}
		tag, cred, _, ok := element(rest)
		if !ok || tag != tagOctet {
			return
		}
		// authzid NUL authcid NUL passwd
		parts := bytes.SplitN(cred, []byte{0}, 3)
		if len(parts) != 3 {
			s.credential("ldap-sasl-plain", "BindRequest SASL PLAIN", user, cred)
			return
		}
		if len(parts[1]) > 0 {
			user = observe.Text(parts[1], maxUser)
		}
		s.credential("ldap-sasl-plain", "BindRequest SASL PLAIN", user, parts[2])
	}
}

// credential hides a secret at once and emits it; only the preview and hash are kept.
func (s *stream) credential(kind, where, user string, secret []byte) {
	preview, hash := s.ctx.Secrets.Hide(secret)
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
		Protocol: "ldap", Kind: kind, Where: where, User: user,
		Preview: preview, Hash: hash,
	})
}

// response reads one server message: the answer to a StartTLS request matters.
func (s *stream) response(m []byte) bool {
	id, op, c, ok := message(m)
	if !ok {
		s.count("ldap_bad_message", 1)
		return true
	}
	if op != opExtendedResp {
		return true
	}
	i := -1
	for k, p := range s.startTLS {
		if p == id {
			i = k
			break
		}
	}
	if i < 0 {
		return true
	}
	s.startTLS = append(s.startTLS[:i], s.startTLS[i+1:]...)
	tag, rc, _, ok := element(c)
	if !ok || tag != tagEnum {
		return true
	}
	if code, ok := integer(rc); ok && code == 0 {
		s.count("ldap_starttls_accepted", 1)
		s.service(observe.StartTLSOffered)
		s.done, s.handoff = true, true
		return false
	}
	s.count("ldap_starttls_refused", 1)
	s.service(observe.StartTLSRefused)
	return true
}

// service records the server's answer to StartTLS on its service.
func (s *stream) service(starttls string) {
	v := s.ctx.Service("ldap", s.t)
	v.StartTLS = starttls
	s.ctx.Sink.AddService(v)
}

// Gap implements dissect.Stream: the direction's framing is lost.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.done {
		return
	}
	s.count("ldap_gap", 1)
	s.fr[dir].Skip(n)
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.done }

// Handoff implements dissect.Handoff: true once the server accepted StartTLS.
func (s *stream) Handoff() bool { return s.handoff }

// End implements dissect.Stream: a message being read (a bind) is wiped.
func (s *stream) End(time.Time) {
	for i := range s.fr {
		s.fr[i].Reset()
	}
}
