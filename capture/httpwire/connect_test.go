package httpwire

import (
	"net/netip"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
)

func TestParseConnect(t *testing.T) {
	tests := []struct {
		in   string
		want string // "addr port", "name port", or "" when refused
	}{
		{"10.20.0.9:443", "10.20.0.9 443"},
		{"pump.example:443", "pump.example 443"},
		{"PACS.Example:2762", "pacs.example 2762"},
		{"[2001:db8::7]:8443", "2001:db8::7 8443"},
		{"[::ffff:10.0.0.1]:443", "10.0.0.1 443"},
		{"pump.example", ""},
		{"pump.example:", ""},
		{"pump.example:0", ""},
		{"pump.example:65536", ""},
		{"pump.example:123456", ""},
		{"pump.example:44x", ""},
		{":443", ""},
		{"2001:db8::7:443", ""},
		{"[2001:db8::7:443", ""},
		{"[]:443", ""},
		{"[pump]:443", ""},
		{"pump example:443", ""},
		{"pump\x1b[31m:443", ""},
		{"[fe80::1%eth0]:443", ""},
	}
	for _, tc := range tests {
		c := parseConnect([]byte(tc.in))
		got := ""
		if c.ok {
			got = c.name
			if c.addr.IsValid() {
				got = c.addr.String()
			}
			got += " " + netip.AddrPortFrom(netip.IPv4Unspecified(), c.port).String()[8:]
		}
		if got != tc.want {
			t.Errorf("parseConnect(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestConnectHandoff holds a CONNECT answered 2xx to handing the tunnel off with its
// target, and everything else (a refusal, a 101 upgrade) to not doing so.
func TestConnectHandoff(t *testing.T) {
	tests := []struct {
		name, client, server string
		done, handoff        bool
		target               string
	}{
		{"connect by name", "CONNECT pump.example:443 HTTP/1.1\r\nHost: pump.example:443\r\n\r\n",
			"HTTP/1.1 200 Connection established\r\n\r\n", true, true, "pump.example:443"},
		{"connect by address, HTTP/1.0", "CONNECT 10.20.0.9:8443 HTTP/1.0\r\n\r\n",
			"HTTP/1.0 200 OK\r\nProxy-Agent: squid\r\n\r\n", true, true, "10.20.0.9:8443"},
		{"connect refused", "CONNECT pump.example:443 HTTP/1.1\r\n\r\n",
			"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", false, false, ""},
		{"connect with a target that does not parse: handed off without one", "CONNECT pump:example:443 HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\n\r\n", true, true, ""},
		{"websocket upgrade is no handoff", "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", true, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := corpustest.NewHarness(flow)
			d := New(h.Ctx)
			d.Data(dissect.ClientToServer, []byte(tc.client), t0)
			d.Data(dissect.ServerToClient, []byte(tc.server), t0)
			if d.Done() != tc.done || d.(dissect.Handoff).Handoff() != tc.handoff {
				t.Fatalf("done=%v handoff=%v, want %v %v", d.Done(), d.(dissect.Handoff).Handoff(), tc.done, tc.handoff)
			}
			addr, name, port, ok := d.(dissect.Tunnel).TunnelTarget()
			got := ""
			if ok {
				got = name + ":" + netip.AddrPortFrom(netip.IPv4Unspecified(), port).String()[8:]
				if addr.IsValid() {
					got = netip.AddrPortFrom(addr, port).String()
				}
			}
			if got != tc.target {
				t.Errorf("target %q, want %q", got, tc.target)
			}
			d.End(t0)
		})
	}
}
