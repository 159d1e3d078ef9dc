package loginwire

import (
	"bytes"
	"strings"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/observe"
)

// Server lines of the greeting tests: Dovecot's, and the same with STARTTLS / STLS
// removed as a stripping proxy leaves them.
const (
	imapBanner         = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n"
	imapBannerStripped = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n"
	imapCaps           = "* CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN\r\na1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
	imapCapsStripped   = "* CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ AUTH=PLAIN\r\na1 OK Pre-login capabilities listed.\r\n"
	popCapa            = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n"
	popCapaStripped    = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN\r\n.\r\n"
)

// TestGreeting checks what each IMAP and POP3 session's capability list said about
// STARTTLS (STLS) and what became of the session: the facts tls-stripped judges.
func TestGreeting(t *testing.T) {
	tests := []struct {
		name    string
		d       dissect.Dissector
		ex      []msg
		want    int // greetings emitted: 0 or 1
		offered bool
		outcome string
	}{
		{"imap: greeting offers, upgraded", IMAP, []msg{S(imapBanner), C("a1 STARTTLS\r\n"), S("a1 OK Begin TLS negotiation now.\r\n")},
			1, true, observe.StartTLSUpgraded},
		{"imap: greeting stripped, login in clear", IMAP, []msg{S(imapBannerStripped), C("a1 LOGIN nurse pw\r\n"), S("a1 OK Logged in\r\n")},
			1, false, observe.StartTLSClear},
		{"imap: CAPABILITY offers, refused", IMAP, []msg{S("* OK ready\r\n"), C("a1 CAPABILITY\r\n"), S(imapCaps),
			C("a2 STARTTLS\r\n"), S("a2 NO TLS is not available\r\n"), C("a3 LOGOUT\r\n")}, 1, true, observe.StartTLSDeclined},
		{"imap: CAPABILITY stripped", IMAP, []msg{S("* OK ready\r\n"), C("a1 CAPABILITY\r\n"), S(imapCapsStripped), C("a2 LOGOUT\r\n")},
			1, false, observe.StartTLSClear},
		{"imap: lowercase, last in the list", IMAP, []msg{S("* ok [capability imap4rev1 starttls] hi\r\n"), C("a LOGOUT\r\n")},
			1, true, observe.StartTLSClear},
		{"imap: a capability that only contains the word is not it", IMAP,
			[]msg{S("* OK [CAPABILITY IMAP4rev1 XSTARTTLS STARTTLSX AUTH=STARTTLS] hi\r\n"), C("a LOGOUT\r\n")}, 1, false, observe.StartTLSClear},
		{"imap: a greeting without a list says nothing", IMAP, []msg{S("* OK ready\r\n"), C("a1 LOGIN nurse pw\r\n"), S("a1 OK in\r\n")},
			0, false, ""},
		{"imap: PREAUTH says nothing", IMAP, []msg{S("* PREAUTH [CAPABILITY IMAP4rev1] logged in\r\n"), C("a LOGOUT\r\n")}, 0, false, ""},
		{"imap: an unterminated response code says nothing", IMAP, []msg{S("* OK [CAPABILITY IMAP4rev1 STARTTLS\r\n"), C("a LOGOUT\r\n")},
			0, false, ""},
		{"imap: a list after the login is not read", IMAP, []msg{S("* OK ready\r\n"), C("a1 LOGIN nurse pw\r\n"), S("a1 OK in\r\n"),
			S(imapCaps)}, 0, false, ""},
		{"pop3: CAPA offers STLS, upgraded", POP3, []msg{S("+OK Dovecot ready.\r\n"), C("CAPA\r\n"), S(popCapa), C("STLS\r\n"),
			S("+OK Begin TLS negotiation now.\r\n")}, 1, true, observe.StartTLSUpgraded},
		{"pop3: CAPA stripped, login in clear", POP3, []msg{S("+OK Dovecot ready.\r\n"), C("CAPA\r\n"), S(popCapaStripped),
			C("USER nurse\r\n"), S("+OK\r\n"), C("PASS pw\r\n"), S("+OK Logged in.\r\n")}, 1, false, observe.StartTLSClear},
		{"pop3: STLS refused", POP3, []msg{S("+OK ready\r\n"), C("CAPA\r\n"), S(popCapa), C("STLS\r\n"), S("-ERR not now\r\n"),
			C("QUIT\r\n")}, 1, true, observe.StartTLSDeclined},
		{"pop3: CAPA refused says nothing", POP3, []msg{S("+OK ready\r\n"), C("CAPA\r\n"), S("-ERR unknown command\r\n"), C("QUIT\r\n")},
			0, false, ""},
		{"pop3: no CAPA says nothing", POP3, []msg{S("+OK ready\r\n"), C("USER nurse\r\n"), S("+OK\r\n"), C("PASS pw\r\n"), S("+OK in\r\n")},
			0, false, ""},
		{"pop3: an unfinished list says nothing", POP3, []msg{S("+OK ready\r\n"), C("CAPA\r\n"), S("+OK\r\nSTLS\r\nUSER\r\n")}, 0, false, ""},
		{"pop3: the CAPA answer split in odd places", POP3, []msg{S("+OK ready\r\n"), C("CAPA\r\n"), S("+OK\r\nTOP\r\nST"), S("LS\r\n.\r"), S("\n"),
			C("QUIT\r\n")}, 1, true, observe.StartTLSClear},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _, _ := runHandoff(tc.d, tc.ex, whole)
			g := h.Sink.Greetings
			if len(g) != tc.want {
				t.Fatalf("greetings = %+v, want %d", g, tc.want)
			}
			if tc.want == 0 {
				return
			}
			wantProto := strings.ToLower(tc.d.Name)
			if g[0].Offered != tc.offered || g[0].Outcome != tc.outcome || g[0].Protocol != wantProto || g[0].Flow != flow || g[0].Count != 1 {
				t.Errorf("greeting = %+v, want %s, offered %v, outcome %s", g[0], wantProto, tc.offered, tc.outcome)
			}
		})
	}
	// Whatever the segmentation, a byte at a time included, the verdict is the same.
	for _, tc := range tests {
		h, _, _ := runHandoff(tc.d, tc.ex, bytewise)
		if len(h.Sink.Greetings) != tc.want || tc.want == 1 && (h.Sink.Greetings[0].Offered != tc.offered || h.Sink.Greetings[0].Outcome != tc.outcome) {
			t.Errorf("%s, byte by byte: %+v", tc.name, h.Sink.Greetings)
		}
	}
}

