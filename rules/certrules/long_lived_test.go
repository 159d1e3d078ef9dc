package certrules

import (
	"crypto/elliptic"
	"crypto/x509"
	"slices"
	"strings"
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
		{"802.1AR identity with a strong key: an informational note", asClient(devid), nil, []string{"info 10.0.1.42:0"}},
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
	// The note says what it is and why it is accepted, and asks for nothing.
	fs := rulestest.Run(t, longLived{}, asClient(devid), nil)
	f := fs[0]
	if !strings.Contains(f.Message, "client 10.0.1.42 presented device identity CN=pump-0042 with the IEEE 802.1AR no-expiry date") ||
		f.Evidence["no_well_defined_expiration"] != true || f.Evidence["accepted_by"] != "thresholds.devid_no_expiry" ||
		!strings.HasPrefix(f.Remediation, "None while its key is strong") {
		t.Errorf("note %q, evidence %v, remediation %q", f.Message, f.Evidence, f.Remediation)
	}
}

// Client (device identity) certificates are judged by client_max_days and
// client_high_days, never by the server leaf's 825 days; a certificate served by a
// server keeps the server limits.
func TestLongLivedClientCertificates(t *testing.T) {
	t0 := day(2015, 3, 1)
	at := day(2016, 1, 1)
	years := func(n int) time.Time { return t0.AddDate(n, 0, 0) }
	ca := linttest.New(t, linttest.Spec{CN: "Site Device CA", IsCA: true, NotBefore: t0, NotAfter: years(20)})
	dev := func(cn string, n int, eku ...x509.ExtKeyUsage) *linttest.Cert {
		return linttest.New(t, linttest.Spec{CN: cn, Issuer: ca, NotBefore: t0, NotAfter: years(n), EKU: eku})
	}
	clientAuth := x509.ExtKeyUsageClientAuth
	fiveYears := dev("monitor-5y", 5, clientAuth)
	tenYears := linttest.New(t, linttest.Spec{CN: "monitor-10y", Issuer: ca, NotBefore: t0, NotAfter: t0.AddDate(0, 0, 3650), EKU: []x509.ExtKeyUsage{clientAuth}})
	fifteen := dev("monitor-15y", 15, clientAuth)
	twenty := linttest.New(t, linttest.Spec{CN: "monitor-20y", Issuer: ca, NotBefore: t0, NotAfter: t0.AddDate(0, 0, 7300), EKU: []x509.ExtKeyUsage{clientAuth}})
	thirty := dev("monitor-30y", 30, clientAuth)
	serverFive := dev("web-5y", 5) // EKU serverAuth
	asClient := func(leaf *linttest.Cert) *observe.Set {
		set := observe.NewSet()
		s := rulestest.Session("10.0.0.10:6662", "10.0.1.42:50000", 0x0303, 0xc02f)
		s.FirstSeen, s.LastSeen = at, at
		set.AddTLS(s, nil, [][]byte{leaf.DER, ca.DER})
		return set
	}
	lenient := rules.DefaultPolicy()
	lenient.Thresholds.ClientMaxDays, lenient.Thresholds.ClientHighDays = 11000, 12000
	tests := []struct {
		name string
		set  *observe.Set
		pol  *rules.Policy
		want []string
	}{
		{"five-year client certificate: within the client limit", asClient(fiveYears), nil, nil},
		{"exactly ten years: at the limit", asClient(tenYears), nil, nil},
		{"fifteen years: medium", asClient(fifteen), nil, []string{"medium 10.0.1.42:0"}},
		{"exactly twenty years: still medium", asClient(twenty), nil, []string{"medium 10.0.1.42:0"}},
		{"thirty years: high", asClient(thirty), nil, []string{"high 10.0.1.42:0"}},
		{"a server certificate a client presents is judged as the client's", asClient(serverFive), nil, nil},
		{"the same server certificate served keeps the 825 days", served("10.0.0.20:443", at, serverFive.DER, ca.DER), nil,
			[]string{"medium 10.0.0.20:443"}},
		{"a clientAuth-only certificate served by a server is a device identity", served("10.0.1.43:443", at, fifteen.DER, ca.DER), nil,
			[]string{"medium 10.0.1.43:443"}},
		{"a clientAuth-only certificate in a file is a device identity", fromFile(fiveYears.DER, at), nil, nil},
		{"a serverAuth certificate in a file keeps the 825 days", fromFile(serverFive.DER, at), nil, []string{"medium :0"}},
		{"the policy's client limits", asClient(thirty), lenient, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, longLived{}, tc.set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
		})
	}
	fs := rulestest.Run(t, longLived{}, asClient(fifteen), nil)
	if f := fs[0]; f.Evidence["limit_days"] != 3650 || f.Evidence["limit"] != "thresholds.client_max_days" ||
		!strings.Contains(f.Message, "client 10.0.1.42 served device identity certificate CN=monitor-15y, valid for 5479 days") {
		t.Errorf("message %q, evidence %v", f.Message, f.Evidence)
	}
}
