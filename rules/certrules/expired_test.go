package certrules

import (
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestExpired(t *testing.T) {
	ca := linttest.New(t, linttest.Spec{CN: "CA", IsCA: true, NotBefore: day(2010, 1, 1), NotAfter: day(2013, 1, 1)})
	leaf := linttest.New(t, linttest.Spec{CN: "www.spidh.org", Issuer: ca, NotBefore: day(2013, 2, 4), NotAfter: day(2014, 3, 4)})
	tests := []struct {
		name string
		set  *observe.Set
		want []string
	}{
		{"leaf expired at capture time", served("87.98.220.10:443", day(2014, 3, 13), leaf.DER, ca.DER), []string{"high 87.98.220.10:443"}},
		{"leaf valid at capture time though expired now, intermediate expired but not judged: quiet",
			served("192.0.2.1:443", day(2013, 6, 1), leaf.DER, ca.DER), nil},
		{"tls1.3 not applicable", tls13("192.0.2.1:443"), nil},
		{"file without observation time not applicable", fromFile(leaf.DER, time.Time{}), nil},
		{"file judged at its sighting time", fromFile(leaf.DER, day(2015, 1, 1)), []string{"high :0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, expired{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if f.Subject != observe.CertRef(sha(leaf.DER)).String() || f.Evidence["days_expired"] == nil {
					t.Errorf("finding %+v", f)
				}
			}
		})
	}
}
