package capture

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/protocols"
	"github.com/medscan/medscan/observe"
)

// proxyStream is a fake proxy: claimed by "PROXY <target>\n" from the client, it hands off
// when a server chunk ends in "OK\n", naming the target (an address, or a name).
type proxyStream struct {
	fakeStream
	target string
	ok     bool
}

func (s *proxyStream) Data(dir dissect.Direction, b []byte, t time.Time) {
	s.fakeStream.Data(dir, b, t)
	if dir == dissect.ClientToServer && s.target == "" {
		s.target = strings.TrimSpace(strings.TrimPrefix(string(b), "PROXY "))
	}
	if dir == dissect.ServerToClient && strings.HasSuffix(string(b), "OK\n") {
		s.ok = true
	}
}

func (s *proxyStream) Done() bool    { return s.ok }
func (s *proxyStream) Handoff() bool { return true }

func (s *proxyStream) TunnelTarget() (netip.Addr, string, uint16, bool) {
	if ap, err := netip.ParseAddrPort(s.target); err == nil {
		return ap.Addr(), "", ap.Port(), true
	}
	host, port, _ := strings.Cut(s.target, ":")
	if port != "443" {
		return netip.Addr{}, "", 0, false
	}
	return netip.Addr{}, host, 443, true
}

// TestTunnel holds the engine to reporting what follows a proxy's handoff as a
// conversation with the tunnel's target through the proxy: the next stream's flow, the
// service, and the counter; a tunnel in a tunnel keeps the proxy on the wire.
func TestTunnel(t *testing.T) {
	const clientHello, serverHello = "\x16\x03\x01CH", "\x16\x03\x03SH"
	proxy := netip.MustParseAddrPort(srv)
	tests := []struct {
		name    string
		segs    []seg
		want    observe.Flow
		service observe.Service // the target's service ("" protocol: none)
		tunnels uint64
		proxies int
	}{
		{
			name:    "target by address",
			segs:    withHandshake(c2s(101, "PROXY 10.20.0.9:8443\n"), s2c(901, "OK\n"), c2s(122, clientHello), s2c(904, serverHello)),
			want:    observe.Flow{Client: netip.MustParseAddrPort(cli), Server: netip.MustParseAddrPort("10.20.0.9:8443"), Via: proxy},
			service: observe.Service{Server: netip.MustParseAddrPort("10.20.0.9:8443"), Protocol: "tls", Via: srv},
			tunnels: 1, proxies: 1,
		},
		{
			name:    "target by name",
			segs:    withHandshake(c2s(101, "PROXY pump.example:443\n"), s2c(901, "OK\n"), c2s(124, clientHello), s2c(904, serverHello)),
			want:    observe.Flow{Client: netip.MustParseAddrPort(cli), Server: proxy, Via: proxy, Target: "pump.example:443"},
			service: observe.Service{Server: proxy, Protocol: "tls", Via: srv, Target: "pump.example:443"},
			tunnels: 1, proxies: 1,
		},
		{
			name:    "no target named: the flow stays as it was",
			segs:    withHandshake(c2s(101, "PROXY pump.example:80\n"), s2c(901, "OK\n"), c2s(123, clientHello), s2c(904, serverHello)),
			want:    observe.Flow{Client: netip.MustParseAddrPort(cli), Server: proxy},
			tunnels: 0, proxies: 1,
		},
		{
			name: "a tunnel in a tunnel: the innermost target, the outermost proxy",
			segs: withHandshake(c2s(101, "PROXY 10.0.0.7:3128\n"), s2c(901, "OK\n"), c2s(121, "PROXY 10.20.0.9:443\n"), s2c(904, "OK\n"),
				c2s(141, clientHello), s2c(907, serverHello)),
			want:    observe.Flow{Client: netip.MustParseAddrPort(cli), Server: netip.MustParseAddrPort("10.20.0.9:443"), Via: proxy},
			service: observe.Service{Server: netip.MustParseAddrPort("10.20.0.9:443"), Protocol: "tls", Via: srv},
			tunnels: 2, proxies: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var proxies []*proxyStream
			var rec recorder
			ds := []dissect.Dissector{
				{Name: "proxy", Detect: prefixDetect("PROXY", false), New: func(ctx *dissect.Context) dissect.Stream {
					s := &proxyStream{fakeStream: fakeStream{ctx: ctx}}
					proxies = append(proxies, s)
					return s
				}},
				rec.dissector("tls", prefixDetect("\x16", false)),
			}
			_, set := run(t, Config{Dissectors: ds}, tc.segs)
			if len(proxies) != tc.proxies {
				t.Fatalf("proxy streams = %d, want %d", len(proxies), tc.proxies)
			}
			if len(rec.streams) != 1 {
				t.Fatalf("tls streams = %d, want 1", len(rec.streams))
			}
			if got := rec.streams[0].ctx.Flow; got != tc.want {
				t.Errorf("flow after the handoff = %+v, want %+v", got, tc.want)
			}
			if got := counterValue(set, "proxy_tunnels"); got != tc.tunnels {
				t.Errorf("proxy_tunnels = %d, want %d", got, tc.tunnels)
			}
			var tls []observe.Service
			for _, v := range set.Services {
				if v.Protocol == "tls" {
					tls = append(tls, *v)
				}
			}
			switch {
			case tc.service.Protocol == "" && len(tls) != 0:
				t.Errorf("TLS services %+v, want none (the proxy's service keeps its protocol)", tls)
			case tc.service.Protocol != "" && (len(tls) != 1 || tls[0].Server != tc.service.Server ||
				tls[0].Via != tc.service.Via || tls[0].Target != tc.service.Target):
				t.Errorf("TLS services %+v, want %+v", tls, tc.service)
			}
		})
	}
}

// TestTunnelBannerInGrantSegment: a server that speaks first through a proxy (an SMTP
// banner) may have its first bytes in the very segment that carries the proxy's grant;
// they are the tunnel's first bytes (dissect.HandoffRest), for HTTP CONNECT and SOCKS.
func TestTunnelBannerInGrantSegment(t *testing.T) {
	const banner = "220 mx.example ESMTP Postfix\r\n"
	for _, tc := range []struct {
		name          string
		request, done string
	}{
		{"connect", "CONNECT 10.20.0.9:25 HTTP/1.1\r\nHost: 10.20.0.9:25\r\n\r\n", "HTTP/1.1 200 Connection established\r\n\r\n"},
		{"socks4", "\x04\x01\x00\x19\x0a\x14\x00\x09\x00", "\x00\x5a\x00\x19\x0a\x14\x00\x09"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, set := run(t, Config{Dissectors: protocols.All()}, withHandshake(
				c2s(101, tc.request), s2c(901, tc.done+banner))) // only the banner tells SMTP
			var got []string
			for _, v := range set.Services {
				got = append(got, v.Protocol+" "+v.Server.String()+" via "+v.Via)
			}
			want := "smtp 10.20.0.9:25 via " + srv
			if !slices.Contains(got, want) {
				t.Errorf("services = %q, want %q among them", got, want)
			}
		})
	}
}
