package tlsrules

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestLegacyVersion(t *testing.T) {
	s := rulestest.Session
	noHello := s("192.0.2.1:443", "198.51.100.9:5000", 0x0301, 0x0004)
	noHello.SawServerHello, noHello.Version = false, 0
	tests := []struct {
		name     string
		sessions []observe.TLSSession
		want     []string
		message  string
	}{
		{"tls1.0 fires high", []observe.TLSSession{s("194.127.84.106:443", "198.51.100.9:5000", 0x0301, 0x0004)},
			[]string{"high 194.127.84.106:443"}, "194.127.84.106:443 negotiated TLSv1.0 with TLS_RSA_WITH_RC4_128_MD5"},
		{"sslv3 and tls1.1 on one server: one critical finding", []observe.TLSSession{
			s("192.0.2.1:443", "198.51.100.9:5000", 0x0302, 0xc013),
			s("192.0.2.1:443", "198.51.100.10:5000", 0x0300, 0x000a)},
			[]string{"critical 192.0.2.1:443"}, "192.0.2.1:443 negotiated SSLv3 with TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
		{"sslv2 fires critical without a suite", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0002, 0)},
			[]string{"critical 192.0.2.1:443"}, "192.0.2.1:443 negotiated SSLv2"},
		{"tls1.2 quiet", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0xc02f)}, nil, ""},
		{"tls1.3 quiet", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0304, 0x1301)}, nil, ""},
		{"no server hello: not applicable", []observe.TLSSession{noHello}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, x := range tc.sessions {
				set.AddTLS(x, nil, nil)
			}
			fs := rulestest.Run(t, legacyVersion{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if tc.message != "" && fs[0].Message != tc.message {
				t.Errorf("message %q, want %q", fs[0].Message, tc.message)
			}
		})
	}
}

// TestLegacyVersionThroughProxy holds a session carried in a proxy's tunnel to being
// judged as its target's, named with the proxy; targets named by host name behind one
// proxy stay apart, and apart from the proxy's own TLS.
func TestLegacyVersionThroughProxy(t *testing.T) {
	proxy := netip.MustParseAddrPort("10.0.0.5:3128")
	byAddr := rulestest.Session("10.20.0.9:443", "10.20.1.11:40001", 0x0301, 0x002f)
	byAddr.Flow.Via = proxy
	pump := rulestest.Session("10.0.0.5:3128", "10.20.1.11:40002", 0x0301, 0x002f)
	pump.Flow.Via, pump.Flow.Target = proxy, "pump.example:443"
	pacs := pump
	pacs.Flow.Target = "pacs.example:2762"
	direct := rulestest.Session("10.0.0.5:3128", "10.20.1.12:40003", 0x0302, 0x002f)
	set := observe.NewSet()
	for _, x := range []observe.TLSSession{byAddr, pump, pacs, direct} {
		set.AddTLS(x, nil, nil)
	}
	fs := rulestest.Run(t, legacyVersion{}, set, nil)
	type got struct{ key, subject, message, via, target string }
	var gots []got
	for _, f := range fs {
		vs, _ := f.Evidence["via_proxy"].([]string)
		v := strings.Join(vs, ",")
		tg, _ := f.Evidence["target"].(string)
		gots = append(gots, got{f.Host + ":" + strconv.Itoa(f.Port), f.Subject, f.Message, v, tg})
	}
	want := []got{
		{"10.0.0.5:3128", "", "10.0.0.5:3128 negotiated TLSv1.1 with TLS_RSA_WITH_AES_128_CBC_SHA", "", ""},
		{"10.0.0.5:3128", "pacs.example:2762", "pacs.example:2762 via proxy 10.0.0.5:3128 negotiated TLSv1.0 with TLS_RSA_WITH_AES_128_CBC_SHA",
			"10.0.0.5:3128", "pacs.example:2762"},
		{"10.0.0.5:3128", "pump.example:443", "pump.example:443 via proxy 10.0.0.5:3128 negotiated TLSv1.0 with TLS_RSA_WITH_AES_128_CBC_SHA",
			"10.0.0.5:3128", "pump.example:443"},
		{"10.20.0.9:443", "", "10.20.0.9:443 via proxy 10.0.0.5:3128 negotiated TLSv1.0 with TLS_RSA_WITH_AES_128_CBC_SHA",
			"10.0.0.5:3128", ""},
	}
	if !slices.Equal(gots, want) {
		t.Errorf("findings:\n got %+v\nwant %+v", gots, want)
	}
	fps := map[string]bool{}
	for _, f := range fs {
		fps[f.Fingerprint] = true
	}
	if len(fps) != len(fs) {
		t.Errorf("%d findings share fingerprints", len(fs))
	}
}

func TestLegacyVersionPolicy(t *testing.T) {
	set := observe.NewSet()
	set.AddTLS(rulestest.Session("192.0.2.1:443", "198.51.100.9:5000", 0x0302, 0xc013), nil, nil)
	pol := rules.DefaultPolicy()
	pol.Thresholds.LegacyVersions = []string{"SSLv2", "SSLv3", "TLSv1.0"}
	if fs := rulestest.Run(t, legacyVersion{}, set, pol); len(fs) != 0 {
		t.Errorf("TLSv1.1 flagged although the policy allows it: %v", rulestest.Keys(fs))
	}
}

// TestLegacyVersionDirectAndThroughProxy holds one server reached both directly and
// through a proxy, by its address, to being one finding that lists the proxy.
func TestLegacyVersionDirectAndThroughProxy(t *testing.T) {
	viaProxy := rulestest.Session("10.20.0.9:443", "10.20.1.11:40001", 0x0301, 0x002f)
	viaProxy.Flow.Via = netip.MustParseAddrPort("10.0.0.5:3128")
	direct := rulestest.Session("10.20.0.9:443", "10.0.0.5:51000", 0x0301, 0x002f)
	set := observe.NewSet()
	set.AddTLS(viaProxy, nil, nil)
	set.AddTLS(direct, nil, nil)
	fs := rulestest.Run(t, legacyVersion{}, set, nil)
	if len(fs) != 1 {
		t.Fatalf("got %v, want one finding", rulestest.Keys(fs))
	}
	vias, _ := fs[0].Evidence["via_proxy"].([]string)
	if fs[0].Message != "10.20.0.9:443 negotiated TLSv1.0 with TLS_RSA_WITH_AES_128_CBC_SHA" || !slices.Equal(vias, []string{"10.0.0.5:3128"}) ||
		fs[0].Subject != "" {
		t.Errorf("finding %q, via %v, subject %q", fs[0].Message, fs[0].Evidence["via_proxy"], fs[0].Subject)
	}
}
