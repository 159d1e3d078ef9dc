package certrules

import (
	"crypto/elliptic"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestLongLived(t *testing.T) {
	t0 := day(2010, 1, 1)
	days := func(n int) time.Time { return t0.AddDate(0, 0, n) }
	root := linttest.New(t, linttest.Spec{CN: "Root", IsCA: true, NotBefore: t0, NotAfter: days(9132)})
	oldRoot := linttest.New(t, linttest.Spec{CN: "Old Root", IsCA: true, NotBefore: t0, NotAfter: days(9133)})
	inter := linttest.New(t, linttest.Spec{CN: "Inter", IsCA: true, Issuer: root, NotBefore: t0, NotAfter: days(5479)})
	longInter := linttest.New(t, linttest.Spec{CN: "Long Inter", IsCA: true, Issuer: root, NotBefore: t0, NotAfter: days(5480)})
	leaf := linttest.New(t, linttest.Spec{CN: "leaf", Issuer: inter, NotBefore: t0, NotAfter: days(825)})
	leaf826 := linttest.New(t, linttest.Spec{CN: "leaf826", Issuer: inter, NotBefore: t0, NotAfter: days(826)})
	leaf10y := linttest.New(t, linttest.Spec{CN: "leaf10y", Issuer: inter, NotBefore: t0, NotAfter: days(3651)})
	selfCA10y := linttest.New(t, linttest.Spec{CN: "SELKS", IsCA: true, NotBefore: t0, NotAfter: days(3650)})
	at := day(2011, 1, 1)
	tests := []struct {
		name string
		set  *observe.Set
		want []string
	}{
		{"all at their limits: quiet", served("192.0.2.1:443", at, leaf.DER, inter.DER, root.DER), nil},
		{"leaf 826 days", served("192.0.2.1:443", at, leaf826.DER, inter.DER), []string{"medium 192.0.2.1:443"}},
		{"leaf beyond ten years is high", served("192.0.2.1:443", at, leaf10y.DER), []string{"high 192.0.2.1:443"}},
		{"intermediate 5480 days", served("192.0.2.1:443", at, leaf.DER, longInter.DER), []string{"medium 192.0.2.1:443"}},
		{"root 9133 days", served("192.0.2.1:443", at, leaf.DER, inter.DER, oldRoot.DER), []string{"medium 192.0.2.1:443"}},
		{"self-signed CA served as the leaf is judged as a leaf", served("192.168.56.101:443", at, selfCA10y.DER), []string{"medium 192.168.56.101:443"}},
		{"root file judged as a root", fromFile(root.DER, at), nil},
		{"tls1.3 not applicable", tls13("192.0.2.1:443"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, longLived{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
		})
	}
}

func TestLongLivedDeviceIdentityNoExpiry(t *testing.T) {
	t0 := day(2019, 5, 14)
	at := day(2024, 6, 1)
	ca := linttest.New(t, linttest.Spec{CN: "Maker CA", IsCA: true, NotBefore: t0, NotAfter: day(2039, 1, 1)})
	devid := linttest.New(t, linttest.Spec{CN: "pump-0042", Issuer: ca, NotBefore: t0, NotAfter: noExpiry})
	weak := linttest.New(t, linttest.Spec{CN: "pump-0043", Issuer: ca, NotBefore: t0, NotAfter: noExpiry, Key: linttest.ECKey(t, elliptic.P224())})
	thirty := linttest.New(t, linttest.Spec{CN: "pump-0044", Issuer: ca, NotBefore: t0, NotAfter: t0.AddDate(30, 0, 0)})
	// asClient is a set where a device presents its identity to a server.
	asClient := func(leaf *linttest.Cert) *observe.Set {
		set := observe.NewSet()
		s := rulestest.Session("10.0.0.10:6662", "10.0.1.42:50000", 0x0303, 0xc02f)
		s.FirstSeen, s.LastSeen = at, at
		set.AddTLS(s, nil, [][]byte{leaf.DER, ca.DER})
		return set
	}
	strict := rules.DefaultPolicy()
	strict.Thresholds.DevIDNoExpiry = false
	tests := []struct {
		name string
		set  *observe.Set
		pol  *rules.Policy
		want []string
	}{
		{"802.1AR identity with a strong key: accepted", asClient(devid), nil, nil},
		{"802.1AR value with a weak key", asClient(weak), nil, []string{"high 10.0.1.42:0"}},
		{"30-year device certificate", asClient(thirty), nil, []string{"high 10.0.1.42:0"}},
		{"policy turns the exception off", asClient(devid), strict, []string{"high 10.0.1.42:0"}},
		{"the same certificate served by a server is not a device identity", served("10.0.1.42:443", at, devid.DER), nil, []string{"high 10.0.1.42:443"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, longLived{}, tc.set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
		})
	}
}
