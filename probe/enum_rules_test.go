package probe

import (
	"crypto/tls"
	"testing"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
)

// TestHandshakesReadByRules feeds an enumeration's handshakes to the passive rules, the
// way a scan stores them: a TLS 1.0-1.2 server without client authentication, offering
// 3DES and static-RSA suites, named a clinical service by the policy, must raise the
// version, cipher, forward-secrecy, client-auth and self-signed certificate findings,
// each with source active.
func TestHandshakesReadByRules(t *testing.T) {
	srv := tlsServeGo(t, &tls.Config{Certificates: []tls.Certificate{tlsCerts().rsa}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}})
	r, _ := tlsEnumerate(t, srv, ProfileStandard)
	if r.Outcome != observe.ProbeTLS {
		t.Fatalf("outcome %s (%v)", r.Outcome, r.Err)
	}
	set := observe.NewSet()
	for _, h := range r.Handshakes {
		set.AddTLS(h.Session, h.ServerChain, nil)
	}
	lint.Examine(set)
	pol := rules.DefaultPolicy()
	pol.ClinicalServices = []string{srv.String()}
	got := map[string]string{}
	for _, f := range rules.Evaluate(set, pol) {
		got[f.Rule] = f.Source
	}
	for _, id := range []string{"tls-legacy-version", "tls-weak-cipher", "tls-no-forward-secrecy", "tls-no-client-auth"} {
		if got[id] != "active" {
			t.Errorf("%s: source %q (findings %v)", id, got[id], got)
		}
	}
	if got["cert-self-signed"] != "active" {
		t.Errorf("no active cert-self-signed finding for the self-signed chain: %v", got)
	}
}
