package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/medscan/medscan/observe"
)

// fakeServer accepts connections on a loopback port and hands each to handle, keeping
// every byte each connection received so that a test can check what medscan sent.
type fakeServer struct {
	ln       net.Listener
	mu       sync.Mutex
	received [][]byte
	wg       sync.WaitGroup
}

func newFake(t *testing.T, handle func(c net.Conn, got *bytes.Buffer)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				var got bytes.Buffer
				handle(&teeConn{Conn: c, w: &got}, &got)
				f.mu.Lock()
				f.received = append(f.received, got.Bytes())
				f.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return f
}

func (f *fakeServer) port() uint16 { return uint16(f.ln.Addr().(*net.TCPAddr).Port) }

// teeConn copies what is read into w.
type teeConn struct {
	net.Conn
	w *bytes.Buffer
}

func (c *teeConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.w.Write(b[:n])
	return n, err
}

// drain reads until the peer closes.
func drain(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// readFirst reads the first bytes a client sends, up to 4 KiB.
func readFirst(c net.Conn) []byte {
	b := make([]byte, 4096)
	n, _ := c.Read(b)
	return b[:n]
}

// silentUnless answers only when the client's first bytes start with prefix, as many
// devices do: anything else is read and ignored until the client gives up.
func silentUnless(prefix []byte, answer func(c net.Conn, first []byte)) func(net.Conn, *bytes.Buffer) {
	return func(c net.Conn, _ *bytes.Buffer) {
		first := readFirst(c)
		if bytes.HasPrefix(first, prefix) {
			answer(c, first)
		}
		drain(c)
	}
}

// closeUnless closes at once on bytes that do not start with prefix, as an MQTT broker
// does on a malformed packet.
func closeUnless(prefix []byte, answer func(c net.Conn, first []byte)) func(net.Conn, *bytes.Buffer) {
	return func(c net.Conn, _ *bytes.Buffer) {
		first := readFirst(c)
		if bytes.HasPrefix(first, prefix) {
			answer(c, first)
			drain(c)
		}
	}
}

// dicomAC builds an A-ASSOCIATE-AC accepting one context, naming an implementation.
func dicomAC(t *testing.T, rq []byte) []byte {
	t.Helper()
	if len(rq) < 74 || rq[0] != 0x01 {
		t.Errorf("not an A-ASSOCIATE-RQ: % x", rq[:min(len(rq), 16)])
		return nil
	}
	if called, calling := strings.TrimSpace(string(rq[10:26])), strings.TrimSpace(string(rq[26:42])); called != dicomCalledAE || calling != dicomCallingAE {
		t.Errorf("AE titles called %q calling %q", called, calling)
	}
	if !bytes.Contains(rq, []byte(uidVerification)) || bytes.Contains(rq, []byte("1.2.840.10008.5.1.4")) {
		t.Error("the RQ must propose Verification and nothing else")
	}
	item := func(typ byte, body []byte) []byte {
		return append(binary.BigEndian.AppendUint16([]byte{typ, 0}, uint16(len(body))), body...)
	}
	body := append([]byte{0, 1, 0, 0}, rq[10:74]...)
	body = append(body, item(0x10, []byte(uidAppContext))...)
	body = append(body, item(0x21, append([]byte{1, 0, 0, 0}, item(0x40, []byte(uidImplicitLE))...))...)
	ui := item(0x51, []byte{0, 0, 0x40, 0})
	ui = append(ui, item(0x52, []byte("1.2.276.0.7230010.3.0.3.6.7\x00"))...)
	ui = append(ui, item(0x55, []byte("OFFIS_DCMTK_367"))...)
	body = append(body, item(0x50, ui)...)
	return append(binary.BigEndian.AppendUint32([]byte{0x02, 0}, uint32(len(body))), body...)
}

// detectCase is one fake service and what Run must make of it.
type detectCase struct {
	name     string
	profile  Profile
	handle   func(t *testing.T) func(net.Conn, *bytes.Buffer)
	outcome  observe.ProbeOutcome
	protocol string
	// mustNotStart lists what no connection to the fake may begin with: HL7 is
	// listen-only, and the inventory profile asks nothing beyond the TLS hello.
	mustNotStart [][]byte
	// hint, when set, is the port-hint list the fake's (random) port joins for the case,
	// as if it listened on its protocol's conventional port.
	hint *[]uint16
}

func TestServiceDetection(t *testing.T) {
	httpSrv := func(t *testing.T) func(net.Conn, *bytes.Buffer) {
		// A real net/http server, served one connection at a time.
		return func(c net.Conn, _ *bytes.Buffer) {
			srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 5 * time.Second}
			ln := &oneConnListener{c: c, done: make(chan struct{})}
			_ = srv.Serve(ln)
			<-ln.done
		}
	}
	cases := []detectCase{
		{name: "http answers the hello", profile: ProfileStandard, handle: httpSrv,
			outcome: observe.ProbeOpen, protocol: ProtoHTTP},
		{name: "http silent until head", profile: ProfileStandard,
			handle: func(t *testing.T) func(net.Conn, *bytes.Buffer) {
				return silentUnless([]byte("HEAD / HTTP/1.0\r\n"), func(c net.Conn, _ []byte) {
					_, _ = io.WriteString(c, "HTTP/1.0 200 OK\r\nServer: pump-ui\r\n\r\n")
				})
			},
			outcome: observe.ProbeOpen, protocol: ProtoHTTP, hint: &hintHTTP},
		{name: "dicom accepts verification", profile: ProfileStandard,
			handle: func(t *testing.T) func(net.Conn, *bytes.Buffer) {
				return silentUnless([]byte{0x01, 0x00}, func(c net.Conn, rq []byte) {
					_, _ = c.Write(dicomAC(t, rq))
					if rl := readFirst(c); !bytes.Equal(rl, []byte{0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0}) {
						t.Errorf("after the AC: % x, want A-RELEASE-RQ", rl)
					}
					_, _ = c.Write([]byte{0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0})
				})
			},
			outcome: observe.ProbeOpen, protocol: ProtoDICOM, hint: &hintDICOM},
		{name: "dicom aborts the hello", profile: ProfileStandard,
			handle: func(t *testing.T) func(net.Conn, *bytes.Buffer) {
				return func(c net.Conn, _ *bytes.Buffer) {
					readFirst(c)
					_, _ = c.Write([]byte{0x07, 0, 0, 0, 0, 4, 0, 0, 2, 2})
					drain(c)
				}
			},
			outcome: observe.ProbeOpen, protocol: ProtoDICOM},
		{name: "mqtt broker closes on garbage", profile: ProfileStandard,
			handle: func(t *testing.T) func(net.Conn, *bytes.Buffer) {
				return closeUnless([]byte{0x10}, func(c net.Conn, first []byte) {
					if !bytes.Contains(first, []byte("MQTT")) || !bytes.Contains(first, []byte("medscan-")) {
						t.Errorf("connect % x: want protocol MQTT and a medscan client id", first)
					}
					if first[9]&0xc0 != 0 {
						t.Error("connect carries credentials")
					}
					_, _ = c.Write([]byte{0x20, 0x02, 0x00, 0x00})
					if d := readFirst(c); !bytes.Equal(d, []byte{0xe0, 0x00}) {
						t.Errorf("after connack: % x, want DISCONNECT", d)
					}
				})
			},
			outcome: observe.ProbeOpen, protocol: ProtoMQTT, hint: &hintMQTT},
		{name: "mllp peer speaks first", profile: ProfileStandard,
			handle: func(t *testing.T) func(net.Conn, *bytes.Buffer) {
				return func(c net.Conn, _ *bytes.Buffer) {
					_, _ = c.Write([]byte("\x0bMSH|^~\\&|LIS|LAB|||20260101||ACK|9|P|2.5\rMSA|AA|9\r\x1c\x0d"))
					drain(c)
				}
			},
			outcome: observe.ProbeOpen, protocol: ProtoMLLP,
			mustNotStart: [][]byte{[]byte("HEAD "), {0x01, 0x00}, {0x10}, {0x0b}}},
		{name: "silent port without a convention is asked nothing", profile: ProfileStandard,
			handle: func(t *testing.T) func(net.Conn, *bytes.Buffer) {
				return func(c net.Conn, _ *bytes.Buffer) { drain(c) }
			},
			protocol: ProtoUnknown, mustNotStart: [][]byte{[]byte("HEAD "), {0x01, 0x00}, {0x10}}},
		{name: "silent http port", profile: ProfileStandard,
			handle: func(t *testing.T) func(net.Conn, *bytes.Buffer) {
				return func(c net.Conn, _ *bytes.Buffer) { drain(c) }
			},
			protocol: ProtoUnknown, hint: &hintHTTP, mustNotStart: [][]byte{{0x01, 0x00}, {0x10}}},
		{name: "inventory asks nothing more", profile: ProfileInventory,
			handle: func(t *testing.T) func(net.Conn, *bytes.Buffer) {
				return silentUnless([]byte("HEAD "), func(c net.Conn, _ []byte) {
					t.Error("the inventory profile sent an HTTP request")
				})
			},
			protocol: ProtoUnknown, mustNotStart: [][]byte{[]byte("HEAD "), {0x01, 0x00}, {0x10}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.handle(t))
			if tc.hint != nil {
				old := *tc.hint
				*tc.hint = append(slices.Clone(old), f.port())
				defer func() { *tc.hint = old }()
			}
			s := scopeOf(t, netip.MustParseAddr("127.0.0.1"))
			set := observe.NewSet()
			_, err := Run(context.Background(), s, Config{Profile: tc.profile, Ports: []uint16{f.port()}, Pause: -1, Rate: -1,
				Timeouts: Timeouts{Connect: time.Second, Handshake: 600 * time.Millisecond}}, set)
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Probes) != 1 {
				t.Fatalf("%d probe results, want 1", len(set.Probes))
			}
			p := set.Probes[0]
			if (tc.outcome != "" && p.Outcome != tc.outcome) || p.Protocol != tc.protocol {
				t.Errorf("outcome %s protocol %q (error %q), want %s %q", p.Outcome, p.Protocol, p.Error, tc.outcome, tc.protocol)
			}
			svc := set.Services["tcp/"+p.Server.String()+"/active"]
			if svc == nil || svc.Protocol != tc.protocol {
				t.Errorf("service %+v, want %q", svc, tc.protocol)
			}
			if _, ok := set.Hosts[p.Server.Addr()]; !ok {
				t.Error("the host that answered is not recorded")
			}
			f.ln.Close()
			f.wg.Wait()
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.received) != p.Connections {
				t.Errorf("the fake saw %d connections, the port %d", len(f.received), p.Connections)
			}
			for _, got := range f.received {
				for _, bad := range tc.mustNotStart {
					if bytes.HasPrefix(got, bad) {
						t.Errorf("a connection began % q, which must never be sent here", bad)
					}
				}
				// The association is proposed and released: no P-DATA-TF, no DIMSE message.
				if rq := dicomAssociateRQ(); bytes.HasPrefix(got, rq[:2]) && len(got) > len(rq) && !bytes.Equal(got[len(rq):], []byte{0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0}) {
					t.Errorf("after the A-ASSOCIATE-RQ, sent % x; want only A-RELEASE-RQ", got[len(rq):])
				}
			}
			if tc.protocol == ProtoDICOM && tc.name == "dicom accepts verification" {
				// The prober's own association is no clinical traffic: it is not recorded
				// as one (cleartext-dicom would blame medscan), but the software the peer
				// announced is kept with the port.
				if len(set.DICOM) != 0 {
					t.Errorf("%d DICOM associations recorded, want none", len(set.DICOM))
				}
				if p.Software != "OFFIS_DCMTK_367 1.2.276.0.7230010.3.0.3.6.7" {
					t.Errorf("software = %q", p.Software)
				}
			}
		})
	}
}

