package capture

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

const (
	cli = "10.0.0.1:40000"
	srv = "10.0.0.2:443"
	psh = tcpACK | 0x08
)

func c2s(seq uint32, p string) seg { return seg{cli, srv, seq, 0, psh, p} }
func s2c(seq uint32, p string) seg { return seg{srv, cli, seq, 0, psh, p} }

var handshake = []seg{
	{cli, srv, 100, 0, tcpSYN, ""},
	{srv, cli, 900, 101, tcpSYN | tcpACK, ""},
	{cli, srv, 101, 901, tcpACK, ""},
}

func withHandshake(s ...seg) []seg { return append(append([]seg{}, handshake...), s...) }

func TestReassembly(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		segs     []seg
		want     string
		server   string
		counters map[string]uint64
	}{
		{name: "in order, both directions", segs: withHandshake(c2s(101, "abc"), s2c(901, "XYZ"), c2s(104, "def")),
			want: "C:abc S:XYZ C:def end", counters: map[string]uint64{"flows": 1, "streams": 1, "streams_x": 1}},
		{name: "retransmission", segs: withHandshake(c2s(101, "abc"), c2s(101, "abc"), c2s(104, "def")),
			want: "C:abcdef end", counters: map[string]uint64{"tcp_retransmitted_segments": 1}},
		{name: "out of order", segs: withHandshake(c2s(104, "def"), c2s(107, "ghi"), c2s(101, "abc")),
			want: "C:abcdefghi end", counters: map[string]uint64{"tcp_out_of_order_segments": 2, "tcp_gap_bytes": 0}},
		{name: "overlap trimmed", segs: withHandshake(c2s(101, "abcd"), c2s(103, "cdef")),
			want: "C:abcdef end", counters: map[string]uint64{"tcp_overlapping_segments": 1}},
		{name: "overlapping held segments", segs: withHandshake(c2s(107, "ghi"), c2s(103, "cdefgh"), c2s(101, "ab")),
			want: "C:abcdefghi end", counters: map[string]uint64{"tcp_out_of_order_segments": 2}},
		{name: "duplicate held segment", segs: withHandshake(c2s(104, "def"), c2s(104, "def"), c2s(101, "abc")),
			want: "C:abcdef end", counters: map[string]uint64{"tcp_retransmitted_segments": 1}},
		{name: "mid-stream start", segs: []seg{c2s(5000, "abc"), s2c(7000, "OK"), c2s(5003, "def")},
			want: "C:abc S:OK C:def end", counters: map[string]uint64{"flows_midstream": 1}},
		{name: "one direction only, server side", segs: []seg{s2c(7000, "HTTP/1.1 200 OK\r\n"), s2c(7017, "body")},
			want: "S:HTTP/1.1 200 OK\r\nbody end", server: srv},
		{name: "one direction only, out of order", segs: []seg{s2c(7000, "ab"), s2c(7004, "ef"), s2c(7002, "cd")},
			want: "S:abcdef end", server: srv},
		{name: "gap at end of flow", segs: withHandshake(c2s(101, "abc"), c2s(107, "ghi")),
			want: "C:abc gapC:3 C:ghi end", counters: map[string]uint64{"tcp_gaps": 1, "tcp_gap_bytes": 3, "bytes_dropped_buffer_cap": 0}},
		{name: "gap before FIN", segs: withHandshake(c2s(101, "abc"), seg{cli, srv, 107, 0, tcpFIN | tcpACK, ""}),
			want: "C:abc gapC:3 end", counters: map[string]uint64{"tcp_gap_bytes": 3}},
		{name: "stream buffer cap", cfg: Config{MaxStreamBuffer: 4},
			segs:     withHandshake(c2s(101, "abc"), c2s(107, "ghi"), c2s(110, "jkl"), c2s(104, "def")),
			want:     "C:abc gapC:3 C:ghijkl end",
			counters: map[string]uint64{"tcp_gap_bytes": 3, "bytes_dropped_buffer_cap": 3, "tcp_retransmitted_segments": 1}},
		{name: "total buffer cap", cfg: Config{MaxTotalBuffer: 4},
			segs: withHandshake(c2s(101, "abc"), c2s(110, "jkl"), c2s(107, "ghi")),
			want: "C:abc gapC:6 C:jkl end", counters: map[string]uint64{"bytes_dropped_buffer_cap": 6}},
		{name: "sequence wraparound", segs: []seg{
			{cli, srv, 0xfffffffc, 0, tcpSYN, ""}, c2s(1, "efg"), c2s(0xfffffffd, "abcd"), c2s(4, "h")},
			want: "C:abcdefgh end"},
		{name: "snap length cut", segs: withHandshake(c2s(101, "abcde"), c2s(106, "fgh")),
			want: "C:abc gapC:2 C:fgh end", counters: map[string]uint64{"truncated_packets": 1}},
		{name: "reset ends the stream", segs: withHandshake(c2s(101, "abc"), seg{srv, cli, 901, 0, tcpRST, ""}, c2s(104, "def")),
			want: "C:abc end", counters: map[string]uint64{"flows_closed": 1}},
		{name: "both FINs close", segs: conversation(cli, srv, "req", "resp"),
			want: "C:req S:resp end", counters: map[string]uint64{"flows_closed": 1, "flows_expired": 0}},
		{name: "syn-ack first sets roles", segs: []seg{{srv, cli, 900, 101, tcpSYN | tcpACK, ""}, c2s(101, "abc")},
			want: "C:abc end", server: srv},
		{name: "syn sets roles against ports", segs: []seg{{srv, cli, 900, 0, tcpSYN, ""}, s2c(901, "abc")},
			want: "C:abc end", server: cli},
		{name: "lower port guessed as server", segs: []seg{
			{"10.0.0.9:60000", "10.0.0.8:50000", 1, 0, psh, "abc"}},
			want: "C:abc end", server: "10.0.0.8:50000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tc.cfg.Dissectors = []dissect.Dissector{rec.dissector("x", nil)}
			segs := tc.segs
			if tc.name == "snap length cut" {
				segs = nil // handled below: the engine is fed a cut packet
			}
			set := observe.NewSet()
			e := NewEngine(tc.cfg, set)
			for i, s := range segs {
				e.Packet(LinkRaw, s.ip(), ms(i))
			}
			if tc.name == "snap length cut" {
				for i, s := range tc.segs {
					p := s.ip()
					if s.payload == "abcde" {
						p = p[:len(p)-2]
					}
					e.Packet(LinkRaw, p, ms(i))
				}
			}
			e.Finish()
			if len(rec.streams) != 1 {
				t.Fatalf("streams = %d, want 1", len(rec.streams))
			}
			s := rec.streams[0]
			if got := s.log(); got != tc.want {
				t.Errorf("stream\n got %q\nwant %q", got, tc.want)
			}
			if s.ends != 1 {
				t.Errorf("End called %d times", s.ends)
			}
			if tc.server != "" && s.ctx.Flow.Server.String() != tc.server {
				t.Errorf("server = %s, want %s", s.ctx.Flow.Server, tc.server)
			}
			for name, want := range tc.counters {
				if got := counterValue(set, name); got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			if e.buffered != 0 {
				t.Errorf("buffered = %d after Finish", e.buffered)
			}
		})
	}
}

