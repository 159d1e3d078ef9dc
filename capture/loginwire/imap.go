package loginwire

import (
	"bytes"
)

// abandonCommand drops a partly collected IMAP command.
func (s *stream) abandonCommand() {
	clear(s.cmd) // it may have held a password
	s.cmd = s.cmd[:0]
	s.collect = false
	s.cmdOver = false
}

// literal reports whether a line ends with an IMAP literal announcement {n} or {n+}.
func literal(line []byte) (uint64, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false
	}
	digits := line[open+1 : len(line)-1]
	if len(digits) > 0 && digits[len(digits)-1] == '+' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 || len(digits) > 12 {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		if !digit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// imapClientLine handles one client line: a SASL response, or part or all of a command.
func (s *stream) imapClientLine(line []byte) {
	if s.sasl != saslNone && len(s.cmd) == 0 && !s.cmdOver {
		s.saslLine(line, "AUTHENTICATE")
		return
	}
	n, lit := literal(line)
	if !s.cmdOver {
		if len(s.cmd)+len(line)+2 > MaxCommand {
			s.cmdOver = true
			clear(s.cmd)
			s.cmd = s.cmd[:0]
		} else {
			s.cmd = append(s.cmd, line...)
			s.cmd = append(s.cmd, '\r', '\n')
		}
	}
	if lit {
		s.lit[0] = n
		s.collect = !s.cmdOver && n <= MaxLiteral && len(s.cmd)+int(n) <= MaxCommand
		if !s.collect {
			s.cmdOver = true // an APPENDed message, or absurd: not a login
			clear(s.cmd)
			s.cmd = s.cmd[:0]
		}
		return
	}
	if !s.cmdOver {
		s.imapCommand(s.cmd)
	}
	s.abandonCommand()
}

// imapCommand parses one complete command (literals inlined) for credentials.
func (s *stream) imapCommand(cmd []byte) {
	p := &parser{b: cmd}
	tag := p.atom()
	if len(tag) == 0 || !p.space() {
		return
	}
	verb, _ := word(p.atom())
	switch verb {
	case "LOGIN":
		if !p.space() {
			return
		}
		user := p.astring()
		if !p.space() {
			return
		}
		pass := p.astring()
		if p.bad {
			s.count("imap_bad_login")
			return
		}
		s.tag = string(tag)
		s.credential("password", "LOGIN", text(user), pass)
	case "AUTHENTICATE":
		if !p.space() {
			return
		}
		mech, _ := word(p.atom())
		var ir []byte
		if p.space() {
			ir = p.atom()
		}
		s.tag = string(tag)
		s.startSASL(mech, ir, "AUTHENTICATE")
	case "STARTTLS":
		s.tag = string(tag)
		s.await = awaitTLS
	}
}

// imapServerLine watches for the tagged answer to a login or STARTTLS, skipping literals
// (message contents) so that they are never read as responses.
func (s *stream) imapServerLine(line []byte) {
	if n, ok := literal(line); ok {
		s.lit[1] = n
	}
	s.imapCapability(line)
	if s.tag == "" || s.await == awaitNone && s.sasl == saslNone {
		return
	}
	if len(line) <= len(s.tag) || string(line[:len(s.tag)]) != s.tag || line[len(s.tag)] != ' ' {
		return
	}
	status, _ := word(line[len(s.tag)+1:])
	switch status {
	case "OK":
		switch s.await {
		case awaitTLS:
			s.upgraded()
		case awaitLogin:
			s.done = true
		}
	case "NO", "BAD":
		s.g.refused = s.g.refused || s.await == awaitTLS
		s.await, s.sasl = awaitNone, saslNone
	}
}

// parser reads IMAP tokens from a command with its literals inlined.
type parser struct {
	b   []byte
	bad bool
}

func (p *parser) space() bool {
	if len(p.b) > 0 && p.b[0] == ' ' {
		p.b = p.b[1:]
		return true
	}
	return false
}

// atom reads up to the next space or line end.
func (p *parser) atom() []byte {
	i := bytes.IndexAny(p.b, " \r\n")
	if i < 0 {
		i = len(p.b)
	}
	v := p.b[:i]
	p.b = p.b[i:]
	return v
}

// astring reads an atom, a quoted string or a literal.
func (p *parser) astring() []byte {
	if len(p.b) == 0 {
		p.bad = true
		return nil
	}
	switch p.b[0] {
	case '"':
		var out []byte
		for i := 1; i < len(p.b); i++ {
			switch c := p.b[i]; c {
			case '\\':
				if i+1 < len(p.b) {
					i++
					out = append(out, p.b[i])
				}
			case '"':
				p.b = p.b[i+1:]
				return out
			default:
				out = append(out, c)
			}
		}
		p.bad = true
		return nil
	case '{':
		end := bytes.IndexByte(p.b, '}')
		if end < 0 {
			p.bad = true
			return nil
		}
		n, ok := literal(p.b[:end+1])
		rest := p.b[end+1:]
		if !ok || !bytes.HasPrefix(rest, []byte("\r\n")) || n > uint64(len(rest)-2) {
			p.bad = true
			return nil
		}
		v := rest[2 : 2+n]
		p.b = rest[2+n:]
		return v
	}
	return p.atom()
}
