package loginwire

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
	// MaxLine is the longest line examined; longer lines are skipped.
	MaxLine = 4 << 10
	// MaxCommand bounds an IMAP command together with its literals.
	MaxCommand = 8 << 10
	// MaxLiteral is the largest IMAP literal collected; larger ones are skipped by count.
	MaxLiteral = 1 << 10

	maxUser    = 256
	maxPending = 8
)

type proto uint8

const (
	protoUnknown proto = iota
	protoFTP
	protoPOP3
	protoIMAP
)

// awaiting is the client request whose answer decides whether the dissector is done.
type awaiting uint8

const (
	awaitNone  awaiting = iota
	awaitUser           // FTP USER was sent: a 230 (no password needed) ends it
	awaitLogin          // a credential was sent: success ends the dissection
	awaitTLS            // STARTTLS, STLS or AUTH TLS: acceptance ends it
)

// sasl is where a SASL exchange (AUTH / AUTHENTICATE) stands.
type sasl uint8

const (
	saslNone      sasl = iota
	saslPlain          // the next client line is the PLAIN response
	saslLoginUser      // the next client line is the base64 user name (LOGIN)
	saslLoginPass      // the next client line is the base64 password (LOGIN)
)

// held is a credential already hidden, waiting for the protocol to be settled.
type held struct {
	kind     string // "password", "apop", "auth-plain", "auth-login"
	where    string
	user     string
	preview  string
	hash     string
	t        time.Time
	fallback proto
}

type stream struct {
	ctx   *dissect.Context
	claim proto // the dissector the engine picked
	mode  proto // the protocol settled from the traffic (IMAP from the start)
	lines [2]lines.Buffer
	t     time.Time

	user    string // last USER / AUTH LOGIN user name
	pending []held
	await   awaiting
	tag     string // IMAP tag of the command awaited
	sasl    sasl
	done    bool
	handoff bool // done because the server accepted STARTTLS, STLS or AUTH TLS
	early   bool // client bytes after an upgrade request, before its answer, were counted

	// IMAP literals, per direction: bytes still to come, and whether the client's are
	// being collected into cmd.
	lit     [2]uint64
	collect bool
	cmd     []byte
	cmdOver bool // the command exceeded MaxCommand; skip to its end

	// FTP transfers (ftpdata.go), followed after a login when the engine tracks
	// announced connections.
	session bool
	cur     *xfer // the data connection negotiated last, not yet named
	xfers   int

	// What the capability list said about STARTTLS (starttls.go), and from when.
	g          greetingState
	greetingAt time.Time
}

func newFor(p proto) func(ctx *dissect.Context) dissect.Stream {
	return func(ctx *dissect.Context) dissect.Stream {
		s := &stream{ctx: ctx, claim: p}
		s.lines[0].Max, s.lines[1].Max = MaxLine, MaxLine
		if p == protoIMAP {
			s.mode = protoIMAP
		}
		return s
	}
}

func (s *stream) count(name string) {
	if s.ctx.Count != nil {
		s.ctx.Count(name, 1)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if dir > dissect.ServerToClient || s.done {
		return
	}
	s.t = t
	for len(b) > 0 && !s.done {
		if dir == dissect.ClientToServer && s.await == awaitTLS && !s.early {
			// The client must wait for the answer before it starts TLS: these bytes are
			// either a protocol error or a ClientHello the TLS dissector will not see.
			s.early = true
			s.count("login_starttls_pipelined")
		}
		if s.lit[dir] > 0 {
			k := uint64(len(b))
			if k > s.lit[dir] {
				k = s.lit[dir]
			}
			if dir == dissect.ClientToServer && s.collect {
				s.cmd = append(s.cmd, b[:k]...)
			}
			s.lit[dir] -= k
			b = b[k:]
			continue
		}
		line, rest, ok, long := s.lines[dir].Next(b)
		if !ok {
			return
		}
		b = rest
		if long {
			s.count("login_oversized_line")
			if dir == dissect.ClientToServer {
				s.abandonCommand()
			}
			continue
		}
		switch {
		case dir == dissect.ServerToClient:
			s.serverLine(line)
			if s.handoff && len(b) > 0 {
				// TLS follows the accepting line and the server speaks second in it:
				// anything after that line is not a ServerHello the engine could hand on.
				s.count("login_starttls_trailing_bytes")
			}
		case s.mode == protoIMAP:
			s.imapClientLine(line)
		default:
			s.clientLine(line)
		}
	}
}

// Gap implements dissect.Stream.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.done {
		return
	}
	s.count("login_gap")
	if s.lit[dir] > uint64(n) && !(dir == dissect.ClientToServer && s.collect) {
		s.lit[dir] -= uint64(n) // inside a skipped literal: still in step
		return
	}
	s.lit[dir] = 0
	if dir == dissect.ServerToClient {
		s.capaGap()
	}
	// Whatever line the gap fell in is not trustworthy: skip to the next line end.
	s.lines[dir].SkipLine()
	if dir == dissect.ClientToServer {
		s.abandonCommand()
		s.sasl = saslNone
	}
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.done }