func TestPortReuse(t *testing.T) {
	var rec recorder
	set := observe.NewSet()
	e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}}, set)
	segs := append(conversation(cli, srv, "one", "1"), seg{cli, srv, 777, 0, tcpSYN, ""}, c2s(778, "two"))
	for i, s := range segs {
		e.Packet(LinkRaw, s.ip(), ms(i))
	}
	e.Finish()
	if len(rec.streams) != 2 || rec.streams[0].log() != "C:one S:1 end" || rec.streams[1].log() != "C:two end" {
		for _, s := range rec.streams {
			t.Logf("stream %q", s.log())
		}
		t.Fatalf("streams = %d", len(rec.streams))
	}
	if got := counterValue(set, "flows"); got != 2 {
		t.Errorf("flows = %d", got)
	}
}

func TestDetection(t *testing.T) {
	t.Run("need more then yes, replayed in order", func(t *testing.T) {
		var rec recorder
		d := rec.dissector("hl7-mllp", prefixDetect("\x0bMSH|", false))
		_, set := run(t, Config{Dissectors: []dissect.Dissector{d}},
			withHandshake(c2s(101, "\x0bMS"), s2c(901, "early"), c2s(104, "H|^~"), c2s(108, "rest")))
		if len(rec.streams) != 1 {
			t.Fatalf("streams = %d", len(rec.streams))
		}
		if got, want := rec.streams[0].log(), "C:\x0bMS S:early C:H|^~rest end"; got != want {
			t.Errorf("got %q want %q", got, want)
		}
		svc := set.Services["tcp/"+srv+"/passive"]
		if svc == nil || svc.Protocol != "hl7-mllp" || !svc.FirstSeen.Equal(ms(0)) {
			t.Errorf("service = %+v (all %v)", svc, set.Services)
		}
	})
	t.Run("first yes in order wins", func(t *testing.T) {
		var a, b recorder
		_, set := run(t, Config{Dissectors: []dissect.Dissector{
			a.dissector("first", prefixDetect("nope", false)),
			b.dissector("second", nil),
			a.dissector("third", nil),
		}}, withHandshake(c2s(101, "hello")))
		if len(b.streams) != 1 || len(a.streams) != 0 {
			t.Errorf("streams: first/third %d, second %d", len(a.streams), len(b.streams))
		}
		if counterValue(set, "streams_second") != 1 {
			t.Errorf("counters %v", set.Counters)
		}
	})
	t.Run("all no: ignored cheaply", func(t *testing.T) {
		var rec recorder
		d := rec.dissector("x", prefixDetect("MAGIC", false))
		e, set := run(t, Config{Dissectors: []dissect.Dissector{d}},
			withHandshake(c2s(101, "abc"), s2c(901, "xyz"), c2s(104, "def"), s2c(904, "uvw"), c2s(110, "ooo")))
		if len(rec.streams) != 0 {
			t.Fatalf("streams = %d", len(rec.streams))
		}
		if rec.detectCalls != 2 {
			t.Errorf("Detect called %d times, want 2 (once per direction)", rec.detectCalls)
		}
		if got := counterValue(set, "streams_unidentified"); got != 1 {
			t.Errorf("streams_unidentified = %d", got)
		}
		if got := counterValue(set, "tcp_out_of_order_segments"); got != 0 {
			t.Errorf("ignored flow was reassembled: out of order = %d", got)
		}
		if e.buffered != 0 || len(e.flows) != 0 {
			t.Errorf("buffered %d, flows %d", e.buffered, len(e.flows))
		}
	})
	t.Run("need more past the limit gives up", func(t *testing.T) {
		var rec recorder
		d := rec.dissector("x", func([]byte) dissect.Match { return dissect.Match{Verdict: dissect.NeedMore} })
		var segs []seg
		for i := range 5 {
			segs = append(segs, c2s(101+uint32(i*1000), strings.Repeat("z", 1000)))
		}
		_, set := run(t, Config{Dissectors: []dissect.Dissector{d}}, withHandshake(segs...))
		if len(rec.streams) != 0 {
			t.Fatalf("streams = %d", len(rec.streams))
		}
		if rec.detectCalls != 3 {
			t.Errorf("Detect calls = %d, want 3 (1000, 2000, 2048 bytes)", rec.detectCalls)
		}
		if got := counterValue(set, "streams_unidentified"); got != 1 {
			t.Errorf("streams_unidentified = %d", got)
		}
	})
	t.Run("claimed after the log filled: rest is a gap", func(t *testing.T) {
		var rec recorder
		d := rec.dissector("x", prefixDetect("SRV", true))
		big := strings.Repeat("q", 3000)
		_, set := run(t, Config{Dissectors: []dissect.Dissector{d}},
			withHandshake(c2s(101, big), c2s(3101, "more"), s2c(901, "SRV hello"), c2s(3105, "tail")))
		if len(rec.streams) != 1 {
			t.Fatalf("streams = %d", len(rec.streams))
		}
		want := "C:" + big[:DetectLimit] + " S:SRV hello gapC:" + fmt.Sprint(3004-DetectLimit) + " C:tail end"
		if got := rec.streams[0].log(); got != want {
			t.Errorf("got %.80q...", got)
		}
		if got := counterValue(set, "bytes_skipped_detection"); got != 3004-DetectLimit {
			t.Errorf("bytes_skipped_detection = %d", got)
		}
	})
	t.Run("done stops reassembly", func(t *testing.T) {
		rec := recorder{doneAfter: 4}
		_, set := run(t, Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}},
			withHandshake(c2s(101, "ab"), c2s(103, "cd"), c2s(109, "later"), c2s(105, "efgh")))
		if len(rec.streams) != 1 {
			t.Fatalf("streams = %d", len(rec.streams))
		}
		if got := rec.streams[0].log(); got != "C:abcd end" {
			t.Errorf("got %q", got)
		}
		if got := counterValue(set, "tcp_out_of_order_segments"); got != 0 {
			t.Errorf("segments after Done were reassembled")
		}
		if got := counterValue(set, "streams_done_early"); got != 1 {
			t.Errorf("streams_done_early = %d", got)
		}
	})
	t.Run("no dissectors", func(t *testing.T) {
		_, set := run(t, Config{}, withHandshake(c2s(101, "abc")))
		if got := counterValue(set, "streams_unidentified"); got != 1 {
			t.Errorf("streams_unidentified = %d", got)
		}
	})
	t.Run("dissector declines", func(t *testing.T) {
		d := dissect.Dissector{Name: "x", Detect: func([]byte) dissect.Match { return dissect.Match{Verdict: dissect.Yes} },
			New: func(*dissect.Context) dissect.Stream { return nil }}
		_, set := run(t, Config{Dissectors: []dissect.Dissector{d}}, withHandshake(c2s(101, "abc")))
		if got := counterValue(set, "dissector_declined_stream"); got != 1 {
			t.Errorf("dissector_declined_stream = %d", got)
		}
	})
}

