package tlsrules

import (
	"slices"
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

func TestLegacyVersionPolicy(t *testing.T) {
	set := observe.NewSet()
	set.AddTLS(rulestest.Session("192.0.2.1:443", "198.51.100.9:5000", 0x0302, 0xc013), nil, nil)
	pol := rules.DefaultPolicy()
	pol.Thresholds.LegacyVersions = []string{"SSLv2", "SSLv3", "TLSv1.0"}
	if fs := rulestest.Run(t, legacyVersion{}, set, pol); len(fs) != 0 {
		t.Errorf("TLSv1.1 flagged although the policy allows it: %v", rulestest.Keys(fs))
	}
}
