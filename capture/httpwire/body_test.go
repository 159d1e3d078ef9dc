package httpwire

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/observe"
)

// post builds a request with the given headers and body, Content-Length framed.
func post(path, headers, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: pump.local\r\n%sContent-Length: %d\r\n\r\n%s", path, headers, len(body), body)
}

const ok200 = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"

// TestRequestBodyCredentials checks which request bodies yield credentials, under which
// kind and field names, that the record names the fields and is a login, and that no
// value of the body is kept anywhere but in the credential's hash and preview.
func TestRequestBodyCredentials(t *testing.T) {
	long := strings.Repeat("a", MaxBodyScan)
	tests := []struct {
		name     string
		client   [][]byte // sent in these pieces
		kind     string   // credential kind, "" for none
		where    []string // field names reported, in order
		secrets  []string // values hashed, in order of where
		counters map[string]uint64
		login    bool
	}{
		{name: "form login", client: pieces(post("/login", "Content-Type: application/x-www-form-urlencoded\r\n",
			"user=nurse7&password=Pl%40nted+Pw1&remember=on")),
			kind: "form-field", where: []string{"password"}, secrets: []string{"Pl@nted Pw1"}, login: true},
		{name: "form nested name", client: pieces(post("/x", "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n",
			"user%5Bemail%5D=a%40b&user%5Bpassword%5D=Br4ck3ted-Pw")),
			kind: "form-field", where: []string{"password"}, secrets: []string{"Br4ck3ted-Pw"}, login: true},
		{name: "form csrf token is not a credential", client: pieces(post("/x", "Content-Type: application/x-www-form-urlencoded\r\n",
			"csrf_token=abcdef0123456789&nextToken=2&note=hello")), kind: ""},
		{name: "form empty password", client: pieces(post("/x", "Content-Type: application/x-www-form-urlencoded\r\n",
			"password=&pin")), kind: ""},
		{name: "json login", client: pieces(post("/api/v4/users/login", "Content-Type: application/json\r\n",
			`{"login":"nurse7","password":"Js0n-Pl4nted\u0021","remember":true}`)),
			kind: "json-field", where: []string{"password"}, secrets: []string{"Js0n-Pl4nted!"}, login: true},
		{name: "json without content type", client: pieces(post("/x", "",
			` {"apiKey":"K3y-0123456789","n":1}`)),
			kind: "json-field", where: []string{"apiKey"}, secrets: []string{"K3y-0123456789"}, login: true},
		{name: "no content type, not json", client: pieces(post("/x", "", `password=Plain-Not-Read`)), kind: ""},
		{name: "json nested and numeric pin", client: pieces(post("/x", "Content-Type: application/vnd.pump+json\r\n",
			`{"device":{"id":"p-17","auth":{"client_secret":"Cl1ent-S3cret","pin":4711}},"list":[{"token":"T0k-in-array-obj"}],"x":null}`)),
			kind: "json-field", where: []string{"client_secret", "pin", "token"}, secrets: []string{"Cl1ent-S3cret", "4711", "T0k-in-array-obj"}, login: true},
		{name: "json too deep is skipped", client: pieces(post("/x", "Content-Type: application/json\r\n",
			`{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"password":"Too-Deep-0"}}}}}}}},"pwd":"Sh4llow-Pw"}`)),
			kind: "json-field", where: []string{"pwd"}, secrets: []string{"Sh4llow-Pw"}, login: true},
		{name: "json array of strings under a secret name", client: pieces(post("/x", "Content-Type: application/json\r\n",
			`{"password":["a","b"],"note":"password"}`)), kind: ""},
		{name: "other media type is not read", client: pieces(post("/x", "Content-Type: text/plain\r\n",
			`{"password":"Not-Read-1"}`)), kind: ""},
		{name: "chunked json", client: pieces("POST /api/session HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			chunked([]byte(`{"username":"u","passwd":"Chunk3d-Secret-Value"}`), 7)),
			kind: "json-field", where: []string{"passwd"}, secrets: []string{"Chunk3d-Secret-Value"}, login: true},
		{name: "split in tiny pieces", client: splitEvery(post("/login", "Content-Type: application/x-www-form-urlencoded\r\n",
			"pass=Sp1it-Pieces&x=1"), 3),
			kind: "form-field", where: []string{"pass"}, secrets: []string{"Sp1it-Pieces"}, login: true},
		{name: "body beyond the window", client: pieces(post("/x", "Content-Type: application/x-www-form-urlencoded\r\n",
			"secret=W1ndow-Secret&pad="+long+"&password=Beyond-Window")),
			kind: "form-field", where: []string{"secret"}, secrets: []string{"W1ndow-Secret"}, login: true,
			counters: map[string]uint64{"http_body_scan_truncated": 1}},
		{name: "login path without a body", client: pieces("POST /oauth/token HTTP/1.1\r\n\r\n"), kind: "", login: true},
		{name: "a GET of a login word logs nobody in", client: pieces("GET /api/sessions HTTP/1.1\r\n\r\n"), kind: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := run(tc.client, [][]byte{[]byte(ok200)})
			var where []string
			for _, c := range h.Sink.Credentials {
				if c.Kind != tc.kind || c.User != "" || c.Protocol != "http" {
					t.Errorf("credential %+v, want kind %q without a user", c, tc.kind)
				}
				where = append(where, c.Where)
				i := len(where) - 1
				if i < len(tc.secrets) && c.Hash != observe.NewSecretHasher(corpustest.Key).Hash([]byte(tc.secrets[i])) {
					t.Errorf("credential %s: hash of something other than %q", c.Where, tc.secrets[i])
				}
			}
			if !slices.Equal(where, tc.where) {
				t.Errorf("credentials at %q, want %q", where, tc.where)
			}
			if len(h.Sink.HTTP) != 1 {
				t.Fatalf("%d requests, want 1: %+v", len(h.Sink.HTTP), h.Sink.HTTP)
			}
			r := h.Sink.HTTP[0]
			if r.Status != 200 || r.Login != tc.login || !slices.Equal(r.BodySecretKeys, tc.where) {
				t.Errorf("request %+v: want status 200, login %v, body keys %q", r, tc.login, tc.where)
			}
			for name, n := range tc.counters {
				if h.Counters[name] != n {
					t.Errorf("counter %s = %d, want %d", name, h.Counters[name], n)
				}
			}
			noSecretKept(t, h, tc.secrets...)
		})
	}
}

