package sockswire

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Dissector dissects the opening of SOCKS4, SOCKS4a and SOCKS5 connections.
var Dissector = dissect.Dissector{Name: "socks", Detect: Detect, New: New}

// maxMessage is the longest message of the grammar: an RFC 1929 subnegotiation
// (1+1+255+1+255 bytes); a SOCKS4a request with a 255-byte user id and host name is
// 8+256+256. No direction buffers more than this.
const maxMessage = 8 + 256 + 256

// maxUser is how much of a user name or SOCKS4 user id a record keeps.
const maxUser = 128

// parse is the outcome of reading one message from the front of a buffer.
type parse uint8

const (
	bad      parse = iota // not this grammar
	partial               // a valid beginning: more bytes needed
	complete              // one whole message, n bytes long
)

// socks4 is a SOCKS4 or 4a request.
type socks4 struct {
	cmd  byte
	port uint16
	ip   [4]byte
	user []byte
	host []byte // SOCKS4a only
}

// parseSocks4 reads a SOCKS4/4a request: VN 4, CD, DSTPORT, DSTIP, USERID NUL, and for
// 4a (DSTIP 0.0.0.x, x non-zero) HOSTNAME NUL. The user id must be printable ASCII and
// each field at most 255 bytes.
func parseSocks4(b []byte) (r socks4, n int, p parse) {
	if len(b) == 0 {
		return r, 0, partial
	}
	if b[0] != 4 {
		return r, 0, bad
	}
	if len(b) < 8 {
		if len(b) >= 2 && b[1] != 1 && b[1] != 2 {
			return r, 0, bad
		}
		return r, 0, partial
	}
	r.cmd, r.port = b[1], binary.BigEndian.Uint16(b[2:])
	copy(r.ip[:], b[4:8])
	if (r.cmd != 1 && r.cmd != 2) || r.port == 0 {
		return r, 0, bad
	}
	user, un, p := cstring(b[8:], true)
	if p != complete {
		return r, 0, p
	}
	r.user = user
	n = 8 + un
	if r.ip[0] == 0 && r.ip[1] == 0 && r.ip[2] == 0 && r.ip[3] != 0 {
		host, hn, p := cstring(b[n:], false)
		if p != complete {
			return r, 0, p
		}
		if len(host) == 0 {
			return r, 0, bad
		}
		r.host = host
		n += hn
	}
	return r, n, complete
}

// cstring reads a NUL-ended field of at most 255 bytes; printable restricts it to
// printable ASCII. n counts the NUL.
func cstring(b []byte, printable bool) (s []byte, n int, p parse) {
	for i, c := range b {
		switch {
		case c == 0:
			return b[:i], i + 1, complete
		case i >= 255:
			return nil, 0, bad
		case printable && (c < 0x20 || c > 0x7e):
			return nil, 0, bad
		case !printable && c < 0x20:
			return nil, 0, bad
		}
	}
	if len(b) > 255 {
		return nil, 0, bad
	}
	return nil, 0, partial
}

// knownMethod reports whether m is a SOCKS5 authentication method a client offers: the
// IANA registry's 0 to 9 and the private range, never 0xFF ("no acceptable methods").
func knownMethod(m byte) bool { return m <= 9 || (m >= 0x80 && m <= 0xfe) }

// parseGreeting reads a SOCKS5 greeting: VER 5, NMETHODS (1 to 9), distinct known
// methods. userpass reports whether method 2 was offered.
func parseGreeting(b []byte) (n int, userpass bool, p parse) {
	if len(b) == 0 {
		return 0, false, partial
	}
	if b[0] != 5 {
		return 0, false, bad
	}
	if len(b) < 2 {
		return 0, false, partial
	}
	k := int(b[1])
	if k == 0 || k > 9 {
		return 0, false, bad
	}
	var seen [256]bool
	for i := 2; i < len(b) && i < 2+k; i++ {
		m := b[i]
		if !knownMethod(m) || seen[m] {
			return 0, false, bad
		}
		seen[m] = true
	}
	if len(b) < 2+k {
		return 0, false, partial
	}
	return 2 + k, seen[2], complete
}

