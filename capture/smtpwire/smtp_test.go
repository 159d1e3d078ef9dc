package smtpwire

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/capture/loginwire"
	"github.com/medscan/medscan/observe"
)

var (
	flow = observe.Flow{
		Client: netip.MustParseAddrPort("10.1.1.1:50000"),
		Server: netip.MustParseAddrPort("10.2.2.2:587"),
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

// secret is the password planted in the cases; it must never be emitted.
const secret = "Secr3t Pass!w0rd"

// cramDigest is the RFC 2195 example response's digest.
const cramDigest = "b913a602c7eda7a495b4e6e7334d3890"

func hidden(s string) (preview, hash string) {
	return observe.NewSecretHasher(corpustest.Key).Hide([]byte(s))
}

type result struct {
	h             *corpustest.Harness
	done, handoff bool
}

// run feeds the exchange with each message cut as split says, stopping once Done as the
// engine does, and reports Done and Handoff as they stood before End.
func run(ex []msg, split func(string) []string) result {
	h := corpustest.NewHarness(flow)
	st := New(h.Ctx)
	for _, m := range ex {
		for _, p := range split(m.text) {
			if st.Done() {
				break
			}
			st.Data(m.dir, []byte(p), t0)
		}
	}
	r := result{h: h, done: st.Done(), handoff: st.(dissect.Handoff).Handoff()}
	st.End(t0)
	return r
}

func whole(s string) []string { return []string{s} }

func creds(h *corpustest.Harness) string {
	var out []string
	for _, c := range h.Sink.Credentials {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s", c.Protocol, c.Kind, c.Where, c.User))
	}
	return strings.Join(out, ", ")
}

const (
	banner = "220 mx.hosp.local ESMTP Postfix\r\n"
	ehlo   = "EHLO pump7.hosp.local\r\n"
	caps   = "250-mx.hosp.local\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-CHUNKING\r\n250 8BITMIME\r\n"
)

// body is a message whose text looks like commands and credentials; none may be read.
var message = "Subject: alarm\r\n\r\nAUTH PLAIN " + b64("\x00body\x00"+secret) + "\r\n..\r\n.. leading dot\r\nQUIT\r\n.\r\n"

var cases = []struct {
	name          string
	ex            []msg
	want          string // credentials as protocol/kind/where/user
	hashes        []string
	done, handoff bool
	counters      map[string]uint64
}{
	{
		name: "AUTH PLAIN with an initial response, then MAIL accepted",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH PLAIN " + b64("\x00alerts@hosp.local\x00"+secret) + "\r\n"),
			S("235 2.7.0 Authentication successful\r\n"), C("MAIL FROM:<alerts@hosp.local>\r\n"), S("250 2.1.0 Ok\r\n"),
			C("RCPT TO:<biomed@hosp.local>\r\nAUTH PLAIN " + b64("\x00late\x00late") + "\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/alerts@hosp.local", hashes: []string{secret}, done: true,
	},
	{
		name: "AUTH PLAIN on the next line, with an authorisation identity",
		ex: []msg{S(banner), C(ehlo), S(caps), C("auth plain\r\n"), S("334 \r\n"), C(b64("admin\x00alerts\x00"+secret) + "\r\n"),
			S("235 ok\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/alerts", hashes: []string{secret},
	},
	{
		name: "AUTH PLAIN with only an authorisation identity",
		ex:   []msg{C("HELO x\r\nAUTH PLAIN " + b64("alerts\x00\x00"+secret) + "\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/alerts", hashes: []string{secret},
	},
	{
		name: "AUTH PLAIN that is not base64 is still a secret",
		ex:   []msg{C("EHLO x\r\nAUTH PLAIN " + secret + "\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/", hashes: []string{secret},
	},
	{
		name: "AUTH LOGIN",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C(b64("alerts") + "\r\n"),
			S("334 UGFzc3dvcmQ6\r\n"), C(b64(secret) + "\r\n"), S("235 ok\r\n"), C("MAIL FROM:<a@b>\r\n"), S("250 ok\r\n")},
		want: "smtp/smtp-auth-login/AUTH LOGIN/alerts", hashes: []string{secret}, done: true,
	},
	{
		name: "AUTH LOGIN with the user inline and a password that is not base64",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH LOGIN " + b64("alerts") + "\r\n"), S("334 UGFzc3dvcmQ6\r\n"),
			C(secret + "\r\n"), S("535 5.7.8 failed\r\n")},
		want: "smtp/smtp-auth-login/AUTH LOGIN/alerts", hashes: []string{secret},
	},
	{
		name: "AUTH CRAM-MD5",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH CRAM-MD5\r\n"), S("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
			C(b64("tim "+cramDigest) + "\r\n"), S("235 ok\r\n")},
		want: "smtp/smtp-auth-cram-md5/AUTH CRAM-MD5/tim", hashes: []string{cramDigest},
	},
	{
		name: "failed AUTH, then a retry",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH PLAIN " + b64("\x00alerts\x00wrong-one") + "\r\n"), S("535 5.7.8 bad\r\n"),
			C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C(b64("alerts") + "\r\n"), S("334 UGFzc3dvcmQ6\r\n"), C(b64(secret) + "\r\n"),
			S("235 ok\r\n")},
		want:   "smtp/smtp-auth-plain/AUTH PLAIN/alerts, smtp/smtp-auth-login/AUTH LOGIN/alerts",
		hashes: []string{"wrong-one", secret},
	},
	{
		name: "AUTH cancelled, then MAIL",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("*\r\n"), S("501 cancelled\r\n"),
			C("MAIL FROM:<a@b>\r\n"), S("250 ok\r\n")},
		done: true,
	},
	{
		name: "an unknown mechanism's responses are not read as commands",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH XOAUTH2\r\n"), S("334 \r\n"), C("AUTH PLAIN " + b64("\x00x\x00"+secret) + "\r\n"),
			S("235 ok\r\n"), C("AUTH PLAIN " + b64("\x00y\x00pw") + "\r\n"), S("503 already\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/y", hashes: []string{"pw"},
	},
	{
		name: "an unsupported mechanism refused: the next line is a command",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH GSSAPI\r\n"), S("504 5.5.4 unrecognized\r\n"),
			C("AUTH PLAIN " + b64("\x00y\x00"+secret) + "\r\n"), S("235 ok\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/y", hashes: []string{secret},
	},
	{
		name: "STARTTLS accepted hands off",
		ex: []msg{S(banner), C(ehlo), S(caps), C("STARTTLS\r\n"), S("220 2.0.0 Ready to start TLS\r\n"),
			C("\x16\x03\x01\x00\x05AUTH PLAIN " + b64("\x00x\x00"+secret) + "\r\n")},
		done: true, handoff: true,
	},
	{
		name: "STARTTLS refused, then AUTH in clear",
		ex: []msg{S(banner), C(ehlo), S(caps), C("STARTTLS\r\n"), S("454 4.7.0 TLS not available\r\n"),
			C("AUTH PLAIN " + b64("\x00alerts\x00"+secret) + "\r\n"), S("235 ok\r\n"), C("MAIL FROM:<a@b>\r\n"), S("250 ok\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/alerts", hashes: []string{secret}, done: true,
	},
	{
		name: "credentials before STARTTLS are reported",
		ex: []msg{S(banner), C(ehlo), S(caps), C("AUTH PLAIN " + b64("\x00alerts\x00"+secret) + "\r\n"), S("535 no\r\n"),
			C("STARTTLS\r\n"), S("220 go ahead\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/alerts", hashes: []string{secret}, done: true, handoff: true,
	},
	{
		name: "MAIL refused for want of AUTH, then AUTH",
		ex: []msg{S(banner), C(ehlo), S(caps), C("MAIL FROM:<alerts@hosp.local>\r\n"), S("530 5.7.0 Authentication required\r\n"),
			C("AUTH LOGIN " + b64("alerts") + "\r\n"), S("334 UGFzc3dvcmQ6\r\n"), C(b64(secret) + "\r\n"), S("235 ok\r\n"),
			C("MAIL FROM:<alerts@hosp.local>\r\n"), S("250 ok\r\n")},
		want: "smtp/smtp-auth-login/AUTH LOGIN/alerts", hashes: []string{secret}, done: true,
	},
	{
		name: "pipelined envelope: done at the MAIL answer",
		ex: []msg{S(banner), C(ehlo), S(caps), C("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
			S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n")},
		done: true,
	},
	{
		name: "pipelined refusals: the DATA refusal ends the body before it begins",
		ex: []msg{S(banner), C(ehlo), S(caps), C("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
			S("530-5.7.0 Authentication\r\n530 5.7.0 required\r\n503 5.5.1 no sender\r\n554 5.5.1 no recipients\r\n"),
			C("AUTH PLAIN " + b64("\x00alerts\x00"+secret) + "\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/alerts", hashes: []string{secret},
	},
	{
		name: "client side only: the body is skipped, commands after it read",
		ex: []msg{C(ehlo + "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n" + message + "RSET\r\nAUTH PLAIN " + b64("\x00after\x00pw") + "\r\nQUIT\r\nAUTH PLAIN " +
			b64("\x00gone\x00gone") + "\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/after", hashes: []string{"pw"}, done: true,
		counters: map[string]uint64{"smtp_body_bytes": uint64(len(message))},
	},
	{
		name: "an empty body ended by a bare LF",
		ex:   []msg{C("EHLO x\nDATA\n.\nAUTH PLAIN " + b64("\x00after\x00pw") + "\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/after", hashes: []string{"pw"},
		counters: map[string]uint64{"smtp_body_bytes": 2},
	},
	{
		name: "BDAT chunks are skipped by count",
		ex: []msg{S(banner), C(ehlo), S(caps), C("MAIL FROM:<a@b>\r\n"), S("530 auth first\r\n"),
			C("BDAT 20\r\nAUTH PLAIN fake\r\n\r\n\r\nBDAT 0 LAST\r\nAUTH PLAIN " + b64("\x00after\x00pw") + "\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/after", hashes: []string{"pw"},
		counters: map[string]uint64{"smtp_body_bytes": 20},
	},
	{
		name: "QUIT ends the dissection",
		ex:   []msg{S(banner), C(ehlo), S(caps), C("QUIT\r\n"), S("221 bye\r\n")},
		done: true,
	},
	{
		name: "oversized lines are skipped, a long SASL response unread",
		ex: []msg{S("220 " + strings.Repeat("x", MaxLine) + "\r\n" + banner), C("EHLO " + strings.Repeat("h", MaxLine) + "\r\n"),
			S(caps), C("AUTH PLAIN\r\n"), S("334 \r\n"), C(strings.Repeat(b64(secret), MaxLine/16) + "\r\n"), S("535 no\r\n"),
			C("AUTH PLAIN " + b64("\x00u\x00"+secret) + "\r\n")},
		want: "smtp/smtp-auth-plain/AUTH PLAIN/u", hashes: []string{secret},
		counters: map[string]uint64{"smtp_oversized_line": 3},
	},
	{
		name: "garbage",
		ex: []msg{S("\x00\x01\xff220\r\n2\r\n99x\r\n"), C("\x00\x01\x02\xff\r\nAUTH\r\nAUTH PLAIN\r\n\x00\x00\r\nAUTH LOGIN\r\n\xff\r\n\r\nBDAT 99999999999999999999\r\n"),
			S("334\r\n")},
		want:     "smtp/smtp-auth-plain/AUTH PLAIN/, smtp/smtp-auth-login/AUTH LOGIN/", // an empty LOGIN password is still a login
		counters: map[string]uint64{"smtp_bad_reply": 3},
	},
}

func TestSessions(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(tc.ex, whole)
			if got := creds(r.h); got != tc.want {
				t.Fatalf("credentials = %q, want %q", got, tc.want)
			}
			if r.done != tc.done || r.handoff != tc.handoff {
				t.Errorf("Done, Handoff = %v, %v, want %v, %v", r.done, r.handoff, tc.done, tc.handoff)
			}
			for i, s := range tc.hashes {
				p, hash := hidden(s)
				if c := r.h.Sink.Credentials[i]; c.Hash != hash || c.Preview != p || c.Flow != flow || !c.FirstSeen.Equal(t0) || c.Count != 1 {
					t.Errorf("credential %d hides the wrong secret: %+v", i, c)
				}
			}
			for name, n := range tc.counters {
				if r.h.Counters[name] != n {
					t.Errorf("counter %s = %d, want %d (all: %v)", name, r.h.Counters[name], n, r.h.Counters)
				}
			}
			if r.h.Sink.Other != 0 || len(r.h.Sink.HTTP)+len(r.h.Sink.MQTT)+len(r.h.Sink.HL7)+len(r.h.Sink.DICOM) != 0 {
				t.Errorf("emitted more than credentials:\n%s", r.h.Sink.Dump())
			}
			r.h.Sink.NoSecret(t, secret, b64(secret), "wrong-one", cramDigest, "body")
			want := r.h.Sink.Dump()
			same := func(how string, got result) {
				t.Helper()
				if got.h.Sink.Dump() != want || got.done != tc.done || got.handoff != tc.handoff {
					t.Fatalf("%s (done %v, handoff %v):\n%s\nwant\n%s", how, got.done, got.handoff, got.h.Sink.Dump(), want)
				}
				for name, n := range tc.counters {
					if got.h.Counters[name] != n {
						t.Fatalf("%s: counter %s = %d, want %d", how, name, got.h.Counters[name], n)
					}
				}
			}
			same("bytewise", run(tc.ex, func(s string) []string { return strings.Split(s, "") }))
			longest := 0
			for _, m := range tc.ex {
				longest = max(longest, len(m.text))
			}
			if longest > 2048 {
				return
			}
			for k := 1; k < longest; k++ {
				same(fmt.Sprintf("cut at %d", k), run(tc.ex, func(s string) []string {
					if k >= len(s) {
						return []string{s}
					}
					return []string{s[:k], s[k:]}
				}))
			}
		})
	}
}

// TestStartTLS follows the upgrade step by step: Done and Handoff only once the 220 line
// is complete; bytes where TLS should begin are counted.
func TestStartTLS(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, answer string
		after          string // server bytes delivered with the answer's line end
		counter        string // the one upgrade counter expected to move
	}{
		{name: "clean", client: "STARTTLS\r\n", answer: "220 2.0.0 Ready\r\n"},
		{name: "multi-line answer", client: "starttls\r\n", answer: "220-2.0.0 Ready\r\n220 go\r\n"},
		{name: "server bytes after the answer", client: "STARTTLS\r\n", answer: "220 Ready\r\n", after: "250 more\r\n",
			counter: "smtp_starttls_trailing_bytes"},
		{name: "client bytes before the answer", client: "STARTTLS\r\nNOOP\r\n", answer: "220 Ready\r\n",
			counter: "smtp_starttls_pipelined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := corpustest.NewHarness(flow)
			st := New(h.Ctx)
			ho := st.(dissect.Handoff)
			for _, m := range []msg{S(banner), C(ehlo), S(caps), C(tc.client)} {
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
				t.Fatal("not handed off after the 220")
			}
			for _, name := range []string{"smtp_starttls_trailing_bytes", "smtp_starttls_pipelined"} {
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

	// A refusal keeps the dissection going; a later STARTTLS may still succeed.
	h := corpustest.NewHarness(flow)
	st := New(h.Ctx)
	for _, m := range []msg{S(banner), C(ehlo), S(caps), C("STARTTLS\r\n"), S("454 4.3.0 try later\r\n")} {
		st.Data(m.dir, []byte(m.text), t0)
	}
	if st.Done() || st.(dissect.Handoff).Handoff() {
		t.Fatal("a refused STARTTLS ended the dissection")
	}
	st.Data(dissect.ClientToServer, []byte("STARTTLS\r\n"), t0)
	st.Data(dissect.ServerToClient, []byte("220 now\r\n"), t0)
	if !st.Done() || !st.(dissect.Handoff).Handoff() {
		t.Fatal("the second STARTTLS was not handed off")
	}
}

func TestGap(t *testing.T) {
	// A gap inside a line discards it.
	h := corpustest.NewHarness(flow)
	st := New(h.Ctx)
	st.Data(dissect.ClientToServer, []byte("EHLO x\r\nAUTH PLAIN "+b64("\x00cut\x00")), t0)
	st.Gap(dissect.ClientToServer, 12)
	st.Data(dissect.ClientToServer, []byte("tail\r\nAUTH PLAIN "+b64("\x00next\x00pw")+"\r\n"), t0)
	st.End(t0)
	if got := creds(h); got != "smtp/smtp-auth-plain/AUTH PLAIN/next" || h.Counters["smtp_gap"] != 1 {
		t.Fatalf("credentials = %q, counters %v", got, h.Counters)
	}

	// A gap inside a body keeps to the body: message text is not read as commands.
	h = corpustest.NewHarness(flow)
	st = New(h.Ctx)
	st.Data(dissect.ClientToServer, []byte("DATA\r\nSubject: x\r\n"), t0)
	st.Gap(dissect.ClientToServer, 500)
	st.Data(dissect.ClientToServer, []byte("more text\r\nAUTH PLAIN "+b64("\x00body\x00x")+"\r\n.\r\nAUTH PLAIN "+b64("\x00after\x00y")+"\r\n"), t0)
	st.End(t0)
	if got := creds(h); got != "smtp/smtp-auth-plain/AUTH PLAIN/after" {
		t.Fatalf("credentials = %q", got)
	}

	// A gap inside a BDAT chunk keeps the count.
	h = corpustest.NewHarness(flow)
	st = New(h.Ctx)
	st.Data(dissect.ClientToServer, []byte("BDAT 1000 LAST\r\n"+strings.Repeat("x", 100)), t0)
	st.Gap(dissect.ClientToServer, 800)
	st.Data(dissect.ClientToServer, []byte(strings.Repeat("x", 100)+"AUTH PLAIN "+b64("\x00after\x00y")+"\r\n"), t0)
	st.End(t0)
	if got := creds(h); got != "smtp/smtp-auth-plain/AUTH PLAIN/after" {
		t.Fatalf("credentials = %q", got)
	}

	// A server gap loses the 235; the STARTTLS answer is still recognised.
	h = corpustest.NewHarness(flow)
	st = New(h.Ctx)
	st.Data(dissect.ServerToClient, []byte(banner), t0)
	st.Data(dissect.ClientToServer, []byte(ehlo), t0)
	st.Gap(dissect.ServerToClient, 300)
	st.Data(dissect.ClientToServer, []byte("STARTTLS\r\n"), t0)
	st.Data(dissect.ServerToClient, []byte("\r\n220 ready\r\n"), t0)
	if !st.Done() || !st.(dissect.Handoff).Handoff() {
		t.Fatal("STARTTLS after a server gap was not handed off")
	}
}

func TestBodyNotBuffered(t *testing.T) {
	h := corpustest.NewHarness(flow)
	st := New(h.Ctx)
	st.Data(dissect.ClientToServer, []byte("DATA\r\n"), t0)
	chunk := []byte(strings.Repeat(strings.Repeat("y", 70)+"\r\n", 900))
	if n := testing.AllocsPerRun(100, func() { st.Data(dissect.ClientToServer, chunk, t0) }); n != 0 {
		t.Errorf("skipping a body allocates %v per call", n)
	}
	st.Data(dissect.ClientToServer, []byte("BDAT 99999999999\r\n"), t0) // still in the body: ignored
	st.Data(dissect.ClientToServer, []byte(".\r\nBDAT 999999999999\r\n"), t0)
	if n := testing.AllocsPerRun(100, func() { st.Data(dissect.ClientToServer, chunk, t0) }); n != 0 {
		t.Errorf("skipping a chunk allocates %v per call", n)
	}
}

func TestDetect(t *testing.T) {
	y, ys, n, m := dissect.Match{Verdict: dissect.Yes, FromClient: true}, yesServer, dissect.Match{}, needMore
	for _, tc := range []struct {
		in   string
		want dissect.Match
	}{
		{"220 mx.hosp.local ESMTP Postfix\r\n", ys},
		{"220-mx.hosp.local ESMTP Exim 4.96\r\n220 hi\r\n", ys},
		{"220 mail.example.org Microsoft ESMTP MAIL Service ready\r\n", ys},
		{"220 smtp.example.org", ys}, // no line end yet, but already SMTP
		{"220 ProFTPD ready\r\n", n},
		{"220 ProFTPD", m},
		{"220-Welcome\r\n220 ESMTP\r\n", n}, // only the first line counts
		{"22", m},
		{"", m},
		{"EHLO pump7\r\n", y},
		{"ehlo pump7\r\n", y},
		{"HELO [10.1.1.1]\r\n", y},
		{"EHL", m},
		{"EHLOx", n},
		{"USER bob\r\n", n},
		{"+OK\r\n", n},
		{"\x16\x03\x01", n},
	} {
		if got := Detect([]byte(tc.in)); got != tc.want {
			t.Errorf("Detect(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if Dissector.Name != "smtp" || Dissector.New == nil || Dissector.Detect == nil {
		t.Fatal("Dissector")
	}
}

// TestDetectExclusive checks that no prefix of an SMTP or FTP opening is claimed by both
// this package and a loginwire detector.
func TestDetectExclusive(t *testing.T) {
	for _, open := range []string{
		banner, "220-mx ESMTP\r\n220 ok\r\n", "220 ProFTPD 1.3.8 Server ready.\r\n", "220-Welcome to SMTP-less FTP\r\n",
		"220 mail\r\n", "220 Microsoft FTP Service\r\n", "EHLO NOOP\r\n", "HELO LOGIN x\r\n", "ehlo CAPABILITY\r\n",
	} {
		for k := 0; k <= len(open); k++ {
			exclusive(t, []byte(open[:k]))
		}
	}
}

func exclusive(t testing.TB, b []byte) {
	t.Helper()
	if Detect(b).Verdict != dissect.Yes {
		return
	}
	for _, d := range []dissect.Dissector{loginwire.FTP, loginwire.POP3, loginwire.IMAP} {
		if d.Detect(b).Verdict == dissect.Yes {
			t.Fatalf("%q is claimed by both smtp and %s", b, d.Name)
		}
	}
}

// FuzzStream feeds arbitrary client and server bytes, cut and with a gap, and checks the
// detector against loginwire's on both openings.
func FuzzStream(f *testing.F) {
	for _, tc := range cases {
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
		f.Add([]byte(c.String()), []byte(s.String()), uint16(7), uint16(0))
	}
	f.Add([]byte("STARTTLS\r\n"), []byte(banner+"220 go\r\n\x16\x03\x03"), uint16(40), uint16(3))
	f.Add([]byte("220 AASMTP"), []byte("220 LOGIN SMTP"), uint16(7), uint16(0)) // once claimed by IMAP too
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16) {
		exclusive(t, client)
		exclusive(t, server)
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
			if len(c.User) > maxUser || len(c.Hash) != 32 || len(c.Preview) > 32 || c.Protocol != "smtp" {
				t.Fatalf("credential %+v", c)
			}
		}
		if h.Sink.Other != 0 {
			t.Fatal("emitted something other than credentials")
		}
	})
}
