package certrules

import (
	"slices"
	"testing"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestSelfSigned(t *testing.T) {
	self := linttest.New(t, linttest.Spec{CN: "ntop", IsCA: true})
	root := linttest.New(t, linttest.Spec{CN: "Root", IsCA: true})
	leaf := linttest.New(t, linttest.Spec{CN: "leaf", Issuer: root})
	clientSelf := linttest.New(t, linttest.Spec{CN: "pump-17"})
	mutual := observe.NewSet()
	s := rulestest.Session("192.0.2.1:8443", "10.1.2.3:50000", 0x0303, 0xc02f)
	s.CertRequest = true
	mutual.AddTLS(s, [][]byte{leaf.DER, root.DER}, [][]byte{clientSelf.DER})
	tests := []struct {
		name string
		set  *observe.Set
		want []string
	}{
		{"self-signed leaf", served("127.0.0.1:3001", rulestest.T0, self.DER), []string{"medium 127.0.0.1:3001"}},
		{"self-signed client certificate", mutual, []string{"medium 10.1.2.3:0"}},
		{"root in the chain is not a finding", served("192.0.2.1:443", rulestest.T0, leaf.DER, root.DER), nil},
		{"tls1.3 not applicable", tls13("192.0.2.1:443"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, selfSigned{}, tc.set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
