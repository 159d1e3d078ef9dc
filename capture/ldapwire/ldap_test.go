package ldapwire

import (
	"bytes"
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
		Server: netip.MustParseAddrPort("10.2.2.2:389"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

const secret = "Secr3t Pass!w0rd"

// tlv encodes one BER element, in long form past 127 bytes as real encoders do.
func tlv(tag byte, parts ...[]byte) []byte {
	c := bytes.Join(parts, nil)
	b := []byte{tag}
	switch n := len(c); {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, c...)
}

func msgID(id byte, op []byte) []byte { return tlv(tagSeq, tlv(tagInt, []byte{id}), op) }

func str(s string) []byte { return []byte(s) }

var (
	startTLS   = msgID(1, tlv(opExtendedRequest, tlv(0x80, str(StartTLSOID))))
	startTLSOK = msgID(1, tlv(opExtendedResp, tlv(tagEnum, []byte{0}), tlv(tagOctet), tlv(tagOctet), tlv(0x8a, str(StartTLSOID))))
	startTLSNo = msgID(1, tlv(opExtendedResp, tlv(tagEnum, []byte{52}), tlv(tagOctet), tlv(tagOctet, str("unavailable"))))
	bindSimple = msgID(2, tlv(opBindRequest, tlv(tagInt, []byte{3}), tlv(tagOctet, str("cn=admin,dc=hosp,dc=local")), tlv(0x80, str(secret))))
	bindAnon   = msgID(2, tlv(opBindRequest, tlv(tagInt, []byte{3}), tlv(tagOctet), tlv(0x80)))
	bindPlain  = msgID(3, tlv(opBindRequest, tlv(tagInt, []byte{3}), tlv(tagOctet), tlv(0xa3, tlv(tagOctet, str("PLAIN")), tlv(tagOctet, str("\x00pacs\x00"+secret)))))
	bindGSS    = msgID(3, tlv(opBindRequest, tlv(tagInt, []byte{3}), tlv(tagOctet), tlv(0xa3, tlv(tagOctet, str("GSSAPI")), tlv(tagOctet, str("token")))))
	bindOK     = msgID(2, tlv(opBindResponse, tlv(tagEnum, []byte{0}), tlv(tagOctet), tlv(tagOctet)))
	search     = msgID(4, tlv(opSearchRequest, tlv(tagOctet, str("dc=hosp,dc=local")), tlv(tagEnum, []byte{2})))
	bigEntry   = msgID(4, tlv(opSearchEntry, tlv(tagOctet, bytes.Repeat([]byte("x"), MaxMessage))))
	wrongID    = msgID(9, tlv(opExtendedResp, tlv(tagEnum, []byte{0})))
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
		want          string // kind/where/user
		done, handoff bool
		counters      map[string]uint64
	}{
		{name: "StartTLS accepted", ex: []msg{C(startTLS), S(startTLSOK)}, done: true, handoff: true,
			counters: map[string]uint64{"ldap_starttls_requests": 1, "ldap_starttls_accepted": 1}},
		{name: "StartTLS refused, then a simple bind in clear", ex: []msg{C(startTLS), S(startTLSNo), C(bindSimple), S(bindOK)},
			want: "ldap-simple-bind/BindRequest simple/cn=admin,dc=hosp,dc=local", counters: map[string]uint64{"ldap_starttls_refused": 1}},
		{name: "a success for another message ID is not the upgrade", ex: []msg{C(startTLS), S(wrongID)}},
		{name: "anonymous bind, a large entry skipped, then StartTLS", ex: []msg{C(bindAnon), S(bindOK), C(search), S(bigEntry), C(startTLS), S(startTLSOK)},
			done: true, handoff: true, counters: map[string]uint64{"ldap_oversized_message": 1}},
		{name: "SASL PLAIN", ex: []msg{C(bindPlain)}, want: "ldap-sasl-plain/BindRequest SASL PLAIN/pacs"},
		{name: "SASL GSSAPI sends no secret", ex: []msg{C(bindGSS)}},
	} {
		for _, cut := range []int{0, 1, 2, 5} {
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
				preview, hash := observe.NewSecretHasher(corpustest.Key).Hide([]byte(secret))
				for _, c := range h.Sink.Credentials {
					got = append(got, fmt.Sprintf("%s/%s/%s", c.Kind, c.Where, c.User))
					if c.Hash != hash || c.Preview != preview || c.Protocol != "ldap" {
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
	s.services = append(s.services, v.Protocol+" "+v.StartTLS)
}

func TestService(t *testing.T) {
	for _, tc := range []struct {
		ex   []msg
		want string
	}{
		{[]msg{C(startTLS), S(startTLSOK)}, "ldap offered"},
		{[]msg{C(startTLS), S(startTLSNo)}, "ldap refused"},
		{[]msg{C(bindSimple), S(bindOK)}, ""},
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
	h := corpustest.NewHarness(flow)
	st := New(h.Ctx)
	st.Data(dissect.ClientToServer, startTLS, t0)
	st.Gap(dissect.ServerToClient, 7)
	st.Data(dissect.ServerToClient, startTLSOK, t0)
	if st.Done() || h.Counters["ldap_gap"] != 1 {
		t.Fatal("bytes after a gap were read as messages")
	}
	st.End(t0)
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want dissect.Match
	}{
		{"StartTLS request", startTLS, yes},
		{"bind", bindSimple, yes},
		{"unbind", msgID(5, tlv(opUnbindRequest)), yes},
		{"a response", startTLSOK, yesServer},
		{"notice of disconnection", msgID(0, tlv(opExtendedResp, tlv(tagEnum, []byte{2}))), yesServer},
		{"long-form lengths", tlv(tagSeq, tlv(tagInt, []byte{1, 0}), tlv(opSearchRequest, bytes.Repeat([]byte{4}, 300))), yes},
		{"cut in the header", startTLS[:3], needMore},
		{"cut before the op", startTLS[:5], needMore},
		{"empty", nil, needMore},
		{"not an op", msgID(1, tlv(0x30)), no},
		{"negative ID", tlv(tagSeq, tlv(tagInt, []byte{0x80}), tlv(opUnbindRequest)), no},
		{"op longer than the message", []byte{0x30, 0x05, 0x02, 0x01, 0x01, 0x60, 0x10}, no},
		{"indefinite length", []byte{0x30, 0x80, 0x02, 0x01, 0x01}, no},
		{"TLS", []byte{0x16, 3, 1}, no},
		{"SNMP-like sequence", tlv(tagSeq, tlv(tagInt, []byte{1}), tlv(tagOctet, str("public"))), no},
	} {
		if got := Detect(tc.in); got != tc.want {
			t.Errorf("%s: Detect = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func FuzzStream(f *testing.F) {
	f.Add(startTLS, startTLSOK, uint16(3), uint16(0))
	f.Add(bytes.Join([][]byte{startTLS, bindSimple, bindPlain}, nil), bytes.Join([][]byte{startTLSNo, bindOK}, nil), uint16(9), uint16(0))
	f.Add(search, bigEntry[:300], uint16(1), uint16(4))
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16) {
		for _, b := range [][]byte{client, server} {
			if Detect(b).Verdict == dissect.Yes && Detect(append(bytes.Clone(b), 0, 1)).Verdict != dissect.Yes {
				t.Fatalf("claim of %x withdrawn by more bytes", b)
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
		st.End(t0)
		for _, c := range h.Sink.Credentials {
			if len(c.User) > maxUser || c.Protocol != "ldap" || len(c.Hash) != 32 || len(c.Preview) > 32 {
				t.Fatalf("credential %+v", c)
			}
		}
		if h.Sink.Other > maxPending {
			t.Fatal("emitted something other than credentials and StartTLS answers")
		}
	})
}
