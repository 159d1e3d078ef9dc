package tlsrules

import (
	"slices"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestWeakCipher(t *testing.T) {
	s := rulestest.Session
	tests := []struct {
		name     string
		sessions []observe.TLSSession
		want     []string
		reasons  []string
	}{
		{"rc4-md5 fires high", []observe.TLSSession{s("68.233.76.12:443", "198.51.100.9:5000", 0x0303, 0x0004)},
			[]string{"high 68.233.76.12:443"}, []string{"MD5 MAC", "RC4"}},
		{"3des fires high", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0x000a)},
			[]string{"high 192.0.2.1:443"}, []string{"3DES"}},
		{"export and anon are critical", []observe.TLSSession{
			s("192.0.2.1:443", "198.51.100.9:5000", 0x0301, 0x0003),
			s("192.0.2.1:443", "198.51.100.9:5001", 0x0301, 0x0018)},
			[]string{"critical 192.0.2.1:443"}, []string{"EXPORT", "MD5 MAC", "RC4", "anonymous key exchange"}},
		{"null cipher critical", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0x0002)},
			[]string{"critical 192.0.2.1:443"}, []string{"NULL cipher"}},
		{"aes-gcm quiet", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0xc030)}, nil, nil},
		{"camellia quiet", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0x0088)}, nil, nil},
		{"sslv2 not applicable", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0002, 0)}, nil, nil},
		{"unknown suite not applicable", []observe.TLSSession{s("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0xfefe)}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, x := range tc.sessions {
				set.AddTLS(x, nil, nil)
			}
			fs := rulestest.Run(t, weakCipher{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if len(fs) > 0 {
				if got := fs[0].Evidence["weaknesses"].([]string); !slices.Equal(got, tc.reasons) {
					t.Errorf("weaknesses %v, want %v", got, tc.reasons)
				}
			}
		})
	}
}