// oneConnListener serves one connection to an http.Server, then reports closed.
type oneConnListener struct {
	c    net.Conn
	once sync.Once
	done chan struct{}
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = &notifyConn{Conn: l.c, done: l.done} })
	if c == nil {
		<-l.done
		return nil, net.ErrClosed
	}
	return c, nil
}
func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }

// notifyConn tells its listener when the server closes it.
type notifyConn struct {
	net.Conn
	once sync.Once
	done chan struct{}
}

func (c *notifyConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.Conn.Close()
}

func TestClassifyReply(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"HTTP/1.1 400 Bad Request\r\n", ProtoHTTP},
		{"HTTP/2", ""},
		{"\x0bMSH|^~\\&|\r\x1c\x0d", ProtoMLLP},
		{"\x0bMSH|^~\\&|\r", ""},  // no end block: not proven
		{"xx\x0bMSH\x1c\x0d", ""}, // start block not first
		{"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x02", ProtoDICOM},
		{"\x03\x00\x00\x00\x00\x04\x00\x01\x01\x01", ProtoDICOM},
		{"\x07\x00\x00\x00\x00\x05\x00\x00\x02\x02", ""}, // wrong length
		{"\x15\x03\x01\x00\x02\x02\x28", ""},             // a TLS alert is for the enumerator
		{"SSH-2.0-OpenSSH_9.2\r\n", ""},
		{"", ""},
	}
	for _, c := range cases {
		if got := classifyReply([]byte(c.in)); got != c.want {
			t.Errorf("classifyReply(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPeerText(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3\x00":       "1.2.3",
		"OFFIS  ":         "OFFIS",
		"a\x1b[31mb":      `a\x1b[31mb`,
		"back\\slash\xff": `back\slash\xff`,
	} {
		if got := peerText([]byte(in)); got != want {
			t.Errorf("peerText(%q) = %q, want %q", in, got, want)
		}
	}
}

// pipePeer runs probe against a net.Pipe whose far end swallows everything it is sent
// and, once the probe has spoken, answers with answer and closes. The deadline bounds a
// probe that waits for more than the answer holds.
func pipePeer(answer []byte, probe func(c net.Conn)) {
	client, server := net.Pipe()
	_ = client.SetDeadline(time.Now().Add(200 * time.Millisecond))
	_ = server.SetDeadline(time.Now().Add(200 * time.Millisecond))
	spoke := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // reader: net.Pipe is unbuffered, so every write of the probe needs one
		defer wg.Done()
		buf := make([]byte, 1024)
		first := true
		for {
			if _, err := server.Read(buf); err != nil {
				break
			}
			if first {
				first = false
				close(spoke)
			}
		}
		if first {
			close(spoke)
		}
	}()
	go func() {
		defer wg.Done()
		<-spoke
		_, _ = server.Write(answer)
		server.Close()
	}()
	probe(client)
	client.Close()
	wg.Wait()
}

