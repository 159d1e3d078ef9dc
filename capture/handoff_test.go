package capture

import (
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// upgradeStream is a plain-text protocol that upgrades in place: it becomes done when a
// chunk from the server ends in "UPGRADE\n", and then hands off if handoff is set.
//
// It also upgrades inside a client chunk, as MySQL's SSL Request does, at the end of a
// line "SSLREQ", and then reports the bytes after it (dissect.HandoffRest).
type upgradeStream struct {
	fakeStream
	handoff  bool
	upgraded bool
	asked    int // Handoff calls
	rest     int
}

func (s *upgradeStream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if s.upgraded {
		panic("Data after Done")
	}
	s.fakeStream.Data(dir, b, t)
	if dir == dissect.ServerToClient && strings.HasSuffix(string(b), "UPGRADE\n") {
		s.upgraded = true
	}
	if i := strings.Index(string(b), "SSLREQ\n"); dir == dissect.ClientToServer && i >= 0 {
		s.upgraded, s.rest = true, len(b)-i-len("SSLREQ\n")
	}
}

func (s *upgradeStream) Rest() int { return s.rest }

func (s *upgradeStream) Done() bool { return s.upgraded }

func (s *upgradeStream) Handoff() bool {
	s.asked++
	return s.handoff
}

// upgrader is a fake dissector pair: "plain" claims bytes starting with "HELLO" (from the
// server when helloFromServer) and upgrades; "tls" claims bytes starting with 0x16 and
// says they came from the server, so that a flow whose roles were forgotten would flip.
type upgrader struct {
	plain   []*upgradeStream
	tls     recorder
	handoff bool
}

func (u *upgrader) dissectors(helloFromServer bool) []dissect.Dissector {
	return []dissect.Dissector{
		{
			Name:   "plain",
			Detect: prefixDetect("HELLO", helloFromServer),
			New: func(ctx *dissect.Context) dissect.Stream {
				s := &upgradeStream{fakeStream: fakeStream{ctx: ctx}, handoff: u.handoff}
				u.plain = append(u.plain, s)
				return s
			},
		},
		u.tls.dissector("tls", func(b []byte) dissect.Match {
			if b[0] == 0x16 {
				return dissect.Match{Verdict: dissect.Yes, FromServer: true}
			}
			return dissect.Match{}
		}),
	}
}

// checkEnded fails unless every stream, plain and TLS, was ended exactly once and the
// engine holds nothing after Finish.
func (u *upgrader) checkEnded(t *testing.T, e *Engine) {
	t.Helper()
	checkInvariants(t, e, &u.tls)
	for i, s := range u.plain {
		if s.ends != 1 {
			t.Errorf("plain stream %d ended %d times", i, s.ends)
		}
	}
}

func TestHandoff(t *testing.T) {
	const clientHello, serverHello = "\x16\x03\x01CH", "\x16\x03\x03SH"
	long := "HELLO" + strings.Repeat("x", DetectLimit+500)
	tests := []struct {
		name       string
		handoff    bool
		fromServer bool // the plain protocol's greeting comes from the server
		client     string
		server     string
		segs       []seg
		wantPlain  []string
		wantTLS    []string
		counters   map[string]uint64
		service    string
	}{
		{
			name: "upgrade: TLS gets exactly the later bytes", handoff: true, client: cli, server: srv,
			segs: withHandshake(c2s(101, "HELLO there\n"), s2c(901, "250 ok\n"), c2s(113, "STARTTLS\n"), s2c(908, "UPGRADE\n"),
				c2s(122, clientHello), s2c(916, serverHello), c2s(127, "more"),
				seg{cli, srv, 131, 0, tcpFIN | tcpACK, ""}, seg{srv, cli, 921, 0, tcpFIN | tcpACK, ""}),
			wantPlain: []string{"C:HELLO there\n S:250 ok\n C:STARTTLS\n S:UPGRADE\n end"},
			wantTLS:   []string{"C:" + clientHello + " S:" + serverHello + " C:more end"},
			counters: map[string]uint64{"starttls_handoffs": 1, "starttls_handoffs_over_cap": 0, "streams": 2,
				"streams_plain": 1, "streams_tls": 1, "streams_done_early": 1, "roles_corrected": 0,
				"streams_unidentified": 0, "flows_closed": 1},
			service: "plain",
		},
		{
			// The client's ClientHello arrives in two segments, the second first: it is held
			// while the plain stream runs and reaches the TLS stream in order.
			name: "upgrade with held segments", handoff: true, client: cli, server: srv,
			segs: withHandshake(c2s(101, "HELLO\n"), c2s(107, "STARTTLS\n"), c2s(121, "tail"), s2c(901, "UPGRADE\n"),
				c2s(116, clientHello)),
			wantPlain: []string{"C:HELLO\nSTARTTLS\n S:UPGRADE\n end"},
			wantTLS:   []string{"C:" + clientHello + "tail end"},
			counters:  map[string]uint64{"starttls_handoffs": 1, "tcp_out_of_order_segments": 1, "tcp_gaps": 0},
			service:   "plain",
		},
		{
			// No handshake, and the server listens on the higher port: the port guess is
			// wrong, the plain greeting corrects it, and the TLS detection (which claims
			// "from the server") must not undo that.
			name: "roles kept", handoff: true, fromServer: true, client: "10.0.0.1:1000", server: "10.0.0.2:8443",
			segs: []seg{
				{"10.0.0.2:8443", "10.0.0.1:1000", 50, 0, psh, "HELLO\n"},
				{"10.0.0.1:1000", "10.0.0.2:8443", 70, 0, psh, "STARTTLS\n"},
				{"10.0.0.2:8443", "10.0.0.1:1000", 56, 0, psh, "UPGRADE\n"},
				{"10.0.0.1:1000", "10.0.0.2:8443", 79, 0, psh, clientHello},
				{"10.0.0.2:8443", "10.0.0.1:1000", 64, 0, psh, serverHello},
			},
			wantPlain: []string{"S:HELLO\n C:STARTTLS\n S:UPGRADE\n end"},
			wantTLS:   []string{"C:" + clientHello + " S:" + serverHello + " end"},
			counters:  map[string]uint64{"starttls_handoffs": 1, "roles_corrected": 1},
			service:   "plain",
		},
		{
			name: "no handoff: a tombstone as before", handoff: false, client: cli, server: srv,
			segs: withHandshake(c2s(101, "HELLO\n"), s2c(901, "UPGRADE\n"), c2s(107, clientHello), s2c(909, serverHello),
				c2s(120, "late"), c2s(112, "held?")),
			wantPlain: []string{"C:HELLO\n S:UPGRADE\n end"},
			counters: map[string]uint64{"starttls_handoffs": 0, "streams": 1, "streams_done_early": 1,
				"tcp_out_of_order_segments": 0},
			service: "plain",
		},
		{
			// The plain stream finishes while the detection log is replayed to it: the
			// server's go-ahead was logged before the client's greeting made the claim.
			// The rest of the log goes to the new detection, which the plain dissector
			// claims again.
			name: "handoff during the replay of the detection log", handoff: true, client: cli, server: srv,
			segs:      withHandshake(s2c(901, "UPGRADE\n"), c2s(101, "HEL"), c2s(104, "LO\n"), c2s(107, clientHello)),
			wantPlain: []string{"S:UPGRADE\n end", "C:HELLO\n" + clientHello + " end"},
			counters:  map[string]uint64{"starttls_handoffs": 1, "streams_plain": 2, "streams_tls": 0},
			service:   "plain",
		},
		{
			// As above, with the claiming segment longer than the detection log: the part
			// past the log follows the logged part to the new detection's stream, no gap.
			name: "handoff during the replay, claiming segment past the log", handoff: true, client: cli, server: srv,
			segs:      withHandshake(s2c(901, "UPGRADE\n"), c2s(101, long)),
			wantPlain: []string{"S:UPGRADE\n end", "C:" + long + " end"},
			counters:  map[string]uint64{"starttls_handoffs": 1, "tcp_gaps": 0, "bytes_skipped_detection": 0},
			service:   "plain",
		},
		{
			// A hostile peer upgrading again and again: the third upgrade ends the flow.
			name: "handoffs are capped", handoff: true, client: cli, server: srv,
			segs: withHandshake(c2s(101, "HELLO\n"), s2c(901, "UPGRADE\n"),
				c2s(107, "HELLO\n"), s2c(909, "UPGRADE\n"),
				c2s(113, "HELLO\n"), s2c(917, "UPGRADE\n"),
				c2s(119, clientHello), s2c(925, serverHello)),
			wantPlain: []string{"C:HELLO\n S:UPGRADE\n end", "C:HELLO\n S:UPGRADE\n end", "C:HELLO\n S:UPGRADE\n end"},
			counters: map[string]uint64{"starttls_handoffs": 2, "starttls_handoffs_over_cap": 1, "streams_plain": 3,
				"streams_tls": 0, "streams_done_early": 3},
			service: "plain",
		},
		{
			// The client upgrades without waiting for an answer and its ClientHello shares
			// the segment: the bytes after the upgrade point go to detection.
			name: "upgrade inside a chunk: the rest goes to detection", handoff: true, client: cli, server: srv,
			segs:      withHandshake(c2s(101, "HELLO\n"), c2s(107, "SSLREQ\n"+clientHello), s2c(901, serverHello)),
			wantPlain: []string{"C:HELLO\nSSLREQ\n" + clientHello + " end"},
			wantTLS:   []string{"C:" + clientHello + " S:" + serverHello + " end"},
			counters:  map[string]uint64{"starttls_handoffs": 1, "streams_tls": 1},
			service:   "plain",
		},
		{
			// As above, with the upgrade in the detection log's replay.
			name: "upgrade inside a logged chunk", handoff: true, client: cli, server: srv,
			segs:      withHandshake(c2s(101, "HELLO\nSSLREQ\n"+clientHello), s2c(901, serverHello)),
			wantPlain: []string{"C:HELLO\nSSLREQ\n" + clientHello + " end"},
			wantTLS:   []string{"C:" + clientHello + " S:" + serverHello + " end"},
			counters:  map[string]uint64{"starttls_handoffs": 1, "streams_tls": 1},
			service:   "plain",
		},
		{
			// An upgrade after which the capture holds nothing is not an unidentified stream.
			name: "upgrade then nothing", handoff: true, client: cli, server: srv,
			segs:      withHandshake(c2s(101, "HELLO\n"), s2c(901, "UPGRADE\n")),
			wantPlain: []string{"C:HELLO\n S:UPGRADE\n end"},
			counters:  map[string]uint64{"starttls_handoffs": 1, "streams_unidentified": 0},
			service:   "plain",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := &upgrader{handoff: tc.handoff}
			e, set := run(t, Config{Dissectors: u.dissectors(tc.fromServer)}, tc.segs)
			u.checkEnded(t, e)
			if len(u.plain) != len(tc.wantPlain) {
				t.Fatalf("plain streams = %d, want %d", len(u.plain), len(tc.wantPlain))
			}
			for i, s := range u.plain {
				if got := s.log(); got != tc.wantPlain[i] {
					t.Errorf("plain stream %d\n got %q\nwant %q", i, got, tc.wantPlain[i])
				}
				if want := map[bool]int{true: 1}[s.upgraded]; s.asked != want {
					t.Errorf("plain stream %d: Handoff asked %d times, want %d", i, s.asked, want)
				}
				if got := s.ctx.Flow.Server.String(); got != tc.server {
					t.Errorf("plain stream %d: server %s, want %s", i, got, tc.server)
				}
			}
			if len(u.tls.streams) != len(tc.wantTLS) {
				t.Fatalf("tls streams = %d, want %d", len(u.tls.streams), len(tc.wantTLS))
			}
			for i, s := range u.tls.streams {
				if got := s.log(); got != tc.wantTLS[i] {
					t.Errorf("tls stream %d\n got %q\nwant %q", i, got, tc.wantTLS[i])
				}
				if got := s.ctx.Flow.Server.String(); got != tc.server {
					t.Errorf("tls stream %d: server %s, want %s", i, got, tc.server)
				}
				if got := s.ctx.Flow.Client.String(); got != tc.client {
					t.Errorf("tls stream %d: client %s, want %s", i, got, tc.client)
				}
			}
			for name, want := range tc.counters {
				if got := counterValue(set, name); got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			if len(set.Services) != 1 {
				t.Errorf("services = %v, want one", set.Services)
			}
			if svc := set.Services["tcp/"+tc.server+"/passive"]; svc == nil || svc.Protocol != tc.service {
				t.Errorf("service = %+v, want protocol %q", svc, tc.service)
			}
		})
	}
}

// panickyHandoff is done at once and panics when asked whether it hands off.
type panickyHandoff struct{ fakeStream }

func (p *panickyHandoff) Done() bool    { return true }
func (p *panickyHandoff) Handoff() bool { panic("boom") }

func TestGuardedHandoff(t *testing.T) {
	tests := []struct {
		name   string
		inner  dissect.Stream
		broken bool
		want   bool
		panics uint64
	}{
		{"forwards true", &upgradeStream{handoff: true}, false, true, 0},
		{"forwards false", &upgradeStream{handoff: false}, false, false, 0},
		{"a stream without Handoff", &fakeStream{}, false, false, 0},
		{"a broken stream hands nothing off", &upgradeStream{handoff: true}, true, false, 0},
		{"a panic is recovered", &panickyHandoff{}, false, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			g := &guarded{st: tc.inner, name: "toy", set: set, broken: tc.broken}
			if got := g.Handoff(); got != tc.want {
				t.Errorf("Handoff = %v, want %v", got, tc.want)
			}
			if got := counterValue(set, "dissector_panics"); got != tc.panics {
				t.Errorf("dissector_panics = %d, want %d", got, tc.panics)
			}
			if tc.panics > 0 && !g.Done() {
				t.Error("a stream that panicked in Handoff is not done")
			}
		})
	}
}

