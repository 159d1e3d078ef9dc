package realsoft

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
)

// The secrets curl sends to the vitals API.
const (
	httpUser     = "nurse"
	httpPassword = "S3cret-Ward7-Basic"
	httpAPIKey   = "K3y-9f8e7d6c5b4a3928"
)

// nginxConf serves a small JSON API on one loopback port, in the foreground, writing
// nothing outside the test's directory.
const nginxConf = `daemon off;
pid %[1]s/nginx.pid;
error_log stderr notice;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen 127.0.0.1:%[2]d;
    location / {
      default_type application/json;
      return 200 '{"ok":true}';
    }
  }
}
`

// startNginx runs nginx with nginxConf on a free loopback port until the test ends.
func startNginx(t *testing.T) int {
	t.Helper()
	nginx := requireTool(t, "nginx", "nginx-light")
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, port), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, 15*time.Second, nil, nginx, "-t", "-p", dir, "-c", conf)
	srv := testproc.Start(t, nginx, "-p", dir, "-c", conf)
	srv.WaitFor(t, "stderr", "start worker process", 15*time.Second)
	return port
}

// TestNginxCurl captures curl calling a JSON API on nginx with Basic authentication,
// with an API key header, and with neither, and requires medscan to report both
// credentials, cleartext-credentials, cleartext-api and api-unauthenticated, never the
// secrets.
func TestNginxCurl(t *testing.T) {
	t.Parallel()
	curl := requireTool(t, "curl", "curl")
	port := startNginx(t)

	c := startCapture(t, port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, args := range [][]string{
		{"-u", httpUser + ":" + httpPassword, base + "/api/vitals"},
		{"-H", "X-API-Key: " + httpAPIKey, base + "/api/vitals?bed=12"},
		{base + "/api/status"},
	} {
		out := run(t, 15*time.Second, nil, curl, append([]string{"-sS", "--fail", "--noproxy", "*", "--max-time", "10"}, args...)...)
		if out != `{"ok":true}` {
			t.Fatalf("curl %q: got %q from nginx, want {\"ok\":true}", args, out)
		}
	}
	pcap := c.stop(t)

	s := scan(t, c.path)
	for _, want := range []struct {
		path, scheme, header string
	}{{"/api/vitals", "Basic", ""}, {"/api/vitals", "", "X-API-Key"}, {"/api/status", "", ""}} {
		i := slices.IndexFunc(s.HTTP, func(h findings.HTTPRequest) bool {
			return h.Path == want.path && h.AuthScheme == want.scheme &&
				slices.Equal(h.APIKeyHeaders, nonEmpty(want.header)) && h.Port == port
		})
		if i < 0 {
			t.Errorf("no http[] GET %s with auth scheme %q and API key headers %q; medscan has %+v", want.path, want.scheme, nonEmpty(want.header), s.HTTP)
			continue
		}
		h := s.HTTP[i]
		if h.Client != "127.0.0.1" || h.Host != "127.0.0.1" || h.Method != "GET" || h.Status != 200 ||
			!strings.HasPrefix(h.Server, "nginx") || !strings.HasPrefix(h.RespContentType, "application/json") ||
			!strings.HasPrefix(h.UserAgent, "curl/") {
			t.Errorf("http[] %s: %s → %s, %s, status %d, server %q, type %q, agent %q; want 127.0.0.1 → 127.0.0.1, GET, 200, nginx, application/json, curl/…",
				want.path, h.Client, h.Host, h.Method, h.Status, h.Server, h.RespContentType, h.UserAgent)
		}
	}
	if v := s.service(t, "127.0.0.1", port); v.Protocol != "http" {
		t.Errorf("service on %d: protocol %q, want http", port, v.Protocol)
	}
	wantCredential(t, s, port, "http-basic", httpUser)
	wantCredential(t, s, port, "api-key-header", "")
	for _, rule := range []string{"cleartext-credentials", "cleartext-api", "api-unauthenticated"} {
		s.finding(t, rule, "127.0.0.1", port)
	}
	s.noFinding(t, "cleartext-fhir", "127.0.0.1", port)
	// Basic authentication crosses the wire in base64; neither form may be kept.
	basic := base64.StdEncoding.EncodeToString([]byte(httpUser + ":" + httpPassword))
	s.private(t, pcap, basic, httpAPIKey)
	s.absent(t, httpPassword)
}

// nonEmpty is the list holding s, or the empty list for "".
func nonEmpty(s string) []string {
	if s == "" {
		return []string{}
	}
	return []string{s}
}

// The identifiers a privacy review planted in URL paths, and the paths that carry them.
var (
	pathIdentifiers  = []string{"WRD4471902", "QUILLFEATHER", "MARGERY", "HOLLOWAY", "PTNAME7731"}
	identifyingPaths = []string{"/fhir/Patient/WRD4471902", "/api/patients/QUILLFEATHER%5EMARGERY/vitals",
		"/ehr/api/v2/patient/name/HOLLOWAY/record?PTNAME7731"}
)

// TestPatientPathsNginxCurl captures curl fetching patients' records from nginx by URLs
// that carry a medical record number, a patient's name (escaped as HL7 writes it), a
// surname and an identifier as a query parameter's name, and requires that none of them is written out: not in the store (every file,
// the write-ahead log included), nor in the JSON, HTML, CSV, SARIF or table reports.
// What the requests were is still told, by their templates.
func TestPatientPathsNginxCurl(t *testing.T) {
	t.Parallel()
	curl := requireTool(t, "curl", "curl")
	port := startNginx(t)

	c := startCapture(t, port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, p := range identifyingPaths {
		out := run(t, 15*time.Second, nil, curl, "-sS", "--fail", "--noproxy", "*", "--max-time", "10",
			"-H", "Accept: application/fhir+json", base+p)
		if out != `{"ok":true}` {
			t.Fatalf("curl %s: got %q from nginx", p, out)
		}
	}
	pcap := c.stop(t)

	s := scan(t, c.path)
	for _, want := range []string{"/fhir/Patient/{id}", "/api/patients/{id}/vitals", "/ehr/api/v2/patient/name/{id}/record"} {
		if !slices.ContainsFunc(s.HTTP, func(h findings.HTTPRequest) bool { return h.Path == want && h.Port == port }) {
			t.Errorf("no http[] with the template %s: %+v", want, s.HTTP)
		}
	}
	if !slices.ContainsFunc(s.HTTP, func(h findings.HTTPRequest) bool { return h.API == "fhir" && h.Resource == "Patient" }) {
		t.Errorf("the FHIR read was not classified: %+v", s.HTTP)
	}
	s.private(t, pcap, pathIdentifiers...)
	for format, out := range s.render(t) {
		for _, id := range pathIdentifiers {
			if bytes.Contains(bytes.ToLower(out), bytes.ToLower([]byte(id))) {
				t.Errorf("%q, planted in a URL path, is written out in the %s report", id, format)
			}
		}
	}
}
