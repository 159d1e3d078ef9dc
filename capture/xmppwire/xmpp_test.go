package xmppwire

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/observe"
)

var (
	flow = observe.Flow{
		Client: netip.MustParseAddrPort("10.1.1.1:50000"),
		Server: netip.MustParseAddrPort("10.2.2.2:5222"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

const secret = "Secr3t Pass!w0rd"

const (
	clientOpen = "<?xml version='1.0'?><stream:stream to='hosp.local' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	serverOpen = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' from='hosp.local' id='abc' version='1.0'>"
	features   = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
	startTLS   = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	proceed    = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	failure    = "<failure xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/></stream:stream>"
	success    = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
)

func authPlain(user, pw string) string {
	return "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pw)) + "</auth>"
}

type msg struct {
	dir  dissect.Direction
	text string
}

func C(s ...string) msg { return msg{dissect.ClientToServer, strings.Join(s, "")} }
func S(s ...string) msg { return msg{dissect.ServerToClient, strings.Join(s, "")} }

func TestSessions(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ex            []msg
		want          string
		done, handoff bool
		counters      map[string]uint64
	}{
		{name: "STARTTLS", ex: []msg{C(clientOpen), S(serverOpen, features), C(startTLS), S(proceed)}, done: true, handoff: true,
			counters: map[string]uint64{"xmpp_starttls_requests": 1, "xmpp_starttls_accepted": 1}},
		{name: "SASL PLAIN in clear", ex: []msg{C(clientOpen), S(serverOpen, features), C(authPlain("nurse7", secret)), S(success)},
			want: "xmpp-sasl-plain/SASL PLAIN/nurse7", done: true},
		{name: "STARTTLS refused", ex: []msg{C(clientOpen), S(serverOpen), C(startTLS), S(failure)},
			counters: map[string]uint64{"xmpp_starttls_refused": 1}},
		{name: "SCRAM sends no password", ex: []msg{C(clientOpen, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==</auth>")}},
		{name: "proceed in another namespace is not the upgrade", ex: []msg{C(startTLS), S("<proceed xmlns='urn:example'/>")}},
		{name: "a large message is dropped, then STARTTLS", ex: []msg{C(clientOpen, "<message><body>"+strings.Repeat("x", MaxElement+10)), C("</body></message>", startTLS), S(proceed)},
			done: true, handoff: true},
	} {
		for _, cut := range []int{0, 1, 5, 17} {
			t.Run(fmt.Sprintf("%s/cut%d", tc.name, cut), func(t *testing.T) {
				h := corpustest.NewHarness(flow)
				st := New(h.Ctx)
				for _, m := range tc.ex {
					for _, p := range split(m.text, cut) {
						if st.Done() {
							break
						}
						st.Data(m.dir, []byte(p), t0)
					}
				}
				done, handoff := st.Done(), st.(dissect.Handoff).Handoff()
				st.End(t0)
				if done != tc.done || handoff != tc.handoff {
					t.Errorf("done, handoff = %v, %v; want %v, %v", done, handoff, tc.done, tc.handoff)
				}
				var got []string
				preview, hash := observe.NewSecretHasher(corpustest.Key).Hide([]byte(secret))
				for _, c := range h.Sink.Credentials {
					got = append(got, fmt.Sprintf("%s/%s/%s", c.Kind, c.Where, c.User))
					if c.Hash != hash || c.Preview != preview || c.Protocol != "xmpp" {
						t.Errorf("credential %+v does not hide the secret", c)
					}
				}
				if g := strings.Join(got, ", "); g != tc.want {
					t.Errorf("credentials %q, want %q", g, tc.want)
				}
				for k, v := range tc.counters {
					if h.Counters[k] != v {
						t.Errorf("counter %s = %d, want %d", k, h.Counters[k], v)
					}
				}
			})
		}
	}
}

func split(s string, n int) []string {
	if n == 0 {
		return []string{s}
	}
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// svcSink records the services a stream reports, passing everything else on.
type svcSink struct {
	observe.Sink
	services []string
}

func (s *svcSink) AddService(v observe.Service) {
	s.services = append(s.services, v.Protocol+" "+v.StartTLS)
}

func TestService(t *testing.T) {
	noTLS := "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
	for _, tc := range []struct {
		ex   []msg
		want string
	}{
		{[]msg{C(clientOpen), S(serverOpen, features), C(startTLS), S(proceed)}, "xmpp offered"},
		{[]msg{C(clientOpen), S(serverOpen, noTLS)}, "xmpp not-offered"},
		{[]msg{C(startTLS), S(failure)}, "xmpp refused"},
		{[]msg{C(startTLS), S(proceed)}, "xmpp offered"},
	} {
		h := corpustest.NewHarness(flow)
		sink := &svcSink{Sink: h.Ctx.Sink}
		h.Ctx.Sink = sink
		st := New(h.Ctx)
		for _, m := range tc.ex {
			st.Data(m.dir, []byte(m.text), t0)
		}
		st.End(t0)
		if got := strings.Join(sink.services, ", "); got != tc.want {
			t.Errorf("services %q, want %q", got, tc.want)
		}
	}
}

func TestGap(t *testing.T) {
	h := corpustest.NewHarness(flow)
	st := New(h.Ctx)
	st.Data(dissect.ClientToServer, []byte(clientOpen+"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGJv"), t0)
	st.Gap(dissect.ClientToServer, 5)
	st.Data(dissect.ClientToServer, []byte("Yg==</auth>"+startTLS), t0)
	st.Data(dissect.ServerToClient, []byte(proceed), t0)
	st.End(t0)
	if len(h.Sink.Credentials) != 0 || !st.Done() || h.Counters["xmpp_gap"] != 1 {
		t.Fatalf("gap: credentials %+v, done %v, counters %v", h.Sink.Credentials, st.Done(), h.Counters)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want dissect.Match
	}{
		{clientOpen, yes},
		{serverOpen, yes},
		{"<stream:stream xmlns='jabber:server'>", yes},
		{"\xef\xbb\xbf\n <stream:stream\n", yes},
		{"<?xml version='1.0'?>", needMore},
		{"<?xm", needMore},
		{"<stream:str", needMore},
		{"<stream:stream", needMore},
		{"", needMore},
		{"<stream:streams>", no},
		{"<?xml version='1.0'?><soap:Envelope>", no},
		{"<html>", no},
		{"GET / HTTP/1.1\r\n", no},
	} {
		if got := Detect([]byte(tc.in)); got != tc.want {
			t.Errorf("Detect(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	f.Add([]byte(clientOpen+startTLS), []byte(serverOpen+features+proceed), uint16(30), uint16(0))
	f.Add([]byte(clientOpen+authPlain("a", "b")), []byte(serverOpen+success), uint16(3), uint16(0))
	f.Add([]byte("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>x</auth><auth mechanism="), []byte(failure), uint16(9), uint16(2))
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16) {
		for _, b := range [][]byte{client, server} {
			if Detect(b).Verdict == dissect.Yes && Detect(append(bytes.Clone(b), '<', 'x')).Verdict != dissect.Yes {
				t.Fatalf("claim of %q withdrawn by more bytes", b)
			}
		}
		h := corpustest.NewHarness(flow)
		st := New(h.Ctx)
		kc, ks := int(cut)%(len(client)+1), int(cut)%(len(server)+1)
		st.Data(dissect.ClientToServer, client[:kc], t0)
		st.Data(dissect.ServerToClient, server[:ks], t0)
		if gap != 0 {
			st.Gap(dissect.ClientToServer, int(gap))
		}
		st.Data(dissect.ClientToServer, client[kc:], t0)
		st.Data(dissect.ServerToClient, server[ks:], t0)
		if st.(dissect.Handoff).Handoff() && !st.Done() {
			t.Fatal("Handoff without Done")
		}
		s := st.(*stream)
		for _, b := range s.buf {
			if len(b) > MaxElement {
				t.Fatalf("held %d bytes", len(b))
			}
		}
		st.End(t0)
		for _, c := range h.Sink.Credentials {
			if len(c.User) > maxUser || c.Protocol != "xmpp" || len(c.Hash) != 32 || len(c.Preview) > 32 {
				t.Fatalf("credential %+v", c)
			}
		}
	})
}
