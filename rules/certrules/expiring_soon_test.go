package certrules

import (
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestExpiringSoon(t *testing.T) {
	leaf := linttest.New(t, linttest.Spec{CN: "soon", NotBefore: day(2024, 1, 1), NotAfter: day(2024, 7, 1)})
	wide := rules.DefaultPolicy()
	wide.Thresholds.ExpiringSoonDays = 90
	tests := []struct {
		name string
		set  *observe.Set
		pol  *rules.Policy
		want []string
	}{
		{"expires in 10 days", served("192.0.2.1:443", day(2024, 6, 21), leaf.DER), nil, []string{"low 192.0.2.1:443"}},
		{"expires in exactly 30 days", served("192.0.2.1:443", day(2024, 6, 1), leaf.DER), nil, []string{"low 192.0.2.1:443"}},
		{"expires in 31 days: quiet", served("192.0.2.1:443", day(2024, 5, 31), leaf.DER), nil, nil},
		{"expires in 60 days under a 90-day policy", served("192.0.2.1:443", day(2024, 5, 2), leaf.DER), wide, []string{"low 192.0.2.1:443"}},
		{"already expired: cert-expired's business", served("192.0.2.1:443", day(2024, 7, 1).Add(time.Second), leaf.DER), nil, nil},
		{"tls1.3 not applicable", tls13("192.0.2.1:443"), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, expiringSoon{}, tc.set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
