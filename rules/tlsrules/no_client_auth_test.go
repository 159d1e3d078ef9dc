package tlsrules

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestNoClientAuth(t *testing.T) {
	sess := func(server string, version uint16, f func(*observe.TLSSession)) observe.TLSSession {
		s := rulestest.Session(server, "10.20.0.10:50000", version, 0xc02f)
		if version == 0x0304 {
			s.Suite = 0x1301
		}
		if f != nil {
			f(&s)
		}
		return s
	}
	named, err := rules.ParsePolicy("policy.yaml", []byte("version: 1\nclinical_services:\n  - 10.20.0.20:443\n  - EHR.example.org:443\n"))
	if err != nil {
		t.Fatal(err)
	}
	mtls := func(s *observe.TLSSession) { s.CertRequest = true }
	tests := []struct {
		name     string
		sessions []observe.TLSSession
		pol      *rules.Policy
		want     []string
		because  string
	}{
		{"DICOM TLS port without a certificate request fires",
			[]observe.TLSSession{sess("10.20.0.30:2762", 0x0303, nil)}, nil, []string{"medium 10.20.0.30:2762"}, "port 2762 (DICOM over TLS)"},
		{"MQTT ALPN on a general port fires",
			[]observe.TLSSession{sess("10.20.0.50:443", 0x0303, func(s *observe.TLSSession) { s.ALPN = []string{"mqtt"} })},
			nil, []string{"medium 10.20.0.50:443"}, "ALPN mqtt"},
		{"FHIR server name fires",
			[]observe.TLSSession{sess("10.20.0.60:443", 0x0303, func(s *observe.TLSSession) { s.SNI = "fhir-r4.hospital.example" })},
			nil, []string{"medium 10.20.0.60:443"}, "server name fhir-r4.hospital.example"},
		{"policy names the EHR by address",
			[]observe.TLSSession{sess("10.20.0.20:443", 0x0303, nil)}, named, []string{"medium 10.20.0.20:443"},
			"policy clinical_services names 10.20.0.20:443"},
		{"policy names the EHR by server name",
			[]observe.TLSSession{sess("10.20.0.21:443", 0x0303, func(s *observe.TLSSession) { s.SNI = "ehr.example.org" })},
			named, []string{"medium 10.20.0.21:443"}, "policy clinical_services names ehr.example.org:443"},
		{"the EHR without the policy: quiet", []observe.TLSSession{sess("10.20.0.20:443", 0x0303, nil)}, nil, nil, ""},
		{"mutual TLS on a clinical port: quiet, even when named", []observe.TLSSession{
			sess("10.20.0.10:2575", 0x0303, mtls), sess("10.20.0.20:443", 0x0303, mtls)}, named, nil, ""},
		{"one handshake that asked is enough: quiet", []observe.TLSSession{
			sess("10.20.0.30:2762", 0x0303, nil), sess("10.20.0.30:2762", 0x0303, func(s *observe.TLSSession) {
				s.CertRequest = true
				s.Flow.Client = netip.MustParseAddrPort("10.20.1.40:50001")
			})}, nil, nil, ""},
		{"TLS 1.3 is not observable: not applicable", []observe.TLSSession{sess("10.20.0.30:2762", 0x0304, nil)}, nil, nil, ""},
		{"resumed handshakes: not applicable", []observe.TLSSession{
			sess("10.20.0.30:2762", 0x0303, func(s *observe.TLSSession) { s.Resumed = true })}, nil, nil, ""},
		{"server flight not seen: not applicable", []observe.TLSSession{
			sess("10.20.0.30:2762", 0x0303, func(s *observe.TLSSession) { s.SawServerHello = false; s.Version = 0 })}, nil, nil, ""},
		{"a general web server: not applicable", []observe.TLSSession{
			sess("10.20.1.11:443", 0x0303, func(s *observe.TLSSession) { s.SNI = "impacts.example.org" })}, nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, s := range tc.sessions {
				chain := [][]byte{[]byte("server certificate " + s.Flow.Server.String())}
				if !s.SawServerHello {
					chain = nil
				}
				set.AddTLS(s, chain, nil)
			}
			fs := rulestest.Run(t, noClientAuth{}, set, tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				why := f.Evidence["clinical_because"].([]string)
				if !slices.Equal(why, []string{tc.because}) || !strings.Contains(f.Message, tc.because) ||
					!strings.Contains(f.Message, "without requesting a client certificate") {
					t.Errorf("message %q, clinical_because %v", f.Message, why)
				}
			}
		})
	}
}
