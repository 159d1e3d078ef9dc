package intercept

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func greeting(client, server string, offered bool, outcome string, at time.Duration) observe.StartTLSGreeting {
	return observe.StartTLSGreeting{
		Flow:     observe.Flow{Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server)},
		Protocol: "smtp", Offered: offered, Outcome: outcome, Count: 1,
		FirstSeen: rulestest.T0.Add(at), LastSeen: rulestest.T0.Add(at),
	}
}

func TestTLSStripped(t *testing.T) {
	const srv = "10.0.0.25:25"
	tests := []struct {
		name string
		g    []observe.StartTLSGreeting
		want []string
	}{
		{"STARTTLS missing from one client's greeting fires", []observe.StartTLSGreeting{
			greeting("10.0.9.1:40000", srv, true, observe.StartTLSUpgraded, 0),
			greeting("10.0.9.2:40000", srv, false, observe.StartTLSClear, time.Minute),
		}, []string{"high 10.0.0.25:25"}},
		{"one client upgraded, then refused, fires", []observe.StartTLSGreeting{
			greeting("10.0.9.1:40000", srv, true, observe.StartTLSUpgraded, 0),
			greeting("10.0.9.1:40001", srv, true, observe.StartTLSDeclined, time.Minute),
		}, []string{"high 10.0.0.25:25"}},
		{"always offered and upgraded is quiet", []observe.StartTLSGreeting{
			greeting("10.0.9.1:40000", srv, true, observe.StartTLSUpgraded, 0),
			greeting("10.0.9.2:40000", srv, true, observe.StartTLSUpgraded, time.Minute),
		}, nil},
		{"never offered is quiet (cleartext-credentials speaks for it)", []observe.StartTLSGreeting{
			greeting("10.0.9.1:40000", srv, false, observe.StartTLSClear, 0),
			greeting("10.0.9.2:40000", srv, false, observe.StartTLSClear, time.Minute),
		}, nil},
		{"offered to a client that never asks is quiet", []observe.StartTLSGreeting{
			greeting("10.0.9.1:40000", srv, true, observe.StartTLSClear, 0),
			greeting("10.0.9.2:40000", srv, true, observe.StartTLSUpgraded, 0),
		}, nil},
		{"a change of configuration days apart is quiet", []observe.StartTLSGreeting{
			greeting("10.0.9.2:40000", srv, false, observe.StartTLSClear, 0),
			greeting("10.0.9.1:40000", srv, true, observe.StartTLSClear, 72*time.Hour),
		}, nil},
		{"no greeting: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, g := range tc.g {
				set.AddGreeting(g)
			}
			fs := rulestest.Run(t, tlsStripped{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
			for _, f := range fs {
				if f.Evidence["sessions"] == nil || f.Evidence["protocol"] != "smtp" {
					t.Errorf("evidence %v", f.Evidence)
				}
			}
		})
	}
}

// TestTLSStrippedMailAccess: IMAP and POP3 sessions are judged as SMTP's are, each
// protocol on its own; the message names the protocol.
func TestTLSStrippedMailAccess(t *testing.T) {
	as := func(proto string, g observe.StartTLSGreeting) observe.StartTLSGreeting { g.Protocol = proto; return g }
	tests := []struct {
		name  string
		g     []observe.StartTLSGreeting
		want  []string
		proto string
	}{
		{"IMAP: STLS stripped for one client fires", []observe.StartTLSGreeting{
			as("imap", greeting("10.0.9.1:40000", "10.0.0.30:143", true, observe.StartTLSUpgraded, 0)),
			as("imap", greeting("10.0.9.2:40000", "10.0.0.30:143", false, observe.StartTLSClear, time.Minute)),
		}, []string{"high 10.0.0.30:143"}, "imap"},
		{"POP3: one client upgraded, then in clear, fires", []observe.StartTLSGreeting{
			as("pop3", greeting("10.0.9.1:40000", "10.0.0.30:110", true, observe.StartTLSUpgraded, 0)),
			as("pop3", greeting("10.0.9.1:40001", "10.0.0.30:110", true, observe.StartTLSClear, time.Minute)),
		}, []string{"high 10.0.0.30:110"}, "pop3"},
		{"two protocols on one port are not one server's sessions", []observe.StartTLSGreeting{
			as("imap", greeting("10.0.9.1:40000", "10.0.0.30:2000", true, observe.StartTLSUpgraded, 0)),
			as("pop3", greeting("10.0.9.2:40000", "10.0.0.30:2000", false, observe.StartTLSClear, time.Minute)),
		}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, g := range tc.g {
				set.AddGreeting(g)
			}
			fs := rulestest.Run(t, tlsStripped{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
			for _, f := range fs {
				if f.Evidence["protocol"] != tc.proto || !strings.HasPrefix(f.Message, strings.ToUpper(tc.proto)+" server ") {
					t.Errorf("message %q, evidence %v", f.Message, f.Evidence)
				}
			}
		})
	}
}
