package loginwire

import (
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
		Server: netip.MustParseAddrPort("10.2.2.2:21"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

// msg is one direction's bytes in an exchange; C and S build them.
type msg struct {
	dir  dissect.Direction
	text string
}

func C(s string) msg { return msg{dissect.ClientToServer, s} }
func S(s string) msg { return msg{dissect.ServerToClient, s} }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// secret is the password planted in every case; it must never be emitted.
const secret = "Secr3t Pass!w0rd"

func hidden(s string) (preview, hash string) {
	return observe.NewSecretHasher(corpustest.Key).Hide([]byte(s))
}

// runHandoff feeds the exchange with each message cut as split says, and reports Done and
// Handoff as they stood before End.
func runHandoff(d dissect.Dissector, ex []msg, split func(string) []string) (*corpustest.Harness, bool, bool) {
	h := corpustest.NewHarness(flow)
	st := d.New(h.Ctx)
	for _, m := range ex {
		for _, p := range split(m.text) {
			if st.Done() {
				break
			}
			st.Data(m.dir, []byte(p), t0)
		}
	}
	done, handoff := st.Done(), st.(dissect.Handoff).Handoff()
	st.End(t0)
	return h, done, handoff
}

func whole(s string) []string { return []string{s} }

func creds(h *corpustest.Harness) string {
	var out []string
	for _, c := range h.Sink.Credentials {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s", c.Protocol, c.Kind, c.Where, c.User))
	}
	return strings.Join(out, ", ")
}

var loginCases = []struct {
	name    string
	d       dissect.Dissector
	ex      []msg
	want    string // credentials as protocol/kind/where/user
	hashes  []string
	done    bool
	handoff bool // the session was upgraded to TLS in place
}{
	{
		name: "FTP login", d: FTP,
		ex:   []msg{S("220 ProFTPD ready\r\n"), C("USER alice\r\n"), S("331 Password required\r\n"), C("PASS " + secret + "\r\n"), S("230-Welcome\r\n230 Logged in\r\n"), C("RETR firmware.bin\r\n")},
		want: "ftp/ftp-password/PASS/alice", hashes: []string{secret}, done: true,
	},
	{
		name: "FTP anonymous", d: FTP,
		ex:   []msg{S("220 ready\r\n"), C("USER Anonymous\r\n"), S("331 ok\r\n"), C("PASS guest@example.org\r\n"), S("230 ok\r\n")},
		want: "ftp/ftp-anonymous/PASS/Anonymous", done: true,
	},
	{
		name: "FTP failed login then retry", d: FTP,
		ex: []msg{S("220 ready\r\n"), C("USER alice\r\n"), S("331 ok\r\n"), C("PASS wrong-one\r\n"), S("530 Login incorrect\r\n"),
			C("USER alice\r\n"), S("331 ok\r\n"), C("PASS " + secret + "\r\n")},
		want: "ftp/ftp-password/PASS/alice, ftp/ftp-password/PASS/alice", hashes: []string{"wrong-one", secret},
	},
	{
		name: "FTP AUTH TLS ends the dissection", d: FTP,
		ex:   []msg{S("220 ready\r\n"), C("AUTH TLS\r\n"), S("234 AUTH TLS ok\r\n"), C("\x16\x03\x01 binary PASS nothing\r\n")},
		done: true, handoff: true,
	},
	{
		name: "FTP user without a password", d: FTP,
		ex:   []msg{S("220 ready\r\n"), C("USER guest\r\n"), S("230 ok\r\n")},
		done: true,
	},
	{
		name: "POP3 USER/PASS", d: POP3,
		ex:   []msg{S("+OK POP3 ready\r\n"), C("USER bob\r\n"), S("+OK\r\n"), C("PASS " + secret + "\r\n"), S("+OK 2 messages\r\n")},
		want: "pop3/pop3-password/PASS/bob", hashes: []string{secret}, done: true,
	},
	{
		name: "POP3 APOP", d: POP3,
		ex:   []msg{S("+OK POP3 <1896.697170952@dbc.mtview.ca.us>\r\n"), C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), S("+OK maildrop\r\n")},
		want: "pop3/pop3-apop/APOP/mrose", hashes: []string{"c4c9334bac560ecc979e58001b3e22fb"}, done: true,
	},
	{
		name: "POP3 AUTH PLAIN with an initial response", d: POP3,
		ex:   []msg{S("+OK\r\n"), C("AUTH PLAIN " + b64("\x00bob\x00"+secret) + "\r\n"), S("+OK\r\n")},
		want: "pop3/pop3-auth-plain/AUTH PLAIN/bob", hashes: []string{secret}, done: true,
	},
	{
		name: "POP3 AUTH LOGIN", d: POP3,
		ex: []msg{S("+OK\r\n"), C("AUTH LOGIN\r\n"), S("+ VXNlcm5hbWU6\r\n"), C(b64("bob") + "\r\n"), S("+ UGFzc3dvcmQ6\r\n"),
			C(b64(secret) + "\r\n"), S("+OK\r\n")},
		want: "pop3/pop3-auth-login/AUTH LOGIN/bob", hashes: []string{secret}, done: true,
	},
	{
		name: "POP3 STLS", d: POP3,
		ex:   []msg{S("+OK\r\n"), C("STLS\r\n"), S("+OK Begin TLS\r\n")},
		done: true, handoff: true,
	},
	{
		name: "IMAP LOGIN with quoted strings", d: IMAP,
		ex: []msg{S("* OK [CAPABILITY IMAP4rev1] ready\r\n"), C(`a1 LOGIN "carol smith" "Secr3t Pass!w0rd"` + "\r\n"),
			S("* CAPABILITY IMAP4rev1\r\na1 OK LOGIN completed\r\n")},
		want: "imap/imap-password/LOGIN/carol smith", hashes: []string{secret}, done: true,
	},
	{
		name: "IMAP LOGIN with escapes in the quoted password", d: IMAP,
		ex:   []msg{C(`x LOGIN carol "a\"b\\c` + secret + `"` + "\r\n"), S("x NO bad\r\n")},
		want: "imap/imap-password/LOGIN/carol", hashes: []string{`a"b\c` + secret},
	},
	{
		name: "IMAP LOGIN with literals", d: IMAP,
		ex: []msg{S("* OK\r\n"), C("A001 LOGIN {5}\r\n"), S("+ go ahead\r\n"), C("carol {16}\r\n"), S("+ go ahead\r\n"),
			C(secret + "\r\n"), S("A001 OK done\r\n")},
		want: "imap/imap-password/LOGIN/carol", hashes: []string{secret}, done: true,
	},
	{
		name: "IMAP LOGIN with non-synchronising literals", d: IMAP,
		ex:   []msg{C("A1 login {5+}\r\ncarol {16+}\r\n" + secret + "\r\n"), S("A1 OK\r\n")},
		want: "imap/imap-password/LOGIN/carol", hashes: []string{secret}, done: true,
	},
	{
		name: "IMAP AUTHENTICATE PLAIN on the next line", d: IMAP,
		ex:   []msg{S("* OK\r\n"), C("a2 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C(b64("admin\x00carol\x00"+secret) + "\r\n"), S("a2 OK\r\n")},
		want: "imap/imap-auth-plain/AUTHENTICATE PLAIN/carol", hashes: []string{secret}, done: true,
	},
	{
		name: "IMAP AUTHENTICATE PLAIN with SASL-IR", d: IMAP,
		ex:   []msg{C("a2 AUTHENTICATE PLAIN " + b64("\x00carol\x00"+secret) + "\r\n"), S("a2 OK\r\n")},
		want: "imap/imap-auth-plain/AUTHENTICATE PLAIN/carol", hashes: []string{secret}, done: true,
	},
	{
		name: "IMAP AUTHENTICATE LOGIN", d: IMAP,
		ex: []msg{C("a3 AUTHENTICATE LOGIN\r\n"), S("+ VXNlcm5hbWU6\r\n"), C(b64("carol") + "\r\n"), S("+ UGFzc3dvcmQ6\r\n"),
			C(b64(secret) + "\r\n"), S("a3 OK\r\n")},
		want: "imap/imap-auth-login/AUTHENTICATE LOGIN/carol", hashes: []string{secret}, done: true,
	},
	{
		name: "IMAP AUTHENTICATE cancelled, then LOGIN", d: IMAP,
		ex: []msg{C("a4 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C("*\r\n"), S("a4 BAD cancelled\r\n"),
			C("a5 LOGIN carol " + strings.ReplaceAll(secret, " ", "_") + "\r\n"), S("a5 OK\r\n")},
		want: "imap/imap-password/LOGIN/carol", hashes: []string{strings.ReplaceAll(secret, " ", "_")}, done: true,
	},
	{
		name: "IMAP STARTTLS", d: IMAP,
		ex:   []msg{S("* OK\r\n"), C("a0 STARTTLS\r\n"), S("a0 OK Begin TLS\r\n")},
		done: true, handoff: true,
	},
	{
		name: "FTP AUTH SSL after a failed login: the credential is still reported", d: FTP,
		ex: []msg{S("220 ready\r\n"), C("USER alice\r\n"), S("331 ok\r\n"), C("PASS " + secret + "\r\n"), S("530 Login incorrect\r\n"),
			C("AUTH SSL\r\n"), S("234-Proceed\r\n234 with negotiation\r\n")},
		want: "ftp/ftp-password/PASS/alice", hashes: []string{secret}, done: true, handoff: true,
	},
	{
		name: "FTP AUTH TLS refused, then a login in clear", d: FTP,
		ex: []msg{S("220 ready\r\n"), C("AUTH TLS\r\n"), S("534 Policy requires no TLS\r\n"), C("USER alice\r\n"), S("331 ok\r\n"),
			C("PASS " + secret + "\r\n"), S("230 ok\r\n")},
		want: "ftp/ftp-password/PASS/alice", hashes: []string{secret}, done: true,
	},
	{
		name: "FTP AUTH TLS unanswered", d: FTP,
		ex: []msg{S("220 ready\r\n"), C("AUTH TLS\r\n")},
	},
	{
		name: "POP3 STLS refused, then a login in clear", d: POP3,
		ex: []msg{S("+OK ready\r\n"), C("STLS\r\n"), S("-ERR TLS not available\r\n"), C("USER bob\r\n"), S("+OK\r\n"),
			C("PASS " + secret + "\r\n"), S("+OK\r\n")},
		want: "pop3/pop3-password/PASS/bob", hashes: []string{secret}, done: true,
	},
	{
		name: "POP3 credential held before any server line, then STLS: reported before the upgrade", d: FTP,
		ex:   []msg{C("USER bob\r\nPASS " + secret + "\r\nSTLS\r\n"), S("+OK go ahead\r\n")},
		want: "pop3/pop3-password/PASS/bob", hashes: []string{secret}, done: true, handoff: true,
	},
	{
		name: "IMAP STARTTLS after untagged data and another tag's OK", d: IMAP,
		ex: []msg{S("* OK\r\n"), C("a1 CAPABILITY\r\n"), S("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK\r\n"),
			C("a2 STARTTLS\r\n"), S("* OK still here\r\na1 OK stale\r\na2 OK Begin TLS negotiation now\r\n")},
		done: true, handoff: true,
	},
	{
		name: "IMAP STARTTLS refused, then LOGIN", d: IMAP,
		ex: []msg{S("* OK\r\n"), C("a0 STARTTLS\r\n"), S("a0 BAD not now\r\n"), C("a1 LOGIN carol pw\r\n"),
			S("a1 OK\r\n")},
		want: "imap/imap-password/LOGIN/carol", hashes: []string{"pw"}, done: true,
	},
	{
		name: "IMAP LOGIN refused, then STARTTLS", d: IMAP,
		ex: []msg{S("* OK\r\n"), C("a1 LOGIN carol " + strings.ReplaceAll(secret, " ", "_") + "\r\n"), S("a1 NO [PRIVACYREQUIRED]\r\n"),
			C("a2 STARTTLS\r\n"), S("a2 OK\r\n")},
		want: "imap/imap-password/LOGIN/carol", hashes: []string{strings.ReplaceAll(secret, " ", "_")}, done: true, handoff: true,
	},
	{
		name: "IMAP server literal is not read as a response", d: IMAP,
		ex:   []msg{C("b1 LOGIN carol x" + secret[:4] + "\r\n"), S("* 1 FETCH (BODY[] {14}\r\nb1 OK forged\r\n)\r\n"), S("b1 NO wrong\r\n")},
		want: "imap/imap-password/LOGIN/carol", hashes: []string{"x" + secret[:4]},
	},
	{
		name: "IMAP APPEND literal is skipped, the login after it read", d: IMAP,
		ex: []msg{C("c1 APPEND INBOX {3000}\r\n" + strings.Repeat("c2 LOGIN fake fake\r\n", 150) + "\r\nc3 LOGIN carol pw\r\n"),
			S("c3 OK\r\n")},
		want: "imap/imap-password/LOGIN/carol", hashes: []string{"pw"}, done: true,
	},
	{
		name: "POP3 traffic on the FTP dissector", d: FTP,
		ex:   []msg{C("USER bob\r\nPASS " + secret + "\r\n"), S("+OK ready\r\n+OK\r\n+OK logged in\r\n")},
		want: "pop3/pop3-password/PASS/bob", hashes: []string{secret}, done: true,
	},
	{
		name: "FTP traffic on the POP3 dissector", d: POP3,
		ex:   []msg{S("220 FTP\r\n"), C("USER bob\r\n"), S("331 ok\r\n"), C("PASS " + secret + "\r\n"), S("230 ok\r\n")},
		want: "ftp/ftp-password/PASS/bob", hashes: []string{secret}, done: true,
	},
	{
		name: "client side only: the claiming dissector decides", d: POP3,
		ex:   []msg{C("USER bob\r\nPASS " + secret + "\r\n")},
		want: "pop3/pop3-password/PASS/bob", hashes: []string{secret},
	},
	{
		name: "oversized lines are skipped", d: FTP,
		ex: []msg{S("220 " + strings.Repeat("x", MaxLine) + "\r\n220 ready\r\n"), C("USER " + strings.Repeat("u", MaxLine) + "\r\nPASS " + secret + "\r\n"),
			S("230 ok\r\n")},
		want: "ftp/ftp-password/PASS/", hashes: []string{secret}, done: true,
	},
	{
		name: "garbage", d: IMAP,
		ex: []msg{C("\x00\x01\x02\xff{99999999999999}\r\n\r\n}{\r\n\"\r\na LOGIN \"unterminated\r\na LOGIN {5}\r\nab\r\n")},
	},
}

func TestLogins(t *testing.T) {
	for _, tc := range loginCases {
		t.Run(tc.name, func(t *testing.T) {
			h, done, handoff := runHandoff(tc.d, tc.ex, whole)
			if got := creds(h); got != tc.want {
				t.Fatalf("credentials = %q, want %q", got, tc.want)
			}
			if done != tc.done || handoff != tc.handoff {
				t.Errorf("Done, Handoff = %v, %v, want %v, %v", done, handoff, tc.done, tc.handoff)
			}
			for i, s := range tc.hashes {
				p, hash := hidden(s)
				if c := h.Sink.Credentials[i]; c.Hash != hash || c.Preview != p || c.Flow != flow || !c.FirstSeen.Equal(t0) || c.Count != 1 {
					t.Errorf("credential %d hides the wrong secret: %+v", i, c)
				}
			}
			h.Sink.NoSecret(t, secret, b64(secret), "wrong-one", "c4c9334bac560ecc979e58001b3e22fb")
			want := h.Sink.Dump()
			bytewise := func(s string) []string { return strings.Split(s, "") }
			if got, done, handoff := runHandoff(tc.d, tc.ex, bytewise); got.Sink.Dump() != want || done != tc.done || handoff != tc.handoff {
				t.Fatalf("bytewise (done %v, handoff %v):\n%s\nwant\n%s", done, handoff, got.Sink.Dump(), want)
			}
			longest := 0
			for _, m := range tc.ex {
				longest = max(longest, len(m.text))
			}
			if longest > 1024 {
				return
			}
			for k := 1; k < longest; k++ {
				cut := func(s string) []string {
					if k >= len(s) {
						return []string{s}
					}
					return []string{s[:k], s[k:]}
				}
				if got, done, handoff := runHandoff(tc.d, tc.ex, cut); got.Sink.Dump() != want || done != tc.done || handoff != tc.handoff {
					t.Fatalf("cut at %d (done %v, handoff %v):\n%s\nwant\n%s", k, done, handoff, got.Sink.Dump(), want)
				}
			}
		})
	}
}

func TestGap(t *testing.T) {
	h := corpustest.NewHarness(flow)
	st := FTP.New(h.Ctx)
	st.Data(dissect.ServerToClient, []byte("220 ready\r\n"), t0)
	st.Data(dissect.ClientToServer, []byte("USER alice\r\nPASS Secr3t"), t0)
	st.Gap(dissect.ClientToServer, 10)
	st.Data(dissect.ClientToServer, []byte("tail of the password\r\nPASS second\r\n"), t0)
	st.End(t0)
	if got := creds(h); got != "ftp/ftp-password/PASS/alice" || h.Counters["login_gap"] != 1 {
		t.Fatalf("credentials = %q, counters %v", got, h.Counters)
	}
	if _, hash := hidden("second"); h.Sink.Credentials[0].Hash != hash {
		t.Errorf("the password cut by the gap was recorded: %+v", h.Sink.Credentials[0])
	}

	// A gap inside a skipped IMAP literal keeps the stream in step.
	h = corpustest.NewHarness(flow)
	st = IMAP.New(h.Ctx)
	st.Data(dissect.ClientToServer, []byte("a APPEND INBOX {5000}\r\n"+strings.Repeat("x", 100)), t0)
	st.Gap(dissect.ClientToServer, 4000)
	st.Data(dissect.ClientToServer, []byte(strings.Repeat("x", 900)+"\r\nb LOGIN u p\r\n"), t0)
	st.End(t0)
	if got := creds(h); got != "imap/imap-password/LOGIN/u" {
		t.Fatalf("credentials = %q", got)
	}
}

func TestLiteralNotBuffered(t *testing.T) {
	h := corpustest.NewHarness(flow)
	st := IMAP.New(h.Ctx)
	st.Data(dissect.ClientToServer, []byte("a APPEND INBOX {999999999}\r\n"), t0)
	chunk := make([]byte, 64<<10)
	if n := testing.AllocsPerRun(100, func() { st.Data(dissect.ClientToServer, chunk, t0) }); n != 0 {
		t.Errorf("skipping a literal allocates %v per call", n)
	}
}

func TestDetect(t *testing.T) {
	type want struct {
		v          dissect.Verdict
		fromServer bool
	}
	y, ys, n, m := want{dissect.Yes, false}, want{dissect.Yes, true}, want{dissect.No, false}, want{dissect.NeedMore, false}
	for _, tc := range []struct {
		in              string
		ftp, pop3, imap want
	}{
		{"220 ProFTPD\r\n", ys, n, n},
		{"220-Welcome\r\n", ys, n, n},
		{"220 mail.example.org ESMTP Postfix\r\n", n, n, n},
		{"22", m, n, m},
		{"220 ProFTPD ready", m, n, n},                  // the banner's end decides between FTP and SMTP
		{"220 mx.example.org ESMTP Exim", n, n, n},      // already SMTP, whatever follows
		{"220-mx.example.org ESMTP\r\n220 hi", n, n, n}, // SMTP on the first line of a multi-line banner
		{"220 ready\r\n220 SMTP", ys, n, n},             // only the first line counts
		{"220 LOGIN ready\r\n", ys, n, n},               // a greeting, not IMAP's tag "220" (found by fuzzing)
		{"220 LOGIN SMTP\r\n", n, n, n},
		{"EHLO client.example.org\r\n", n, n, n},
		{"helo NOOP\r\n", n, n, n},
		{"EHLO", n, n, m},
		{"+OK POP3 ready\r\n", n, ys, n},
		{"+O", n, m, n},
		{"* OK IMAP4rev1\r\n", n, n, ys},
		{"* PREAUTH ready\r\n", n, n, ys},
		{"* ", n, n, m},
		{"USER bob\r\n", y, y, n},
		{"user bob\r\n", y, y, n},
		{"US", m, m, m},
		{"APOP bob 123\r\n", n, y, n},
		{"AUTH TLS\r\n", y, n, n},
		{"AUTH T", m, m, n},
		{"AUTH PLAIN\r\n", n, y, n},
		{"a1 LOGIN bob pw\r\n", n, n, y},
		{"A001 CAPABILITY\r\n", n, n, y},
		{"a1 ", n, n, m},
		{"a1 FETCH 1\r\n", n, n, n},
		{"", m, m, m},
		{"GET / HTTP/1.1\r\n", n, n, n},
		{"\x16\x03\x01", n, n, n},
	} {
		for _, d := range []struct {
			name string
			f    func([]byte) dissect.Match
			w    want
		}{{"ftp", DetectFTP, tc.ftp}, {"pop3", DetectPOP3, tc.pop3}, {"imap", DetectIMAP, tc.imap}} {
			got := d.f([]byte(tc.in))
			if got.Verdict != d.w.v || got.FromServer != d.w.fromServer {
				t.Errorf("%s(%q) = %+v, want %+v", d.name, tc.in, got, d.w)
			}
		}
	}
	if FTP.Name != "ftp" || POP3.Name != "pop3" || IMAP.Name != "imap" {
		t.Fatal("dissector names")
	}
}

// TestStartTLS follows each protocol's upgrade step by step: Done and Handoff only once the
// server's positive answer has been read, bytes after that answer counted.
func TestStartTLS(t *testing.T) {
	for _, tc := range []struct {
		name          string
		d             dissect.Dissector
		before        []msg // up to and including the client's upgrade request
		answer, after string
		counter       string // the one upgrade counter expected to move
	}{
		{name: "FTP", d: FTP, before: []msg{S("220 ready\r\n"), C("AUTH TLS\r\n")}, answer: "234 go\r\n"},
		{name: "FTP trailing", d: FTP, before: []msg{S("220 ready\r\n"), C("auth tls\r\n")}, answer: "234 go\r\n",
			after: "\x16\x03\x03\x00\x02", counter: "login_starttls_trailing_bytes"},
		{name: "POP3", d: POP3, before: []msg{S("+OK\r\n"), C("STLS\r\n")}, answer: "+OK Begin TLS\r\n"},
		{name: "POP3 trailing", d: POP3, before: []msg{S("+OK\r\n"), C("STLS\r\n")}, answer: "+OK\r\n", after: "+OK\r\n",
			counter: "login_starttls_trailing_bytes"},
		{name: "IMAP", d: IMAP, before: []msg{S("* OK\r\n"), C("x STARTTLS\r\n"), S("* BYE not really\r\n")}, answer: "x OK\r\n"},
		{name: "IMAP pipelined", d: IMAP, before: []msg{S("* OK\r\n"), C("x STARTTLS\r\nx1 NOOP\r\n")}, answer: "x OK\r\n",
			counter: "login_starttls_pipelined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := corpustest.NewHarness(flow)
			st := tc.d.New(h.Ctx)
			ho := st.(dissect.Handoff)
			for _, m := range tc.before {
				st.Data(m.dir, []byte(m.text), t0)
				if st.Done() || ho.Handoff() {
					t.Fatalf("done or handed off before the answer (after %q)", m.text)
				}
			}
			last := len(tc.answer) - 1
			st.Data(dissect.ServerToClient, []byte(tc.answer[:last]), t0)
			if st.Done() || ho.Handoff() {
				t.Fatal("done or handed off before the answer's line end")
			}
			st.Data(dissect.ServerToClient, []byte(tc.answer[last:]+tc.after), t0)
			if !st.Done() || !ho.Handoff() {
				t.Fatal("not handed off after the positive answer")
			}
			for _, name := range []string{"login_starttls_trailing_bytes", "login_starttls_pipelined"} {
				want := uint64(0)
				if name == tc.counter {
					want = 1
				}
				if h.Counters[name] != want {
					t.Errorf("counter %s = %d, want %d", name, h.Counters[name], want)
				}
			}
			st.End(t0)
		})
	}
	// A login that succeeds ends the dissection without a handoff: what follows is clear.
	h, done, handoff := runHandoff(FTP, []msg{S("220 ready\r\n"), C("USER a\r\n"), S("331 ok\r\n"), C("PASS b\r\n"), S("230 ok\r\n")}, whole)
	if !done || handoff || creds(h) != "ftp/ftp-password/PASS/a" {
		t.Errorf("login: done %v handoff %v credentials %q", done, handoff, creds(h))
	}
}

// FuzzStream feeds arbitrary client and server bytes to each of the three dissectors.
func FuzzStream(f *testing.F) {
	for _, tc := range loginCases {
		var c, s strings.Builder
		for _, m := range tc.ex {
			if m.dir == dissect.ClientToServer {
				c.WriteString(m.text)
			} else {
				s.WriteString(m.text)
			}
		}
		if c.Len()+s.Len() > 1024 {
			continue // large seeds make minimisation crawl; the table test covers them
		}
		f.Add([]byte(c.String()), []byte(s.String()), uint16(7), uint16(0), uint8(tc.d.Name[0]))
	}
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16, which uint8) {
		d := []dissect.Dissector{FTP, POP3, IMAP}[int(which)%3]
		h := corpustest.NewHarness(flow)
		st := d.New(h.Ctx)
		// Interleave: server first half, client first half, gap, then the rest.
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
			if len(c.User) > maxUser || len(c.Hash) != 32 || len(c.Preview) > 32 {
				t.Fatalf("credential %+v", c)
			}
		}
	})
}
