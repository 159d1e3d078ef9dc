package realsoft

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
)

// The secrets, and a user name, that curl posts in request bodies.
const (
	bodyUser      = "Pl4ntedBodyUser"
	bodyFormPw    = "Pl4nted-Form-Pw-9141"
	bodyJSONPw    = "Pl4nted-Json-Pw-4702"
	bodyChunkedPw = "Pl4nted-Chunk-Pin-3318"
)

// TestNginxCurlBodyLogins captures curl logging in to nginx with a form post, a JSON
// login (GitLab's POST /api/v4/users/login of issue 14) and a chunked JSON body whose
// PIN is nested two objects deep, and requires medscan to report each password-like
// field as a credential (cleartext-credentials), to mark the requests as logins that
// are not api-unauthenticated, and to write out neither the secrets nor the user name
// the bodies carried, in the JSON report or the store.
func TestNginxCurlBodyLogins(t *testing.T) {
	t.Parallel()
	curl := requireTool(t, "curl", "curl")
	port := startNginx(t)

	c := startCapture(t, port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, args := range [][]string{
		{"--data", "user=" + bodyUser + "&password=" + bodyFormPw + "&remember=on", base + "/login"},
		{"-H", "Content-Type: application/json", "--data",
			`{"login":"` + bodyUser + `","password":"` + bodyJSONPw + `"}`, base + "/api/v4/users/login"},
		{"-H", "Content-Type: application/json", "-H", "Transfer-Encoding: chunked", "--data",
			`{"device":{"serial":"` + bodyUser + `","auth":{"pin":"` + bodyChunkedPw + `"}}}`, base + "/api/v1/settings"},
	} {
		out := run(t, 15*time.Second, nil, curl, append([]string{"-sS", "--fail", "--noproxy", "*", "--max-time", "10"}, args...)...)
		if out != `{"ok":true}` {
			t.Fatalf("curl %q: got %q from nginx, want {\"ok\":true}", args, out)
		}
	}
	pcap := c.stop(t)

	s := scan(t, c.path)
	for _, want := range []struct {
		path string
		keys []string
	}{{"/login", []string{"password"}}, {"/api/v4/users/login", []string{"password"}}, {"/api/v1/settings", []string{"pin"}}} {
		i := slices.IndexFunc(s.HTTP, func(h findings.HTTPRequest) bool { return h.Path == want.path && h.Port == port })
		if i < 0 {
			t.Errorf("no http[] POST %s; medscan has %+v", want.path, s.HTTP)
			continue
		}
		if h := s.HTTP[i]; h.Method != "POST" || h.Status != 200 || !h.Login || !slices.Equal(h.BodySecretKeys, want.keys) {
			t.Errorf("http[] %s: method %s, status %d, login %v, body_secret_keys %q; want POST, 200, a login naming %q",
				want.path, h.Method, h.Status, h.Login, h.BodySecretKeys, want.keys)
		}
	}
	for _, want := range []struct{ kind, where string }{{"form-field", "password"}, {"json-field", "password"}, {"json-field", "pin"}} {
		i := slices.IndexFunc(s.Credentials, func(c findings.Credential) bool {
			return c.Kind == want.kind && c.Where == want.where && c.Port == port
		})
		if i < 0 {
			t.Errorf("no %s credential at %q on port %d; medscan has %+v", want.kind, want.where, port, s.Credentials)
			continue
		}
		if c := s.Credentials[i]; c.Client != "127.0.0.1" || c.User != "" || c.Preview == "" || c.Hash == "" {
			t.Errorf("%s credential: client %s, user %q, preview %q, hash %q; want 127.0.0.1, no user, a preview and a hash",
				want.kind, c.Client, c.User, c.Preview, c.Hash)
		}
	}
	for _, kind := range []string{"form-field", "json-field"} {
		if !slices.ContainsFunc(s.Findings, func(f findings.Finding) bool {
			return f.Rule == "cleartext-credentials" && f.Port == port && f.Subject == kind
		}) {
			t.Errorf("no cleartext-credentials for the %s credentials; medscan raised %s", kind, s.findingList())
		}
	}
	s.finding(t, "cleartext-api", "127.0.0.1", port) // a JSON login is an API call in clear
	s.noFinding(t, "api-unauthenticated", "127.0.0.1", port)
	s.private(t, pcap, bodyFormPw, bodyJSONPw, bodyChunkedPw, bodyUser)
	if !strings.Contains(string(pcap), "Transfer-Encoding: chunked") {
		t.Error("curl did not send the pairing body chunked: the de-chunking is not tested")
	}
}
