package xmppwire

import (
	"bytes"
	"encoding/base64"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Dissector is the XMPP dissector.
var Dissector = dissect.Dissector{Name: "xmpp", Detect: Detect, New: New}

// MaxElement is the longest tag, or <auth> text, read.
const MaxElement = 8 << 10

const (
	nsTLS   = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL  = "urn:ietf:params:xml:ns:xmpp-sasl"
	maxUser = 256
	header  = "<stream:stream"
)

var (
	needMore = dissect.Match{Verdict: dissect.NeedMore}
	no       = dissect.Match{}
	yes      = dissect.Match{Verdict: dissect.Yes}
)

// Detect claims a stream that opens with an XMPP stream header.
func Detect(first []byte) dissect.Match {
	b := first
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		b = b[3:]
	}
	b = trimSpace(b)
	if n := min(len(b), len("<?xml")); bytes.Equal(b[:n], []byte("<?xml")[:n]) {
		if n < len("<?xml") {
			return needMore
		}
		end := bytes.Index(b, []byte("?>"))
		if end < 0 {
			return needMore
		}
		b = trimSpace(b[end+2:])
	}
	n := min(len(b), len(header))
	if !bytes.Equal(b[:n], []byte(header)[:n]) {
		return no
	}
	if len(b) <= len(header) {
		return needMore
	}
	if space(b[len(header)]) {
		return yes
	}
	return no
}

func space(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && space(b[0]) {
		b = b[1:]
	}
	return b
}

type stream struct {
	ctx *dissect.Context
	buf [2][]byte
	t   time.Time

	auth     [2]bool // inside a PLAIN <auth> element (client side only)
	tlsAsked bool
	features bool // inside the server's <stream:features>
	offered  bool // the server's features offered STARTTLS
	early    bool // client bytes after <starttls/>, before the answer, were counted
	done     bool
	handoff  bool
}

// New starts an XMPP stream dissector.
func New(ctx *dissect.Context) dissect.Stream { return &stream{ctx: ctx} }

