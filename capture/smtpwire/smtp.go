package smtpwire

import (
	"bytes"
	"encoding/base64"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/lines"
	"github.com/medscan/medscan/observe"
)

// Limits on what one session may cost.
const (
	// MaxLine is the longest command, reply or SASL response line examined; longer lines
	// are skipped. RFC 5321 allows 512-byte commands; SASL responses run longer.
	MaxLine = 4 << 10
	// MaxPending is how many commands may await their replies (pipelining); more are not
	// tracked.
	MaxPending = 32

	maxUser = 256
)

// command is the kind of a client command awaiting its reply.
type command uint8

const (
	cmdOther    command = iota
	cmdStartTLS         // a 220 answer hands the flow to TLS
	cmdAuth             // 334 answers are challenges; the final answer ends the SASL exchange
	cmdMail             // a 2xx answer begins a mail transaction: nothing of value follows
	cmdData             // anything but 354 means no body follows
	cmdDataEnd          // the end of a DATA body, answered like a command
	cmdEhlo             // its reply lists the server's extensions: STARTTLS or not
)

// sasl is where an AUTH exchange stands: what the client's next line is.
type sasl uint8

const (
	saslNone      sasl = iota
	saslPlain          // the PLAIN response
	saslLoginUser      // the base64 user name (LOGIN)
	saslLoginPass      // the base64 password (LOGIN)
	saslCram           // the CRAM-MD5 response: user name and digest
	saslOther          // a response of a mechanism that sends no secret in clear
)

// body is where the scan of a DATA body for its terminating ".\r\n" line stands.
type body uint8

const (
	bodyNone      body = iota // not in a body
	bodyLineStart             // at the start of a body line
	bodyMid                   // inside a body line
	bodyDot                   // a line began with '.'
	bodyDotCR                 // and went on with CR
)

type stream struct {
	ctx   *dissect.Context
	lines [2]lines.Buffer
	t     time.Time

	// pending is a ring of the commands sent and not yet answered, oldest at head.
	pending [MaxPending]command
	head, n int

	sasl     sasl
	user     string // the AUTH LOGIN user name, between its two responses
	body     body
	chunk    uint64 // BDAT bytes still to skip
	tlsAsked bool   // STARTTLS sent and not yet refused
	early    bool   // client bytes after STARTTLS, before its answer, were counted
	done     bool
	handoff  bool

	// What the server's EHLO reply said about STARTTLS and what became of the session
	// (observe.StartTLSGreeting), emitted once.
	ehloStartTLS bool // a line of the EHLO reply being read named STARTTLS
	greeted      bool // an EHLO reply was read; offered holds its verdict
	offered      bool
	refused      bool // the client asked for STARTTLS and was refused
	greetingSent bool
	greetingAt   time.Time
}

// New starts an SMTP stream dissector.
func New(ctx *dissect.Context) dissect.Stream {
	s := &stream{ctx: ctx}
	s.lines[0].Max, s.lines[1].Max = MaxLine, MaxLine
	return s
}

