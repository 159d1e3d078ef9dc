package sockswire

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/observe"
)

var (
	t0   = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	flow = observe.Flow{Client: netip.MustParseAddrPort("10.20.1.11:40001"), Server: netip.MustParseAddrPort("10.0.0.5:1080")}
)

const password = "S0cksPassw0rd!"

// msg is one delivery of a test conversation.
type msg struct {
	fromServer bool
	b          string
}

func c(b string) msg { return msg{false, b} }
func s(b string) msg { return msg{true, b} }

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want dissect.Verdict
	}{
		{"empty", "", dissect.NeedMore},
		{"socks4 connect", "\x04\x01\x01\xbb\x0a\x00\x00\x09pump\x00", dissect.Yes},
		{"socks4 empty user", "\x04\x01\x01\xbb\x0a\x00\x00\x09\x00", dissect.Yes},
		{"socks4a", "\x04\x01\x01\xbb\x00\x00\x00\x01\x00pump.example\x00", dissect.Yes},
		{"socks4a host not ended", "\x04\x01\x01\xbb\x00\x00\x00\x01\x00pump.exa", dissect.NeedMore},
		{"socks4 short", "\x04\x01\x01", dissect.NeedMore},
		{"socks4 bind", "\x04\x02\x01\xbb\x0a\x00\x00\x09\x00", dissect.No},
		{"socks4 bad command", "\x04\x07", dissect.No},
		{"socks4 port zero", "\x04\x01\x00\x00\x0a\x00\x00\x09\x00", dissect.No},
		{"socks4 control byte in user", "\x04\x01\x01\xbb\x0a\x00\x00\x09a\x01b\x00", dissect.No},
		{"socks4 user too long", "\x04\x01\x01\xbb\x0a\x00\x00\x09" + strings.Repeat("u", 300), dissect.No},
		{"socks4 bytes after request", "\x04\x01\x01\xbb\x0a\x00\x00\x09\x00\x16\x03\x01", dissect.No},
		{"socks5 no auth", "\x05\x01\x00", dissect.Yes},
		{"socks5 two methods", "\x05\x02\x00\x02", dissect.Yes},
		{"socks5 short", "\x05\x02\x00", dissect.NeedMore},
		{"socks5 one byte", "\x05", dissect.NeedMore},
		{"socks5 zero methods", "\x05\x00", dissect.No},
		{"socks5 too many methods", "\x05\x0a\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", dissect.No},
		{"socks5 duplicate method", "\x05\x02\x00\x00", dissect.No},
		{"socks5 method ff", "\x05\x01\xff", dissect.No},
		{"socks5 greeting and request", "\x05\x01\x00\x05\x01\x00\x01\x0a\x00\x00\x09\x01\xbb", dissect.Yes},
		{"socks5 greeting and auth", "\x05\x01\x02\x01\x04user\x04pass", dissect.Yes},
		{"socks5 greeting and garbage", "\x05\x01\x00GET / HTTP/1.1\r\n", dissect.No},
		{"tls", "\x16\x03\x01\x02\x00\x01", dissect.No},
		{"http", "GET / HTTP/1.1\r\n", dissect.No},
		{"socks5 method selection from a server", "\x05\x00", dissect.No},
		{"socks4 reply from a server", "\x00\x5a\x00\x00\x00\x00\x00\x00", dissect.No},
	}
	for _, tc := range tests {
		if got := Detect([]byte(tc.in)).Verdict; got != tc.want {
			t.Errorf("%s: Detect(%q) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

// target is what TunnelTarget said, as text.
func target(d dissect.Stream) string {
	addr, name, port, ok := d.(dissect.Tunnel).TunnelTarget()
	if !ok {
		return ""
	}
	if name != "" {
		return name + " " + itoa(port)
	}
	return netip.AddrPortFrom(addr, port).String()
}

func itoa(p uint16) string { return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[8:] }

var socksCases = []struct {
	name     string
	msgs     []msg
	handoff  bool
	target   string
	user     string // the credential's user, "" when none
	rest     int    // bytes after the grant handed to the tunnel (dissect.HandoffRest)
	counters map[string]uint64
}{
	{
		name:    "socks4 to an address",
		msgs:    []msg{c("\x04\x01\x01\xbb\x0a\x14\x00\x09pump-0011\x00"), s("\x00\x5a\x00\x00\x00\x00\x00\x00")},
		handoff: true, target: "10.20.0.9:443",
		counters: map[string]uint64{"socks_tunnels": 1},
	},
	{
		name:    "socks4a to a name",
		msgs:    []msg{c("\x04\x01\x20\xfb\x00\x00\x00\x01\x00PACS.Example\x00"), s("\x00\x5a\x00\x00\x00\x00\x00\x00")},
		handoff: true, target: "pacs.example 8443",
		counters: map[string]uint64{"socks_tunnels": 1},
	},
	{
		name:     "socks4 rejected",
		msgs:     []msg{c("\x04\x01\x01\xbb\x0a\x14\x00\x09\x00"), s("\x00\x5b\x00\x00\x00\x00\x00\x00")},
		counters: map[string]uint64{"socks_refused": 1, "socks_tunnels": 0},
	},
	{
		name: "socks5 without authentication, IPv4",
		msgs: []msg{c("\x05\x01\x00"), s("\x05\x00"), c("\x05\x01\x00\x01\x0a\x14\x00\x09\x01\xbb"),
			s("\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40")},
		handoff: true, target: "10.20.0.9:443",
		counters: map[string]uint64{"socks_tunnels": 1, "socks_bytes_dropped": 0},
	},
	{
		name: "socks5 domain with a password, byte by byte",
		msgs: split(c("\x05\x02\x00\x02"), s("\x05\x02"), c("\x01\x05nurse\x0e"+password), s("\x01\x00"),
			c("\x05\x01\x00\x03\x0cpump.example\x01\xbb"), s("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")),
		handoff: true, target: "pump.example 443", user: "nurse",
		counters: map[string]uint64{"socks_tunnels": 1},
	},
	{
		name: "socks5 IPv6, client did not wait",
		msgs: []msg{c("\x05\x01\x00\x05\x01\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07\x01\xbb"),
			s("\x05\x00\x05\x00\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x9c\x40")},
		handoff: true, target: "[2001:db8::7]:443",
		counters: map[string]uint64{"socks_tunnels": 1},
	},
	{
		name: "socks5: bytes before the grant are counted, bytes after it go to the tunnel",
		msgs: []msg{c("\x05\x01\x00"), s("\x05\x00"), c("\x05\x01\x00\x01\x0a\x14\x00\x09\x01\xbb"), c("early"),
			s("\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40late")},
		handoff: true, target: "10.20.0.9:443", rest: 4,
		counters: map[string]uint64{"socks_tunnels": 1, "socks_bytes_dropped": 5},
	},
	{
		name:     "socks5 password refused",
		msgs:     []msg{c("\x05\x01\x02"), s("\x05\x02"), c("\x01\x02ab\x0e" + password), s("\x01\x01")},
		user:     "ab",
		counters: map[string]uint64{"socks_refused": 1},
	},
	{
		name:     "socks5 no acceptable method",
		msgs:     []msg{c("\x05\x01\x00"), s("\x05\xff")},
		counters: map[string]uint64{"socks_refused": 1},
	},
	{
		name:     "socks5 GSSAPI is not followed",
		msgs:     []msg{c("\x05\x01\x01"), s("\x05\x01")},
		counters: map[string]uint64{"socks_no_tunnel": 1},
	},
	{
		name: "socks5 UDP associate is no tunnel",
		msgs: []msg{c("\x05\x01\x00"), s("\x05\x00"), c("\x05\x03\x00\x01\x00\x00\x00\x00\x00\x01"),
			s("\x05\x00\x00\x01\x0a\x00\x00\x05\x9c\x40")},
		counters: map[string]uint64{"socks_other_command": 1},
	},
	{
		name: "socks5 connection refused by the target",
		msgs: []msg{c("\x05\x01\x00"), s("\x05\x00"), c("\x05\x01\x00\x01\x0a\x14\x00\x09\x01\xbb"),
			s("\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")},
		counters: map[string]uint64{"socks_refused": 1},
	},
	{
		name: "socks5 domain with a space has no target",
		msgs: []msg{c("\x05\x01\x00"), s("\x05\x00"), c("\x05\x01\x00\x03\x05a b.c\x01\xbb"),
			s("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")},
		handoff:  true,
		counters: map[string]uint64{"socks_tunnels": 1, "socks_bad_target": 1},
	},
	{
		name:     "socks5 garbage request",
		msgs:     []msg{c("\x05\x01\x00"), s("\x05\x00"), c("\x05\x09\x00\x01")},
		counters: map[string]uint64{"socks_bad_message": 1},
	},
	{
		name:     "socks5 bad selection version",
		msgs:     []msg{c("\x05\x01\x00"), s("\x04\x00")},
		counters: map[string]uint64{"socks_bad_message": 1},
	},
}

// split delivers every message byte by byte.
func split(msgs ...msg) []msg {
	var out []msg
	for _, m := range msgs {
		for i := range len(m.b) {
			out = append(out, msg{m.fromServer, m.b[i : i+1]})
		}
	}
	return out
}

func run(msgs []msg) (*corpustest.Harness, dissect.Stream) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	for _, m := range msgs {
		if d.Done() {
			break
		}
		dir := dissect.ClientToServer
		if m.fromServer {
			dir = dissect.ServerToClient
		}
		d.Data(dir, []byte(m.b), t0)
	}
	return h, d
}

func TestStream(t *testing.T) {
	for _, tc := range socksCases {
		t.Run(tc.name, func(t *testing.T) {
			h, d := run(tc.msgs)
			if !d.Done() {
				t.Fatalf("not done after the proxy's answer")
			}
			if got := d.(dissect.Handoff).Handoff(); got != tc.handoff {
				t.Errorf("Handoff = %v, want %v", got, tc.handoff)
			}
			if got := target(d); got != tc.target {
				t.Errorf("target = %q, want %q", got, tc.target)
			}
			if got := d.(dissect.HandoffRest).Rest(); got != tc.rest {
				t.Errorf("Rest = %d, want %d", got, tc.rest)
			}
			d.End(t0)
			switch {
			case tc.user == "" && len(h.Sink.Credentials) != 0:
				t.Errorf("credentials = %+v, want none", h.Sink.Credentials)
			case tc.user != "":
				if len(h.Sink.Credentials) != 1 {
					t.Fatalf("credentials = %+v, want one", h.Sink.Credentials)
				}
				cr := h.Sink.Credentials[0]
				if !strings.HasPrefix(cr.User, tc.user) || cr.Kind != "socks5-password" || cr.Protocol != "socks" ||
					cr.Hash == "" || cr.Preview == "" || cr.Flow != flow {
					t.Errorf("credential = %+v", cr)
				}
			}
			h.Sink.NoSecret(t, password)
			for k, v := range tc.counters {
				if h.Counters[k] != v {
					t.Errorf("counter %s = %d, want %d (all: %v)", k, h.Counters[k], v, h.Counters)
				}
			}
			if h.Sink.Other != 0 || len(h.Sink.HTTP) != 0 {
				t.Errorf("unexpected observations: %s", h.Sink.Dump())
			}
		})
	}
}

// TestPasswordWiped holds the stream to its promise that no copy of a password outlives
// the message it came in.
func TestPasswordWiped(t *testing.T) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx).(*stream)
	d.Data(dissect.ClientToServer, []byte("\x05\x01\x02"), t0)
	d.Data(dissect.ServerToClient, []byte("\x05\x02"), t0)
	d.Data(dissect.ClientToServer, []byte("\x01\x04user\x0e"+password+"\x05\x01"), t0)
	if buf := d.buf[dissect.ClientToServer]; bytes.Contains(buf[:cap(buf)], []byte(password)) {
		t.Errorf("password left in the buffer: %q", buf[:cap(buf)])
	}
	d.Gap(dissect.ClientToServer, 10)
	if !d.Done() || d.Handoff() || h.Counters["socks_gap"] != 1 || d.buf[0] != nil {
		t.Errorf("after a gap: done=%v handoff=%v counters=%v", d.Done(), d.Handoff(), h.Counters)
	}
}

func TestSocks4UserTooLong(t *testing.T) {
	h, d := run([]msg{c("\x04\x01\x01\xbb\x0a\x00\x00\x09"), c(strings.Repeat("u", 300))})
	if !d.Done() || d.(dissect.Handoff).Handoff() || h.Counters["socks_bad_message"] != 1 {
		t.Errorf("done=%v counters=%v", d.Done(), h.Counters)
	}
}
