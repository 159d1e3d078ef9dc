package telnetwire

import (
	"bytes"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Dissector is the Telnet stream dissector.
var Dissector = dissect.Dissector{Name: "telnet", Detect: Detect, New: New}

// Limits on what one session may cost.
const (
	// MaxAttempts is how many logins of one session are recorded.
	MaxAttempts = 4
	// MaxBytes is how much of a session, both directions, is examined.
	MaxBytes = 64 << 10
	maxLine  = 256
	maxTail  = 64
)

// Telnet command bytes.
const (
	iac  = 255
	dont = 254
	do   = 253
	wont = 252
	will = 251
	sb   = 250
	se   = 240
)

// Detect claims a stream that begins with an option negotiation.
func Detect(first []byte) dissect.Match {
	if len(first) == 0 || first[0] != iac {
		return dissect.Match{}
	}
	if len(first) < 3 {
		return dissect.Match{Verdict: dissect.NeedMore}
	}
	if first[1] < will || first[1] > dont || first[2] > 49 && first[2] != 255 {
		return dissect.Match{} // options are assigned up to 49 (and 255, EXOPL)
	}
	return dissect.Match{Verdict: dissect.Yes}
}

// parser strips Telnet commands from one direction.
type parser struct {
	state uint8 // 0 data, 1 after IAC, 2 after WILL/WONT/DO/DONT, 3 in SB, 4 IAC in SB
}

// strip appends the data bytes of b to dst.
func (p *parser) strip(dst, b []byte) []byte {
	for _, c := range b {
		switch p.state {
		case 0:
			if c == iac {
				p.state = 1
			} else {
				dst = append(dst, c)
			}
		case 1:
			switch {
			case c == iac:
				dst = append(dst, iac)
				p.state = 0
			case c >= will && c <= dont:
				p.state = 2
			case c == sb:
				p.state = 3
			default: // NOP, GA, AYT and the other two-byte commands
				p.state = 0
			}
		case 2:
			p.state = 0
		case 3:
			if c == iac {
				p.state = 4
			}
		case 4:
			if c == se {
				p.state = 0
			} else {
				p.state = 3
			}
		}
	}
	return dst
}

type awaiting uint8

const (
	awaitNone awaiting = iota
	awaitUser
	awaitPass
)

type stream struct {
	ctx      *dissect.Context
	p        [2]parser
	scratch  []byte
	tail     []byte // the server's latest output, lowercased, at most maxTail bytes
	line     []byte // the client's line being typed
	over     bool   // the client's line exceeded maxLine
	await    awaiting
	user     string
	attempts int
	seen     int
	t        time.Time
}

// New starts a Telnet stream.
func New(ctx *dissect.Context) dissect.Stream { return &stream{ctx: ctx} }

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if s.Done() || dir > dissect.ServerToClient {
		return
	}
	s.seen += len(b)
	s.t = t
	s.scratch = s.p[dir].strip(s.scratch[:0], b)
	if dir == dissect.ServerToClient {
		s.server(s.scratch)
	} else {
		s.client(s.scratch)
	}
}

// server keeps the tail of the server's output and arms the prompt it ends with.
func (s *stream) server(b []byte) {
	if len(b) == 0 {
		return
	}
	s.tail = append(s.tail, b...)
	if len(s.tail) > maxTail {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-maxTail:]...)
	}
	t := bytes.ToLower(bytes.TrimRight(s.tail, " \t\x00"))
	switch {
	case bytes.HasSuffix(t, []byte("password:")) || bytes.HasSuffix(t, []byte("passcode:")):
		s.await = awaitPass
		s.line, s.over = s.line[:0], false
	case bytes.HasSuffix(t, []byte("login:")) || bytes.HasSuffix(t, []byte("username:")) ||
		bytes.HasSuffix(t, []byte("user name:")) || bytes.HasSuffix(t, []byte("user:")):
		s.await = awaitUser
		s.line, s.over = s.line[:0], false
	}
}

// client collects the typed line, as a terminal would edit it, and takes it at CR or LF.
func (s *stream) client(b []byte) {
	for _, c := range b {
		switch c {
		case '\r', '\n':
			if len(s.line) > 0 || s.over {
				s.take()
			}
		case 0:
		case 0x08, 0x7f:
			if len(s.line) > 0 {
				s.line = s.line[:len(s.line)-1]
			}
		default:
			if len(s.line) < maxLine {
				s.line = append(s.line, c)
			} else {
				s.over = true
			}
		}
	}
}

func (s *stream) take() {
	line := s.line
	s.line = s.line[:0]
	over := s.over
	s.over = false
	switch s.await {
	case awaitUser:
		if !over {
			s.user = observe.Text(line, maxLine)
		}
	case awaitPass:
		s.attempts++
		if over {
			s.count("telnet_oversized_password")
			break
		}
		preview, hash := s.ctx.Secrets.Hide(line)
		s.ctx.Sink.AddCredential(observe.Credential{Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Protocol: "telnet",
			Kind: "telnet-password", Where: "login", User: s.user, Preview: preview, Hash: hash})
		clear(line) // the password is not kept past this call
	}
	s.await = awaitNone
	s.tail = s.tail[:0]
}

func (s *stream) count(name string) {
	if s.ctx.Count != nil {
		s.ctx.Count(name, 1)
	}
}

// Gap implements dissect.Stream: a lost segment may hold part of a line, so the line
// and the prompt are dropped rather than guessed.
func (s *stream) Gap(dissect.Direction, int) {
	clear(s.line)
	s.line, s.await, s.tail = s.line[:0], awaitNone, s.tail[:0]
	s.p = [2]parser{}
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.attempts >= MaxAttempts || s.seen >= MaxBytes }

// End implements dissect.Stream.
func (s *stream) End(time.Time) { clear(s.line) }