func TestRoleCorrection(t *testing.T) {
	// The server listens on 8443 and the client happens to use port 1000: the port guess
	// is wrong until the dissector recognises the server's bytes.
	client, server := "10.0.0.1:1000", "10.0.0.2:8443"
	tests := []struct {
		name       string
		segs       []seg
		fromServer bool
		wantServer string
		want       string
		corrected  uint64
	}{
		{"server bytes correct the guess",
			[]seg{{server, client, 50, 0, psh, "SRV banner"}, {client, server, 70, 0, psh, "cmd"}},
			true, server, "S:SRV banner C:cmd end", 1},
		{"without FromServer the guess stands",
			[]seg{{server, client, 50, 0, psh, "SRV banner"}, {client, server, 70, 0, psh, "cmd"}},
			false, client, "C:SRV banner S:cmd end", 0},
		{"SYN beats FromServer",
			[]seg{{server, client, 49, 0, tcpSYN, ""}, {server, client, 50, 0, psh, "SRV banner"}},
			true, client, "C:SRV banner end", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			_, set := run(t, Config{Dissectors: []dissect.Dissector{rec.dissector("x", prefixDetect("SRV", tc.fromServer))}}, tc.segs)
			if len(rec.streams) != 1 {
				t.Fatalf("streams = %d", len(rec.streams))
			}
			s := rec.streams[0]
			if s.ctx.Flow.Server.String() != tc.wantServer {
				t.Errorf("server = %s, want %s", s.ctx.Flow.Server, tc.wantServer)
			}
			if got := s.log(); got != tc.want {
				t.Errorf("got %q want %q", got, tc.want)
			}
			if set.Services["tcp/"+tc.wantServer+"/passive"] == nil {
				t.Errorf("service not recorded at %s: %v", tc.wantServer, set.Services)
			}
			if got := counterValue(set, "roles_corrected"); got != tc.corrected {
				t.Errorf("roles_corrected = %d", got)
			}
		})
	}
}

