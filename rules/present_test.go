package rules

import (
	"testing"

	"github.com/medscan/medscan/observe"
)

func TestPresentationName(t *testing.T) {
	for _, tt := range []struct {
		subject string
		want    string
	}{
		{"CN=pump-0011,OU=Device Web UI,O=Infusion Systems,C=US", "CN=pump-0011"},
		{"O=Example Health System,CN=ehr.hospital.example.org", "CN=ehr.hospital.example.org"},
		{`CN=a\,b\+c,O=x`, `CN=a\,b\+c`},
		{"OU=x+CN=multi,O=y", "CN=multi"},
		{"O=Example Health System,L=Portland", "O=Example Health System"},
		{"OU=Long Unit Name,O=VeriSign Trust Network", "O=VeriSign Trust Network"},
		{"OU=only a unit,L=Somewhere", "OU=only a unit,L=Somewhere"},
		{"CNX=not a cn,OU=u", "CNX=not a cn,OU=u"},
		{"", "sha256:0000000000000000"},
	} {
		p := Presentation{Cert: &observe.Certificate{}, Facts: &observe.CertFacts{Subject: tt.subject}}
		if got := p.Name(); got != tt.want {
			t.Errorf("Name(%q) = %q, want %q", tt.subject, got, tt.want)
		}
	}
}
