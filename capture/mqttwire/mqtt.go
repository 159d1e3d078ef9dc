package mqttwire

import (
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// MaxConnect is the largest CONNECT remaining length buffered (a CONNECT holds at most a
// client ID, a will, a user name and a password, all short in practice).
const MaxConnect = 64 << 10

const (
	typeConnect = 0x10
	typeConnack = 0x20
	minConnect  = 12 // a 3.1.1 CONNECT with an empty client ID
	maxString   = 256
)

// Dissector is the MQTT dissector.
var Dissector = dissect.Dissector{Name: "mqtt", Detect: Detect, New: New}

// Detect claims a client direction that starts with a CONNECT naming MQTT or MQIsdp.
func Detect(first []byte) dissect.Match {
	need := dissect.Match{Verdict: dissect.NeedMore}
	if len(first) == 0 {
		return need
	}
	if first[0] != typeConnect {
		return dissect.Match{}
	}
	n, used, ok := varint(first[1:])
	switch {
	case !ok && used < 4 && used == len(first)-1:
		return need // varint continues past what we have
	case !ok || n < minConnect || n > MaxConnect:
		return dissect.Match{}
	}
	v := first[1+used:]
	for _, name := range []string{"\x00\x04MQTT", "\x00\x06MQIsdp"} {
		k := min(len(v), len(name))
		if string(v[:k]) == name[:k] {
			if k == len(name) {
				return dissect.Match{Verdict: dissect.Yes, FromClient: true} // CONNECT: only a client sends it
			}
			return need
		}
	}
	return dissect.Match{}
}

// varint decodes an MQTT variable byte integer (at most four bytes). used is the number of
// bytes examined; ok is false when b ends first or the encoding runs past four bytes.
func varint(b []byte) (n, used int, ok bool) {
	mult := 1
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, i, false
		}
		n += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			return n, i + 1, true
		}
		mult <<= 7
	}
	return 0, 4, false
}

// New starts an MQTT stream dissector.
func New(ctx *dissect.Context) dissect.Stream { return &stream{ctx: ctx} }

// phase of one direction.
type phase uint8

const (
	reading phase = iota // buffering the first packet
	handled              // the packet was parsed (or skipped); nothing more wanted
	dropped              // abandoned: garbage, a gap, or too large
)

type stream struct {
	ctx   *dissect.Context
	phase [2]phase
	buf   [2][]byte
	t     time.Time
}

func (s *stream) count(name string) {
	if s.ctx.Count != nil {
		s.ctx.Count(name, 1)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if dir > dissect.ServerToClient || s.phase[dir] != reading || len(b) == 0 {
		return
	}
	limit := MaxConnect + 5
	if dir == dissect.ServerToClient {
		limit = 7 // type, a (worst case four-byte) length, and the two bytes that matter
	}
	// Buffer only what the packet can need; the rest of the session is not wanted.
	room := limit - len(s.buf[dir])
	if len(b) > room {
		b = b[:room]
	}
	s.buf[dir] = append(s.buf[dir], b...)
	buf := s.buf[dir]
	if buf[0] != typeConnect && dir == dissect.ClientToServer || buf[0]&0xf0 != typeConnack && dir == dissect.ServerToClient {
		s.give(dir, "mqtt_unexpected_packet")
		return
	}
	n, used, ok := varint(buf[1:])
	if !ok {
		if used >= 4 {
			s.give(dir, "mqtt_malformed")
		}
		return
	}
	if dir == dissect.ServerToClient {
		if n < 2 {
			s.give(dir, "mqtt_malformed")
			return
		}
		if len(buf) < 1+used+2 {
			return
		}
		if buf[1+used+1] != 0 {
			s.count("mqtt_connack_refused")
		}
		s.finish(dir)
		return
	}
	if n > MaxConnect {
		s.give(dir, "mqtt_connect_too_large")
		return
	}
	if len(buf) < 1+used+n {
		return
	}
	s.t = t
	if !s.connect(buf[1+used : 1+used+n]) {
		s.count("mqtt_malformed")
	}
	s.finish(dir)
}

// give abandons a direction, counting why.
func (s *stream) give(dir dissect.Direction, why string) {
	s.count(why)
	s.phase[dir] = dropped
	clear(s.buf[dir])
	s.buf[dir] = nil
}

// finish drops a direction's buffer, wiping it: a CONNECT holds the password.
func (s *stream) finish(dir dissect.Direction) {
	s.phase[dir] = handled
	clear(s.buf[dir])
	s.buf[dir] = nil
}

// reader walks a packet, every read checked against what is left.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) bytes(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() byte {
	v := r.bytes(1)
	if v == nil {
		return 0
	}
	return v[0]
}

// str reads a two-byte length-prefixed field.
func (r *reader) str() []byte {
	l := r.bytes(2)
	if l == nil {
		return nil
	}
	return r.bytes(int(l[0])<<8 | int(l[1]))
}

// props skips an MQTT 5 property block.
func (r *reader) props() {
	if r.bad {
		return
	}
	n, used, ok := varint(r.b)
	if !ok {
		r.bad = true
		return
	}
	r.b = r.b[used:]
	r.bytes(n)
}

// connect parses a CONNECT body (after the fixed header) and emits what it says.
func (s *stream) connect(body []byte) bool {
	r := &reader{b: body}
	name := r.str()
	level := r.u8()
	flags := r.u8()
	r.bytes(2) // keep alive
	if r.bad {
		return false
	}
	var m observe.MQTTConnect
	switch {
	case string(name) == "MQTT" && (level == 4 || level == 5):
		m.ProtocolName = "MQTT"
	case string(name) == "MQIsdp" && level == 3:
		m.ProtocolName = "MQIsdp"
	default:
		return false
	}
	m.ProtocolLevel = level
	if level == 5 {
		r.props()
	}
	clientID := r.str()
	if flags&0x04 != 0 { // will flag
		if level == 5 {
			r.props()
		}
		r.str() // will topic
		r.str() // will payload
	}
	var user, pass []byte
	if flags&0x80 != 0 {
		user = r.str()
		m.HasUsername = true
	}
	if flags&0x40 != 0 {
		pass = r.str()
		m.HasPassword = true
	}
	if r.bad {
		return false
	}
	m.Flow, m.FirstSeen = s.ctx.Flow, s.t
	m.ClientID = text(clientID)
	m.Username = text(user)
	s.ctx.Sink.AddMQTT(m)
	if m.HasPassword {
		preview, hash := s.ctx.Secrets.Hide(pass)
		s.ctx.Sink.AddCredential(observe.Credential{
			Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1,
			Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT", User: m.Username,
			Preview: preview, Hash: hash,
		})
	}
	return true
}

// text copies at most maxString bytes of an identifier, replacing control bytes so that a
// hostile client ID cannot corrupt a report.
func text(b []byte) string {
	return observe.Text(b, maxString)
}

// Gap implements dissect.Stream.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.phase[dir] != reading {
		return
	}
	s.give(dir, "mqtt_gap")
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.phase[0] != reading && s.phase[1] != reading }

// End implements dissect.Stream.
func (s *stream) End(time.Time) {
	if s.phase[0] == reading && len(s.buf[0]) > 0 {
		s.count("mqtt_truncated")
	}
	clear(s.buf[0])
	s.buf = [2][]byte{}
}
