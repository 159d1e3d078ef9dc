package intercept

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// newKey is a fresh key: linttest's default key is shared by every certificate, and
// this rule tells servers apart by their keys.
func newKey(t *testing.T) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// serve adds a TLS 1.2 session in which server sends chain to client at a time.
func serve(set *observe.Set, server, client, sni string, at time.Time, chain ...*linttest.Cert) {
	s := rulestest.Session(server, client, 0x0303, 0xc02f)
	s.FirstSeen, s.LastSeen, s.SNI = at, at, sni
	var ders [][]byte
	for _, c := range chain {
		ders = append(ders, c.DER)
	}
	set.AddTLS(s, ders, nil)
}

func TestCertSubstituted(t *testing.T) {
	t0 := day(2020, 1, 1)
	root := linttest.New(t, linttest.Spec{CN: "Site Root", IsCA: true, NotBefore: t0, NotAfter: day(2040, 1, 1)})
	inter := linttest.New(t, linttest.Spec{CN: "Site Issuing", IsCA: true, Issuer: root, NotBefore: t0, NotAfter: day(2030, 1, 1)})
	leaf := func(cn string) *linttest.Cert {
		return linttest.New(t, linttest.Spec{CN: cn, Issuer: inter, NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1), Key: newKey(t)})
	}
	ehr, ehr2 := leaf("ehr.site.example"), leaf("ehr.site.example")
	mitm := linttest.New(t, linttest.Spec{CN: "ehr.site.example", Key: newKey(t), NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	proxyCA := linttest.New(t, linttest.Spec{CN: "Proxy CA", IsCA: true, NotBefore: t0, NotAfter: day(2040, 1, 1)})
	proxied := linttest.New(t, linttest.Spec{CN: "ehr.site.example", Issuer: proxyCA, Key: newKey(t), NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	anchors, err := lint.ParseAnchors([][]byte{root.DER})
	if err != nil {
		t.Fatal(err)
	}
	site := rules.DefaultPolicy()
	site.Anchors, site.TrustAnchorsFile = anchors, "site-roots.pem"

	at := day(2024, 6, 1)
	later := at.Add(2 * time.Hour)
	build := func(f func(set *observe.Set)) *observe.Set { set := observe.NewSet(); f(set); return set }
	tests := []struct {
		name string
		set  *observe.Set
		pol  *rules.Policy
		want []string
	}{
		{"self-signed key to one client beside the site key to another fires", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "", at, ehr, inter)
			serve(set, "10.0.0.20:443", "10.0.9.2:50000", "", later, mitm)
		}), nil, []string{"high 10.0.0.20:443"}},
		{"one client over time fires", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "", at, ehr, inter)
			serve(set, "10.0.0.20:443", "10.0.9.1:50001", "", later, mitm)
		}), nil, []string{"high 10.0.0.20:443"}},
		{"a proxy CA's key fires under the site's anchors", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "", at, ehr, inter)
			serve(set, "10.0.0.20:443", "10.0.9.2:50000", "", later, proxied, proxyCA)
		}), site, []string{"high 10.0.0.20:443"}},
		{"a proxy CA's key without anchors is not known to be suspect", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "", at, ehr, inter)
			serve(set, "10.0.0.20:443", "10.0.9.2:50000", "", later, proxied, proxyCA)
		}), nil, nil},
		{"the same name answered from another address fires", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "ehr.site.example", at, ehr, inter)
			serve(set, "10.0.0.66:443", "10.0.9.2:50000", "EHR.site.example", later, mitm)
		}), nil, []string{"high 10.0.0.66:443"}},
		{"a load balancer with two site certificates is quiet", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "ehr.site.example", at, ehr, inter)
			serve(set, "10.0.0.20:443", "10.0.9.2:50000", "ehr.site.example", later, ehr2, inter)
		}), site, nil},
		{"a self-signed key replaced for good by a site one is quiet", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "", at, mitm)
			serve(set, "10.0.0.20:443", "10.0.9.1:50001", "", later, ehr, inter)
		}), nil, nil},
		{"a suspect key long after the trusted one is quiet", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "", at, ehr, inter)
			serve(set, "10.0.0.20:443", "10.0.9.2:50000", "", at.Add(72*time.Hour), mitm)
		}), nil, nil},
		{"one key only: not applicable", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "", at, mitm)
			serve(set, "10.0.0.20:443", "10.0.9.2:50000", "", later, mitm)
		}), nil, nil},
		{"TLS 1.3: nothing observable", build(func(set *observe.Set) {
			serve(set, "10.0.0.20:443", "10.0.9.1:50000", "", at, ehr, inter)
			s := rulestest.Session("10.0.0.20:443", "10.0.9.2:50000", 0x0304, 0x1301)
			set.AddTLS(s, nil, nil)
		}), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, certSubstituted{}, tc.set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
			for _, f := range fs {
				keys, _ := f.Evidence["keys"].([]any)
				if len(keys) != 2 || f.Subject != mitmSPKI(tc.set, f.Evidence["suspect_spki"]) || f.Evidence["reason"] == "" {
					t.Errorf("evidence: %v", f.Evidence)
				}
			}
		})
	}
}

// mitmSPKI returns spki when a certificate of the set has it, so that the test checks the
// finding's subject names a key that was presented.
func mitmSPKI(set *observe.Set, spki any) string {
	for _, c := range set.Certificates {
		if c.Facts != nil && c.Facts.SPKISHA256 == spki {
			return c.Facts.SPKISHA256
		}
	}
	return "missing"
}

func TestCertSubstitutedCritical(t *testing.T) {
	t0 := day(2020, 1, 1)
	root := linttest.New(t, linttest.Spec{CN: "Root", IsCA: true, NotBefore: t0, NotAfter: day(2040, 1, 1)})
	good := linttest.New(t, linttest.Spec{CN: "hl7", Issuer: root, NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	bad := linttest.New(t, linttest.Spec{CN: "hl7", Key: newKey(t), NotBefore: day(2024, 1, 1), NotAfter: day(2025, 1, 1)})
	set := observe.NewSet()
	at := day(2024, 6, 1)
	serve(set, "10.0.0.5:2575", "10.0.9.1:50000", "", at, good, root)
	serve(set, "10.0.0.5:2575", "10.0.9.2:50000", "", at, bad)
	set.Assets = []*observe.Asset{{Addr: netip.MustParseAddr("10.0.0.5"), Kind: observe.KindMiddleware}}
	fs := rulestest.Run(t, certSubstituted{}, set, nil)
	if got := rulestest.Keys(fs); !slices.Equal(got, []string{"critical 10.0.0.5:2575"}) {
		t.Fatalf("got %v", got)
	}
}
