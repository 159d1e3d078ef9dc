package report

import (
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// TestHTMLSessionsNameTheProxy holds the HTML's TLS session rows to naming the proxy a
// session went through, and the target a client named by host name.
func TestHTMLSessionsNameTheProxy(t *testing.T) {
	rows := htmlSessions([]findings.TLSSession{
		{Conversation: findings.Conversation{Client: "10.20.1.11", Host: "10.20.0.9", Port: 443}},
		{Conversation: findings.Conversation{Client: "10.20.1.11", Host: "10.20.0.9", Port: 443, Via: "10.0.0.5:3128"}},
		{Conversation: findings.Conversation{Client: "10.20.1.11", Host: "10.0.0.5", Port: 3128, Via: "10.0.0.5:3128", Target: "pump.example:443"}},
	})
	want := []string{"10.20.0.9:443", "10.20.0.9:443 via proxy 10.0.0.5:3128", "pump.example:443 via proxy 10.0.0.5:3128"}
	for i, r := range rows {
		if r.Server != want[i] {
			t.Errorf("row %d: server %q, want %q", i, r.Server, want[i])
		}
	}
	svc := htmlServices([]findings.Service{{Host: "10.0.0.5", Port: 3128,
		Service: observe.Service{Transport: "tcp", Protocol: "tls", Via: "10.0.0.5:3128", Target: "pump.example:443"}}})
	if len(svc) != 1 || svc[0].Target != "pump.example:443 via proxy 10.0.0.5:3128" {
		t.Errorf("service rows %+v", svc)
	}
}