// TestHandoffPanicEndsFlow checks that a stream panicking in Handoff costs its flow only:
// it is ended once and the rest of the flow is ignored.
func TestHandoffPanicEndsFlow(t *testing.T) {
	var streams []*panickyHandoff
	var tls recorder
	ds := []dissect.Dissector{
		{Name: "plain", Detect: prefixDetect("HELLO", false), New: func(ctx *dissect.Context) dissect.Stream {
			s := &panickyHandoff{fakeStream{ctx: ctx}}
			streams = append(streams, s)
			return s
		}},
		tls.dissector("tls", nil),
	}
	e, set := run(t, Config{Dissectors: ds}, withHandshake(c2s(101, "HELLO\n"), c2s(107, "\x16\x03\x01")))
	checkInvariants(t, e, &tls)
	if len(streams) != 1 {
		t.Fatalf("plain streams = %d", len(streams))
	}
	if streams[0].ends != 0 {
		t.Errorf("End called %d times on a stream that panicked (the guard calls it no more)", streams[0].ends)
	}
	if len(tls.streams) != 0 {
		t.Errorf("tls streams = %d after a panic in Handoff", len(tls.streams))
	}
	if counterValue(set, "dissector_panics") != 1 || counterValue(set, "starttls_handoffs") != 0 {
		t.Errorf("counters %v", set.Counters)
	}
}