func bytewise(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}

// TestGreetingGap: bytes of a POP3 CAPA answer lost to the capture may hold its STLS
// line, so a list with a gap says nothing, unless STLS was read before the gap.
func TestGreetingGap(t *testing.T) {
	for _, c := range []struct {
		name       string
		before     string
		want       int
		offeredWas bool
	}{
		{"the gap may have taken STLS", "+OK\r\nTOP\r\n", 0, false},
		{"STLS read before the gap", "+OK\r\nSTLS\r\n", 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := corpustest.NewHarness(flow)
			st := POP3.New(h.Ctx)
			st.Data(dissect.ServerToClient, []byte("+OK ready\r\n"), t0)
			st.Data(dissect.ClientToServer, []byte("CAPA\r\n"), t0)
			st.Data(dissect.ServerToClient, []byte(c.before), t0)
			st.Gap(dissect.ServerToClient, 40)
			st.Data(dissect.ServerToClient, []byte("LS\r\nUSER\r\n.\r\n"), t0)
			st.Data(dissect.ClientToServer, []byte("QUIT\r\n"), t0)
			st.End(t0)
			g := h.Sink.Greetings
			if len(g) != c.want || c.want == 1 && (!g[0].Offered || g[0].Outcome != observe.StartTLSClear) {
				t.Fatalf("greetings %+v, want %d", g, c.want)
			}
		})
	}
}

// FuzzGreeting feeds a client that asks for the capability list and then for STARTTLS
// (IMAP) or STLS (POP3) against arbitrary server bytes: at most one greeting, of the
// dissector's protocol; offered only when the server's bytes name the capability;
// upgraded exactly when the stream handed off.
func FuzzGreeting(f *testing.F) {
	f.Add([]byte(imapBanner+imapCaps+"a2 OK go\r\n"), uint8(0), uint16(5))
	f.Add([]byte(imapBannerStripped+"a2 NO\r\n"), uint8(0), uint16(0))
	f.Add([]byte("+OK hi\r\n"+popCapa+"+OK go\r\n"), uint8(1), uint16(11))
	f.Add([]byte("+OK hi\r\n"+popCapaStripped+"-ERR\r\n"), uint8(1), uint16(3))
	f.Add([]byte("+OK\r\n+OK\r\n.\r\nSTLS\r\n"), uint8(1), uint16(1))
	f.Fuzz(func(t *testing.T, server []byte, which uint8, cut uint16) {
		d, client, word := IMAP, "a1 CAPABILITY\r\na2 STARTTLS\r\n", "STARTTLS"
		if which%2 == 1 {
			d, client, word = POP3, "CAPA\r\nSTLS\r\n", "STLS"
		}
		h := corpustest.NewHarness(flow)
		st := d.New(h.Ctx)
		k := int(cut) % (len(server) + 1)
		st.Data(dissect.ServerToClient, server[:k], t0)
		st.Data(dissect.ClientToServer, []byte(client), t0)
		st.Data(dissect.ServerToClient, server[k:], t0)
		handoff := st.(dissect.Handoff).Handoff()
		st.End(t0)
		g := h.Sink.Greetings
		if len(g) > 1 {
			t.Fatalf("%d greetings", len(g))
		}
		if len(g) == 0 {
			return
		}
		if g[0].Protocol != strings.ToLower(d.Name) || g[0].Count != 1 {
			t.Fatalf("greeting %+v from %s", g[0], d.Name)
		}
		if g[0].Offered && !bytes.Contains(bytes.ToUpper(server), []byte(word)) {
			t.Fatalf("offered, but the server never named %s: %q", word, server)
		}
		if (g[0].Outcome == observe.StartTLSUpgraded) != handoff {
			t.Fatalf("outcome %s, handoff %v", g[0].Outcome, handoff)
		}
		switch g[0].Outcome {
		case observe.StartTLSUpgraded, observe.StartTLSDeclined, observe.StartTLSClear:
		default:
			t.Fatalf("outcome %q", g[0].Outcome)
		}
	})
}
