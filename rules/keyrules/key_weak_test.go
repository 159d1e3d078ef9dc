//go:debug rsa1024min=0

package keyrules

import (
	"crypto/elliptic"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestKeyWeak(t *testing.T) {
	rsa512 := linttest.RSAKey(t, 512)
	rsa1024 := linttest.RSAKey(t, 1024)
	rsa2048 := linttest.RSAKey(t, 2048)
	weakRoot := linttest.New(t, linttest.Spec{CN: "Weak Root", Key: rsa1024, IsCA: true})
	strongRoot := linttest.New(t, linttest.Spec{CN: "Root", Key: rsa2048, IsCA: true})
	weakInter := linttest.New(t, linttest.Spec{CN: "Weak Inter", Key: rsa1024, IsCA: true, Issuer: strongRoot})
	leaf1024 := linttest.New(t, linttest.Spec{CN: "www.dresdner-privat.de", Key: rsa1024, Issuer: weakInter})
	leaf2048 := linttest.New(t, linttest.Spec{CN: "ok", Key: rsa2048, Issuer: strongRoot})
	leafUnderWeakRoot := linttest.New(t, linttest.Spec{CN: "under weak root", Key: rsa2048, Issuer: weakRoot})
	leaf512 := linttest.New(t, linttest.Spec{CN: "tiny", Key: rsa512})
	p224 := linttest.New(t, linttest.Spec{CN: "p224", Key: linttest.ECKey(t, elliptic.P224())})
	p256 := linttest.New(t, linttest.Spec{CN: "p256", Key: linttest.ECKey(t, elliptic.P256())})
	ed := linttest.New(t, linttest.Spec{CN: "ed", Key: linttest.Ed25519Key(t)})
	at := rulestest.T0
	set := func(server string, chain ...[]byte) *observe.Set {
		s := observe.NewSet()
		x := rulestest.Session(server, "198.51.100.9:50000", 0x0303, 0xc02f)
		x.FirstSeen, x.LastSeen = at, at
		s.AddTLS(x, chain, nil)
		return s
	}
	tls13 := observe.NewSet()
	tls13.AddTLS(rulestest.Session("192.0.2.1:443", "198.51.100.9:50000", 0x0304, 0x1301), nil, nil)
	tests := []struct {
		name string
		set  *observe.Set
		want []string
	}{
		{"1024-bit leaf and intermediate: one finding each", set("194.127.84.106:443", leaf1024.DER, weakInter.DER),
			[]string{"high 194.127.84.106:443", "high 194.127.84.106:443"}},
		{"weak root key in the chain is a finding for the host", set("192.0.2.1:443", leafUnderWeakRoot.DER, weakRoot.DER),
			[]string{"high 192.0.2.1:443"}},
		{"512-bit is critical", set("192.0.2.1:443", leaf512.DER), []string{"critical 192.0.2.1:443"}},
		{"p224 is weak", set("192.0.2.1:443", p224.DER), []string{"high 192.0.2.1:443"}},
		{"rsa 2048 chain quiet", set("192.0.2.1:443", leaf2048.DER, strongRoot.DER), nil},
		{"p256 quiet", set("192.0.2.1:443", p256.DER), nil},
		{"ed25519 quiet", set("192.0.2.1:443", ed.DER), nil},
		{"tls1.3 not applicable", tls13, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, keyWeak{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	th := rules.DefaultPolicy().Thresholds
	tests := []struct {
		name    string
		facts   observe.CertFacts
		reasons int
		sev     string
	}{
		{"rsa exponent 1", observe.CertFacts{KeyType: "rsa", KeyBits: 2048, RSAExponent: 1}, 1, "critical"},
		{"rsa even exponent", observe.CertFacts{KeyType: "rsa", KeyBits: 2048, RSAExponent: 65536}, 1, "high"},
		{"rsa 1024 and exponent 3", observe.CertFacts{KeyType: "rsa", KeyBits: 1024, RSAExponent: 3}, 2, "high"},
		{"rsa exponent 3 alone is low", observe.CertFacts{KeyType: "rsa", KeyBits: 2048, RSAExponent: 3}, 1, "low"},
		{"rsa exponent 65537 fine", observe.CertFacts{KeyType: "rsa", KeyBits: 2048, RSAExponent: 65537}, 0, "low"},
		{"roca 2048 is high", observe.CertFacts{KeyType: "rsa", KeyBits: 2048, RSAExponent: 65537, KeyFlaws: []string{"roca"}}, 1, "high"},
		{"roca 1024 is critical", observe.CertFacts{KeyType: "rsa", KeyBits: 1024, RSAExponent: 65537, KeyFlaws: []string{"roca"}}, 2, "critical"},
		{"small factor", observe.CertFacts{KeyType: "rsa", KeyBits: 2048, RSAExponent: 65537, KeyFlaws: []string{"small-factor"}}, 1, "critical"},
		{"fermat", observe.CertFacts{KeyType: "rsa", KeyBits: 2048, RSAExponent: 65537, KeyFlaws: []string{"fermat"}}, 1, "critical"},
		{"blocklisted ec key", observe.CertFacts{KeyType: "ecdsa", KeyBits: 256, Curve: "P-256", KeyFlaws: []string{"blocklisted"}}, 1, "critical"},
		{"rsa 1023", observe.CertFacts{KeyType: "rsa", KeyBits: 1023, RSAExponent: 65537}, 1, "critical"},
		{"dsa 2048", observe.CertFacts{KeyType: "dsa", KeyBits: 2048}, 1, "high"},
		{"ec 192", observe.CertFacts{KeyType: "ecdsa", KeyBits: 192, Curve: "P-192"}, 1, "high"},
		{"ec of unknown size: not applicable", observe.CertFacts{KeyType: "ecdsa", Curve: "1.2.3.4"}, 0, "low"},
		{"unknown key: not applicable", observe.CertFacts{KeyType: "unknown"}, 0, "low"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, sev := judge(&tc.facts, th)
			if len(r) != tc.reasons || sev.String() != tc.sev {
				t.Errorf("judge = %v, %v; want %d reasons, %s", r, sev, tc.reasons, tc.sev)
			}
		})
	}
}

func TestKeyWeakFlaws(t *testing.T) {
	leaf := linttest.New(t, linttest.Spec{CN: "tpm-device", Key: linttest.RSAKey(t, 2048)})
	s := observe.NewSet()
	s.AddTLS(rulestest.Session("192.0.2.1:443", "198.51.100.9:50000", 0x0303, 0xc02f), [][]byte{leaf.DER}, nil)
	lint.Examine(s)
	for _, c := range s.Certificates {
		c.Facts.KeyFlaws = []string{lint.FlawROCA}
	}
	fs := rulestest.Run(t, keyWeak{}, s, nil)
	if got := rulestest.Keys(fs); !slices.Equal(got, []string{"high 192.0.2.1:443"}) {
		t.Fatalf("got %v", got)
	}
	if !strings.Contains(fs[0].Message, "ROCA fingerprint (CVE-2017-15361)") ||
		!slices.Equal(fs[0].Evidence["key_flaws"].([]string), []string{"roca"}) {
		t.Errorf("message %q, evidence %v", fs[0].Message, fs[0].Evidence["key_flaws"])
	}
	if got := fs[0].CVEs(); !slices.Equal(got, []string{"CVE-2017-15361"}) {
		t.Errorf("CVEs %v, want ROCA's", got)
	}
}

// TestFlawCVEs: only ROCA and Fermat keys are instances of a published CVE.
func TestFlawCVEs(t *testing.T) {
	for _, tc := range []struct {
		flaws []string
		want  []string
	}{
		{[]string{flawROCA}, []string{"CVE-2017-15361"}},
		{[]string{flawFermat, flawSmallFactor}, []string{"CVE-2022-26320"}},
		{[]string{flawROCA, flawFermat, flawROCA}, []string{"CVE-2017-15361", "CVE-2022-26320"}},
		{[]string{flawSmallFactor, flawBlocklisted}, nil},
		{nil, nil},
	} {
		if got := flawCVEs(tc.flaws); !slices.Equal(got, tc.want) {
			t.Errorf("flawCVEs(%v) = %v, want %v", tc.flaws, got, tc.want)
		}
	}
}
