package findings_test

import (
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// TestFlowProtection holds the protection each combination of passive and active
// evidence gives a flow.
func TestFlowProtection(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	conv := findings.Conversation{Client: "10.0.0.1", Host: "10.0.0.9", Port: 443}
	var cert observe.CertRef
	cert[0] = 1
	session := func(mod func(s *observe.TLSSession)) findings.TLSSession {
		s := observe.TLSSession{Count: 2, FirstSeen: t0, LastSeen: t0, Source: observe.SourcePassive,
			SawClientHello: true, SawServerHello: true, Version: 0x0303, ServerChain: []observe.CertRef{cert}}
		mod(&s)
		return findings.TLSSession{Conversation: conv, TLSSession: s}
	}
	tls13 := func(s *observe.TLSSession) { s.Version, s.CertsEncrypted, s.ServerChain = 0x0304, true, nil }
	probe := func(request, required bool) []findings.ProbeEndpoint {
		return []findings.ProbeEndpoint{{Host: "10.0.0.9", Port: 443,
			TLS: &findings.ProbeTLSProfile{CertRequest: request, CertRequired: required}}}
	}
	for _, tc := range []struct {
		name     string
		sessions []findings.TLSSession
		probes   []findings.ProbeEndpoint
		hl7      bool
		want     string
		sources  []string
	}{
		{name: "tls 1.2 without a certificate request", sessions: []findings.TLSSession{session(func(*observe.TLSSession) {})},
			want: findings.ProtectionTLS},
		{name: "tls 1.2 requested, none sent", sessions: []findings.TLSSession{session(func(s *observe.TLSSession) { s.CertRequest = true })},
			want: findings.ProtectionTLS},
		{name: "tls 1.2 client certificate sent", sessions: []findings.TLSSession{session(func(s *observe.TLSSession) {
			s.CertRequest, s.ClientChain = true, []observe.CertRef{cert}
		})}, want: findings.ProtectionMTLS},
		{name: "tls 1.3 passive only", sessions: []findings.TLSSession{session(tls13)}, want: findings.ProtectionUnknownClientAuth},
		{name: "tls 1.3 and the prober saw a certificate required", sessions: []findings.TLSSession{session(tls13)},
			probes: probe(true, true), want: findings.ProtectionMTLS, sources: []string{"passive", "active"}},
		{name: "tls 1.3 and the prober saw no request", sessions: []findings.TLSSession{session(tls13)},
			probes: probe(false, false), want: findings.ProtectionTLS, sources: []string{"passive", "active"}},
		{name: "tls 1.3 and the prober saw an optional request", sessions: []findings.TLSSession{session(tls13)},
			probes: probe(true, false), want: findings.ProtectionUnknownClientAuth, sources: []string{"passive", "active"}},
		{name: "the weakest session wins", sessions: []findings.TLSSession{
			session(func(s *observe.TLSSession) { s.CertRequest, s.ClientChain = true, []observe.CertRef{cert} }),
			session(func(s *observe.TLSSession) { s.FirstSeen = t0.Add(time.Hour) })}, want: findings.ProtectionTLS},
		{name: "hl7 in clear", hl7: true, want: findings.ProtectionClear},
		{name: "the prober's own handshakes are not flows", sessions: []findings.TLSSession{
			session(func(s *observe.TLSSession) { s.Source = observe.SourceActive })}, probes: probe(true, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &findings.Report{TLSSessions: tc.sessions, Probes: tc.probes,
				Findings: []findings.Finding{{Rule: "tls-no-client-auth", Severity: findings.Medium, Host: "10.0.0.9", Port: 443},
					{Rule: "cert-expired", Severity: findings.High, Host: "10.0.0.9", Port: 8443}}}
			if tc.hl7 {
				r.HL7 = []findings.HL7Message{{Conversation: conv, HL7Message: observe.HL7Message{Count: 3, FirstSeen: t0,
					LastSeen: t0, MessageType: "ORU", TriggerEvent: "R01"}}}
			}
			flows := findings.BuildFlows(r)
			if tc.want == "" {
				if len(flows) != 0 {
					t.Fatalf("%d flows; want none", len(flows))
				}
				return
			}
			if len(flows) != 1 {
				t.Fatalf("%d flows; want 1", len(flows))
			}
			f := flows[0]
			if f.Protection != tc.want {
				t.Errorf("protection %q (%s); want %q", f.Protection, f.ProtectionWhy, tc.want)
			}
			if f.Findings.Total != 1 || f.Findings.Medium != 1 || !slices.Equal(f.Findings.Rules, []string{"tls-no-client-auth"}) {
				t.Errorf("findings %+v; want the one on port 443", f.Findings)
			}
			if want := tc.sources; want != nil && !slices.Equal(f.Sources, want) {
				t.Errorf("sources %v; want %v", f.Sources, want)
			}
			if tc.hl7 && (!slices.Equal(f.HL7Types, []string{"ORU^R01"}) || f.Sessions != 3 || f.Protocol != "hl7-mllp") {
				t.Errorf("hl7 flow %+v", f)
			}
		})
	}
}

// TestFlowItemsBounded checks a flow's lists stop at MaxFlowItems and count the rest.
func TestFlowItemsBounded(t *testing.T) {
	r := &findings.Report{}
	conv := findings.Conversation{Client: "10.0.0.1", Host: "10.0.0.9", Port: 80}
	for i := range findings.MaxFlowItems + 5 {
		r.HTTP = append(r.HTTP, findings.HTTPRequest{Conversation: conv, HTTPRequest: observe.HTTPRequest{Count: 1,
			Method: "GET", Path: "/api/v" + string(rune('a'+i%26)) + string(rune('a'+i/26)), API: observe.APIOther}})
	}
	flows := findings.BuildFlows(r)
	if len(flows) != 1 || len(flows[0].APITemplates) != findings.MaxFlowItems || flows[0].ItemsNotKept != 5 {
		t.Fatalf("flows %d, templates %d, not kept %d", len(flows), len(flows[0].APITemplates), flows[0].ItemsNotKept)
	}
}
