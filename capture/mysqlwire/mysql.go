package mysqlwire

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/frame"
	"github.com/medscan/medscan/observe"
)

// Dissector is the MySQL/MariaDB dissector.
var Dissector = dissect.Dissector{Name: "mysql", Detect: Detect, New: New}

// MaxPacket is the longest packet read; the handshake and login packets are a few
// hundred bytes, and longer packets (query results) are skipped by count.
const MaxPacket = 4 << 10

// Capability flags (MySQL include/mysql_com.h).
const (
	capConnectWithDB = 0x00000008
	capProtocol41    = 0x00000200
	capSSL           = 0x00000800
	capSecureConn    = 0x00008000
	capPluginAuth    = 0x00080000
	capLenencAuth    = 0x00200000
)

const (
	maxUser    = 256
	maxVersion = 64
	headerLen  = 4
	sslReqLen  = 32 // SSL Request payload
	clearPlug  = "mysql_clear_password"
)

var (
	needMore  = dissect.Match{Verdict: dissect.NeedMore}
	no        = dissect.Match{}
	yes       = dissect.Match{Verdict: dissect.Yes}
	yesServer = dissect.Match{Verdict: dissect.Yes, FromServer: true}
)

// Detect claims a server's HandshakeV10 or a client's SSL Request or HandshakeResponse41.
func Detect(first []byte) dissect.Match {
	if len(first) < headerLen+1 {
		return needMore
	}
	n := int(first[0]) | int(first[1])<<8 | int(first[2])<<16
	switch first[3] {
	case 0:
		if first[4] != 10 || n < 40 || n > MaxPacket {
			return no
		}
		if len(first) < headerLen+n {
			// Judge what is here; the version string and filler must fit in the packet.
			if _, ok, bad := greeting(first[headerLen:]); bad {
				return no
			} else if !ok {
				return needMore
			}
			return yesServer
		}
		if _, ok, _ := greeting(first[headerLen : headerLen+n]); ok {
			return yesServer
		}
		return no
	case 1:
		if n < sslReqLen || n > MaxPacket {
			return no
		}
		if len(first) < headerLen+sslReqLen {
			return needMore
		}
		if clientFixed(first[headerLen : headerLen+sslReqLen]) {
			return yes
		}
	}
	return no
}

// greeting reads the fixed start of a HandshakeV10 payload (p[0] is the protocol
// version): the server version, the filler and the lower capabilities. ok is false with
// bad false when p is too short to tell.
func greeting(p []byte) (g hello, ok, bad bool) {
	if len(p) < 1 || p[0] != 10 {
		return g, false, true
	}
	end := bytes.IndexByte(p[1:], 0)
	if end < 0 {
		if len(p)-1 > maxVersion || !printable(p[1:]) {
			return g, false, true
		}
		return g, false, false
	}
	v := p[1 : 1+end]
	if end == 0 || end > maxVersion || !printable(v) || v[0] < '0' || v[0] > '9' {
		return g, false, true
	}
	rest := p[2+end:]
	// thread id 4, nonce part 1 8, filler 1, capabilities 2
	if len(rest) < 15 {
		return g, false, false
	}
	if rest[12] != 0 {
		return g, false, true
	}
	g.version = string(v)
	g.caps = uint32(binary.LittleEndian.Uint16(rest[13:15]))
	if len(rest) >= 20 { // character set 1, status 2, upper capabilities 2
		g.caps |= uint32(binary.LittleEndian.Uint16(rest[18:20])) << 16
	}
	return g, true, false
}

