package mysqlwire

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
		Server: netip.MustParseAddrPort("10.2.2.2:3306"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

const secret = "Secr3t Pass!w0rd"

func packet(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

// greet is a HandshakeV10 as MariaDB 10.11 sends it.
func greet(version string, caps uint32) []byte {
	var p bytes.Buffer
	p.WriteByte(10)
	p.WriteString(version)
	p.WriteByte(0)
	p.Write([]byte{7, 0, 0, 0}) // thread id
	p.WriteString("abcdefgh")   // nonce part 1
	p.WriteByte(0)              // filler
	binary.Write(&p, binary.LittleEndian, uint16(caps))
	p.WriteByte(45)       // charset
	p.Write([]byte{2, 0}) // status
	binary.Write(&p, binary.LittleEndian, uint16(caps>>16))
	p.WriteByte(21)
	p.Write(make([]byte, 10))
	p.WriteString("ijklmnopqrst\x00")
	p.WriteString("mysql_native_password\x00")
	return packet(0, p.Bytes())
}

func fixed(caps uint32) []byte {
	b := make([]byte, sslReqLen)
	binary.LittleEndian.PutUint32(b, caps)
	binary.LittleEndian.PutUint32(b[4:], 1<<24)
	b[8] = 45
	return b
}

const clientCaps = capProtocol41 | capSecureConn | capPluginAuth | capLenencAuth | capConnectWithDB

func sslRequest() []byte { return packet(1, fixed(clientCaps|capSSL)) }

func login(seq byte, caps uint32, user string, auth []byte, db, plugin string) []byte {
	p := fixed(caps)
	p = append(p, user...)
	p = append(p, 0)
	switch {
	case caps&capLenencAuth != 0, caps&capSecureConn != 0:
		p = append(p, byte(len(auth)))
		p = append(p, auth...)
	default:
		p = append(p, auth...)
		p = append(p, 0)
	}
	if caps&capConnectWithDB != 0 {
		p = append(p, db...)
		p = append(p, 0)
	}
	if caps&capPluginAuth != 0 {
		p = append(p, plugin...)
		p = append(p, 0)
	}
	return packet(seq, p)
}

var (
	mariadb  = greet("5.5.5-10.11.6-MariaDB-0+deb12u1", 0xf7fe|capSSL|capPluginAuth)
	scramble = []byte("\x8a\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13")
	okPacket = packet(2, []byte{0, 0, 0, 2, 0, 0, 0})
)

type msg struct {
	dir dissect.Direction
	b   []byte
}

func C(b []byte) msg { return msg{dissect.ClientToServer, b} }
func S(b []byte) msg { return msg{dissect.ServerToClient, b} }

func TestSessions(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ex            []msg
		want          string // credentials as kind/where/user/preview
		secret        bool   // the planted secret is hashed into the credential
		done, handoff bool
		counters      map[string]uint64
	}{
		{
			name: "SSL Request: handed off to TLS",
			ex:   []msg{S(mariadb), C(sslRequest())},
			done: true, handoff: true,
			counters: map[string]uint64{"mysql_greetings": 1, "mysql_ssl_requests": 1},
		},
		{
			name: "ClientHello in the same delivery as the SSL Request",
			ex:   []msg{S(mariadb), C(append(sslRequest(), 0x16, 3, 1, 0, 5))},
			done: true, handoff: true,
		},
		{
			name: "native password login in clear: the user, never the scramble",
			ex:   []msg{S(mariadb), C(login(1, clientCaps, "pump_rw", scramble, "infusions", "mysql_native_password")), S(okPacket)},
			want: "mysql-login/handshake response/pump_rw/", done: true,
		},
		{
			name: "a refused login keeps reading; the retry is recorded too",
			ex: []msg{S(mariadb), C(login(1, clientCaps, "bob", scramble, "", "mysql_native_password")),
				S(packet(2, []byte("\xff\x15\x04#28000Access denied"))),
				C(login(1, clientCaps, "alice", scramble, "", "mysql_native_password"))},
			want: "mysql-login/handshake response/bob/, mysql-login/handshake response/alice/",
		},
		{
			name: "secure connection without lenenc, no database",
			ex:   []msg{C(login(1, capProtocol41|capSecureConn, "root", scramble, "", ""))},
			want: "mysql-login/handshake response/root/",
		},
		{
			name: "switched to mysql_clear_password: the password is a secret",
			ex: []msg{S(mariadb), C(login(1, clientCaps, "ldapuser", scramble, "", "mysql_native_password")),
				S(packet(2, []byte("\xfemysql_clear_password\x00"))), C(packet(3, []byte(secret+"\x00"))), S(packet(4, []byte{0, 0, 0, 2, 0}))},
			want:   "mysql-login/handshake response/ldapuser/, mysql-clear-password/auth switch response/ldapuser/" + observe.Preview([]byte(secret)),
			secret: true, done: true,
		},
		{
			name:   "clear password plugin in the login itself",
			ex:     []msg{C(login(1, capProtocol41|capSecureConn|capPluginAuth, "dev", []byte(secret), "", "mysql_clear_password"))},
			want:   "mysql-clear-password/handshake response/dev/" + observe.Preview([]byte(secret)),
			secret: true,
		},
		{
			name: "no greeting, a large result skipped by count",
			ex:   []msg{S(packet(0, bytes.Repeat([]byte{1}, MaxPacket+10))), C(sslRequest())},
			done: true, handoff: true,
			counters: map[string]uint64{"mysql_oversized_packet": 1},
		},
	} {
		for _, cut := range []int{0, 1, 3, 7} {
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
					got = append(got, fmt.Sprintf("%s/%s/%s/%s", c.Kind, c.Where, c.User, c.Preview))
					if c.Protocol != "mysql" {
						t.Errorf("protocol %q", c.Protocol)
					}
					if c.Preview == "" && c.Hash != "" {
						t.Errorf("a login without a secret has a hash")
					}
				}
				if g := strings.Join(got, ", "); g != tc.want {
					t.Errorf("credentials %q, want %q", g, tc.want)
				}
				if tc.secret {
					_, hash := observe.NewSecretHasher(corpustest.Key).Hide([]byte(secret))
					if last := h.Sink.Credentials[len(h.Sink.Credentials)-1]; last.Hash != hash {
						t.Errorf("hash %s, want that of the secret", last.Hash)
					}
				}
				for k, v := range tc.counters {
					if cut == 0 && h.Counters[k] != v {
						t.Errorf("counter %s = %d, want %d", k, h.Counters[k], v)
					}
				}
				if h.Sink.Other > 1 {
					t.Error("emitted other observations than the greeting's service")
				}
			})
		}
	}
}