func (s *stream) count(name string, n uint64) {
	if s.ctx.Count != nil && n > 0 {
		s.ctx.Count(name, n)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if s.done || dir > dissect.ServerToClient {
		return
	}
	s.t = t
	if dir == dissect.ClientToServer && s.tlsAsked && !s.early {
		// The client must wait for <proceed/>: these bytes are out of step.
		s.early = true
		s.count("xmpp_starttls_pipelined", 1)
	}
	buf := b
	if len(s.buf[dir]) > 0 {
		buf = append(s.buf[dir], b...)
	}
	used := s.scan(dir, buf)
	rest := buf[used:]
	if s.done {
		if s.handoff && len(rest) > 0 {
			s.count("xmpp_starttls_trailing_bytes", 1)
		}
		rest = nil
	}
	if len(rest) > MaxElement {
		s.count("xmpp_oversized_element", 1)
		rest = nil
		s.auth[dir] = false
	}
	// Keep the unread tail at the start of the held buffer; wipe what was read.
	held := s.buf[dir][:0]
	if len(s.buf[dir]) > 0 {
		n := copy(buf, rest)
		clear(buf[n:])
		held = buf[:n]
	} else {
		held = append(held, rest...)
	}
	s.buf[dir] = held
}

// scan reads the complete tags in b and returns how many bytes it consumed.
func (s *stream) scan(dir dissect.Direction, b []byte) int {
	used := 0
	for used < len(b) && !s.done {
		rest := b[used:]
		if s.auth[dir] {
			end := bytes.Index(rest, []byte("</"))
			if end < 0 {
				return used
			}
			if bytes.IndexByte(rest[end:], '>') < 0 {
				return used
			}
			s.auth[dir] = false
			s.plain(rest[:end])
			used += end
			continue
		}
		lt := bytes.IndexByte(rest, '<')
		if lt < 0 {
			return len(b) // text between elements: nothing of interest
		}
		gt := bytes.IndexByte(rest[lt:], '>')
		if gt < 0 {
			return used + lt
		}
		s.tag(dir, rest[lt+1:lt+gt])
		used += lt + gt + 1
	}
	return used
}

// tag handles one tag's inside (between '<' and '>').
func (s *stream) tag(dir dissect.Direction, t []byte) {
	if dir == dissect.ServerToClient && string(t) == "/stream:features" {
		if s.features && !s.offered {
			s.service(observe.StartTLSNotOffered)
		}
		s.features = false
		return
	}
	if len(t) == 0 || t[0] == '/' || t[0] == '?' || t[0] == '!' {
		return
	}
	name := t
	for i, c := range t {
		if space(c) || c == '/' {
			name = t[:i]
			break
		}
	}
	selfClosing := t[len(t)-1] == '/'
	if dir == dissect.ClientToServer {
		switch {
		case string(name) == "starttls" && bytes.Contains(t, []byte(nsTLS)):
			s.count("xmpp_starttls_requests", 1)
			s.tlsAsked = true
		case string(name) == "auth" && bytes.Contains(t, []byte(nsSASL)):
			mech := attr(t, "mechanism")
			if string(mech) == "PLAIN" && !selfClosing {
				s.auth[dir] = true
			}
		}
		return
	}
	switch {
	case string(name) == "stream:features":
		s.features = true
	case string(name) == "starttls" && s.features && bytes.Contains(t, []byte(nsTLS)):
		s.offered = true
		s.service(observe.StartTLSOffered)
	case string(name) == "proceed" && bytes.Contains(t, []byte(nsTLS)):
		s.count("xmpp_starttls_accepted", 1)
		if !s.offered {
			s.service(observe.StartTLSOffered)
		}
		s.done, s.handoff = true, true
	case string(name) == "failure" && bytes.Contains(t, []byte(nsTLS)):
		s.count("xmpp_starttls_refused", 1)
		s.service(observe.StartTLSRefused)
		s.tlsAsked = false
	case string(name) == "success" && bytes.Contains(t, []byte(nsSASL)):
		s.done = true
	}
}

// service records what the server said about STARTTLS on its service.
func (s *stream) service(starttls string) {
	v := s.ctx.Service("xmpp", s.t)
	v.StartTLS = starttls
	s.ctx.Sink.AddService(v)
}

// attr returns the value of a quoted attribute in a tag.
func attr(t []byte, name string) []byte {
	for i := 0; i < len(t); {
		j := bytes.Index(t[i:], []byte(name+"="))
		if j < 0 {
			return nil
		}
		j += i
		i = j + len(name) + 1
		if j > 0 && !space(t[j-1]) {
			continue
		}
		if i >= len(t) || t[i] != '\'' && t[i] != '"' {
			continue
		}
		q := t[i]
		end := bytes.IndexByte(t[i+1:], q)
		if end < 0 {
			return nil
		}
		return t[i+1 : i+1+end]
	}
	return nil
}

// plain reads the base64 text of a PLAIN <auth>: authzid NUL authcid NUL password.
func (s *stream) plain(text []byte) {
	text = bytes.TrimSpace(text)
	if len(text) == 0 || len(text) == 1 && text[0] == '=' {
		return // the response follows a challenge: not done by PLAIN clients in practice
	}
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	defer clear(dec)
	n, err := base64.StdEncoding.Decode(dec, text)
	if err != nil {
		s.credential("", text) // not base64: the text itself is what was sent
		return
	}
	parts := bytes.SplitN(dec[:n], []byte{0}, 3)
	if len(parts) != 3 {
		s.credential("", dec[:n])
		return
	}
	user := parts[1]
	if len(user) == 0 {
		user = parts[0]
	}
	s.credential(observe.Text(user, maxUser), parts[2])
}

// credential hides a secret at once and emits it; only the preview and hash are kept.
func (s *stream) credential(user string, secret []byte) {
	preview, hash := s.ctx.Secrets.Hide(secret)
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
		Protocol: "xmpp", Kind: "xmpp-sasl-plain", Where: "SASL PLAIN", User: user,
		Preview: preview, Hash: hash,
	})
}

// Gap implements dissect.Stream: what the direction held is dropped, and reading
// resumes at the next '<'.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.done {
		return
	}
	s.count("xmpp_gap", 1)
	clear(s.buf[dir])
	s.buf[dir] = s.buf[dir][:0]
	s.auth[dir] = false
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.done }

// Handoff implements dissect.Handoff: true once the server answered <proceed/>.
func (s *stream) Handoff() bool { return s.handoff }

// End implements dissect.Stream: what is held (perhaps an <auth> text) is wiped.
func (s *stream) End(time.Time) {
	for i := range s.buf {
		clear(s.buf[i])
		s.buf[i] = nil
	}
}
