package pgwire

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/frame"
	"github.com/medscan/medscan/observe"
)

// Dissector is the PostgreSQL dissector.
var Dissector = dissect.Dissector{Name: "postgresql", Detect: Detect, New: New}

// MaxMessage is the longest message read; startup and authentication messages are small.
const MaxMessage = 8 << 10

// The codes of the untyped first messages.
const (
	codeSSL     = 80877103
	codeGSSEnc  = 80877104
	codeCancel  = 80877102
	codeV3      = 196608 // protocol 3.0
	authOK      = 0
	authClear   = 3
	authMD5     = 5
	authSASL    = 10
	maxUser     = 256
	maxVersion  = 64
	untypedHead = 4
	typedHead   = 5
)

var (
	needMore = dissect.Match{Verdict: dissect.NeedMore}
	no       = dissect.Match{}
	yes      = dissect.Match{Verdict: dissect.Yes}
)

// Detect claims a client's SSLRequest, GSSENCRequest or version 3.0 StartupMessage.
func Detect(first []byte) dissect.Match {
	if len(first) < 8 {
		// Every first message starts with a length below 64 KiB: two zero bytes.
		if len(first) >= 1 && first[0] != 0 || len(first) >= 2 && first[1] != 0 {
			return no
		}
		return needMore
	}
	n := binary.BigEndian.Uint32(first)
	code := binary.BigEndian.Uint32(first[4:])
	switch {
	case n == 8 && (code == codeSSL || code == codeGSSEnc):
		return yes
	case code == codeV3 && n > 9 && n <= MaxMessage:
		// A parameter name follows: lower-case letters and '_' up to its NUL.
		if len(first) == 8 {
			return needMore
		}
		for _, c := range first[8:min(len(first), int(n))] {
			switch {
			case c == 0:
				return yes
			case c >= 'a' && c <= 'z' || c == '_':
			default:
				return no
			}
		}
		if len(first) >= int(n) {
			return no
		}
		return needMore
	}
	return no
}

// what the client's next message is, as the server's last answer says.
type phase uint8

const (
	phStartup phase = iota // an untyped message: SSLRequest, GSSENCRequest or StartupMessage
	phAnswer               // waiting for the server's one-byte answer ('S', 'N', 'G')
	phTyped                // typed messages
)

type stream struct {
	ctx *dissect.Context
	fr  [2]frame.Reader
	t   time.Time

	phase    phase
	auth     int32 // the code of the last AuthenticationRequest, -1 before one
	authed   bool  // AuthenticationOk was seen
	askedSSL bool  // the request awaiting its answer is SSLRequest (not GSSENCRequest)
	user     string
	done     bool
	handoff  bool
}

// New starts a PostgreSQL stream dissector.
func New(ctx *dissect.Context) dissect.Stream {
	s := &stream{ctx: ctx, auth: -1}
	s.fr[dissect.ClientToServer] = frame.Reader{Max: MaxMessage, HeadMax: typedHead}
	s.fr[dissect.ServerToClient] = frame.Reader{Max: MaxMessage, HeadMax: typedHead}
	return s
}

func (s *stream) count(name string, n uint64) {
	if s.ctx.Count != nil && n > 0 {
		s.ctx.Count(name, n)
	}
}

// untyped frames the client's first messages: length (including itself) and body.
func untyped(head []byte) (int, bool) {
	if len(head) < untypedHead {
		return 0, false
	}
	n := binary.BigEndian.Uint32(head)
	if n < 8 || n > 1<<30 {
		return 0, true
	}
	return int(n), false
}

