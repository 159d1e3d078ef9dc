package inventory

import (
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
)

// TestProxyIsNotItsTargets holds the inventory to not taking a target the client named
// by host name behind a proxy for the proxy: neither the name asked for nor the role.
func TestProxyIsNotItsTargets(t *testing.T) {
	s := observe.NewSet()
	f := flow("10.20.1.11:40000", "10.0.0.5:3128")
	f.Via, f.Target = ep("10.0.0.5:3128"), "pump.example:443"
	s.AddTLS(observe.TLSSession{Flow: f, FirstSeen: t0, SNI: "pump.example", SawServerHello: true, Version: 0x0303}, nil, nil)
	byAddr := flow("10.20.1.11:40001", "10.20.0.9:443")
	byAddr.Via = ep("10.0.0.5:3128")
	s.AddTLS(observe.TLSSession{Flow: byAddr, FirstSeen: t0, SNI: "pacs.example", SawServerHello: true, Version: 0x0303}, nil, nil)
	for _, a := range Classify(s, Options{}) {
		var names []string
		for _, n := range a.Names {
			names = append(names, n.Name)
		}
		switch a.Addr.String() {
		case "10.0.0.5":
			if strings.Contains(strings.Join(names, " "), "pump") || strings.Contains(strings.Join(a.Reasons, " "), "TLS server") {
				t.Errorf("the proxy took its target's identity: names %q, reasons %q", names, a.Reasons)
			}
		case "10.20.0.9":
			if !strings.Contains(strings.Join(names, " "), "pacs") {
				t.Errorf("a target named by address lost its name: %q", names)
			}
		}
	}
}
