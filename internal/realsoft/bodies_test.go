package realsoft

import (
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

// deviceConf serves, on one loopback port, a FHIR server's and a pump's JSON API (any
// path: {"ok":true}), a UPnP device description under a path that does not say so, and
// DIAL's device description and application resource, as a smart TV on a patient
// entertainment network serves them.
const deviceConf = `daemon off;
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
    location = /upnp/dev/3f2a/desc {
      default_type "text/xml; charset=utf-8";
      return 200 '<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion><device><deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType></device></root>';
    }
    location = /dd.xml {
      default_type text/xml;
      add_header Application-URL http://127.0.0.1:%[2]d/apps/;
      return 200 '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:dial-multiscreen-org:device:dial:1</deviceType></device></root>';
    }
    location /apps/ {
      default_type text/xml;
      return 200 '<?xml version="1.0"?><service xmlns="urn:dial-multiscreen-org:schemas:dial"><name>YouTube</name><state>stopped</state></service>';
    }
  }
}
`

// TestNginxCurlAPIBesideFHIR captures a FHIR client, a pump posting to its JSON API with
// an API key, and a controller fetching UPnP and DIAL device descriptions, all on one
// port, and requires cleartext-fhir to name the FHIR requests only, a cleartext-api of
// its own for the pump's API (the FHIR finding used to swallow it), and neither rule nor
// api-unauthenticated to count the device descriptions as an API.
func TestNginxCurlAPIBesideFHIR(t *testing.T) {
	t.Parallel()
	curl := requireTool(t, "curl", "curl")
	nginx := requireTool(t, "nginx", "nginx-light")
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, deviceConf, dir, port), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, 15*time.Second, nil, nginx, "-t", "-p", dir, "-c", conf)
	srv := testproc.Start(t, nginx, "-p", dir, "-c", conf)
	srv.WaitFor(t, "stderr", "start worker process", 15*time.Second)

	c := startCapture(t, port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, args := range [][]string{
		{"-H", "Accept: application/fhir+json", base + "/fhir/Patient/WRD4471902"},
		{"-H", "X-API-Key: " + httpAPIKey, "-H", "Content-Type: application/json", "--data", `{"rate_ml_h":5}`, base + "/api/v1/infusions"},
		{base + "/upnp/dev/3f2a/desc"},
		{base + "/dd.xml"},
		{base + "/apps/YouTube"},
	} {
		run(t, 15*time.Second, nil, curl, append([]string{"-sS", "--fail", "--noproxy", "*", "--max-time", "10", "-o", "/dev/null"}, args...)...)
	}
	c.stop(t)

	s := scan(t, c.path)
	for _, want := range []struct{ path, descriptor string }{
		// Templated: "upnp", "dev", "desc" and "dd" are no words of an API.
		{"/{id}/{id}/{id}/{id}", "upnp"}, {"/{id}.xml", "dial"}, {"/apps/{id}", "dial"},
	} {
		i := slices.IndexFunc(s.HTTP, func(h findings.HTTPRequest) bool { return h.Path == want.path && h.Port == port })
		if i < 0 {
			t.Errorf("no http[] GET %s; medscan has %+v", want.path, s.HTTP)
			continue
		}
		if h := s.HTTP[i]; h.Descriptor != want.descriptor || h.API != "" {
			t.Errorf("http[] %s: descriptor %q, api %q; want %q and no API", want.path, h.Descriptor, h.API, want.descriptor)
		}
	}
	for _, want := range []struct {
		rule  string
		paths []string
	}{
		{"cleartext-fhir", []string{"/fhir/Patient/{id}"}},
		{"cleartext-api", []string{"/api/v1/infusions"}},
		{"api-unauthenticated", []string{"/fhir/Patient/{id}"}},
	} {
		f := s.finding(t, want.rule, "127.0.0.1", port)
		if got := findings.EvidenceStrings(f.Evidence, "paths"); !slices.Equal(got, want.paths) {
			t.Errorf("%s judges the paths %q, want %q: %s", want.rule, got, want.paths, f.Message)
		}
	}
}