// TestRequestBodyCut checks bodies cut by a gap and by the end of the capture: what came
// before the cut is read, a value the cut may have shortened is not, and the cut is
// counted.
func TestRequestBodyCut(t *testing.T) {
	body := "password=Bef0re-Gap&token=Cut-Value-Partial"
	req := post("/login", "Content-Type: application/x-www-form-urlencoded\r\n", body)
	cut := strings.Index(req, "Partial")

	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	d.Data(dissect.ClientToServer, []byte(req[:cut]), t0)
	d.Gap(dissect.ClientToServer, 3)
	d.Data(dissect.ClientToServer, []byte(req[cut+3:]), t0)
	d.Data(dissect.ServerToClient, []byte(ok200), t0)
	d.End(t0)
	if len(h.Sink.Credentials) != 1 || h.Sink.Credentials[0].Where != "password" {
		t.Errorf("credentials %+v, want the password before the gap only", h.Sink.Credentials)
	}
	if h.Counters["http_body_scan_lost"] != 1 {
		t.Errorf("counters %v: want http_body_scan_lost 1", h.Counters)
	}
	if len(h.Sink.HTTP) != 1 || !slices.Equal(h.Sink.HTTP[0].BodySecretKeys, []string{"password"}) || h.Sink.HTTP[0].Status != 200 {
		t.Errorf("requests %+v: want the login, answered, naming its password field", h.Sink.HTTP)
	}

	// The capture ends inside a JSON string: the complete member before it is read.
	h = corpustest.NewHarness(flow)
	d = New(h.Ctx)
	req = post("/x", "Content-Type: application/json\r\n", `{"pin":"0042","password":"Never-Ends-Here`)
	d.Data(dissect.ClientToServer, []byte(req[:strings.Index(req, "Ends")]), t0)
	d.End(t0)
	var where []string
	for _, c := range h.Sink.Credentials {
		where = append(where, c.Where)
	}
	if !slices.Equal(where, []string{"pin"}) || h.Counters["http_body_scan_lost"] != 1 {
		t.Errorf("credentials at %q, counters %v: want pin only, http_body_scan_lost 1", where, h.Counters)
	}
	if len(h.Sink.HTTP) != 1 || !h.Sink.HTTP[0].Login {
		t.Errorf("requests %+v: want one login, unanswered", h.Sink.HTTP)
	}

	// After a gap the requests are no longer paired: a request whose body is read is held
	// until its body ends, then emitted with its field names.
	h = corpustest.NewHarness(flow)
	d = New(h.Ctx)
	d.Gap(dissect.ClientToServer, 10)
	d.Data(dissect.ClientToServer, []byte(post("/x", "Content-Type: application/json\r\n", `{"secret":"After-The-Gap"}`)), t0)
	d.End(t0)
	if len(h.Sink.HTTP) != 1 || !slices.Equal(h.Sink.HTTP[0].BodySecretKeys, []string{"secret"}) {
		t.Errorf("requests %+v: want one naming its secret field", h.Sink.HTTP)
	}
}