// split cuts b into pieces of n bytes (whole when n is 0).
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

// TestRest checks that the bytes after the SSL Request in its delivery are reported.
func TestRest(t *testing.T) {
	h := corpustest.NewHarness(flow)
	st := New(h.Ctx)
	st.Data(dissect.ServerToClient, mariadb, t0)
	hello := []byte{0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0}
	st.Data(dissect.ClientToServer, append(sslRequest(), hello...), t0)
	if !st.Done() || st.(dissect.HandoffRest).Rest() != len(hello) {
		t.Fatalf("done %v, rest %d; want true, %d", st.Done(), st.(dissect.HandoffRest).Rest(), len(hello))
	}
	st = New(corpustest.NewHarness(flow).Ctx)
	st.Data(dissect.ClientToServer, sslRequest(), t0)
	if !st.Done() || st.(dissect.HandoffRest).Rest() != 0 {
		t.Fatal("an SSL Request alone leaves a rest")
	}
}

// svcSink records the services a stream reports, passing everything else on.
type svcSink struct {
	observe.Sink
	services []observe.Service
}

func (s *svcSink) AddService(v observe.Service) { s.services = append(s.services, v) }

// TestService checks what the greeting says about the server.
func TestService(t *testing.T) {
	for _, tc := range []struct {
		greeting []byte
		want     string
	}{
		{mariadb, "mysql 5.5.5-10.11.6-MariaDB-0+deb12u1 offered"},
		{greet("8.0.36", 0xf7ff), "mysql 8.0.36 not-offered"},
	} {
		h := corpustest.NewHarness(flow)
		sink := &svcSink{Sink: h.Ctx.Sink}
		h.Ctx.Sink = sink
		st := New(h.Ctx)
		st.Data(dissect.ServerToClient, tc.greeting, t0)
		st.End(t0)
		if len(sink.services) != 1 {
			t.Fatalf("services %+v", sink.services)
		}
		v := sink.services[0]
		if got := v.Protocol + " " + v.Software + " " + v.StartTLS; got != tc.want || v.Server != flow.Server || v.Transport != "tcp" {
			t.Errorf("service %+v, want %s", v, tc.want)
		}
	}
}

