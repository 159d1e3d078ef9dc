package loginwire

import (
	"bytes"

	"github.com/medscan/medscan/capture/internal/lines"
	"github.com/medscan/medscan/observe"
)

// What a POP3 or IMAP session's capability list said about upgrading to TLS, and what
// became of the session (observe.StartTLSGreeting, judged by tls-stripped): the IMAP
// greeting's [CAPABILITY ...] response code or an untagged "* CAPABILITY" response
// naming STARTTLS, or POP3's CAPA answer listing STLS; then whether the client asked
// for the upgrade and the server agreed (upgraded), said no (refused), or the client
// never asked (clear). Only what the server says before a login counts: after it the
// dissector is done. A session whose list was never seen (a POP3 client that did not
// send CAPA, a capture that began later) says nothing, since its silence proves
// nothing. Each line is read as it arrives; nothing is kept but the verdict.

// greetingState is a session's STARTTLS observation.
type greetingState struct {
	capaAsked bool // POP3: CAPA sent, its +OK not yet read
	inCapa    bool // POP3: reading CAPA's multi-line answer, up to its "." line
	greeted   bool // a capability list was read whole; offered holds its verdict
	offered   bool
	refused   bool // the client asked for the upgrade and the server said no
	sent      bool
}

// imapCapability reads an untagged IMAP server line for a capability list: "* OK
// [CAPABILITY ...] text" (the greeting) or "* CAPABILITY ...". A PREAUTH greeting is
// skipped: that session is logged in already and STARTTLS is not allowed in it.
func (s *stream) imapCapability(line []byte) {
	if len(line) < 2 || line[0] != '*' || line[1] != ' ' {
		return
	}
	rest := line[2:]
	switch {
	case hasPrefixFold(rest, "CAPABILITY "):
		rest = rest[len("CAPABILITY "):]
	case hasPrefixFold(rest, "OK [CAPABILITY "):
		rest = rest[len("OK [CAPABILITY "):]
		end := bytes.IndexByte(rest, ']')
		if end < 0 {
			s.count("login_bad_capability")
			return
		}
		rest = rest[:end]
	default:
		return
	}
	s.capabilities(hasWordFold(rest, "STARTTLS"))
}

// pop3Capa reads one line of a POP3 CAPA answer (RFC 2449): one capability per line, its
// name first, the list ending with a line holding only ".".
func (s *stream) pop3Capa(line []byte) {
	if len(line) == 1 && line[0] == '.' {
		s.g.inCapa = false
		s.capabilities(s.g.offered)
		return
	}
	name := line
	if i := bytes.IndexByte(line, ' '); i >= 0 {
		name = line[:i]
	}
	if lines.EqualFold(name, "STLS") {
		s.g.offered = true
	}
}

// capaGap handles bytes of the server lost inside a POP3 CAPA answer: the STLS line may
// be among them, so a list read as not offering it proves nothing and is dropped; one
// that already named it did offer it.
func (s *stream) capaGap() {
	if !s.g.inCapa {
		return
	}
	s.g.inCapa = false
	if s.g.offered {
		s.capabilities(true)
	}
}

// capabilities records a whole capability list's verdict. A session that listed it
// more than once (a client asking again) offered it if any list did.
func (s *stream) capabilities(starttls bool) {
	if !s.g.greeted {
		s.greetingAt = s.t
	}
	s.g.greeted = true
	s.g.offered = s.g.offered || starttls
}

// greeting emits, once, what the session's capability list said about STARTTLS and
// what became of the session. End calls it: the engine ends a stream when it is done
// (an upgrade, a login) as well as when its flow ends.
func (s *stream) greeting() {
	if !s.g.greeted || s.g.sent {
		return
	}
	s.g.sent = true
	protocol := "pop3"
	if s.mode == protoIMAP {
		protocol = "imap"
	}
	outcome := observe.StartTLSClear
	switch {
	case s.handoff:
		outcome = observe.StartTLSUpgraded
	case s.g.refused:
		outcome = observe.StartTLSDeclined
	}
	s.ctx.Sink.AddGreeting(observe.StartTLSGreeting{Flow: s.ctx.Flow, Protocol: protocol, Offered: s.g.offered,
		Outcome: outcome, Count: 1, FirstSeen: s.greetingAt, LastSeen: s.t})
}

// hasPrefixFold reports whether b begins with prefix, ignoring ASCII case.
func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && lines.EqualFold(b[:len(prefix)], prefix)
}

// hasWordFold reports whether the space-separated list holds word, ignoring ASCII case.
// A capability such as STARTTLSX or AUTH=STARTTLS is not it.
func hasWordFold(list []byte, word string) bool {
	for len(list) > 0 {
		w := list
		i := bytes.IndexByte(list, ' ')
		if i >= 0 {
			w, list = list[:i], list[i+1:]
		} else {
			list = nil
		}
		if lines.EqualFold(bytes.TrimRight(w, "\t"), word) {
			return true
		}
	}
	return false
}
