package keyrules

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestKeyNotRotated(t *testing.T) {
	seen := rulestest.T0
	renewal := func(days int, certs ...string) *observe.KeyRenewal {
		return &observe.KeyRenewal{Endpoint: netip.MustParseAddrPort("10.20.0.20:443"), SPKISHA256: "ab12",
			Certificates: certs, Subject: "CN=ehr", Since: seen.Add(-time.Duration(days) * 24 * time.Hour), Seen: seen, Scans: []int64{3}}
	}
	short := rules.DefaultPolicy()
	short.Thresholds.KeyMaxDays = 90
	tests := []struct {
		name string
		r    []*observe.KeyRenewal
		pol  *rules.Policy
		want []string
	}{
		{"kept 800 days past 730: low", []*observe.KeyRenewal{renewal(800, "a", "b")}, nil, []string{"low 10.20.0.20:443"}},
		{"kept 1500 days: medium", []*observe.KeyRenewal{renewal(1500, "a", "b", "c")}, nil, []string{"medium 10.20.0.20:443"}},
		{"kept 700 days: within the lifetime", []*observe.KeyRenewal{renewal(700, "a", "b")}, nil, nil},
		{"the policy's lifetime", []*observe.KeyRenewal{renewal(200, "a", "b")}, short, []string{"medium 10.20.0.20:443"}},
		{"no renewal history", nil, nil, nil},
		{"unknown start is not judged", []*observe.KeyRenewal{{Endpoint: netip.MustParseAddrPort("10.20.0.20:443"),
			Certificates: []string{"a", "b"}, Seen: seen}}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			set.KeyRenewals = tc.r
			fs := rulestest.Run(t, keyNotRotated{}, set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if f.Evidence["cert_sha256"] != tc.r[0].Certificates[len(tc.r[0].Certificates)-1] || f.Subject != "ab12" {
					t.Errorf("evidence %v, subject %q", f.Evidence, f.Subject)
				}
			}
		})
	}
}