// FuzzServiceAnswers drives each active probe's parser with arbitrary peer answers
// through net.Pipe: none may panic or hang, a DICOM answer is only ever recognised from
// a well-formed PDU, and whatever it records is printable.
func FuzzServiceAnswers(f *testing.F) {
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\n"))
	f.Add([]byte{0x20, 0x02, 0x00, 0x00})
	f.Add([]byte{0x20, 0x03, 0x00, 0x00, 0x00})
	f.Add([]byte{0x07, 0, 0, 0, 0, 4, 0, 0, 2, 2})
	f.Add([]byte{0x02, 0, 0xff, 0xff, 0xff, 0xff})
	ac := append([]byte{0x02, 0, 0, 0, 0, 84}, make([]byte, 84)...)
	ac[7] = 1
	copy(ac[74:], []byte{0x50, 0, 0, 12, 0x52, 0, 0, 8, '1', '.', '2', 0x1b, '4', 0, 0, 0})
	f.Add(ac)
	f.Add([]byte("\x0bMSH|\x1c\x0d"))
	// A version naming a Greek letter: printable, and kept as it is.
	f.Add([]byte("\x02\x00\x00\x00\x00T01000000000000000000000000000000000000000000000000000000000000000000P0\x00\fR0\x00\b000000\u038c"))
	f.Fuzz(func(t *testing.T, answer []byte) {
		_ = classifyReply(answer)
		pipePeer(answer, func(c net.Conn) { _, _ = probeHTTP(c) })
		pipePeer(answer, func(c net.Conn) { _, _ = probeMQTT(c) })
		pipePeer(answer, func(c net.Conn) {
			a, _, err := probeDICOM(c, Timeouts{Handshake: 100 * time.Millisecond})
			if err != nil {
				return
			}
			if len(answer) < 6 || answer[0] < 2 || answer[0] > 7 {
				t.Errorf("recognised DICOM in % x", answer[:min(len(answer), 8)])
			}
			// Printable as medscan's one sanitizer defines it (observe.Clean): graphic
			// characters of any script, never a control or format character.
			for _, s := range []string{a.ImplClassUID, a.ImplVersion} {
				for _, r := range s {
					if r < 0x20 || r == 0x7f || r != ' ' && !unicode.IsGraphic(r) {
						t.Errorf("unprintable %q recorded", s)
					}
				}
			}
		})
	})
}
