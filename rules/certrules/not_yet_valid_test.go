package certrules

import (
	"slices"
	"testing"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestNotYetValid(t *testing.T) {
	ca := linttest.New(t, linttest.Spec{CN: "CA", IsCA: true, NotBefore: day(2030, 1, 1), NotAfter: day(2040, 1, 1)})
	leaf := linttest.New(t, linttest.Spec{CN: "future", Issuer: ca, NotBefore: day(2025, 1, 1), NotAfter: day(2026, 1, 1)})
	tests := []struct {
		name string
		set  *observe.Set
		want []string
	}{
		{"served before notBefore", served("192.0.2.1:443", day(2024, 12, 1), leaf.DER), []string{"medium 192.0.2.1:443"}},
		{"leaf within validity, intermediate not yet valid but not judged: quiet",
			served("192.0.2.1:443", day(2025, 6, 1), leaf.DER, ca.DER), nil},
		{"tls1.3 not applicable", tls13("192.0.2.1:443"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, notYetValid{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
