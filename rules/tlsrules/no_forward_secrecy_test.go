package tlsrules

import (
	"slices"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestNoForwardSecrecy(t *testing.T) {
	s := rulestest.Session
	tests := []struct {
		name     string
		sessions []observe.TLSSession
		want     []string
	}{
		{"rsa key exchange fires", []observe.TLSSession{s("122.1.240.204:443", "198.51.100.9:5000", 0x0301, 0x0035)},
			[]string{"medium 122.1.240.204:443"}},
		{"two servers two findings", []observe.TLSSession{
			s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0x009c),
			s("192.0.2.2:8443", "198.51.100.9:5000", 0x0303, 0x002f)},
			[]string{"medium 192.0.2.1:443", "medium 192.0.2.2:8443"}},
		{"ecdhe quiet", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0xc02f)}, nil},
		{"dhe quiet", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0x0039)}, nil},
		{"tls1.3 not applicable", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0304, 0x1302)}, nil},
		{"sslv2 not applicable", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0002, 0)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, x := range tc.sessions {
				set.AddTLS(x, nil, nil)
			}
			fs := rulestest.Run(t, noForwardSecrecy{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
