package certrules

import (
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestCertLint(t *testing.T) {
	good := linttest.New(t, linttest.Spec{CN: "ok", NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	// A certificate whose facts carry results of every status, as lint records them.
	withResults := func(server string, lints ...observe.CertLint) *observe.Set {
		set := served(server, day(2024, 6, 1), good.DER)
		for _, c := range set.Certificates {
			c.Facts = &observe.CertFacts{Subject: "CN=dev", Role: "tls-server", NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1),
				Lints: lints}
		}
		return set
	}
	broken := served("192.0.2.2:443", day(2024, 6, 1), good.DER[:len(good.DER)/2])
	tests := []struct {
		name string
		set  *observe.Set
		want []string
	}{
		{"statuses map to severities", withResults("192.0.2.1:443",
			observe.CertLint{Name: "e_a", Status: "error", Source: "RFC5280", Citation: "RFC 5280: 4.2"},
			observe.CertLint{Name: "f_b", Status: "fatal", Source: "RFC5280"},
			observe.CertLint{Name: "w_c", Status: "warn", Source: "Community"}),
			[]string{"high 192.0.2.1:443", "low 192.0.2.1:443", "medium 192.0.2.1:443"}},
		{"notices and a clean run: quiet", withResults("192.0.2.1:443", observe.CertLint{Name: "n_d", Status: "info"}), nil},
		{"a certificate that does not parse", broken, []string{"high 192.0.2.2:443"}},
		{"tls1.3 not applicable", tls13("192.0.2.1:443"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, certLint{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
			for _, f := range fs {
				lintName, _ := f.Evidence["lint"].(string)
				if lintName == "" || !strings.HasSuffix(f.Subject, ":"+lintName) || f.Evidence["lint_status"] == nil || f.Evidence["lint_source"] == nil {
					t.Errorf("finding %+v", f)
				}
			}
		})
	}
}

// zlint's own results reach findings: linttest's ECDSA leaves assert keyEncipherment,
// which RFC 8813 forbids.
func TestCertLintRunsZLint(t *testing.T) {
	leaf := linttest.New(t, linttest.Spec{CN: "ok", NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	fs := rulestest.Run(t, certLint{}, served("192.0.2.3:443", day(2024, 6, 1), leaf.DER), nil)
	found := false
	for _, f := range fs {
		found = found || f.Evidence["lint"] == "e_ecdsa_allowed_ku"
	}
	if !found {
		t.Errorf("e_ecdsa_allowed_ku not reported: %v", rulestest.Keys(fs))
	}
}