func TestFlowTimeouts(t *testing.T) {
	var rec recorder
	set := observe.NewSet()
	e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}, FlowIdleTimeout: time.Minute}, set)
	e.Packet(LinkRaw, c2s(1, "idle flow").ip(), t0)
	e.Packet(LinkRaw, seg{"10.0.0.5:1", "10.0.0.6:2", 1, 0, psh, "closing"}.ip(), t0)
	e.Packet(LinkRaw, seg{"10.0.0.5:1", "10.0.0.6:2", 8, 0, tcpFIN | tcpACK, ""}.ip(), t0)
	e.Packet(LinkRaw, seg{"10.0.0.7:1", "10.0.0.8:2", 1, 0, psh, "busy"}.ip(), t0)
	for i := 1; i <= 90; i++ {
		e.Packet(LinkRaw, seg{"10.0.0.7:1", "10.0.0.8:2", uint32(1 + 4*i), 0, psh, "busy"}.ip(), t0.Add(time.Duration(i)*time.Second))
	}
	if len(rec.streams) != 3 {
		t.Fatalf("streams = %d", len(rec.streams))
	}
	if rec.streams[0].ends != 1 || rec.streams[1].ends != 1 {
		t.Errorf("idle and half-closed flows not ended by the sweep: %d %d", rec.streams[0].ends, rec.streams[1].ends)
	}
	if !rec.streams[0].events[len(rec.streams[0].events)-1].t.Equal(t0) {
		t.Errorf("End time is not the flow's last packet")
	}
	if rec.streams[2].ends != 0 || len(e.flows) != 1 {
		t.Errorf("busy flow ended early: flows %d", len(e.flows))
	}
	e.Finish()
	if rec.streams[2].ends != 1 {
		t.Errorf("Finish did not end the busy flow")
	}
	if got := counterValue(set, "flows_expired"); got != 2 {
		t.Errorf("flows_expired = %d", got)
	}
}