// hello is what a server's greeting says.
type hello struct {
	version string
	caps    uint32
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// clientFixed checks the 32 fixed bytes every protocol-41 client packet opens with:
// capabilities with CLIENT_PROTOCOL_41, the maximum packet size, the character set and
// a filler of which the first 19 bytes are zero (MariaDB puts its extended capabilities
// in the last 4; MySQL keeps all 23 zero).
func clientFixed(p []byte) bool {
	caps := binary.LittleEndian.Uint32(p)
	if caps&capProtocol41 == 0 {
		return false
	}
	for _, c := range p[9:28] {
		if c != 0 {
			return false
		}
	}
	return true
}

// packetLength frames MySQL packets: 3-byte length, sequence number, payload.
func packetLength(head []byte) (int, bool) {
	if len(head) < headerLen {
		return 0, false
	}
	return headerLen + (int(head[0]) | int(head[1])<<8 | int(head[2])<<16), false
}

type stream struct {
	ctx *dissect.Context
	fr  [2]frame.Reader
	t   time.Time

	caps      uint32 // the server's, once its greeting was read
	greeted   bool
	login     bool   // the client sent its login; the server's answer ends the session's interest
	user      string // the login's user name, for a clear password sent after an auth switch
	clearNext bool   // the server switched the client to mysql_clear_password
	done      bool
	handoff   bool
	rest      int // bytes of the last delivery after the SSL Request
}

// New starts a MySQL stream dissector.
func New(ctx *dissect.Context) dissect.Stream {
	s := &stream{ctx: ctx}
	for i := range s.fr {
		s.fr[i] = frame.Reader{Max: MaxPacket, HeadMax: headerLen}
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
	if s.done || dir > dissect.ServerToClient {
		return
	}
	s.t = t
	fr := &s.fr[dir]
	if fr.Lost() {
		return
	}
	handle := s.server
	if dir == dissect.ClientToServer {
		handle = s.client
	}
	used, over, bad := fr.Feed(b, packetLength, handle)
	s.count("mysql_oversized_packet", uint64(over))
	if bad {
		s.count("mysql_bad_packet", 1)
	}
	if s.handoff {
		// The client's ClientHello may come in the same delivery as its SSL Request:
		// the engine hands what follows the request to detection (Rest).
		s.rest = len(b) - used
	}
}

// Rest implements dissect.HandoffRest: the bytes of the last delivery after the SSL
// Request, the start of the client's TLS.
func (s *stream) Rest() int { return s.rest }

// server reads the server's packets: the greeting, then the answer to the login.
func (s *stream) server(p []byte) bool {
	seq, pl := p[3], p[headerLen:]
	if !s.greeted && seq == 0 {
		if g, ok, _ := greeting(pl); ok {
			s.greeted, s.caps = true, g.caps
			s.count("mysql_greetings", 1)
			tls := observe.StartTLSNotOffered
			if g.caps&capSSL != 0 {
				tls = observe.StartTLSOffered
			}
			v := s.ctx.Service("mysql", s.t)
			v.Software = g.version
			v.StartTLS = tls
			s.ctx.Sink.AddService(v)
			return true
		}
	}
	if !s.login || len(pl) == 0 {
		return true
	}
	switch pl[0] {
	case 0x00: // OK: logged in; nothing after matters here
		s.done = true
		return false
	case 0xff: // ERR: refused
		s.login, s.clearNext = false, false
	case 0xfe: // Auth Switch Request: plugin name NUL, plugin data
		name := pl[1:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		s.clearNext = string(name) == clearPlug
	}
	return true
}

// client reads the client's packets: an SSL Request, a login, an auth switch response.
func (s *stream) client(p []byte) bool {
	pl := p[headerLen:]
	if s.clearNext {
		s.clearNext = false
		s.secret("mysql-clear-password", "auth switch response", s.user, cstring(pl))
		return true
	}
	if s.login || len(pl) < sslReqLen || !clientFixed(pl[:sslReqLen]) {
		return true
	}
	caps := binary.LittleEndian.Uint32(pl)
	if len(pl) == sslReqLen {
		if caps&capSSL != 0 {
			s.count("mysql_ssl_requests", 1)
			s.done, s.handoff = true, true
			return false
		}
		return true
	}
	s.loginPacket(caps, pl[sslReqLen:])
	return true
}

// loginPacket reads the variable part of a HandshakeResponse41: the user name, the
// authentication response (not kept unless it is a clear password), the database and
// the plugin.
func (s *stream) loginPacket(caps uint32, v []byte) {
	i := bytes.IndexByte(v, 0)
	if i < 0 {
		s.count("mysql_bad_login", 1)
		return
	}
	s.login = true
	s.user = observe.Text(v[:i], maxUser)
	v = v[i+1:]
	var auth []byte
	switch {
	case caps&capLenencAuth != 0:
		n, k := lenenc(v)
		if k == 0 || uint64(len(v)-k) < n {
			s.count("mysql_bad_login", 1)
			s.emitLogin()
			return
		}
		auth, v = v[k:k+int(n)], v[k+int(n):]
	case caps&capSecureConn != 0:
		if len(v) < 1 || len(v) < 1+int(v[0]) {
			s.count("mysql_bad_login", 1)
			s.emitLogin()
			return
		}
		auth, v = v[1:1+int(v[0])], v[1+int(v[0]):]
	default:
		auth = cstring(v)
		v = v[min(len(v), len(auth)+1):]
	}
	if caps&capConnectWithDB != 0 {
		db := cstring(v)
		v = v[min(len(v), len(db)+1):]
	}
	if caps&capPluginAuth != 0 && string(cstring(v)) == clearPlug {
		s.secret("mysql-clear-password", "handshake response", s.user, cstring(auth))
		return
	}
	s.emitLogin()
}

// emitLogin records a login made without TLS: the user name only, since the
// authentication response is a salted hash, not a secret medscan keeps.
func (s *stream) emitLogin() {
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
		Protocol: "mysql", Kind: "mysql-login", Where: "handshake response", User: s.user,
	})
}

// secret hides a password at once and emits it; only the preview and hash are kept.
func (s *stream) secret(kind, where, user string, pw []byte) {
	preview, hash := s.ctx.Secrets.Hide(pw)
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
		Protocol: "mysql", Kind: kind, Where: where, User: user,
		Preview: preview, Hash: hash,
	})
}

// cstring is b up to its first NUL (all of b when there is none).
func cstring(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// lenenc reads a length-encoded integer, returning it and how many bytes it took (0
// when b is too short or the prefix is not a length).
func lenenc(b []byte) (uint64, int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch c := b[0]; {
	case c < 0xfb:
		return uint64(c), 1
	case c == 0xfc && len(b) >= 3:
		return uint64(binary.LittleEndian.Uint16(b[1:])), 3
	case c == 0xfd && len(b) >= 4:
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4
	case c == 0xfe && len(b) >= 9:
		return binary.LittleEndian.Uint64(b[1:]), 9
	}
	return 0, 0
}

// Gap implements dissect.Stream: the direction's framing is lost.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.done {
		return
	}
	s.count("mysql_gap", 1)
	s.fr[dir].Skip(n)
	if dir == dissect.ClientToServer {
		s.clearNext = false
	}
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.done }

// Handoff implements dissect.Handoff: true once the client sent its SSL Request.
func (s *stream) Handoff() bool { return s.handoff }

// End implements dissect.Stream: what is buffered (a login being read) is wiped.
func (s *stream) End(time.Time) {
	for i := range s.fr {
		s.fr[i].Reset()
	}
	s.user = ""
}