func (s *stream) count(name string, n uint64) {
	if s.ctx.Count != nil && n > 0 {
		s.ctx.Count(name, n)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if s.done {
		return
	}
	s.t = t
	switch dir {
	case dissect.ClientToServer:
		s.client(b)
	case dissect.ServerToClient:
		s.server(b)
	}
}

// client frames commands and SASL responses, skipping message bodies by count or by scan.
func (s *stream) client(b []byte) {
	var skipped uint64
	for len(b) > 0 && !s.done {
		if s.tlsAsked && !s.early {
			// The client must wait for the answer before it starts TLS: these bytes are
			// a protocol error, or a ClientHello the TLS dissector will not see.
			s.early = true
			s.count("smtp_starttls_pipelined", 1)
		}
		if s.chunk > 0 {
			k := min(uint64(len(b)), s.chunk)
			s.chunk -= k
			skipped += k
			b = b[k:]
			continue
		}
		if s.body != bodyNone {
			k, ended := s.skipBody(b)
			skipped += uint64(k)
			b = b[k:]
			if ended {
				s.body = bodyNone
				s.push(cmdDataEnd)
			}
			continue
		}
		line, rest, ok, long := s.lines[dissect.ClientToServer].Next(b)
		if !ok {
			break
		}
		b = rest
		switch {
		case long:
			s.count("smtp_oversized_line", 1)
			if s.sasl != saslNone {
				s.saslLost()
			} else {
				s.push(cmdOther) // the server still answers it
			}
		case s.sasl != saslNone:
			s.saslLine(line)
		default:
			s.command(line)
		}
	}
	s.count("smtp_body_bytes", skipped)
}

// skipBody scans a DATA body for its end, a line holding only "." (bare LF tolerated),
// without keeping any of it. It returns how many bytes of b belong to the body,
// terminator included.
func (s *stream) skipBody(b []byte) (int, bool) {
	i := 0
	for i < len(b) {
		switch s.body {
		case bodyMid:
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				return len(b), false
			}
			i += j + 1
			s.body = bodyLineStart
		case bodyLineStart:
			switch b[i] {
			case '.':
				s.body = bodyDot
				i++
			case '\n':
				i++
			default:
				s.body = bodyMid
			}
		case bodyDot:
			switch b[i] {
			case '\r':
				s.body = bodyDotCR
				i++
			case '\n':
				return i + 1, true
			default:
				s.body = bodyMid // a dot-stuffed line
			}
		case bodyDotCR:
			if b[i] == '\n' {
				return i + 1, true
			}
			s.body = bodyMid
		}
	}
	return i, false
}

// server frames replies and matches each final line to the oldest pending command.
func (s *stream) server(b []byte) {
	for len(b) > 0 && !s.done {
		line, rest, ok, long := s.lines[dissect.ServerToClient].Next(b)
		if !ok {
			return
		}
		b = rest
		if long {
			s.count("smtp_oversized_line", 1)
			continue
		}
		s.reply(line)
		if s.handoff && len(b) > 0 {
			// TLS follows the 220 line and the client speaks first in it: server bytes
			// after that line are not something the engine could hand on.
			s.count("smtp_starttls_trailing_bytes", 1)
		}
	}
}

// reply handles one server reply line.
func (s *stream) reply(line []byte) {
	if len(line) < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]) ||
		len(line) > 3 && line[3] != ' ' && line[3] != '-' {
		s.count("smtp_bad_reply", 1)
		return
	}
	code := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if head, ok := s.peek(); ok && head == cmdEhlo && code == 250 && len(line) > 4 && isStartTLS(line[4:]) {
		s.ehloStartTLS = true
	}
	if len(line) > 3 && line[3] == '-' {
		return // a multi-line reply continues; its last line answers
	}
	if code == 220 && s.tlsAsked {
		// 220 answers only the greeting and STARTTLS, so this is the upgrade even if a
		// gap put the pairing of replies out of step.
		s.done, s.handoff = true, true
		s.greeting()
		return
	}
	head, ok := s.peek()
	switch {
	case code == 220:
		return // the greeting
	case code == 334 && ok && head == cmdAuth:
		return // a SASL challenge: the client's next line is a response
	case !ok:
		return // unsolicited (421 closing), or answering a command lost to a gap
	}
	s.pop()
	switch head {
	case cmdEhlo:
		if code == 250 && !s.greeted {
			s.greeted, s.offered, s.greetingAt = true, s.ehloStartTLS, s.t
		}
		s.ehloStartTLS = false
	case cmdStartTLS:
		s.tlsAsked = false // refused: the session goes on in clear
		s.refused = true
	case cmdAuth:
		s.sasl = saslNone
	case cmdMail:
		if code/100 == 2 {
			s.done = true
			s.greeting()
		}
	case cmdData:
		if code >= 400 {
			// Refused: no body follows. Only a failure code counts, so that a reply
			// paired out of step (a 250) cannot make message text read as commands.
			s.body = bodyNone
		}
	}
}