func TestMaxFlows(t *testing.T) {
	var rec recorder
	set := observe.NewSet()
	e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("x", nil)}, MaxFlows: 3}, set)
	for i := range 10 {
		e.Packet(LinkRaw, seg{fmt.Sprintf("10.0.0.1:%d", 2000+i), "10.0.0.2:80", 1, 0, psh, "x"}.ip(), ms(i))
	}
	if len(e.flows) != 3 {
		t.Errorf("flows = %d, want 3", len(e.flows))
	}
	e.Finish()
	if got := counterValue(set, "flows_evicted_table_full"); got != 7 {
		t.Errorf("evicted = %d", got)
	}
	for i, s := range rec.streams {
		if s.ends != 1 {
			t.Errorf("stream %d ended %d times", i, s.ends)
		}
	}
}

func TestFlowHash(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.1:1234"), netip.MustParseAddrPort("10.0.0.2:80")
	if FlowHash(a, b) != FlowHash(b, a) {
		t.Error("FlowHash is not symmetric")
	}
	c := netip.MustParseAddrPort("10.0.0.1:1235")
	if FlowHash(a, b) == FlowHash(c, b) {
		t.Error("FlowHash ignores ports")
	}
	v6 := netip.MustParseAddrPort("[fd00::1]:1234")
	if FlowHash(v6, b) != FlowHash(b, v6) {
		t.Error("FlowHash is not symmetric for IPv6")
	}
}