// parseAuth reads an RFC 1929 subnegotiation: VER 1, ULEN, UNAME, PLEN, PASSWD, each
// length at least 1.
func parseAuth(b []byte) (user, pass []byte, n int, p parse) {
	if len(b) == 0 {
		return nil, nil, 0, partial
	}
	if b[0] != 1 {
		return nil, nil, 0, bad
	}
	if len(b) < 2 {
		return nil, nil, 0, partial
	}
	ul := int(b[1])
	if ul == 0 {
		return nil, nil, 0, bad
	}
	if len(b) < 3+ul {
		return nil, nil, 0, partial
	}
	pl := int(b[2+ul])
	if pl == 0 {
		return nil, nil, 0, bad
	}
	if len(b) < 3+ul+pl {
		return nil, nil, 0, partial
	}
	return b[2 : 2+ul], b[3+ul : 3+ul+pl], 3 + ul + pl, complete
}

// addr5 is a SOCKS5 address: ATYP 1 (IPv4), 3 (domain name) or 4 (IPv6), and a port.
type addr5 struct {
	ip   netip.Addr
	host []byte // ATYP 3
	port uint16
}

// parseAddr5 reads ATYP, the address and the port; a domain name has 1 to 255 bytes.
func parseAddr5(b []byte) (a addr5, n int, p parse) {
	if len(b) == 0 {
		return a, 0, partial
	}
	switch b[0] {
	case 1:
		n = 1 + 4
	case 4:
		n = 1 + 16
	case 3:
		if len(b) < 2 {
			return a, 0, partial
		}
		if b[1] == 0 {
			return a, 0, bad
		}
		n = 2 + int(b[1])
	default:
		return a, 0, bad
	}
	if len(b) < n+2 {
		return a, 0, partial
	}
	switch b[0] {
	case 1:
		a.ip = netip.AddrFrom4([4]byte(b[1:5]))
	case 4:
		a.ip = netip.AddrFrom16([16]byte(b[1:17])).Unmap()
	case 3:
		a.host = b[2:n]
	}
	a.port = binary.BigEndian.Uint16(b[n:])
	return a, n + 2, complete
}

// parseRequest5 reads a SOCKS5 request (VER 5, CMD 1 to 3, RSV 0, address) or, with
// reply set, a reply (VER 5, REP 0 to 8, RSV 0, bound address); code is CMD or REP.
func parseRequest5(b []byte, reply bool) (code byte, a addr5, n int, p parse) {
	if len(b) == 0 {
		return 0, a, 0, partial
	}
	if b[0] != 5 {
		return 0, a, 0, bad
	}
	if len(b) < 2 {
		return 0, a, 0, partial
	}
	code = b[1]
	if (!reply && (code < 1 || code > 3)) || (reply && code > 8) {
		return 0, a, 0, bad
	}
	if len(b) < 3 {
		return 0, a, 0, partial
	}
	if b[2] != 0 {
		return 0, a, 0, bad
	}
	a, an, p := parseAddr5(b[3:])
	if p != complete {
		return 0, addr5{}, 0, p
	}
	if !reply && a.port == 0 {
		return 0, addr5{}, 0, bad
	}
	return code, a, 3 + an, complete
}

var (
	yes      = dissect.Match{Verdict: dissect.Yes, FromClient: true} // only a client opens with these
	needMore = dissect.Match{Verdict: dissect.NeedMore}
	no       = dissect.Match{}
)

// Detect claims a client's first bytes that are a SOCKS4/4a CONNECT request or a SOCKS5
// greeting (see the package documentation).
func Detect(first []byte) dissect.Match {
	if len(first) == 0 {
		return needMore
	}
	switch first[0] {
	case 4:
		r, n, p := parseSocks4(first)
		switch {
		case p == partial:
			return needMore
		case p == complete && r.cmd == 1 && n == len(first):
			return yes
		}
		return no
	case 5:
		n, _, p := parseGreeting(first)
		switch p {
		case partial:
			return needMore
		case bad:
			return no
		}
		rest := first[n:]
		if len(rest) == 0 {
			return yes
		}
		// A client that did not wait for the method selection: what follows must be its
		// next message.
		switch rest[0] {
		case 1:
			if _, _, _, p := parseAuth(rest); p != bad {
				return yes
			}
		case 5:
			if _, _, _, p := parseRequest5(rest, false); p != bad {
				return yes
			}
		}
		return no
	}
	return no
}

