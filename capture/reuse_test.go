package capture

import (
	"strings"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// TestNewSYNAfterClose: a connection that ends with a RST or FINs and is followed by a
// new SYN on the same four-tuple is two flows, whichever side reset, whatever arrives
// late from the old one.
func TestNewSYNAfterClose(t *testing.T) {
	const oldC, oldS, newC, newS = 1000, 5000, 3_000_000_000, 123_456_789
	oldConn := []seg{
		{cli, srv, oldC, 0, tcpSYN, ""},
		{srv, cli, oldS, oldC + 1, tcpSYN | tcpACK, ""},
		{cli, srv, oldC + 1, oldS + 1, tcpACK | 0x08, "one"},
		{srv, cli, oldS + 1, oldC + 4, tcpACK | 0x08, "1"},
	}
	newConn := []seg{
		{cli, srv, newC, 0, tcpSYN, ""},
		{srv, cli, newS, newC + 1, tcpSYN | tcpACK, ""},
		{cli, srv, newC + 1, newS + 1, tcpACK | 0x08, "two"},
		{srv, cli, newS + 1, newC + 4, tcpACK | 0x08, "2"},
	}
	cases := []struct {
		name    string
		middle  []seg
		late    []seg // old segments arriving after the new SYN
		synLost bool  // the capture missed the new SYN; its SYN-ACK is the first sign
	}{
		{name: "client resets", middle: []seg{{cli, srv, oldC + 4, oldS + 2, tcpRST | tcpACK, ""}}},
		{name: "server resets", middle: []seg{{srv, cli, oldS + 2, oldC + 4, tcpRST | tcpACK, ""}}},
		{name: "FINs", middle: []seg{
			{cli, srv, oldC + 4, oldS + 2, tcpFIN | tcpACK, ""},
			{srv, cli, oldS + 2, oldC + 5, tcpFIN | tcpACK, ""},
		}},
		{name: "stale reset after the new SYN", middle: []seg{{cli, srv, oldC + 4, oldS + 2, tcpRST | tcpACK, ""}},
			late: []seg{{srv, cli, oldS + 2, oldC + 4, tcpRST | tcpACK, ""}}},
		{name: "new SYN not captured", middle: []seg{{srv, cli, oldS + 2, oldC + 4, tcpRST | tcpACK, ""}}, synLost: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
			segs := append(append([]seg{}, oldConn...), tc.middle...)
			if !tc.synLost {
				segs = append(segs, newConn[0])
			}
			segs = append(segs, tc.late...)
			segs = append(segs, newConn[1:]...)
			for i, s := range segs {
				e.Packet(LinkRaw, s.ip(), ms(i))
			}
			e.Finish()
			var logs []string
			for _, s := range rec.streams {
				logs = append(logs, s.log())
			}
			if len(logs) != 2 || logs[0] != "C:one S:1 end" || logs[1] != "C:two S:2 end" {
				t.Fatalf("streams = %q", logs)
			}
		})
	}
}

// TestClientOnLowerPort: a capture that starts mid-stream guesses the side on the lower
// port is the server; a request line from that side proves it the client.
func TestClientOnLowerPort(t *testing.T) {
	const c, s = "10.0.0.1:1025", "10.0.0.2:8080"
	request := func(b []byte) dissect.Match {
		m := prefixDetect("GET ", false)(b)
		m.FromClient = m.Verdict == dissect.Yes
		return m
	}
	for _, tc := range []struct {
		name string
		segs []seg
	}{
		{"request first", []seg{{c, s, 10, 0, psh, "GET / HTTP/1.1\r\n\r\n"}, {s, c, 90, 0, psh, "HTTP/1.1 200 OK\r\n\r\n"}}},
		{"response first", []seg{{s, c, 90, 0, psh, "HTTP/1.1 200 OK\r\n\r\n"}, {c, s, 10, 0, psh, "GET / HTTP/1.1\r\n\r\n"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			_, set := run(t, Config{Dissectors: []dissect.Dissector{rec.dissector("http", request)}}, tc.segs)
			if len(rec.streams) != 1 {
				t.Fatalf("streams = %d", len(rec.streams))
			}
			if got := rec.streams[0].ctx.Flow; got.Client.String() != c || got.Server.String() != s {
				t.Errorf("flow = %v → %v, want %s → %s", got.Client, got.Server, c, s)
			}
			if set.Services["tcp/"+s+"/passive"] == nil {
				t.Errorf("no service on %s: %v", s, set.Services)
			}
			if got := counterValue(set, "roles_corrected"); got != 1 {
				t.Errorf("roles_corrected = %d", got)
			}
		})
	}
}

// TestResetAfterLongTombstone: a flow whose stream is done (a TLS session after its
// handshake) goes on carrying megabytes that nobody copies; its real reset at the end
// still closes it, and a new connection on the same ports, even without its SYN, is a
// new flow.
func TestResetAfterLongTombstone(t *testing.T) {
	var rec recorder
	rec.doneAfter = 4 // "one" and "1": the stream is done
	set := observe.NewSet()
	e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
	const c0, s0 = 1000, 5000
	segs := []seg{
		{cli, srv, c0, 0, tcpSYN, ""},
		{srv, cli, s0, c0 + 1, tcpSYN | tcpACK, ""},
		{cli, srv, c0 + 1, s0 + 1, psh, "one"},
		{srv, cli, s0 + 1, c0 + 4, psh, "1"},
	}
	next := uint32(s0 + 2)
	chunk := strings.Repeat("x", 1400)
	for range 1500 { // 2.1 MB, past the reset window
		segs = append(segs, seg{srv, cli, next, c0 + 4, psh, chunk})
		next += 1400
	}
	segs = append(segs,
		seg{srv, cli, next, c0 + 4, tcpRST | tcpACK, ""},
		seg{srv, cli, 777_000, 3_000_001, tcpSYN | tcpACK, ""}, // the new connection's SYN escaped
		seg{cli, srv, 3_000_001, 777_001, psh, "two"},
		seg{srv, cli, 777_001, 3_000_004, psh, "2"},
	)
	for i, s := range segs {
		e.Packet(LinkRaw, s.ip(), ms(i))
	}
	e.Finish()
	if got := counterValue(set, "tcp_resets_stale"); got != 0 {
		t.Errorf("tcp_resets_stale = %d", got)
	}
	var logs []string
	for _, s := range rec.streams {
		logs = append(logs, s.log())
	}
	if len(logs) != 2 || logs[1] != "C:two S:2 end" {
		t.Fatalf("streams = %q", logs)
	}
}