func TestGap(t *testing.T) {
	h := corpustest.NewHarness(flow)
	st := New(h.Ctx)
	st.Data(dissect.ServerToClient, mariadb, t0)
	st.Gap(dissect.ClientToServer, 10)
	st.Data(dissect.ClientToServer, sslRequest(), t0)
	if st.Done() || h.Counters["mysql_gap"] != 1 {
		t.Fatalf("after a gap the client direction is out of step and not read: done %v, counters %v", st.Done(), h.Counters)
	}
	st.End(t0)

	// A gap within a skipped packet keeps the framing.
	h = corpustest.NewHarness(flow)
	st = New(h.Ctx)
	big := packet(3, bytes.Repeat([]byte{'x'}, MaxPacket+100))
	st.Data(dissect.ClientToServer, big[:100], t0)
	st.Gap(dissect.ClientToServer, 50)
	st.Data(dissect.ClientToServer, big[150:], t0)
	st.Data(dissect.ClientToServer, sslRequest(), t0)
	if !st.Done() {
		t.Fatal("a gap inside an oversized packet lost the framing")
	}
}

func TestDetect(t *testing.T) {
	n, m := dissect.Match{}, needMore
	for _, tc := range []struct {
		name string
		in   []byte
		want dissect.Match
	}{
		{"MariaDB greeting", mariadb, yesServer},
		{"MySQL 8 greeting", greet("8.0.36", 0xffff), yesServer},
		{"greeting cut after the capabilities", mariadb[:60], yesServer},
		{"greeting cut before the capabilities", mariadb[:40], m},
		{"greeting cut in the version", mariadb[:12], m},
		{"greeting with an ERR instead", packet(0, []byte("\xffj\x04Host '10.1.1.1' is not allowed")), n},
		{"SSL Request", sslRequest(), yes},
		{"login", login(1, clientCaps, "u", scramble, "", "mysql_native_password"), yes},
		{"client packet cut", sslRequest()[:20], m},
		{"short", []byte{0x4a, 0, 0}, m},
		{"version not printable", greet("5.5\x01", 0), n},
		{"version not a number", greet("MariaDB", 0), n},
		{"filler not zero", func() []byte { b := greet("8.0.1", 0); b[4+1+6+12] = 1; return b }(), n},
		{"old client without protocol 41", packet(1, fixed(capSecureConn)), n},
		{"TLS", []byte{0x16, 3, 1, 0, 0x80, 1}, n},
		{"HTTP", []byte("GET / HTTP/1.1\r\n"), n},
		{"PostgreSQL SSLRequest", []byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}, n},
	} {
		if got := Detect(tc.in); got != tc.want {
			t.Errorf("%s: Detect = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// FuzzStream feeds arbitrary server and client bytes, cut and with a gap; no secret may
// leave but through the hasher, and Detect must agree with itself on prefixes.
func FuzzStream(f *testing.F) {
	f.Add(mariadb, sslRequest(), uint16(5), uint16(0))
	f.Add(mariadb, login(1, clientCaps, "pump", scramble, "db", "mysql_native_password"), uint16(40), uint16(0))
	f.Add(append(mariadb, packet(2, []byte("\xfemysql_clear_password\x00"))...),
		append(login(1, clientCaps, "u", scramble, "", "x"), packet(3, []byte("pw\x00"))...), uint16(7), uint16(0))
	f.Add([]byte{0xff, 0xff, 0xff, 0}, []byte{1, 0, 0, 1, 0xfe}, uint16(1), uint16(9))
	f.Fuzz(func(t *testing.T, server, client []byte, cut, gap uint16) {
		for _, b := range [][]byte{server, client} {
			if Detect(b).Verdict == dissect.Yes {
				// Once claimed, more bytes cannot take the claim back.
				if Detect(append(bytes.Clone(b), 0, 1, 2)).Verdict != dissect.Yes {
					t.Fatalf("claim of %x withdrawn by more bytes", b)
				}
			}
		}
		h := corpustest.NewHarness(flow)
		st := New(h.Ctx)
		ks, kc := int(cut)%(len(server)+1), int(cut)%(len(client)+1)
		st.Data(dissect.ServerToClient, server[:ks], t0)
		st.Data(dissect.ClientToServer, client[:kc], t0)
		if gap != 0 {
			st.Gap(dissect.ClientToServer, int(gap))
		}
		st.Data(dissect.ClientToServer, client[kc:], t0)
		st.Data(dissect.ServerToClient, server[ks:], t0)
		if st.(dissect.Handoff).Handoff() && !st.Done() {
			t.Fatal("Handoff without Done")
		}
		st.End(t0)
		for _, c := range h.Sink.Credentials {
			if len(c.User) > maxUser || c.Protocol != "mysql" || (c.Hash != "" && len(c.Hash) != 32) || len(c.Preview) > 32 {
				t.Fatalf("credential %+v", c)
			}
		}
		if h.Sink.Other > 1 {
			t.Fatal("emitted something other than credentials and the greeting's service")
		}
	})
}