// TestRequestBodyAnsweredEarly checks a server that answers before the request body has
// ended: the credential is still reported, and the record that left without the field
// names is counted.
func TestRequestBodyAnsweredEarly(t *testing.T) {
	req := post("/login", "Content-Type: application/x-www-form-urlencoded\r\n", "pwd=Early-Answer-Pw")
	at := strings.Index(req, "Early")
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	d.Data(dissect.ClientToServer, []byte(req[:at]), t0)
	d.Data(dissect.ServerToClient, []byte(ok200), t0)
	d.Data(dissect.ClientToServer, []byte(req[at:]), t0)
	d.End(t0)
	if len(h.Sink.Credentials) != 1 || h.Counters["http_body_keys_late"] != 1 {
		t.Errorf("credentials %+v, counters %v: want one, and http_body_keys_late 1", h.Sink.Credentials, h.Counters)
	}
	if len(h.Sink.HTTP) != 1 || !h.Sink.HTTP[0].Login {
		t.Errorf("requests %+v: want the login (by its path)", h.Sink.HTTP)
	}
}

// TestDescriptors checks that device descriptions are told apart from APIs: by a UPnP
// root element in the body (however it is split), by DIAL's Application-URL header, and
// by their paths.
func TestDescriptors(t *testing.T) {
	upnp := `<?xml version="1.0"?>` + "\r\n" + `<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major></specVersion></root>`
	tests := []struct {
		name           string
		client, server string
		split          int
		desc, api      string
	}{
		{"upnp root in the body", "GET /upnp/dev/1234/desc HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nContent-Length: " + itoa(len(upnp)) + "\r\n\r\n" + upnp, 0, observe.DescriptorUPnP, ""},
		{"upnp root split", "GET /upnp/dev/1234/desc HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: " + itoa(len(upnp)) + "\r\n\r\n" + upnp, 110, observe.DescriptorUPnP, ""},
		{"upnp root chunked", "GET /d HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked([]byte(upnp), 9), 0, observe.DescriptorUPnP, ""},
		{"dial header beats a UPnP root", "GET /dd.xml HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nApplication-URL: http://10.2.2.2:8008/apps/\r\nContent-Type: text/xml\r\nContent-Length: " + itoa(len(upnp)) + "\r\n\r\n" + upnp, 0, observe.DescriptorDIAL, ""},
		{"dial header", "GET /ssdp/device-desc.xml HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nApplication-URL: http://10.2.2.2:8008/apps/\r\nContent-Type: application/xml\r\nContent-Length: 7\r\n\r\n<root/>", 0, observe.DescriptorDIAL, ""},
		{"dial app", "GET /apps/YouTube HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 9\r\n\r\n<service>", 0, observe.DescriptorDIAL, ""},
		{"rootDesc path", "GET /rootDesc.xml HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 7\r\n\r\n<root/>", 0, observe.DescriptorUPnP, ""},
		{"other xml is an API", "GET /api/config HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 9\r\n\r\n<config/>", 0, "", observe.APIOther},
		{"json under /apps is an API", "GET /apps/42 HTTP/1.1\r\n\r\n", ok200, 0, "", observe.APIOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := [][]byte{[]byte(tc.server)}
			if tc.split > 0 {
				server = [][]byte{[]byte(tc.server[:tc.split]), []byte(tc.server[tc.split:])}
			}
			h := run([][]byte{[]byte(tc.client)}, server)
			if len(h.Sink.HTTP) != 1 {
				t.Fatalf("%d requests: %+v", len(h.Sink.HTTP), h.Sink.HTTP)
			}
			if r := h.Sink.HTTP[0]; r.Descriptor != tc.desc || r.API != tc.api || r.Status != 200 {
				t.Errorf("descriptor %q api %q status %d, want %q %q 200", r.Descriptor, r.API, r.Status, tc.desc, tc.api)
			}
		})
	}
}