func (s *stream) push(c command) {
	if s.n == MaxPending {
		s.count("smtp_pipeline_overflow", 1)
		return
	}
	s.pending[(s.head+s.n)%MaxPending] = c
	s.n++
}

func (s *stream) peek() (command, bool) {
	if s.n == 0 {
		return 0, false
	}
	return s.pending[s.head], true
}

func (s *stream) pop() {
	if s.n > 0 {
		s.head = (s.head + 1) % MaxPending
		s.n--
	}
}

// command handles one client command line.
func (s *stream) command(line []byte) {
	verb, arg := split(line)
	switch {
	case lines.EqualFold(verb, "STARTTLS"):
		s.push(cmdStartTLS)
		s.tlsAsked = true
	case lines.EqualFold(verb, "AUTH"):
		s.push(cmdAuth)
		mech, ir := split(arg)
		s.startSASL(mech, ir)
	case lines.EqualFold(verb, "EHLO"):
		s.push(cmdEhlo)
		s.ehloStartTLS = false
	case lines.EqualFold(verb, "MAIL"):
		s.push(cmdMail)
	case lines.EqualFold(verb, "DATA"):
		s.push(cmdData)
		s.body = bodyLineStart
	case lines.EqualFold(verb, "BDAT"):
		s.push(cmdOther)
		size, _ := split(arg)
		if n, ok := number(size); ok {
			s.chunk = n
		}
	case lines.EqualFold(verb, "QUIT"):
		s.done = true
		s.greeting()
	default:
		s.push(cmdOther)
	}
}

// split cuts a line at its first space.
func split(line []byte) (word, rest []byte) {
	if i := bytes.IndexByte(line, ' '); i >= 0 {
		return line[:i], line[i+1:]
	}
	return line, nil
}

// number parses a decimal BDAT size; 19 digits cannot overflow a uint64.
func number(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if !digit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// startSASL begins an AUTH exchange, taking an initial response if given.
func (s *stream) startSASL(mech, ir []byte) {
	switch {
	case lines.EqualFold(mech, "PLAIN"):
		s.sasl = saslPlain
	case lines.EqualFold(mech, "LOGIN"):
		s.sasl = saslLoginUser
	case lines.EqualFold(mech, "CRAM-MD5"):
		s.sasl = saslCram
		return // the response answers the server's challenge: no initial response
	case len(mech) == 0:
		return // "AUTH" alone: refused, no exchange follows
	default:
		s.sasl = saslOther
		return
	}
	ir = bytes.TrimSpace(ir)
	if len(ir) > 0 && !(len(ir) == 1 && ir[0] == '=') {
		s.saslLine(ir)
	}
}

// saslLine handles one client response of an AUTH exchange.
func (s *stream) saslLine(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 1 && line[0] == '*' {
		s.sasl = saslNone // the client cancelled
		return
	}
	if s.sasl == saslOther {
		return
	}
	dec, err := decodeBase64(line)
	defer clear(dec) // decoded secrets do not linger
	if err != nil {
		dec = nil
	}
	switch s.sasl {
	case saslPlain:
		s.sasl = saslNone
		if dec == nil {
			s.credential("smtp-auth-plain", "AUTH PLAIN", "", line)
			return
		}
		// authzid NUL authcid NUL passwd
		parts := bytes.SplitN(dec, []byte{0}, 3)
		if len(parts) != 3 {
			s.credential("smtp-auth-plain", "AUTH PLAIN", "", dec)
			return
		}
		user := parts[1]
		if len(user) == 0 {
			user = parts[0]
		}
		s.credential("smtp-auth-plain", "AUTH PLAIN", text(user), parts[2])
	case saslLoginUser:
		s.sasl = saslLoginPass
		s.user = text(dec)
	case saslLoginPass:
		s.sasl = saslNone
		secret := dec
		if secret == nil {
			secret = line
		}
		s.credential("smtp-auth-login", "AUTH LOGIN", s.user, secret)
	case saslCram:
		s.sasl = saslNone
		if dec == nil {
			s.credential("smtp-auth-cram-md5", "AUTH CRAM-MD5", "", line)
			return
		}
		// user SP hex digest: the digest replays against the same challenge and cracks
		// offline, so it is kept as a secret.
		user, digest := []byte(nil), dec
		if i := bytes.LastIndexByte(dec, ' '); i >= 0 {
			user, digest = dec[:i], dec[i+1:]
		}
		s.credential("smtp-auth-cram-md5", "AUTH CRAM-MD5", text(user), digest)
	}
}

// saslLost moves past a response too long to read; the secret in it is not recorded.
func (s *stream) saslLost() {
	switch s.sasl {
	case saslLoginUser:
		s.sasl, s.user = saslLoginPass, ""
	case saslOther:
	default:
		s.sasl = saslNone
	}
}

// credential hides a secret at once and emits it; only the preview and hash are kept.
func (s *stream) credential(kind, where, user string, secret []byte) {
	preview, hash := s.ctx.Secrets.Hide(secret)
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
		Protocol: "smtp", Kind: kind, Where: where, User: user,
		Preview: preview, Hash: hash,
	})
}