// typed frames a type byte, then a length that counts itself but not the type.
func typed(head []byte) (int, bool) {
	if len(head) < typedHead {
		return 0, false
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n < 4 || n > 1<<30 {
		return 0, true
	}
	return 1 + int(n), false
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if s.done || dir > dissect.ServerToClient {
		return
	}
	s.t = t
	if dir == dissect.ServerToClient {
		s.server(b)
		return
	}
	for len(b) > 0 && !s.done && !s.fr[dir].Lost() {
		length, handle := typed, s.clientTyped
		if s.phase != phTyped {
			length, handle = untyped, s.clientUntyped
		}
		if s.phase == phAnswer {
			// The client must wait for the answer; these bytes are out of step.
			s.count("postgresql_unanswered_request", 1)
			s.fr[dir].Skip(len(b))
			return
		}
		used, over, bad := s.fr[dir].Feed(b, length, handle)
		s.count("postgresql_oversized_message", uint64(over))
		if bad {
			s.count("postgresql_bad_message", 1)
		}
		// Feed stops after a message that changes the phase; the rest is read in the new one.
		b = b[used:]
	}
}

// server reads the one-byte answer to a request for encryption, then typed messages.
func (s *stream) server(b []byte) {
	if s.phase == phAnswer {
		if len(b) == 0 {
			return
		}
		switch b[0] {
		case 'S':
			s.count("postgresql_ssl_accepted", 1)
			s.service("", observe.StartTLSOffered)
			s.done, s.handoff = true, true
			if len(b) > 1 {
				s.count("postgresql_ssl_trailing_bytes", 1)
			}
			return
		case 'G':
			s.done = true // GSSAPI encryption: nothing here can read it
			return
		case 'N':
			s.count("postgresql_encryption_refused", 1)
			if s.askedSSL {
				s.service("", observe.StartTLSRefused)
			}
			s.phase = phStartup
			b = b[1:]
		default:
			// An ErrorResponse from a server that predates the request: typed from here.
			s.phase = phTyped
		}
	}
	fr := &s.fr[dissect.ServerToClient]
	if fr.Lost() {
		return
	}
	_, over, bad := fr.Feed(b, typed, s.serverMessage)
	s.count("postgresql_oversized_message", uint64(over))
	if bad {
		s.count("postgresql_bad_message", 1)
	}
}

// serverMessage reads one typed server message: AuthenticationRequests, then, once
// logged in, the ParameterStatus naming the server's version, up to ReadyForQuery.
func (s *stream) serverMessage(m []byte) bool {
	switch {
	case m[0] == 'R' && len(m) >= typedHead+4:
		s.auth = int32(binary.BigEndian.Uint32(m[typedHead:]))
		s.authed = s.auth == authOK
	case m[0] == 'S' && s.authed:
		name := cstring(m[typedHead:])
		if string(name) == "server_version" {
			value := cstring(m[min(len(m), typedHead+len(name)+1):])
			s.service(observe.Text(value, maxVersion), "")
		}
	case m[0] == 'Z' && s.authed:
		s.done = true // ready for queries: nothing after matters here
		return false
	}
	return true
}

// service records what the server said about itself on its service.
func (s *stream) service(software, starttls string) {
	v := s.ctx.Service("postgresql", s.t)
	v.Software = software
	v.StartTLS = starttls
	s.ctx.Sink.AddService(v)
}

// clientUntyped reads an SSLRequest, GSSENCRequest or StartupMessage.
func (s *stream) clientUntyped(m []byte) bool {
	if len(m) < 8 {
		return true
	}
	switch code := binary.BigEndian.Uint32(m[4:]); {
	case code == codeSSL || code == codeGSSEnc:
		s.askedSSL = code == codeSSL
		if s.askedSSL {
			s.count("postgresql_ssl_requests", 1)
		} else {
			s.count("postgresql_gssenc_requests", 1)
		}
		s.phase = phAnswer
		return false
	case code == codeV3:
		s.phase = phTyped
		s.startup(m[8:])
		return false
	case code == codeCancel:
		s.done = true // a CancelRequest: the connection carries nothing else
		return false
	}
	s.count("postgresql_bad_message", 1)
	s.done = true
	return false
}

// startup reads the StartupMessage's parameters for the user name.
func (s *stream) startup(p []byte) {
	for len(p) > 0 && p[0] != 0 {
		name := cstring(p)
		p = p[min(len(p), len(name)+1):]
		value := cstring(p)
		p = p[min(len(p), len(value)+1):]
		if string(name) == "user" {
			s.user = observe.Text(value, maxUser)
		}
	}
}

// clientTyped reads one typed client message; only a PasswordMessage matters.
func (s *stream) clientTyped(m []byte) bool {
	if m[0] != 'p' {
		return true
	}
	body := m[typedHead:]
	switch s.auth {
	case authClear, -1:
		// After a gap lost the server's request, a 'p' is taken as a password unless it
		// is plainly an MD5 digest: better to hide a SASL message than to miss a password.
		if s.auth == -1 && md5Digest(body) {
			s.login("postgresql-md5")
			return true
		}
		pw := cstring(body)
		preview, hash := s.ctx.Secrets.Hide(pw)
		s.ctx.Sink.AddCredential(observe.Credential{
			Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
			Protocol: "postgresql", Kind: "postgresql-password", Where: "PasswordMessage", User: s.user,
			Preview: preview, Hash: hash,
		})
	case authMD5:
		s.login("postgresql-md5")
	}
	return true
}

// login records a login whose response is a salted digest: the user name only.
func (s *stream) login(kind string) {
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
		Protocol: "postgresql", Kind: kind, Where: "PasswordMessage", User: s.user,
	})
}

// md5Digest reports whether a PasswordMessage body is "md5" and 32 hex digits.
func md5Digest(b []byte) bool {
	b = cstring(b)
	if len(b) != 35 || !bytes.HasPrefix(b, []byte("md5")) {
		return false
	}
	for _, c := range b[3:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// cstring is b up to its first NUL (all of b when there is none).
func cstring(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// Gap implements dissect.Stream: the direction's framing is lost.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.done {
		return
	}
	s.count("postgresql_gap", 1)
	s.fr[dir].Skip(n)
	if dir == dissect.ServerToClient {
		s.auth = -1
	}
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.done }

// Handoff implements dissect.Handoff: true once the server answered 'S' to SSLRequest.
func (s *stream) Handoff() bool { return s.handoff }

// End implements dissect.Stream: a message being read (a password) is wiped.
func (s *stream) End(time.Time) {
	for i := range s.fr {
		s.fr[i].Reset()
	}
	s.user = ""
}
