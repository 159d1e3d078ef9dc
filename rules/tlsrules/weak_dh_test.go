package tlsrules

import (
	"slices"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestWeakDH(t *testing.T) {
	dhe := func(server string, bits int) observe.TLSSession {
		x := rulestest.Session(server, "198.51.100.9:5000", 0x0303, 0x0088)
		x.DHBits = bits
		return x
	}
	strict := rules.DefaultPolicy()
	strict.Thresholds.MinDHBits = 3072
	tests := []struct {
		name    string
		session observe.TLSSession
		pol     *rules.Policy
		want    []string
	}{
		{"1024 fires", dhe("162.219.2.166:443", 1024), nil, []string{"high 162.219.2.166:443"}},
		{"2048 quiet", dhe("192.0.2.1:443", 2048), nil, nil},
		{"2048 fires under a 3072 policy", dhe("192.0.2.1:443", 2048), strict, []string{"high 192.0.2.1:443"}},
		{"ecdhe not applicable", rulestest.Session("192.0.2.1:443", "198.51.100.9:5000", 0x0303, 0xc02f), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			set.AddTLS(tc.session, nil, nil)
			fs := rulestest.Run(t, weakDH{}, set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if len(fs) > 0 && fs[0].Evidence["dh_bits"] != tc.session.DHBits {
				t.Errorf("evidence %v", fs[0].Evidence)
			}
		})
	}
}
