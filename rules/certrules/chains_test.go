package certrules

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

// site is a small private PKI: a root, an issuing CA, and leaves.
type site struct {
	root, inter, leaf, pump, foreignRoot, foreignLeaf *linttest.Cert
	pol                                               *rules.Policy
}

func newSite(t *testing.T) site {
	t0 := day(2020, 1, 1)
	s := site{}
	s.root = linttest.New(t, linttest.Spec{CN: "Site Root", IsCA: true, NotBefore: t0, NotAfter: day(2040, 1, 1)})
	s.inter = linttest.New(t, linttest.Spec{CN: "Site Issuing", IsCA: true, Issuer: s.root, NotBefore: t0, NotAfter: day(2030, 1, 1)})
	s.leaf = linttest.New(t, linttest.Spec{CN: "ehr.site.example", Issuer: s.inter, NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1),
		DNSNames: []string{"ehr.site.example", "*.api.site.example"}, IPs: []netip.Addr{netip.MustParseAddr("10.0.0.20")}})
	s.pump = linttest.New(t, linttest.Spec{CN: "pump-0001", NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	s.foreignRoot = linttest.New(t, linttest.Spec{CN: "Vendor Root", IsCA: true, NotBefore: t0, NotAfter: day(2040, 1, 1)})
	s.foreignLeaf = linttest.New(t, linttest.Spec{CN: "vendor", Issuer: s.foreignRoot, NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	a, err := lint.ParseAnchors([][]byte{s.root.DER})
	if err != nil {
		t.Fatal(err)
	}
	s.pol = rules.DefaultPolicy()
	s.pol.Anchors, s.pol.TrustAnchorsFile = a, "site-roots.pem"
	return s
}

// session adds a TLS 1.2 session to set where server sends chain, with an SNI.
func session(set *observe.Set, server, sni string, at time.Time, chain ...*linttest.Cert) {
	s := rulestest.Session(server, "10.0.9.9:50000", 0x0303, 0xc02f)
	s.FirstSeen, s.LastSeen, s.SNI = at, at, sni
	var ders [][]byte
	for _, c := range chain {
		ders = append(ders, c.DER)
	}
	set.AddTLS(s, ders, nil)
}

func TestUntrusted(t *testing.T) {
	s := newSite(t)
	at := day(2024, 6, 1)
	build := func(f func(set *observe.Set)) *observe.Set { set := observe.NewSet(); f(set); return set }
	tests := []struct {
		name string
		set  *observe.Set
		pol  *rules.Policy
		want []string
	}{
		{"site chain: quiet", build(func(set *observe.Set) { session(set, "10.0.0.20:443", "", at, s.leaf, s.inter) }), s.pol, nil},
		{"self-signed pump", build(func(set *observe.Set) { session(set, "10.0.1.1:443", "", at, s.pump) }), s.pol, []string{"medium 10.0.1.1:443"}},
		{"foreign PKI", build(func(set *observe.Set) { session(set, "10.0.1.2:443", "", at, s.foreignLeaf, s.foreignRoot) }), s.pol, []string{"medium 10.0.1.2:443"}},
		{"intermediate known only from another session does not vouch", build(func(set *observe.Set) {
			session(set, "10.0.0.20:443", "", at, s.leaf, s.inter)
			session(set, "10.0.0.21:443", "", at, s.leaf)
		}), s.pol, []string{"medium 10.0.0.21:443"}},
		{"intermediate expired at observation time", build(func(set *observe.Set) {
			session(set, "10.0.0.20:443", "", day(2031, 1, 1), s.leaf, s.inter)
		}), s.pol, []string{"medium 10.0.0.20:443"}},
		{"no anchors in the policy: not applicable", build(func(set *observe.Set) { session(set, "10.0.1.1:443", "", at, s.pump) }), nil, nil},
		{"tls1.3 not applicable", tls13("10.0.1.1:443"), s.pol, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, untrusted{}, tc.set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
			for _, f := range fs {
				if f.Evidence["reason"] == "" || f.Evidence["trust_anchors"] != "site-roots.pem" || f.Evidence["chain"] == nil {
					t.Errorf("evidence %v", f.Evidence)
				}
			}
		})
	}
}

func TestIncompleteChain(t *testing.T) {
	s := newSite(t)
	at := day(2024, 6, 1)
	build := func(f func(set *observe.Set)) *observe.Set { set := observe.NewSet(); f(set); return set }
	tests := []struct {
		name string
		set  *observe.Set
		pol  *rules.Policy
		want []string
	}{
		{"intermediate omitted, seen elsewhere", build(func(set *observe.Set) {
			session(set, "10.0.0.20:443", "", at, s.leaf, s.inter)
			session(set, "10.0.0.21:443", "", at, s.leaf)
		}), nil, []string{"low 10.0.0.21:443"}},
		{"same under the site's anchors", build(func(set *observe.Set) {
			session(set, "10.0.0.20:443", "", at, s.leaf, s.inter)
			session(set, "10.0.0.21:443", "", at, s.leaf)
		}), s.pol, []string{"low 10.0.0.21:443"}},
		{"root omitted: allowed, quiet", build(func(set *observe.Set) {
			session(set, "10.0.0.20:443", "", at, s.leaf, s.inter)
			session(set, "10.0.0.22:443", "", at, s.inter, s.root)
		}), nil, nil},
		{"issuer never seen: cannot tell, quiet", build(func(set *observe.Set) { session(set, "10.0.0.21:443", "", at, s.leaf) }), nil, nil},
		{"self-signed leaf not applicable", build(func(set *observe.Set) { session(set, "10.0.1.1:443", "", at, s.pump) }), nil, nil},
		{"tls1.3 not applicable", tls13("10.0.1.1:443"), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, incompleteChain{}, tc.set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
			for _, f := range fs {
				if by, _ := f.Evidence["completed_by"].([]string); len(by) != 1 || by[0] != observe.CertRef(sha(s.inter.DER)).String() {
					t.Errorf("completed_by %v", f.Evidence["completed_by"])
				}
			}
		})
	}
}

func TestNameMismatch(t *testing.T) {
	s := newSite(t)
	at := day(2024, 6, 1)
	cnOnly := linttest.New(t, linttest.Spec{CN: "legacy.site.example", NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	one := func(server, sni string, chain ...*linttest.Cert) *observe.Set {
		set := observe.NewSet()
		session(set, server, sni, at, chain...)
		return set
	}
	tests := []struct {
		name string
		set  *observe.Set
		want []string
	}{
		{"SAN DNS name", one("10.0.0.20:443", "EHR.site.example.", s.leaf, s.inter), nil},
		{"wildcard, one label", one("10.0.0.20:443", "fhir.api.site.example", s.leaf, s.inter), nil},
		{"wildcard does not cover two labels", one("10.0.0.20:443", "a.b.api.site.example", s.leaf, s.inter), []string{"medium 10.0.0.20:443"}},
		{"wildcard does not cover the bare domain", one("10.0.0.20:443", "api.site.example", s.leaf, s.inter), []string{"medium 10.0.0.20:443"}},
		{"IP in SNI matched against IP SANs", one("10.0.0.20:443", "10.0.0.20", s.leaf, s.inter), nil},
		{"another name", one("10.0.0.20:443", "pacs.site.example", s.leaf, s.inter), []string{"medium 10.0.0.20:443"}},
		{"CN used when there is no SAN", one("10.0.0.30:443", "legacy.site.example", cnOnly), nil},
		{"CN mismatch when there is no SAN", one("10.0.0.30:443", "other.site.example", cnOnly), []string{"medium 10.0.0.30:443"}},
		{"CN ignored when a SAN is present", one("10.0.0.20:443", "Site Issuing", s.leaf, s.inter), []string{"medium 10.0.0.20:443"}},
		{"no SNI not applicable", one("10.0.0.20:443", "", s.leaf, s.inter), nil},
		{"tls1.3 not applicable", tls13("10.0.1.1:443"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, nameMismatch{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
		})
	}
	// Facts that lint did not examine (no role: names unread) are not judged.
	set := one("10.0.0.20:443", "pacs.site.example", s.leaf)
	for _, c := range set.Certificates {
		c.Facts = &observe.CertFacts{Subject: "CN=x"}
	}
	if fs := rules.Run(nameMismatch{}, set, nil); len(fs) != 0 {
		t.Errorf("unexamined facts judged: %v", fs)
	}
}
