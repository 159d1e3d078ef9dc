package cleartext_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/medscan/medscan/capture"
	"github.com/medscan/medscan/capture/protocols"
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/fixtures/ward"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
)

// ours are the rules this test watches on the ward capture.
var ours = []string{"cleartext-api", "cleartext-fhir", "api-unauthenticated", "credential-shared", "tls-no-client-auth"}

// wardFindings runs the passive engine over fixtures/ward.pcapng and evaluates every rule
// under the policy, as medscan scan does.
func wardFindings(t *testing.T, pol *rules.Policy) []findings.Finding {
	t.Helper()
	set := observe.NewSet()
	eng := capture.NewEngine(capture.Config{
		Dissectors: protocols.All(),
		Datagrams:  protocols.Datagrams(),
		Secrets:    observe.NewSecretHasher([]byte("ward-test-key-0123456789abcdef")),
	}, set)
	if err := eng.ReadFile(filepath.Join("..", "..", "fixtures", "ward.pcapng")); err != nil {
		t.Fatal(err)
	}
	eng.Finish()
	lint.Examine(set)
	return rules.Evaluate(set, pol)
}

func TestWardCapture(t *testing.T) {
	fs := wardFindings(t, nil)
	find := func(rule, subject string, host string, port int) *findings.Finding {
		for i, f := range fs {
			if f.Rule == rule && f.Host == host && f.Port == port && (subject == "" || f.Subject == subject) {
				return &fs[i]
			}
		}
		return nil
	}
	for _, f := range fs {
		if slices.Contains(ours, f.Rule) {
			t.Logf("%s %s %s:%d %q: %s", f.Severity, f.Rule, f.Host, f.Port, f.Subject, f.Message)
		}
	}
	if f := find("cleartext-api", "", "10.20.0.40", 8080); f == nil {
		t.Error("no cleartext-api on the telemetry API 10.20.0.40:8080")
	} else if p := f.Evidence["paths"].([]string); !slices.Contains(p, "/api/v1/vitals") {
		t.Errorf("cleartext-api paths %v", p)
	}
	for _, want := range []struct {
		subject, host string
		port          int
	}{
		{"api-key-header", "10.20.0.40", 8080},
		{"mqtt-password", "10.20.0.50", 1883},
	} {
		f := find("credential-shared", want.subject, want.host, want.port)
		if f == nil {
			t.Errorf("no credential-shared %s", want.subject)
			continue
		}
		if n := f.Evidence["hosts"].(int); n < 2 || n != len(f.Evidence["clients"].([]string)) ||
			!strings.HasPrefix(f.Message, strconv.Itoa(n)+" hosts") {
			t.Errorf("%s: hosts %v, clients %v, message %q", want.subject, n, f.Evidence["clients"], f.Message)
		}
	}
	// The telemetry API authenticates with its (shared) key: not unauthenticated.
	for _, f := range fs {
		if f.Rule == "api-unauthenticated" || f.Rule == "cleartext-fhir" || f.Rule == "tls-no-client-auth" {
			t.Errorf("unexpected %s on %s:%d: %s", f.Rule, f.Host, f.Port, f.Message)
		}
	}
	for _, q := range ward.QuietEndpoints {
		for _, f := range fs {
			if slices.Contains(ours, f.Rule) && f.Host == q.Host && f.Port == q.Port {
				t.Errorf("%s on the quiet endpoint %s:%d: %s", f.Rule, q.Host, q.Port, f.Message)
			}
		}
	}
	b, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ward.PlantedSecrets {
		if strings.Contains(string(b), s) {
			t.Errorf("a finding carries the planted secret or patient datum %q", s)
		}
	}
}

// TestWardClinicalServices: the EHR's HTTPS (HL7 inside TLS 1.2 from the engine, no
// CertificateRequest) is a clinical interface only when the policy names it; the engine's
// mutually authenticated HL7 link asks for a certificate and stays quiet even when named.
func TestWardClinicalServices(t *testing.T) {
	pol, err := rules.ParsePolicy("policy.yaml", []byte("version: 1\nclinical_services:\n  - 10.20.0.20:443\n  - 10.20.0.10:6662\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range wardFindings(t, pol) {
		if f.Rule == "tls-no-client-auth" {
			got = append(got, f.Host+":"+strconv.Itoa(f.Port))
			if why := f.Evidence["clinical_because"].([]string); !slices.Equal(why, []string{"policy clinical_services names 10.20.0.20:443"}) {
				t.Errorf("clinical_because %v", why)
			}
		}
	}
	if !slices.Equal(got, []string{"10.20.0.20:443"}) {
		t.Errorf("tls-no-client-auth on %v, want only 10.20.0.20:443", got)
	}
}
