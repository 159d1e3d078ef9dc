package httpwire

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/observe"
)

var (
	flow = observe.Flow{
		Client: netip.MustParseAddrPort("10.1.1.1:50000"),
		Server: netip.MustParseAddrPort("10.2.2.2:80"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// run feeds client then server parts to a fresh dissector and ends it.
func run(client, server [][]byte) *corpustest.Harness {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	for _, p := range client {
		d.Data(dissect.ClientToServer, p, t0)
	}
	for _, p := range server {
		d.Data(dissect.ServerToClient, p, t0)
	}
	d.End(t0)
	return h
}

type httpCase struct {
	name    string
	client  string
	server  string
	secrets []string
	check   func(t *testing.T, h *corpustest.Harness)
}

func wantStatuses(t *testing.T, h *corpustest.Harness, want ...string) {
	t.Helper()
	var got []string
	for _, r := range h.Sink.HTTP {
		got = append(got, r.Method+" "+r.Path+" "+itoa(r.Status))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("requests = %q, want %q", got, want)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func cred(t *testing.T, h *corpustest.Harness, kind, where, user string) observe.Credential {
	t.Helper()
	for _, c := range h.Sink.Credentials {
		if c.Kind == kind && c.Where == where && c.User == user {
			if c.Protocol != "http" || c.Hash == "" || c.Preview == "" || c.Flow != flow {
				t.Errorf("credential incomplete: %+v", c)
			}
			return c
		}
	}
	t.Fatalf("no credential %s/%s/%s in %+v", kind, where, user, h.Sink.Credentials)
	return observe.Credential{}
}

// ntlmAuthenticate builds a minimal NTLM type 3 message for DOMAIN\user.
func ntlmAuthenticate(domain, user string) string {
	enc := func(s string) []byte {
		u := utf16.Encode([]rune(s))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			binary.LittleEndian.PutUint16(b[2*i:], c)
		}
		return b
	}
	d, u := enc(domain), enc(user)
	msg := make([]byte, 64)
	copy(msg, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(msg[8:], 3)
	binary.LittleEndian.PutUint16(msg[28:], uint16(len(d)))
	binary.LittleEndian.PutUint32(msg[32:], 64)
	binary.LittleEndian.PutUint16(msg[36:], uint16(len(u)))
	binary.LittleEndian.PutUint32(msg[40:], uint32(64+len(d)))
	binary.LittleEndian.PutUint32(msg[60:], 1) // NTLMSSP_NEGOTIATE_UNICODE
	msg = append(append(msg, d...), u...)
	msg = append(msg, "ntlm-response-bytes-secret"...)
	return base64.StdEncoding.EncodeToString(msg)
}

var httpCases = []httpCase{
	{
		// What small devices send: bare LF line ends, a folded header, a status line
		// without a reason phrase.
		name:   "bare LF, folded header, no reason phrase",
		client: "POST /api/v1/infusions HTTP/1.1\nHost: pump.local\nX-Note: first\n  continued\nContent-Length: 2\n\n{}",
		server: "HTTP/1.1 201\nContent-Length: 0\n\n",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "POST /api/v1/infusions 201")
			if r := h.Sink.HTTP[0]; r.HostHeader != "pump.local" {
				t.Errorf("request = %+v", r)
			}
		},
	},
	{
		// A weather station's firmware writes "HTTP/1.0.8"; the server answered 200, so
		// the request (a password in its URL) is read, not lost to resynchronisation.
		name:    "odd request version answered by the server",
		client:  "GET /weatherstation/updateweatherstation.php?ID=KX42&PASSWORD=Wx!2026 HTTP/1.0.8\r\nHost: wx.local\r\n\r\n",
		server:  "HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nsuccess",
		secrets: []string{"Wx!2026"},
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "GET /{id}/{id}.php 200") // templated: the path is not a known API word
			if r := h.Sink.HTTP[0]; strings.Join(r.QueryKeys, ",") != "{id},PASSWORD" {
				t.Errorf("request = %+v", r)
			}
		},
	},
	{
		name: "basic auth with response",
		client: "GET /api/v1/patients?page=2&sort=name HTTP/1.1\r\nHost: emr.local:8080\r\nUser-Agent: pump/1.0\r\n" +
			"Authorization: Basic  " + b64("nurse:S3cretPassw0rd!") + "\r\nCookie: sid=abc\r\n\r\n",
		server:  "HTTP/1.1 200 OK\r\nServer: Apache/2.2\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"ok\": true}\n",
		secrets: []string{"S3cretPassw0rd!", b64("nurse:S3cretPassw0rd!")},
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "GET /api/v1/patients 200")
			r := h.Sink.HTTP[0]
			if r.HostHeader != "emr.local:8080" || r.UserAgent != "pump/1.0" || r.AuthScheme != "Basic" || !r.HasCookie ||
				r.Server != "Apache/2.2" || r.RespContentType != "application/json" || r.Flow != flow || r.Count != 1 ||
				strings.Join(r.QueryKeys, ",") != "page,sort" {
				t.Errorf("request = %+v", r)
			}
			c := cred(t, h, "http-basic", "Authorization", "nurse")
			p, hash := observe.NewSecretHasher(corpustest.Key).Hide([]byte("S3cretPassw0rd!"))
			if c.Preview != p || c.Hash != hash {
				t.Errorf("credential hides the wrong secret: %+v", c)
			}
		},
	},
	{
		name: "pipelined keep-alive with HEAD, 204, 304 and a body",
		client: "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
			"HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n" +
			"POST /c HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello" +
			"\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n" +
			"GET /e HTTP/1.0\r\n\r\n",
		server: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" +
			"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" +
			"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n" +
			"HTTP/1.1 304 Not Modified\r\n\r\n" +
			"HTTP/1.0 404 Not Found\r\nServer: old\r\n\r\nbody until close\r\nHTTP/1.1 999 not parsed\r\n\r\n",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "GET /a 200", "HEAD /{id} 200", "POST /{id} 204", "GET /{id} 304", "GET /{id} 404")
			if h.Sink.HTTP[2].ContentType != "text/plain" {
				t.Errorf("content type lost: %+v", h.Sink.HTTP[2])
			}
		},
	},
	{
		name: "chunked request and response, 100-continue, trailers",
		client: "PUT /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" +
			"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n" +
			"GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
		server: "HTTP/1.1 100 Continue\r\n\r\n" +
			"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "PUT /{id} 201", "GET /next 200")
		},
	},
	{
		name:   "response without a request (one direction captured)",
		server: "HTTP/1.1 401 Unauthorized\nServer: GoAhead-Webs\nContent-Type: text/html\nContent-Length: 2\n\nno",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "  401")
			if h.Sink.HTTP[0].Server != "GoAhead-Webs" || h.Sink.HTTP[0].Flow != flow {
				t.Errorf("response = %+v", h.Sink.HTTP[0])
			}
		},
	},
	{
		name:   "request without a response is emitted at End",
		client: "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nPROPFIND /dav HTTP/1.1\r\n\r\n",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "OPTIONS * 0", "PROPFIND /{id} 0")
		},
	},
	{
		name: "secret query parameters: names kept, values hidden",
		client: "GET /login?user=bob&Password=hunter2%21xyz&token=&x&sig=abc+def&key=k3y HTTP/1.1\r\nHost: x\r\n\r\n" +
			"GET http://admin:Pr0xyPassw0rd@device.local:8080/cfg?apikey=Zz9 HTTP/1.1\r\n\r\n",
		secrets: []string{"hunter2", "abc+def", "abc def", "k3y", "Pr0xyPassw0rd", "Zz9"},
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "GET /login 0", "GET /{id} 0")
			if got := strings.Join(h.Sink.HTTP[0].QueryKeys, ","); got != "user,Password,token,{id},sig,key" {
				t.Errorf("query keys = %s", got)
			}
			if h.Sink.HTTP[1].HostHeader != "device.local:8080" {
				t.Errorf("proxy host = %q", h.Sink.HTTP[1].HostHeader)
			}
			c := cred(t, h, "url-secret", "Password", "")
			p, _ := observe.NewSecretHasher(corpustest.Key).Hide([]byte("hunter2!xyz"))
			if c.Preview != p {
				t.Errorf("percent-decoding: %+v", c)
			}
			cred(t, h, "url-secret", "sig", "")
			cred(t, h, "url-secret", "key", "")
			cred(t, h, "url-secret", "apikey", "")
			cred(t, h, "url-userinfo", "url", "admin")
			if len(h.Sink.Credentials) != 5 {
				t.Errorf("credentials = %+v (the empty token= must not count)", h.Sink.Credentials)
			}
		},
	},
	{
		name: "API-key headers, but not anti-CSRF tokens",
		client: "POST /v2/obs HTTP/1.1\r\nHost: x\r\nX-API-Key: AKIAXXXXSECRET1\r\nX-CSRF-Token: notasecret\r\n" +
			"x-amz-security-token: SESSIONSECRET2\r\nOcp-Apim-Subscription-Key: SUBSECRET3\r\nX-Request-ID: 1\r\n" +
			"Content-Length: 0\r\n\r\n",
		secrets: []string{"AKIAXXXXSECRET1", "SESSIONSECRET2", "SUBSECRET3"},
		check: func(t *testing.T, h *corpustest.Harness) {
			r := h.Sink.HTTP[0]
			if got := strings.Join(r.APIKeyHeaders, ","); got != "X-API-Key,x-amz-security-token,Ocp-Apim-Subscription-Key" {
				t.Errorf("api key headers = %s", got)
			}
			if r.AuthScheme != "" {
				t.Errorf("auth scheme = %q", r.AuthScheme)
			}
			cred(t, h, "api-key-header", "X-API-Key", "")
			cred(t, h, "api-key-header", "x-amz-security-token", "")
			cred(t, h, "api-key-header", "Ocp-Apim-Subscription-Key", "")
			if len(h.Sink.Credentials) != 3 {
				t.Errorf("credentials = %+v", h.Sink.Credentials)
			}
		},
	},
	{
		name: "every authorization scheme",
		client: "GET /1 HTTP/1.1\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig\r\n\r\n" +
			"GET /2 HTTP/1.1\r\nAuthorization: Digest username=\"tech\", realm=\"r\", nonce=\"n\", uri=\"/2\", response=\"6629fae49393a05397450978507c4ef1\"\r\n\r\n" +
			"GET /3 HTTP/1.1\r\nAuthorization: NTLM " + ntlmAuthenticate("HOSP", "svc_pacs") + "\r\n\r\n" +
			"GET /4 HTTP/1.1\r\nAuthorization: Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag\r\n\r\n" +
			"GET /5 HTTP/1.1\r\nAuthorization: OpaqueAbcdefSecretToken1234567890\r\n\r\n" +
			"GET /6 HTTP/1.1\r\nProxy-Authorization: basic " + b64("proxyuser:ProxyPw99") + "\r\n\r\n" +
			"GET /7 HTTP/1.1\r\nAuthorization: CustomScheme k=v1secret\r\n\r\n" +
			"GET /8 HTTP/1.1\r\nAuthorization: Basic !!notbase64secret!!\r\n\r\n",
		secrets: []string{"eyJhbGciOiJIUzI1NiJ9", "6629fae49393a05397450978507c4ef1", "YIIGhgYGKwYBBQUCoIIGejCCBnag",
			"OpaqueAbcdefSecretToken1234567890", "ProxyPw99", "v1secret", "notbase64secret", "ntlm-response"},
		check: func(t *testing.T, h *corpustest.Harness) {
			var schemes []string
			for _, r := range h.Sink.HTTP {
				schemes = append(schemes, r.AuthScheme)
			}
			if got := strings.Join(schemes, ","); got != "Bearer,Digest,NTLM,Negotiate,bare,,CustomScheme,Basic" {
				t.Errorf("schemes = %s", got)
			}
			cred(t, h, "http-bearer", "Authorization", "")
			cred(t, h, "http-digest", "Authorization", "tech")
			cred(t, h, "http-ntlm", "Authorization", `HOSP\svc_pacs`)
			cred(t, h, "http-negotiate", "Authorization", "")
			cred(t, h, "http-bare-token", "Authorization", "")
			cred(t, h, "http-basic", "Proxy-Authorization", "proxyuser")
			cred(t, h, "http-customscheme", "Authorization", "")
			cred(t, h, "http-basic", "Authorization", "")
		},
	},
	{
		name:   "garbage before a request resynchronises",
		client: "\x16\x03\x01garbage line\r\nmore junk\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n",
		server: "junk\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "GET /{id} 200")
			if h.Counters["http_resync"] != 2 {
				t.Errorf("counters = %v", h.Counters)
			}
		},
	},
	{
		name: "oversized header line and too many headers",
		client: "GET /big HTTP/1.1\r\nX-Huge: " + strings.Repeat("A", MaxLine+10) + "\r\n" +
			strings.Repeat("X-Filler: 1\r\n", MaxHeaders+5) + "User-Agent: late\r\nContent-Length: 2\r\n\r\nhi" +
			"GET /after HTTP/1.1\r\n\r\n",
		server: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "GET /{id} 200", "GET /{id} 200")
			if h.Sink.HTTP[0].UserAgent != "" || h.Counters["http_oversized_headers"] != 1 {
				t.Errorf("request = %+v, counters = %v", h.Sink.HTTP[0], h.Counters)
			}
		},
	},
	{
		name:   "CONNECT tunnel ends the dissection",
		client: "CONNECT pacs.local:443 HTTP/1.1\r\nHost: pacs.local:443\r\n\r\n\x16\x03\x01\x02\x00",
		server: "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "CONNECT pacs.local:443 200")
		},
	},
	{
		name:   "absurd content length and bad chunk sizes",
		client: "POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\nGET /y HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /z HTTP/1.1\r\n\r\n",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "POST /{id} 0", "GET /{id} 0", "GET /{id} 0")
		},
	},
	{
		name: "conflicting content lengths",
		client: "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello\r\n" +
			"GET /y HTTP/1.1\r\n\r\n",
		check: func(t *testing.T, h *corpustest.Harness) {
			wantStatuses(t, h, "POST /{id} 0", "GET /{id} 0")
		},
	},
}

