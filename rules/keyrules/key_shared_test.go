package keyrules

import (
	"crypto/elliptic"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestKeyShared(t *testing.T) {
	shared := linttest.ECKey(t, elliptic.P256())
	own := linttest.ECKey(t, elliptic.P384())
	pump := func(cn string) []byte { return linttest.New(t, linttest.Spec{CN: cn, Key: shared}).DER }
	root := linttest.New(t, linttest.Spec{CN: "Root", Key: own, IsCA: true})
	leafA := linttest.New(t, linttest.Spec{CN: "a", Key: linttest.Ed25519Key(t), Issuer: root}).DER
	leafB := linttest.New(t, linttest.Spec{CN: "b", Key: linttest.Ed25519Key(t), Issuer: root}).DER
	pump11, pump12, pump13 := pump("pump-11"), pump("pump-12"), pump("pump-13")
	ownCert := linttest.New(t, linttest.Spec{CN: "pump-14", Key: linttest.Ed25519Key(t)}).DER
	// One service's certificate, its renewal (same subject and names, same key), the
	// same subject with other names, and another identity on the same key.
	lbKey := linttest.ECKey(t, elliptic.P521())
	lb := func(cn string, from time.Time, names ...string) []byte {
		return linttest.New(t, linttest.Spec{CN: cn, Key: lbKey, Issuer: root, NotBefore: from, DNSNames: names}).DER
	}
	ehr := lb("ehr.example", time.Time{}, "ehr.example", "www.ehr.example")
	ehrRenewed := lb("ehr.example", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "www.ehr.example", "EHR.example")
	ehrOtherNames := lb("ehr.example", time.Time{}, "ehr.example", "pacs.example")
	pacs := lb("pacs.example", time.Time{}, "pacs.example")

	type served struct {
		server, client     string
		chain, clientChain [][]byte
	}
	set := func(ss ...served) *observe.Set {
		s := observe.NewSet()
		for _, x := range ss {
			s.AddTLS(rulestest.Session(x.server, x.client, 0x0303, 0xc02f), x.chain, x.clientChain)
		}
		return s
	}
	c := "198.51.100.9:50000"
	tls13 := observe.NewSet()
	tls13.AddTLS(rulestest.Session("10.20.1.11:443", c, 0x0304, 0x1301), nil, nil)
	tls13.AddTLS(rulestest.Session("10.20.1.12:443", c, 0x0304, 0x1301), nil, nil)
	tests := []struct {
		name string
		set  *observe.Set
		want []string
	}{
		{"three pumps share a key, the fourth does not", set(
			served{"10.20.1.11:443", c, [][]byte{pump11}, nil},
			served{"10.20.1.12:443", c, [][]byte{pump12}, nil},
			served{"10.20.1.13:443", c, [][]byte{pump13}, nil},
			served{"10.20.1.14:443", c, [][]byte{ownCert}, nil}),
			[]string{"high 10.20.1.11:443", "high 10.20.1.12:443", "high 10.20.1.13:443"}},
		{"one certificate on one host's two ports is quiet", set(
			served{"10.20.1.11:443", c, [][]byte{pump11}, nil},
			served{"10.20.1.11:8443", c, [][]byte{pump11}, nil}), nil},
		{"one host, one key, two subjects", set(
			served{"10.20.1.11:443", c, [][]byte{pump11}, nil},
			served{"10.20.1.11:8443", c, [][]byte{pump12}, nil}),
			[]string{"high 10.20.1.11:443", "high 10.20.1.11:8443"}},
		{"a CA key in many chains is not shared", set(
			served{"192.0.2.1:443", c, [][]byte{leafA, root.DER}, nil},
			served{"192.0.2.2:443", c, [][]byte{leafB, root.DER}, nil}), nil},
		{"two clients with one key", set(
			served{"192.0.2.1:443", "10.20.1.21:50000", [][]byte{leafA}, [][]byte{pump11}},
			served{"192.0.2.1:443", "10.20.1.22:50000", [][]byte{leafA}, [][]byte{pump12}}),
			[]string{"high 10.20.1.21:0", "high 10.20.1.22:0"}},
		{"one certificate on three front ends is one service: low", set(
			served{"10.20.0.21:443", c, [][]byte{ehr, root.DER}, nil},
			served{"10.20.0.22:443", c, [][]byte{ehr, root.DER}, nil},
			served{"10.20.0.23:443", c, [][]byte{ehr, root.DER}, nil}),
			[]string{"low 10.20.0.21:443", "low 10.20.0.22:443", "low 10.20.0.23:443"}},
		{"a renewal with the same subject and names is the same identity: low", set(
			served{"10.20.0.21:443", c, [][]byte{ehr}, nil},
			served{"10.20.0.22:443", c, [][]byte{ehrRenewed}, nil}),
			[]string{"low 10.20.0.21:443", "low 10.20.0.22:443"}},
		{"a renewal on the same host is quiet", set(
			served{"10.20.0.21:443", c, [][]byte{ehr}, nil},
			served{"10.20.0.21:8443", c, [][]byte{ehrRenewed}, nil}), nil},
		{"the same subject with other names is another identity: high", set(
			served{"10.20.0.21:443", c, [][]byte{ehr}, nil},
			served{"10.20.0.22:443", c, [][]byte{ehrOtherNames}, nil}),
			[]string{"high 10.20.0.21:443", "high 10.20.0.22:443"}},
		{"a load-balanced service and another identity on one key: high on every holder", set(
			served{"10.20.0.21:443", c, [][]byte{ehr}, nil},
			served{"10.20.0.22:443", c, [][]byte{ehr}, nil},
			served{"10.20.0.30:443", c, [][]byte{pacs}, nil}),
			[]string{"high 10.20.0.21:443", "high 10.20.0.22:443", "high 10.20.0.30:443"}},
		{"one device certificate on two clients is a shared device identity: high", set(
			served{"192.0.2.1:443", "10.20.1.21:50000", [][]byte{leafA}, [][]byte{pump11}},
			served{"192.0.2.1:443", "10.20.1.22:50000", [][]byte{leafA}, [][]byte{pump11}}),
			[]string{"high 10.20.1.21:0", "high 10.20.1.22:0"}},
		{"a server's certificate that a client also presents: high", set(
			served{"10.20.0.21:443", c, [][]byte{ehr}, nil},
			served{"192.0.2.1:443", "10.20.1.21:50000", [][]byte{leafA}, [][]byte{ehr}}),
			[]string{"high 10.20.0.21:443", "high 10.20.1.21:0"}},
		{"a service's nodes that use its certificate as clients too: low", set(
			served{"10.20.0.21:443", c, [][]byte{ehr}, nil},
			served{"10.20.0.22:443", c, [][]byte{ehr}, nil},
			served{"192.0.2.1:443", "10.20.0.21:50000", [][]byte{leafA}, [][]byte{ehr}}),
			[]string{"low 10.20.0.21:0", "low 10.20.0.21:443", "low 10.20.0.22:443"}},
		{"TLS 1.3: nothing observable", tls13, nil},
		{"no certificates: not applicable", observe.NewSet(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, keyShared{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}

	// The evidence lists every holder, and the message names the others.
	fs := rulestest.Run(t, keyShared{}, set(
		served{"10.20.1.11:443", c, [][]byte{pump11}, nil},
		served{"10.20.1.12:443", c, [][]byte{pump12}, nil},
		served{"10.20.1.13:443", c, [][]byte{pump13}, nil}), nil)
	f := fs[0]
	if f.Host != "10.20.1.11" || !strings.Contains(f.Message, "as 2 others: 10.20.1.12:443, 10.20.1.13:443") {
		t.Errorf("message %q", f.Message)
	}
	if got := f.Evidence["shared_by"].([]string); !slices.Equal(got, []string{"10.20.1.11:443", "10.20.1.12:443", "10.20.1.13:443"}) {
		t.Errorf("shared_by = %v", got)
	}
	if got := f.Evidence["subjects"].([]string); len(got) != 3 || len(f.Evidence["certificates"].([]string)) != 3 {
		t.Errorf("subjects %v, certificates %v", got, f.Evidence["certificates"])
	}
	if f.Subject != f.Evidence["spki_sha256"] || len(f.Subject) != 64 {
		t.Errorf("subject %q must be the SPKI SHA-256", f.Subject)
	}
	if f.Evidence["shared_as"] != "different-identities" || f.Evidence["identities"] != 3 ||
		!strings.HasSuffix(f.Message, "(certificates for 3 different identities)") {
		t.Errorf("shared_as %v, identities %v, message %q", f.Evidence["shared_as"], f.Evidence["identities"], f.Message)
	}

	// One service on several hosts: the message names the other hosts and says what it
	// is; the fingerprint is the one a high finding on the same holder and key has, so
	// that a key judged again keeps its history.
	lbSet := set(
		served{"10.20.0.21:443", c, [][]byte{ehr}, nil},
		served{"10.20.0.22:443", c, [][]byte{ehr}, nil},
		served{"10.20.0.23:443", c, [][]byte{ehr}, nil})
	fs = rulestest.Run(t, keyShared{}, lbSet, nil)
	low := fs[0]
	if want := "10.20.0.21:443 presents certificate CN=ehr.example, as 2 others do: 10.20.0.22:443, 10.20.0.23:443; " +
		"one identity on several hosts"; !strings.HasPrefix(low.Message, want) {
		t.Errorf("message %q, want it to start %q", low.Message, want)
	}
	if low.Evidence["shared_as"] != "one-service" || low.Evidence["identities"] != 1 ||
		!slices.Equal(low.Evidence["shared_by"].([]string), []string{"10.20.0.21:443", "10.20.0.22:443", "10.20.0.23:443"}) {
		t.Errorf("evidence %v", low.Evidence)
	}
	mixed := rulestest.Run(t, keyShared{}, set(
		served{"10.20.0.21:443", c, [][]byte{ehr}, nil},
		served{"10.20.0.22:443", c, [][]byte{ehr}, nil},
		served{"10.20.0.30:443", c, [][]byte{pacs}, nil}), nil)
	if mixed[0].Fingerprint != low.Fingerprint || mixed[0].Severity == low.Severity {
		t.Errorf("the same holder and key: fingerprints %s and %s, severities %v and %v",
			mixed[0].Fingerprint, low.Fingerprint, mixed[0].Severity, low.Severity)
	}
	// A site's severity override applies to both cases, like any rule's.
	pol := rules.DefaultPolicy()
	pol.Severity["key-shared"] = findings.Info
	for _, f := range rulestest.Run(t, keyShared{}, lbSet, pol) {
		if f.Severity != findings.Info {
			t.Errorf("override: %v", f)
		}
	}
}

func TestIdentity(t *testing.T) {
	var sum observe.CertRef
	pres := func(subject string, dns, ips []string, b byte) rules.Presentation {
		ref := sum
		ref[0] = b
		return rules.Presentation{Cert: &observe.Certificate{SHA256: ref},
			Facts: &observe.CertFacts{Subject: subject, DNSNames: dns, IPAddresses: ips}}
	}
	same := []struct{ a, b rules.Presentation }{
		{pres("CN=ehr", []string{"a.example", "B.example"}, nil, 1), pres("CN=ehr", []string{"b.example", "a.example", "a.example"}, nil, 2)},
		{pres("CN=ehr", nil, []string{"10.0.0.1"}, 1), pres("CN=ehr", nil, []string{"10.0.0.1"}, 2)},
	}
	for _, tc := range same {
		if identity(tc.a) != identity(tc.b) {
			t.Errorf("%q and %q should be one identity", identity(tc.a), identity(tc.b))
		}
	}
	differ := []struct{ a, b rules.Presentation }{
		{pres("CN=ehr", []string{"a.example"}, nil, 1), pres("CN=pacs", []string{"a.example"}, nil, 2)},
		{pres("CN=ehr", []string{"a.example"}, nil, 1), pres("CN=ehr", nil, []string{"10.0.0.1"}, 2)},
		{pres("CN=ehr", nil, nil, 1), pres("CN=ehr", []string{"ehr"}, nil, 2)},
		// Names that say nothing cannot be told to be one identity.
		{pres("", nil, nil, 1), pres("", nil, nil, 2)},
	}
	for _, tc := range differ {
		if identity(tc.a) == identity(tc.b) {
			t.Errorf("%q should be two identities", identity(tc.a))
		}
	}
}

func TestListSome(t *testing.T) {
	if got := listSome([]string{"a", "b", "c", "d", "e", "f"}, 4); got != "a, b, c, d and 2 more" {
		t.Error(got)
	}
	if got := listSome([]string{"a"}, 4); got != "a" {
		t.Error(got)
	}
}