// Handoff implements dissect.Handoff: true once the server accepted an upgrade to TLS, so
// that the engine dissects the TLS that follows on the same flow.
func (s *stream) Handoff() bool { return s.handoff }

// upgraded ends the dissection at an accepted STARTTLS, STLS or AUTH TLS.
func (s *stream) upgraded() {
	s.flush() // credentials sent before the upgrade are still reported
	s.done, s.handoff = true, true
}

// End implements dissect.Stream.
func (s *stream) End(time.Time) {
	s.flush()
	s.greeting()
	s.abandonCommand()
	s.cmd = nil
}

// settle fixes the protocol from evidence; IMAP never changes.
func (s *stream) settle(p proto) {
	if s.mode == protoUnknown {
		s.mode = p
	}
}

// credential hides a secret at once, then emits it or holds it until the protocol is known.
func (s *stream) credential(kind, where, user string, secret []byte) {
	preview, hash := s.ctx.Secrets.Hide(secret)
	h := held{kind: kind, where: where, user: user, preview: preview, hash: hash, t: s.t, fallback: s.claim}
	s.await = awaitLogin
	if s.mode != protoUnknown {
		s.emit(h)
		return
	}
	if len(s.pending) >= maxPending {
		s.count("login_credentials_dropped")
		return
	}
	s.pending = append(s.pending, h)
}

// flush emits held credentials with the settled protocol, or the claimed one.
func (s *stream) flush() {
	for _, h := range s.pending {
		s.emit(h)
	}
	s.pending = s.pending[:0]
}

func (s *stream) emit(h held) {
	p := s.mode
	if p == protoUnknown {
		p = h.fallback
	}
	var protocol, kind string
	switch p {
	case protoFTP:
		protocol, kind = "ftp", "ftp-password"
		if u := string(bytes.ToLower([]byte(h.user))); u == "anonymous" || u == "ftp" {
			kind = "ftp-anonymous"
		}
		if h.kind != "password" {
			kind = "ftp-" + h.kind
		}
	case protoPOP3:
		protocol, kind = "pop3", "pop3-"+h.kind
	default:
		protocol, kind = "imap", "imap-"+h.kind
	}
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: h.t, LastSeen: h.t, Count: 1,
		Protocol: protocol, Kind: kind, Where: h.where, User: h.user,
		Preview: h.preview, Hash: h.hash,
	})
}