func TestHTTP(t *testing.T) {
	for _, tc := range httpCases {
		t.Run(tc.name, func(t *testing.T) {
			whole := run([][]byte{[]byte(tc.client)}, [][]byte{[]byte(tc.server)})
			tc.check(t, whole)
			whole.Sink.NoSecret(t, tc.secrets...)
			if whole.Sink.Other != 0 {
				t.Errorf("emitted %d unrelated observations", whole.Sink.Other)
			}
			want := whole.Sink.Dump()
			if len(tc.client)+len(tc.server) > 4096 {
				// Large cases: bytewise only.
				got := run(corpustest.Splits([]byte(tc.client))[1], corpustest.Splits([]byte(tc.server))[1])
				if got.Sink.Dump() != want {
					t.Fatalf("bytewise feeding differs:\n%s\nwant\n%s", got.Sink.Dump(), want)
				}
				return
			}
			for i, parts := range corpustest.Splits([]byte(tc.client)) {
				if got := run(parts, [][]byte{[]byte(tc.server)}).Sink.Dump(); got != want {
					t.Fatalf("client split %d differs:\n%s\nwant\n%s", i, got, want)
				}
			}
			for i, parts := range corpustest.Splits([]byte(tc.server)) {
				if got := run([][]byte{[]byte(tc.client)}, parts).Sink.Dump(); got != want {
					t.Fatalf("server split %d differs:\n%s\nwant\n%s", i, got, want)
				}
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in         string
		verdict    dissect.Verdict
		fromServer bool
	}{
		{"GET / HTTP/1.1\r\n", dissect.Yes, false},
		{"POST /x", dissect.Yes, false},
		{"OPTIONS *", dissect.Yes, false},
		{"CONNECT a:443 ", dissect.Yes, false},
		{"HTTP/1.1 200 OK\r\n", dissect.Yes, true},
		{"HTTP/1.", dissect.Yes, true},
		{"", dissect.NeedMore, false},
		{"G", dissect.NeedMore, false},
		{"OPTION", dissect.NeedMore, false},
		{"HTTP/", dissect.NeedMore, false},
		{"GETX /", dissect.No, false},
		{"get / HTTP/1.1", dissect.No, false},
		{"HTTP/2.0 200", dissect.No, false},
		{"\x16\x03\x01", dissect.No, false},
		{"SSH-2.0-OpenSSH", dissect.No, false},
	} {
		m := Detect([]byte(tc.in))
		if m.Verdict != tc.verdict || m.FromServer != tc.fromServer {
			t.Errorf("Detect(%q) = %+v, want %v/%v", tc.in, m, tc.verdict, tc.fromServer)
		}
	}
	if Dissector.Name != "http" || Dissector.New == nil || Dissector.Detect == nil {
		t.Fatal("Dissector not wired")
	}
}

func TestGaps(t *testing.T) {
	t.Run("inside a known-length body keeps pairing", func(t *testing.T) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		d.Data(dissect.ClientToServer, []byte("POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789"), t0)
		d.Gap(dissect.ClientToServer, 50)
		d.Data(dissect.ClientToServer, []byte(strings.Repeat("x", 40)+"GET /b HTTP/1.1\r\n\r\n"), t0)
		d.Data(dissect.ServerToClient, []byte("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"), t0)
		d.End(t0)
		wantStatuses(t, h, "POST /a 201", "GET /{id} 200")
	})
	t.Run("in headers resynchronises and stops pairing", func(t *testing.T) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		d.Data(dissect.ClientToServer, []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo"), t0)
		d.Gap(dissect.ClientToServer, 300)
		d.Data(dissect.ClientToServer, []byte("st: y\r\n\r\nGET /c HTTP/1.1\r\n\r\n"), t0)
		d.Data(dissect.ServerToClient, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"), t0)
		d.End(t0)
		wantStatuses(t, h, "GET /a 0", "GET /{id} 0", "  200", "  404")
		if h.Counters["http_gap"] != 1 || h.Counters["http_resync"] != 1 {
			t.Errorf("counters = %v", h.Counters)
		}
	})
	t.Run("server gap in a chunked body resynchronises at a status line", func(t *testing.T) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		d.Data(dissect.ClientToServer, []byte("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"), t0)
		d.Data(dissect.ServerToClient, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nabc"), t0)
		d.Gap(dissect.ServerToClient, 1000)
		d.Data(dissect.ServerToClient, []byte("tail of something\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"), t0)
		d.End(t0)
		wantStatuses(t, h, "GET /a 200", "GET /{id} 0", "  500")
	})
}

func TestBigBodyCostsNothing(t *testing.T) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	const size = 100 << 20
	d.Data(dissect.ClientToServer, []byte("POST /upload HTTP/1.1\r\nContent-Length: "+itoa(size)+"\r\n\r\n"), t0)
	chunk := bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 4096) // 64 KiB of request-looking body
	allocs := testing.AllocsPerRun(size/len(chunk)-1, func() { d.Data(dissect.ClientToServer, chunk, t0) })
	if allocs != 0 {
		t.Errorf("skipping a body allocates %v per call", allocs)
	}
	// AllocsPerRun ran the function once more than asked: exactly size bytes were fed.
	d.Data(dissect.ClientToServer, []byte("GET /after HTTP/1.1\r\n\r\n"), t0)
	d.End(t0)
	wantStatuses(t, h, "POST /upload 0", "GET /{id} 0")
}

func TestPendingBound(t *testing.T) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	for i := 0; i < MaxPending+10; i++ {
		d.Data(dissect.ClientToServer, []byte("GET /x HTTP/1.1\r\n\r\n"), t0)
	}
	if len(h.Sink.HTTP) != 10 || h.Counters["http_unanswered_dropped"] != 10 {
		t.Fatalf("emitted %d, counters %v", len(h.Sink.HTTP), h.Counters)
	}
	d.End(t0)
	if len(h.Sink.HTTP) != MaxPending+10 {
		t.Fatalf("emitted %d after End", len(h.Sink.HTTP))
	}
}

func TestDoneOnlyForTunnels(t *testing.T) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	d.Data(dissect.ClientToServer, []byte("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), t0)
	if d.Done() {
		t.Fatal("done before the upgrade was answered")
	}
	d.Data(dissect.ServerToClient, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"), t0)
	if !d.Done() {
		t.Fatal("not done after 101")
	}
	d.End(t0)
	wantStatuses(t, h, "GET /{id} 101")
}
