package keyrules

import (
	"crypto/elliptic"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

// TestKeySharedAcrossSites: a key this scan's host presents alone, held by hosts of other
// sites (observe.Fleet), is shared, and the finding names the sites; the fingerprint is
// the one a single-site finding on the same holder and key has.
func TestKeySharedAcrossSites(t *testing.T) {
	key := linttest.ECKey(t, elliptic.P256())
	pump := linttest.New(t, linttest.Spec{CN: "pump-11", Key: key})
	spki := func(s *observe.Set) string {
		for _, c := range s.Certificates {
			return c.Facts.SPKISHA256
		}
		return ""
	}
	one := func(fleet *observe.Fleet) *observe.Set {
		s := observe.NewSet()
		s.AddTLS(rulestest.Session("10.20.1.11:443", "198.51.100.9:50000", 0x0303, 0xc02f), [][]byte{pump.DER}, nil)
		s.Fleet = fleet
		lint.Examine(s)
		return s
	}
	bare := one(nil)
	k := spki(bare)
	if k == "" {
		t.Fatal("no SPKI")
	}
	otherPump := func(site, host string) observe.FleetKey {
		return observe.FleetKey{Site: site, SPKISHA256: k, Host: host, Port: 443, Role: "server",
			CertSHA256: strings.Repeat("ab", 32), Subject: "CN=pump-12"}
	}
	tests := []struct {
		name  string
		fleet *observe.Fleet
		want  []string
		sites []string
	}{
		{"alone: quiet", nil, nil, nil},
		{"an empty fleet: quiet", &observe.Fleet{Site: "north"}, nil, nil},
		{"one other site holds it: high, both sites named", &observe.Fleet{Site: "north",
			Keys: []observe.FleetKey{otherPump("south", "10.30.1.12")}},
			[]string{"high 10.20.1.11:443"}, []string{"north", "south"}},
		{"the same address at two other sites is two holders", &observe.Fleet{Site: "north",
			Keys: []observe.FleetKey{otherPump("south", "10.30.1.12"), otherPump("west", "10.30.1.12")}},
			[]string{"high 10.20.1.11:443"}, []string{"north", "south", "west"}},
		{"a key of another SPKI: quiet", &observe.Fleet{Site: "north",
			Keys: []observe.FleetKey{{Site: "south", SPKISHA256: strings.Repeat("0", 64), Host: "10.30.1.12", Port: 443,
				Role: "server", CertSHA256: strings.Repeat("cd", 32), Subject: "CN=x"}}}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := bare
			if tc.fleet != nil {
				s = one(tc.fleet)
			}
			fs := rulestest.Run(t, keyShared{}, s, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if len(fs) == 0 {
				return
			}
			f := fs[0]
			if got, _ := f.Evidence["sites"].([]string); !slices.Equal(got, tc.sites) {
				t.Errorf("sites = %v, want %v", f.Evidence["sites"], tc.sites)
			}
			if !strings.Contains(f.Message, "across sites "+strings.Join(tc.sites, ", ")) ||
				!strings.Contains(f.Message, "10.30.1.12:443 (site south)") {
				t.Errorf("message %q", f.Message)
			}
			if f.Evidence["shared_as"] != "different-identities" {
				t.Errorf("shared_as %v", f.Evidence["shared_as"])
			}
		})
	}
	// The same holder and key judged within one site has the same fingerprint.
	two := observe.NewSet()
	two.AddTLS(rulestest.Session("10.20.1.11:443", "198.51.100.9:50000", 0x0303, 0xc02f), [][]byte{pump.DER}, nil)
	two.AddTLS(rulestest.Session("10.20.1.12:443", "198.51.100.9:50000", 0x0303, 0xc02f),
		[][]byte{linttest.New(t, linttest.Spec{CN: "pump-12", Key: key}).DER}, nil)
	lint.Examine(two)
	local := rulestest.Run(t, keyShared{}, two, nil)
	fleet := rulestest.Run(t, keyShared{}, one(&observe.Fleet{Site: "north", Keys: []observe.FleetKey{otherPump("south", "10.30.1.12")}}), nil)
	if local[0].Fingerprint != fleet[0].Fingerprint {
		t.Errorf("fingerprints %s (one site) and %s (two sites) differ", local[0].Fingerprint, fleet[0].Fingerprint)
	}
}

// TestKeyFactorableAcrossSites: a key whose prime partners the store saw at other sites
// (observe.Fleet.FactorSites) names them; one site alone leaves the finding unchanged.
func TestKeyFactorableAcrossSites(t *testing.T) {
	leaf := linttest.New(t, linttest.Spec{CN: "pump-21", Key: linttest.RSAKey(t, 2048)})
	build := func(fleet *observe.Fleet) *observe.Set {
		s := observe.NewSet()
		s.AddTLS(rulestest.Session("10.20.2.21:443", "198.51.100.9:50000", 0x0303, 0xc02f), [][]byte{leaf.DER}, nil)
		lint.Examine(s)
		for _, c := range s.Certificates {
			c.Facts.Factorable, c.Facts.FactorMethod, c.Facts.SharedPrimeWith = true, factorSharedPrime, []string{"x on y"}
			if fleet != nil && fleet.FactorSites != nil {
				fleet.FactorSites[c.Facts.SPKISHA256] = fleet.FactorSites["*"]
			}
		}
		s.Fleet = fleet
		return s
	}
	for _, tc := range []struct {
		name  string
		sites []string
	}{{"one site", nil}, {"two sites", []string{"north", "south"}}} {
		t.Run(tc.name, func(t *testing.T) {
			var fleet *observe.Fleet
			if tc.sites != nil {
				fleet = &observe.Fleet{Site: "north", FactorSites: map[string][]string{"*": tc.sites}}
			}
			fs := rulestest.Run(t, keyFactorable{}, build(fleet), nil)
			if len(fs) != 1 {
				t.Fatalf("%d findings", len(fs))
			}
			got, _ := fs[0].Evidence["sites"].([]string)
			if !slices.Equal(got, tc.sites) {
				t.Errorf("sites %v, want %v", fs[0].Evidence["sites"], tc.sites)
			}
			if named := strings.Contains(fs[0].Message, "across sites north, south"); named != (tc.sites != nil) {
				t.Errorf("message %q", fs[0].Message)
			}
		})
	}
}