// word splits a command line into its upper-cased verb (at most 16 bytes) and the rest.
func word(line []byte) (verb string, arg []byte) {
	v := line
	if i := bytes.IndexByte(line, ' '); i >= 0 {
		v, arg = line[:i], line[i+1:]
	}
	if len(v) > 16 {
		return "", nil
	}
	var buf [16]byte
	for i, c := range v {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return string(buf[:len(v)]), arg
}

// clientLine handles one FTP or POP3 command.
func (s *stream) clientLine(line []byte) {
	if s.sasl != saslNone {
		s.saslLine(line, "AUTH")
		return
	}
	verb, arg := word(line)
	switch verb {
	case "USER":
		s.user = text(arg)
		if s.mode == protoFTP || s.mode == protoUnknown && s.claim == protoFTP {
			s.await = awaitUser // FTP servers may log a user in without a password (230)
		}
	case "PASS":
		s.credential("password", "PASS", s.user, arg)
	case "APOP":
		s.settle(protoPOP3)
		name, digest := arg, []byte(nil)
		if i := bytes.LastIndexByte(arg, ' '); i >= 0 {
			name, digest = arg[:i], arg[i+1:]
		}
		s.credential("apop", "APOP", text(name), digest)
	case "STLS":
		s.settle(protoPOP3)
		s.await = awaitTLS
	case "CAPA":
		s.settle(protoPOP3)
		s.g.capaAsked = true
	case "PORT", "EPRT", "RETR", "STOR", "APPE", "STOU", "LIST", "NLST", "MLSD":
		if s.session {
			s.ftpCommand(verb, arg)
		}
	case "AUTH":
		mech, ir := word(arg)
		switch mech {
		case "TLS", "SSL", "TLS-C", "TLS-P":
			s.settle(protoFTP)
			s.await = awaitTLS
		case "PLAIN", "LOGIN":
			s.settle(protoPOP3)
			s.startSASL(mech, ir, "AUTH")
		}
	}
}

// startSASL begins an AUTH / AUTHENTICATE exchange, taking an initial response if given.
func (s *stream) startSASL(mech string, ir []byte, where string) {
	ir = bytes.TrimSpace(ir)
	switch mech {
	case "PLAIN":
		s.sasl = saslPlain
	case "LOGIN":
		s.sasl = saslLoginUser
	default:
		return
	}
	if len(ir) > 0 && !(len(ir) == 1 && ir[0] == '=') {
		s.saslLine(ir, where)
	}
}

// saslLine handles one client response of a SASL exchange.
func (s *stream) saslLine(line []byte, where string) {
	line = bytes.TrimSpace(line)
	if len(line) == 1 && line[0] == '*' {
		s.sasl = saslNone // the client cancelled
		return
	}
	dec, err := decodeBase64(line)
	defer clear(dec) // decoded secrets do not linger
	switch s.sasl {
	case saslPlain:
		s.sasl = saslNone
		if err != nil {
			s.credential("auth-plain", where+" PLAIN", "", line)
			return
		}
		// authzid NUL authcid NUL passwd
		parts := bytes.SplitN(dec, []byte{0}, 3)
		if len(parts) != 3 {
			s.credential("auth-plain", where+" PLAIN", "", dec)
			return
		}
		user := parts[1]
		if len(user) == 0 {
			user = parts[0]
		}
		s.credential("auth-plain", where+" PLAIN", text(user), parts[2])
	case saslLoginUser:
		s.sasl = saslLoginPass
		if err == nil {
			s.user = text(dec)
		} else {
			s.user = ""
		}
	case saslLoginPass:
		s.sasl = saslNone
		secret := dec
		if err != nil {
			secret = line
		}
		s.credential("auth-login", where+" LOGIN", s.user, secret)
	}
}

// serverLine handles one server reply.
func (s *stream) serverLine(line []byte) {
	if s.mode == protoIMAP {
		s.imapServerLine(line)
		return
	}
	if s.g.inCapa {
		s.pop3Capa(line)
		return
	}
	ftp := len(line) >= 3 && digit(line[0]) && digit(line[1]) && digit(line[2]) && (len(line) == 3 || line[3] == ' ' || line[3] == '-')
	pop := bytes.HasPrefix(line, []byte("+OK")) || bytes.HasPrefix(line, []byte("-ERR"))
	switch {
	case ftp:
		s.settle(protoFTP)
	case pop:
		s.settle(protoPOP3)
	}
	s.flush()
	switch {
	case s.mode == protoFTP && ftp:
		if len(line) > 3 && line[3] == '-' {
			return // a multi-line reply continues
		}
		code := string(line[:3])
		switch {
		case code == "234" && s.await == awaitTLS:
			s.upgraded()
		case code == "230" && (s.await == awaitLogin || s.await == awaitUser):
			if s.ctx.Expect == nil {
				s.done = true
				break
			}
			// Logged in: follow the session's transfers (a control channel is small).
			s.session, s.await = true, awaitNone
		case s.session && (code == "227" || code == "229"):
			s.ftpReply(code, line)
		case line[0] == '4' || line[0] == '5':
			s.await = awaitNone
		}
	case s.mode == protoPOP3 && pop:
		switch {
		case s.g.capaAsked && s.await == awaitNone && s.sasl == saslNone:
			// CAPA's answer: a list follows a +OK, nothing an -ERR.
			s.g.capaAsked = false
			s.g.inCapa = line[0] == '+'
		case line[0] == '+' && s.await == awaitTLS && s.sasl == saslNone:
			s.upgraded()
		case line[0] == '+' && s.await == awaitLogin && s.sasl == saslNone:
			s.done = true
		case line[0] == '-':
			s.g.refused = s.g.refused || s.await == awaitTLS
			s.await, s.sasl = awaitNone, saslNone
		}
	}
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(b []byte) ([]byte, error) {
	b = bytes.TrimRight(b, "=")
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
	n, err := base64.RawStdEncoding.Decode(out, b)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// text copies a user name, bounded and with control bytes replaced.
func text(b []byte) string {
	return observe.Text(b, maxUser)
}
