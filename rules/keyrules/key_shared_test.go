package keyrules

import (
	"crypto/elliptic"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
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
}

func TestListSome(t *testing.T) {
	if got := listSome([]string{"a", "b", "c", "d", "e", "f"}, 4); got != "a, b, c, d and 2 more" {
		t.Error(got)
	}
	if got := listSome([]string{"a"}, 4); got != "a" {
		t.Error(got)
	}
}
