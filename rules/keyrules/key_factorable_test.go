package keyrules

import (
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestKeyFactorable(t *testing.T) {
	key := linttest.RSAKey(t, 2048)
	root := linttest.New(t, linttest.Spec{CN: "Root", Key: linttest.RSAKey(t, 3072), IsCA: true})
	leaf := linttest.New(t, linttest.Spec{CN: "pump-21", Key: key, Issuer: root})
	c := "198.51.100.9:50000"
	// mark examines the set and then marks every certificate with the key as factored,
	// as lint.ExamineKeys and the store-wide batch GCD would.
	mark := func(s *observe.Set, spkiOf []byte, method string, with ...string) *observe.Set {
		lint.Examine(s)
		target := lint.Facts(spkiOf).SPKISHA256
		for _, cert := range s.Certificates {
			if cert.Facts.SPKISHA256 == target {
				cert.Facts.Factorable, cert.Facts.FactorMethod, cert.Facts.SharedPrimeWith = true, method, with
			}
		}
		return s
	}
	session := func(chain ...[]byte) *observe.Set {
		s := observe.NewSet()
		s.AddTLS(rulestest.Session("10.20.2.21:443", c, 0x0303, 0xc02f), chain, nil)
		return s
	}
	tls13 := observe.NewSet()
	tls13.AddTLS(rulestest.Session("10.20.2.21:443", c, 0x0304, 0x1301), nil, nil)
	tests := []struct {
		name    string
		set     *observe.Set
		want    []string
		message string
		cves    []string // the finding's CVEs (findings.EvidenceCVE)
	}{
		{"shares a prime with a key from an earlier scan",
			mark(session(leaf.DER, root.DER), leaf.DER, lint.FactorSharedPrime, "ab12 on 10.20.2.22:443 (scan 1)"),
			[]string{"critical 10.20.2.21:443"}, "it shares a prime with 1 other key seen by medscan", nil},
		{"Fermat", mark(session(leaf.DER), leaf.DER, lint.FactorFermat), []string{"critical 10.20.2.21:443"},
			"close enough for Fermat's method", []string{"CVE-2022-26320"}},
		{"small factor", mark(session(leaf.DER), leaf.DER, lint.FactorSmallFactor), []string{"critical 10.20.2.21:443"},
			"small prime factor", nil},
		{"a factored CA key is a finding for the host", mark(session(leaf.DER, root.DER), root.DER, lint.FactorSharedPrime, "x", "y"),
			[]string{"critical 10.20.2.21:443"}, "root certificate CN=Root", nil},
		{"sound keys are quiet", mark(session(leaf.DER, root.DER), nil, ""), nil, "", nil},
		{"TLS 1.3: not applicable", tls13, nil, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, keyFactorable{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if len(fs) > 0 && !strings.Contains(fs[0].Message, tc.message) {
				t.Errorf("message %q lacks %q", fs[0].Message, tc.message)
			}
			if len(fs) > 0 && !slices.Equal(fs[0].CVEs(), tc.cves) {
				t.Errorf("CVEs %v, want %v", fs[0].CVEs(), tc.cves)
			}
		})
	}
}

// TestCodesMatchLint keeps the rules' copies of lint's codes in step with lint.
func TestCodesMatchLint(t *testing.T) {
	for _, p := range [][2]string{
		{flawROCA, lint.FlawROCA}, {flawSmallFactor, lint.FlawSmallFactor}, {flawFermat, lint.FlawFermat},
		{flawBlocklisted, lint.FlawBlocklisted}, {factorSharedPrime, lint.FactorSharedPrime},
		{factorFermat, lint.FactorFermat}, {factorSmallFactor, lint.FactorSmallFactor},
	} {
		if p[0] != p[1] {
			t.Errorf("rules has %q where lint has %q", p[0], p[1])
		}
	}
}
