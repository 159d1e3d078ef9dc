package findings_test

import (
	"net/netip"
	"slices"
	"strings"
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

// TestFlowVolumes checks the capture's per-connection counts reach the flow they belong
// to, added up over the client's connections, and that a connection nothing was
// recognised in makes no flow.
func TestFlowVolumes(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	set := observe.NewSet()
	server := netip.MustParseAddrPort("10.0.0.9:2575")
	set.AddHL7(observe.HL7Message{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.1:40001"), Server: server},
		FirstSeen: t0, MessageType: "ORU", TriggerEvent: "R01"})
	for i, port := range []uint16{40001, 40002} {
		set.AddVolume(observe.Volume{Flow: observe.Flow{Client: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), Server: server},
			Packets: 10 + uint64(i), Bytes: 1000, FirstSeen: t0})
	}
	set.AddVolume(observe.Volume{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.2:1"), Server: server}, Packets: 3, FirstSeen: t0})
	r := findings.NewReport(findings.ScanInfo{}, set, nil)
	if len(r.Flows) != 1 {
		t.Fatalf("%d flows; want 1: %+v", len(r.Flows), r.Flows)
	}
	if f := r.Flows[0]; f.Connections != 2 || f.Packets != 21 || f.Bytes != 2000 || f.Sessions != 1 {
		t.Errorf("volume: %d connections, %d packets, %d bytes, %d sessions; want 2, 21, 2000, 1", f.Connections, f.Packets, f.Bytes, f.Sessions)
	}
}

// TestFlowAnchoring holds the anchoring verdict an mtls flow takes from its sessions'
// judged chains (lint.AnchorSessions), and that other flows carry none.
func TestFlowAnchoring(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	conv := findings.Conversation{Client: "10.0.0.1", Host: "10.0.0.9", Port: 443}
	var srv, cli observe.CertRef
	srv[0], cli[0] = 1, 2
	anchored := &observe.Anchoring{Status: observe.AnchorAnchored, Anchor: "CN=Site Root"}
	selfSigned := &observe.Anchoring{Status: observe.AnchorSelfSigned, Reason: "the chain ends in CN=pump, which is self-signed and not a trust anchor"}
	otherCA := &observe.Anchoring{Status: observe.AnchorOtherCA, Reason: "the issuer of CN=pump (CN=Vendor CA) was not sent and is not a trust anchor"}
	expired := &observe.Anchoring{Status: observe.AnchorExpired, Reason: "CN=pump was outside its validity"}
	mtls := func(server, client *observe.Anchoring, mod ...func(*observe.TLSSession)) findings.TLSSession {
		s := observe.TLSSession{Count: 1, FirstSeen: t0, LastSeen: t0, Source: observe.SourcePassive, SawClientHello: true,
			SawServerHello: true, Version: 0x0303, CertRequest: true, ServerChain: []observe.CertRef{srv},
			ClientChain: []observe.CertRef{cli}, ServerAnchoring: server, ClientAnchoring: client}
		for _, m := range mod {
			m(&s)
		}
		return findings.TLSSession{Conversation: conv, TLSSession: s}
	}
	tls13 := func(s *observe.TLSSession) {
		s.Version, s.CertsEncrypted, s.ServerChain, s.ClientChain, s.ServerAnchoring, s.ClientAnchoring = 0x0304, true, nil, nil, nil, nil
	}
	probeSession := func(a *observe.Anchoring) findings.TLSSession {
		return findings.TLSSession{Conversation: findings.Conversation{Client: "10.0.0.99", Host: "10.0.0.9", Port: 443},
			TLSSession: observe.TLSSession{Count: 1, FirstSeen: t0, LastSeen: t0, Source: observe.SourceActive, SawServerHello: true,
				Version: 0x0304, ServerChain: []observe.CertRef{srv}, ServerAnchoring: a}}
	}
	required := []findings.ProbeEndpoint{{Host: "10.0.0.9", Port: 443, TLS: &findings.ProbeTLSProfile{CertRequest: true, CertRequired: true}}}
	for _, tc := range []struct {
		name           string
		sessions       []findings.TLSSession
		probes         []findings.ProbeEndpoint
		want           string // "" for no anchoring at all
		server, client string
		why            string // a part of Why
	}{
		{name: "both anchored", sessions: []findings.TLSSession{mtls(anchored, anchored)}, want: findings.AnchoringVerified,
			server: "anchored", client: "anchored", why: "leads to CN=Site Root"},
		{name: "self-signed client", sessions: []findings.TLSSession{mtls(anchored, selfSigned)}, want: findings.AnchoringClientUnanchored,
			server: "anchored", client: "self-signed", why: "self-signed and not a trust anchor"},
		{name: "server from another CA", sessions: []findings.TLSSession{mtls(otherCA, anchored)}, want: findings.AnchoringServerUnanchored,
			server: "other-ca", client: "anchored", why: "CN=Vendor CA"},
		{name: "both off", sessions: []findings.TLSSession{mtls(otherCA, expired)}, want: findings.AnchoringBothUnanchored,
			server: "other-ca", client: "expired"},
		{name: "one session's self-signed client is the flow's", sessions: []findings.TLSSession{mtls(anchored, anchored),
			mtls(anchored, selfSigned, func(s *observe.TLSSession) { s.FirstSeen = t0.Add(time.Hour) })},
			want: findings.AnchoringClientUnanchored, server: "anchored", client: "self-signed"},
		{name: "no anchors in the policy", sessions: []findings.TLSSession{mtls(nil, nil)}, want: findings.AnchoringNotJudged,
			server: "not-judged", client: "not-judged", why: "named no trust anchors"},
		{name: "unanchored client beats an unjudged server", sessions: []findings.TLSSession{mtls(nil, selfSigned)},
			want: findings.AnchoringClientUnanchored, server: "not-judged", client: "self-signed"},
		{name: "tls 1.3 required by the server: the prober's view of the server", sessions: []findings.TLSSession{mtls(nil, nil, tls13),
			probeSession(anchored)}, probes: required, want: findings.AnchoringNotJudged, server: "anchored", client: "not-judged",
			why: "travels encrypted"},
		{name: "tls 1.3, the prober saw a self-signed server", sessions: []findings.TLSSession{mtls(nil, nil, tls13),
			probeSession(selfSigned)}, probes: required, want: findings.AnchoringServerUnanchored, server: "self-signed", client: "not-judged"},
		{name: "tls without a client certificate has no anchoring", sessions: []findings.TLSSession{mtls(anchored, nil,
			func(s *observe.TLSSession) { s.ClientChain = nil })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var flows []findings.Flow
			for _, f := range findings.BuildFlows(&findings.Report{TLSSessions: tc.sessions, Probes: tc.probes}) {
				if f.Client == conv.Client {
					flows = append(flows, f)
				}
			}
			if len(flows) != 1 {
				t.Fatalf("%d flows from %s; want 1", len(flows), conv.Client)
			}
			f := flows[0]
			if tc.want == "" {
				if f.Anchoring != nil {
					t.Fatalf("protection %s with anchoring %+v; want none", f.Protection, *f.Anchoring)
				}
				return
			}
			a := f.Anchoring
			if f.Protection != findings.ProtectionMTLS || a == nil {
				t.Fatalf("protection %q, anchoring %v; want mtls with anchoring", f.Protection, a)
			}
			if a.Verdict != tc.want || a.Server != tc.server || a.Client != tc.client {
				t.Errorf("anchoring %s (server %s, client %s; %s); want %s (server %s, client %s)", a.Verdict, a.Server, a.Client,
					a.Why, tc.want, tc.server, tc.client)
			}
			if !strings.Contains(a.Why, tc.why) {
				t.Errorf("why %q; want it to say %q", a.Why, tc.why)
			}
			if got, want := f.ProtectionLabel(), "mtls "+tc.want; got != want {
				t.Errorf("label %q; want %q", got, want)
			}
			if a.Unanchored() != strings.HasSuffix(tc.want, "-unanchored") {
				t.Errorf("Unanchored() = %v for %s", a.Unanchored(), tc.want)
			}
		})
	}
}
