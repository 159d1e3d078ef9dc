package pgwire

import (
	"bytes"
	"encoding/binary"
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
		Server: netip.MustParseAddrPort("10.2.2.2:5432"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

const secret = "Secr3t Pass!w0rd"

func be32(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

func untypedMsg(code int, body string) []byte {
	b := be32(8 + len(body))
	b = append(b, be32(code)...)
	return append(b, body...)
}

func typedMsg(t byte, body []byte) []byte {
	b := append([]byte{t}, be32(4+len(body))...)
	return append(b, body...)
}

var (
	sslRequest = untypedMsg(codeSSL, "")
	gssRequest = untypedMsg(codeGSSEnc, "")
	startup    = untypedMsg(codeV3, "user\x00ris_app\x00database\x00worklist\x00application_name\x00psql\x00\x00")
	askClear   = typedMsg('R', be32(authClear))
	askMD5     = typedMsg('R', append(be32(authMD5), 1, 2, 3, 4))
	askSASL    = typedMsg('R', []byte("\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00"))
	authOk     = typedMsg('R', be32(authOK))
	version    = typedMsg('S', []byte("server_version\x0015.18 (Debian 15.18-0+deb12u1)\x00"))
	ready      = typedMsg('Z', []byte("I"))
	password   = typedMsg('p', []byte(secret+"\x00"))
	md5Pass    = typedMsg('p', []byte("md5"+strings.Repeat("0a", 16)+"\x00"))
	saslFirst  = typedMsg('p', []byte("SCRAM-SHA-256\x00\x00\x00\x00\x20n,,n=,r=abcdefghijklmnopqrstuvwx"))
)

type msg struct {
	dir dissect.Direction
	b   []byte
}

func C(b ...[]byte) msg { return msg{dissect.ClientToServer, bytes.Join(b, nil)} }
func S(b ...[]byte) msg { return msg{dissect.ServerToClient, bytes.Join(b, nil)} }

func TestSessions(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ex            []msg
		want          string // credentials as kind/where/user
		secret        bool
		done, handoff bool
		counters      map[string]uint64
	}{
		{name: "SSLRequest accepted", ex: []msg{C(sslRequest), S([]byte("S"))}, done: true, handoff: true,
			counters: map[string]uint64{"postgresql_ssl_requests": 1, "postgresql_ssl_accepted": 1}},
		{name: "SSLRequest refused, cleartext password", ex: []msg{C(sslRequest), S([]byte("N")), C(startup), S(askClear), C(password), S(authOk, version, ready)},
			want: "postgresql-password/PasswordMessage/ris_app", secret: true, done: true,
			counters: map[string]uint64{"postgresql_encryption_refused": 1}},
		{name: "GSSENCRequest refused, then SSLRequest accepted", ex: []msg{C(gssRequest), S([]byte("N")), C(sslRequest), S([]byte("S"))},
			done: true, handoff: true, counters: map[string]uint64{"postgresql_gssenc_requests": 1, "postgresql_ssl_requests": 1}},
		{name: "no request, MD5: the user only", ex: []msg{C(startup), S(askMD5), C(md5Pass), S(authOk, ready)},
			want: "postgresql-md5/PasswordMessage/ris_app", done: true},
		{name: "SCRAM reveals nothing", ex: []msg{C(startup), S(askSASL), C(saslFirst)}},
		{name: "trust: no password", ex: []msg{C(startup), S(authOk, typedMsg('S', []byte("server_version\x0016.4\x00"))), C(typedMsg('Q', []byte("select 1\x00")))}},
		{name: "trust, then ready", ex: []msg{C(startup), S(authOk, version, ready), C(typedMsg('Q', []byte("select 1\x00")))}, done: true},
		{name: "a client that starts TLS before the answer is out of step", ex: []msg{C(sslRequest, []byte{0x16, 3, 1, 0, 1, 1}), S([]byte("S"))},
			done: true, handoff: true, counters: map[string]uint64{"postgresql_unanswered_request": 1}},
		{name: "GSSAPI encryption accepted: done", ex: []msg{C(gssRequest), S([]byte("G"))}, done: true},
	} {
		for _, cut := range []int{0, 1, 3, 6} {
			t.Run(fmt.Sprintf("%s/cut%d", tc.name, cut), func(t *testing.T) {
				h := corpustest.NewHarness(flow)
				st := New(h.Ctx)
				for _, m := range tc.ex {
					for _, p := range split(m.b, cut) {
						if st.Done() {
							break
						}
						st.Data(m.dir, p, t0)
					}
				}
				done, handoff := st.Done(), st.(dissect.Handoff).Handoff()
				st.End(t0)
				if done != tc.done || handoff != tc.handoff {
					t.Errorf("done, handoff = %v, %v; want %v, %v", done, handoff, tc.done, tc.handoff)
				}
				var got []string
				for _, c := range h.Sink.Credentials {
					got = append(got, fmt.Sprintf("%s/%s/%s", c.Kind, c.Where, c.User))
				}
				if g := strings.Join(got, ", "); g != tc.want {
					t.Errorf("credentials %q, want %q", g, tc.want)
				}
				if tc.secret {
					preview, hash := observe.NewSecretHasher(corpustest.Key).Hide([]byte(secret))
					if c := h.Sink.Credentials[0]; c.Hash != hash || c.Preview != preview {
						t.Errorf("credential %+v does not hide the secret", c)
					}
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

func split(b []byte, n int) [][]byte {
	if n == 0 {
		return [][]byte{b}
	}
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

// svcSink records the services a stream reports, passing everything else on.
type svcSink struct {
	observe.Sink
	services []string
}

func (s *svcSink) AddService(v observe.Service) {
	s.services = append(s.services, v.Protocol+" "+v.Software+" "+v.StartTLS)
}

func TestService(t *testing.T) {
	for _, tc := range []struct {
		ex   []msg
		want string
	}{
		{[]msg{C(sslRequest), S([]byte("S"))}, "postgresql  offered"},
		{[]msg{C(sslRequest), S([]byte("N")), C(startup), S(askClear), C(password), S(authOk, version, ready)},
			"postgresql  refused, postgresql 15.18 (Debian 15.18-0+deb12u1) "},
		{[]msg{C(gssRequest), S([]byte("N"))}, ""},
	} {
		h := corpustest.NewHarness(flow)
		sink := &svcSink{Sink: h.Ctx.Sink}
		h.Ctx.Sink = sink
		st := New(h.Ctx)
		for _, m := range tc.ex {
			st.Data(m.dir, m.b, t0)
		}
		st.End(t0)
		if got := strings.Join(sink.services, ", "); got != tc.want {
			t.Errorf("services %q, want %q", got, tc.want)
		}
	}
}

func TestGap(t *testing.T) {
	// The server's request lost: a 'p' is hidden as a password unless it is an MD5 digest.
	for _, tc := range []struct {
		p    []byte
		want string
	}{{password, "postgresql-password"}, {md5Pass, "postgresql-md5"}} {
		h := corpustest.NewHarness(flow)
		st := New(h.Ctx)
		st.Data(dissect.ClientToServer, startup, t0)
		st.Gap(dissect.ServerToClient, 9)
		st.Data(dissect.ClientToServer, tc.p, t0)
		st.End(t0)
		if len(h.Sink.Credentials) != 1 || h.Sink.Credentials[0].Kind != tc.want || h.Counters["postgresql_gap"] != 1 {
			t.Errorf("after a server gap: %+v, counters %v", h.Sink.Credentials, h.Counters)
		}
	}
}

func TestDetect(t *testing.T) {
	m := needMore
	for _, tc := range []struct {
		name string
		in   []byte
		want dissect.Match
	}{
		{"SSLRequest", sslRequest, yes},
		{"GSSENCRequest", gssRequest, yes},
		{"StartupMessage", startup, yes},
		{"StartupMessage cut in its first name", startup[:10], m},
		{"StartupMessage cut after its header", startup[:8], m},
		{"short", sslRequest[:3], m},
		{"CancelRequest", untypedMsg(codeCancel, "12345678"), no},
		{"StartupMessage with a bad name", untypedMsg(codeV3, "USER\x00x\x00\x00"), no},
		{"StartupMessage too long", append(be32(MaxMessage+1), be32(codeV3)...), no},
		{"protocol 2", untypedMsg(131072, "user\x00x\x00"), no},
		{"TLS", []byte{0x16, 3, 1, 0, 0x80, 1, 0, 0}, no},
		{"MySQL greeting", []byte{0x4a, 0, 0, 0, 10, '8', '.', '0'}, no},
		{"an 'S'", []byte("S"), no},
		{"HTTP", []byte("GET /"), no},
	} {
		if got := Detect(tc.in); got != tc.want {
			t.Errorf("%s: Detect = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	f.Add(sslRequest, []byte("S"), uint16(3), uint16(0))
	f.Add(bytes.Join([][]byte{sslRequest, startup, password}, nil), bytes.Join([][]byte{[]byte("N"), askClear, authOk}, nil), uint16(8), uint16(0))
	f.Add(bytes.Join([][]byte{startup, md5Pass}, nil), askMD5, uint16(20), uint16(2))
	f.Add(bytes.Join([][]byte{gssRequest, startup, saslFirst}, nil), append([]byte("N"), askSASL...), uint16(1), uint16(0))
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16) {
		if Detect(client).Verdict == dissect.Yes && Detect(append(bytes.Clone(client), 0, 'x')).Verdict != dissect.Yes {
			t.Fatalf("claim of %x withdrawn by more bytes", client)
		}
		h := corpustest.NewHarness(flow)
		st := New(h.Ctx)
		kc, ks := int(cut)%(len(client)+1), int(cut)%(len(server)+1)
		st.Data(dissect.ClientToServer, client[:kc], t0)
		st.Data(dissect.ServerToClient, server[:ks], t0)
		if gap != 0 {
			st.Gap(dissect.ServerToClient, int(gap))
		}
		st.Data(dissect.ClientToServer, client[kc:], t0)
		st.Data(dissect.ServerToClient, server[ks:], t0)
		if st.(dissect.Handoff).Handoff() && !st.Done() {
			t.Fatal("Handoff without Done")
		}
		st.End(t0)
		for _, c := range h.Sink.Credentials {
			if len(c.User) > maxUser || c.Protocol != "postgresql" || (c.Hash != "" && len(c.Hash) != 32) || len(c.Preview) > 32 {
				t.Fatalf("credential %+v", c)
			}
		}
		if h.Sink.Other > 3 {
			t.Fatal("emitted something other than credentials and what the server said of itself")
		}
	})
}