// Gap implements dissect.Stream.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.done {
		return
	}
	s.count("smtp_gap", 1)
	if dir == dissect.ClientToServer {
		switch {
		case s.chunk > uint64(n):
			s.chunk -= uint64(n) // inside a BDAT chunk: still in step
			return
		case s.body != bodyNone:
			// Inside a body: stay in it rather than read message text as commands. If
			// the gap took the terminator, commands are skipped until the next one.
			s.body = bodyMid
			return
		}
		s.chunk = 0
		s.sasl = saslNone
	}
	// Whatever line the gap fell in is not trustworthy: skip to the next line end.
	s.lines[dir].SkipLine()
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.done }

// Handoff implements dissect.Handoff: true once the server accepted STARTTLS, so that the
// engine dissects the TLS that follows on the same flow.
func (s *stream) Handoff() bool { return s.handoff }

// isStartTLS reports whether an EHLO reply line's text (after "250-" or "250 ") is the
// STARTTLS keyword, which takes no parameters (RFC 3207).
func isStartTLS(kw []byte) bool {
	return lines.EqualFold(bytes.TrimRight(kw, " \t"), "STARTTLS")
}

// greeting emits, once, what the session's EHLO reply said about STARTTLS and what
// became of the session: upgraded (handed to TLS), refused, or left in clear. A
// session without an EHLO reply (HELO, or a capture that began later) says nothing.
func (s *stream) greeting() {
	if !s.greeted || s.greetingSent {
		return
	}
	s.greetingSent = true
	outcome := observe.StartTLSClear
	switch {
	case s.handoff:
		outcome = observe.StartTLSUpgraded
	case s.refused:
		outcome = observe.StartTLSDeclined
	}
	s.ctx.Sink.AddGreeting(observe.StartTLSGreeting{Flow: s.ctx.Flow, Protocol: "smtp", Offered: s.offered,
		Outcome: outcome, Count: 1, FirstSeen: s.greetingAt, LastSeen: s.t})
}

// End implements dissect.Stream. Credentials were emitted as they were read; what is left
// is to wipe a partial line, which may hold a password. A greeting not yet emitted (the
// session ended without MAIL, QUIT or an upgrade) is emitted now.
func (s *stream) End(time.Time) {
	s.greeting()
	for i := range s.lines {
		s.lines[i].Next(nil) // wipes the line last returned
		s.lines[i].SkipLine()
	}
	s.user = ""
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(b []byte) ([]byte, error) {
	b = bytes.TrimRight(b, "=")
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
	n, err := base64.RawStdEncoding.Decode(out, b)
	if err != nil {
		clear(out)
		return nil, err
	}
	return out[:n], nil
}

// text copies a user name, bounded and with control bytes replaced.
func text(b []byte) string {
	return observe.Text(b, maxUser)
}