// noSecretKept fails when any of the secrets appears in an emitted record or in a
// credential's visible fields.
func noSecretKept(t *testing.T, h *corpustest.Harness, secrets ...string) {
	t.Helper()
	dump := fmt.Sprintf("%+v %+v", h.Sink.HTTP, h.Sink.Credentials)
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("secret %q kept: %s", s, dump)
		}
	}
}

func pieces(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, p := range s {
		out[i] = []byte(p)
	}
	return out
}

func splitEvery(s string, n int) [][]byte {
	var out [][]byte
	for len(s) > 0 {
		k := min(n, len(s))
		out = append(out, []byte(s[:k]))
		s = s[k:]
	}
	return out
}

// FuzzBodyCredentials runs the form and JSON body readers over arbitrary bodies, whole
// and cut, and checks that every field they report is password-like, that every value is
// non-empty and taken from the body (decoded: never longer than its source), and that a
// cut body yields no more than the whole one.
func FuzzBodyCredentials(f *testing.F) {
	for _, seed := range []string{
		"user=nurse7&password=Pl%40nted+Pw1&remember=on",
		"user%5Bpassword%5D=x&pin=1234&csrf_token=zz",
		`{"login":"n","password":"Js0n\u0021\ud83d\ude00","remember":true}`,
		`{"a":{"b":[{"token":"t"},1,-2.5e3,null]},"pin":4711,"secret":"\"q\\"}`,
		`[{"apiKey":"k"}]`,
		`{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"password":"deep"}}}}}}}}}`,
		`{"password":"unterminated`,
		`{"x":}]}`,
		"",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		if len(body) > MaxBodyScan {
			body = body[:MaxBodyScan]
		}
		scan := scanJSON
		if form {
			scan = scanForm
		}
		count := func(b []byte, final bool) int {
			n := 0
			scan(b, final, func(name, value []byte) bool {
				if !observe.IsSecretBodyKey(string(name)) {
					t.Fatalf("field %q reported, not password-like", name)
				}
				if len(value) == 0 || len(value) > len(b) || len(name) > len(b) {
					t.Fatalf("field %q value of %d bytes from a body of %d", name, len(value), len(b))
				}
				n++
				return n < 100
			})
			return n
		}
		whole := count(body, true)
		if cut := count(body[:len(body)/2], false); cut > whole {
			t.Fatalf("half the body yields %d credentials, the whole %d", cut, whole)
		}
	})
}

// TestRequestBodyBudget checks that a body is not read when the windows of all streams
// already hold MaxBodyHeld bytes, that this is counted, and that a window gives its bytes
// back when its body ends.
func TestRequestBodyBudget(t *testing.T) {
	before := bodyHeld.Load()
	req := post("/login", "Content-Type: application/x-www-form-urlencoded\r\n", "password=Over-Budget-Pw")
	bodyHeld.Add(MaxBodyHeld)
	h := run(pieces(req), [][]byte{[]byte(ok200)})
	bodyHeld.Add(-MaxBodyHeld)
	if len(h.Sink.Credentials) != 0 || h.Counters["http_body_scan_skipped"] != 1 {
		t.Errorf("credentials %+v, counters %v: want none, and http_body_scan_skipped 1", h.Sink.Credentials, h.Counters)
	}
	if len(h.Sink.HTTP) != 1 || !h.Sink.HTTP[0].Login {
		t.Errorf("requests %+v: want the login, by its path", h.Sink.HTTP)
	}
	h = run(pieces(req), [][]byte{[]byte(ok200)})
	if len(h.Sink.Credentials) != 1 || bodyHeld.Load() != before {
		t.Errorf("credentials %+v, %d bytes held after the body ended (%d before)", h.Sink.Credentials, bodyHeld.Load(), before)
	}
}