// New starts a SOCKS stream dissector.
func New(ctx *dissect.Context) dissect.Stream {
	s := &stream{ctx: ctx}
	s.step[dissect.ServerToClient] = sSelect
	return s
}

// step is what a direction expects next.
type step uint8

const (
	cFirst  step = iota // client: a SOCKS4 request or a SOCKS5 greeting
	cNext               // client (SOCKS5): a subnegotiation or the request
	cDone               // client: nothing more before the grant
	sSelect             // server (SOCKS5): the method selection
	sAuth               // server (SOCKS5): the subnegotiation status
	sReply              // server: the reply to the request
	finished
)

type stream struct {
	ctx  *dissect.Context
	buf  [2][]byte // one message being read per direction, at most maxMessage bytes
	step [2]step
	v    byte // 4 or 5 once the client's first message is read
	t    time.Time

	// The request, once read.
	requested bool
	cmd       byte
	target    addr5
	ip4       [4]byte // SOCKS4's DSTIP
	name      []byte  // SOCKS4a's host name or SOCKS5's domain name (copied)

	done, handoff bool
	rest          int // bytes after the grant at the end of the delivery that held it
}

func (s *stream) count(name string, n uint64) {
	if s.ctx.Count != nil && n > 0 {
		s.ctx.Count(name, n)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if dir > dissect.ServerToClient || s.done {
		return
	}
	s.t = t
	chunk := len(b)
	if s.buf[dir] == nil {
		// Full size at once, so that append never leaves a copy of a password behind in
		// a dropped array: release wipes the one array there is.
		s.buf[dir] = make([]byte, 0, maxMessage)
	}
	for len(b) > 0 && !s.done {
		take := min(len(b), maxMessage-len(s.buf[dir]))
		if take == 0 {
			// Defensive: every partial message of the grammar is shorter than maxMessage.
			s.fail("socks_bad_message")
			break
		}
		s.buf[dir] = append(s.buf[dir], b[:take]...)
		b = b[take:]
		if dir == dissect.ClientToServer {
			s.client()
		} else {
			s.server()
		}
	}
	if s.done {
		if s.handoff {
			// Bytes after the grant in the same delivery (a server's banner through the
			// tunnel, merged into one segment) are the tunnel's first bytes: the engine
			// offers them to detection (dissect.HandoffRest). They all came in this
			// delivery, since the grant they follow was only now complete.
			s.rest = min(len(s.buf[dir])+len(b), chunk)
		}
		s.release()
	}
}

// Rest implements dissect.HandoffRest.
func (s *stream) Rest() int { return s.rest }

// consume removes n read bytes from the front of a direction's buffer.
func (s *stream) consume(dir dissect.Direction, n int) {
	b := s.buf[dir]
	m := copy(b, b[n:])
	clear(b[m:])
	s.buf[dir] = b[:m]
}

func (s *stream) client() {
	const c = dissect.ClientToServer
	for len(s.buf[c]) > 0 && !s.done {
		b := s.buf[c]
		switch s.step[c] {
		case cFirst:
			if b[0] == 4 {
				r, n, p := parseSocks4(b)
				if p == partial {
					return
				}
				if p == bad {
					s.fail("socks_bad_message")
					return
				}
				s.v, s.requested, s.cmd, s.ip4 = 4, true, r.cmd, r.ip
				s.target.port = r.port
				if r.host != nil {
					s.name = append([]byte(nil), r.host...)
				} else {
					s.target.ip = netip.AddrFrom4(r.ip)
				}
				s.consume(c, n)
				s.step[c] = cDone
				continue
			}
			n, _, p := parseGreeting(b)
			if p == partial {
				return
			}
			if p == bad {
				s.fail("socks_bad_message")
				return
			}
			s.v = 5
			s.consume(c, n)
			s.step[c] = cNext
		case cNext:
			if b[0] == 1 {
				user, pass, n, p := parseAuth(b)
				if p == partial {
					return
				}
				if p == bad {
					s.fail("socks_bad_message")
					return
				}
				s.credential(user, pass)
				s.consume(c, n)
				continue
			}
			code, a, n, p := parseRequest5(b, false)
			if p == partial {
				return
			}
			if p == bad {
				s.fail("socks_bad_message")
				return
			}
			s.requested, s.cmd, s.target = true, code, addr5{ip: a.ip, port: a.port}
			if a.host != nil {
				s.name = append([]byte(nil), a.host...)
			}
			s.consume(c, n)
			s.step[c] = cDone
		case cDone:
			// Sent before the proxy granted the tunnel: not dissected.
			s.count("socks_bytes_dropped", uint64(len(b)))
			s.consume(c, len(b))
		}
	}
}

func (s *stream) server() {
	const d = dissect.ServerToClient
	for len(s.buf[d]) > 0 && !s.done {
		b := s.buf[d]
		if s.v == 4 {
			if len(b) < 8 {
				return
			}
			if b[0] != 0 && b[0] != 4 {
				s.fail("socks_bad_message")
				return
			}
			ok := b[1] == 90
			s.consume(d, 8)
			s.granted(ok)
			return
		}
		switch s.step[d] {
		case sSelect:
			if len(b) < 2 {
				return
			}
			if b[0] != 5 {
				s.fail("socks_bad_message")
				return
			}
			m := b[1]
			s.consume(d, 2)
			switch m {
			case 0:
				s.step[d] = sReply
			case 2:
				s.step[d] = sAuth
			case 0xff:
				s.count("socks_refused", 1)
				s.finish(false)
			default:
				s.count("socks_no_tunnel", 1)
				s.finish(false)
			}
		case sAuth:
			if len(b) < 2 {
				return
			}
			if b[0] != 1 {
				s.fail("socks_bad_message")
				return
			}
			ok := b[1] == 0
			s.consume(d, 2)
			if !ok {
				s.count("socks_refused", 1)
				s.finish(false)
				return
			}
			s.step[d] = sReply
		case sReply:
			code, _, n, p := parseRequest5(b, true)
			if p == partial {
				return
			}
			if p == bad {
				s.fail("socks_bad_message")
				return
			}
			s.consume(d, n)
			s.granted(code == 0)
			return
		default:
			s.fail("socks_bad_message")
			return
		}
	}
}

// granted ends the dissection at the proxy's answer to the request: a CONNECT granted
// hands the flow off to the tunnel.
func (s *stream) granted(ok bool) {
	switch {
	case !ok:
		s.count("socks_refused", 1)
		s.finish(false)
	case !s.requested:
		// The request was not seen (a capture of the server's side only): where the
		// tunnel leads, and whether it is one, is unknown.
		s.count("socks_no_tunnel", 1)
		s.finish(false)
	case s.cmd != 1:
		s.count("socks_other_command", 1)
		s.finish(false)
	default:
		s.count("socks_tunnels", 1)
		s.finish(true)
	}
}

func (s *stream) fail(counter string) {
	s.count(counter, 1)
	s.finish(false)
}

func (s *stream) finish(handoff bool) {
	s.done, s.handoff = true, handoff
	for d := range s.step {
		s.step[d] = finished
	}
}

// release wipes and drops the buffers once the stream is done.
func (s *stream) release() {
	for d := range s.buf {
		clear(s.buf[d][:cap(s.buf[d])])
		s.buf[d] = nil
	}
}

// credential hides an RFC 1929 password at once and emits it with its user name.
func (s *stream) credential(user, pass []byte) {
	preview, hash := s.ctx.Secrets.Hide(pass)
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
		Protocol: "socks", Kind: "socks5-password", Where: "socks5", User: observe.Text(user, maxUser),
		Preview: preview, Hash: hash,
	})
}

// Gap implements dissect.Stream: a loss in the opening leaves the messages out of step
// and the tunnel's start unknown, so the dissection ends.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.done {
		return
	}
	s.fail("socks_gap")
	s.release()
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.done }

// Handoff implements dissect.Handoff: true once the proxy granted a CONNECT.
func (s *stream) Handoff() bool { return s.handoff }

// TunnelTarget implements dissect.Tunnel: the address or host name and port the granted
// request named.
func (s *stream) TunnelTarget() (netip.Addr, string, uint16, bool) {
	if !s.handoff {
		return netip.Addr{}, "", 0, false
	}
	if s.name == nil {
		return s.target.ip, "", s.target.port, s.target.ip.IsValid()
	}
	addr, name, ok := dissect.TunnelHost(s.name)
	if !ok {
		s.count("socks_bad_target", 1)
		return netip.Addr{}, "", 0, false
	}
	return addr, name, s.target.port, true
}

// End implements dissect.Stream.
func (s *stream) End(time.Time) { s.release() }
