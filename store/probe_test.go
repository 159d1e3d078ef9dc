package store

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// TestProbeResultsRoundTrip saves what a prober reports and reads it back in report
// terms: names instead of numbers, SSLv2 cipher kinds named, untested thorough checks
// absent, and scans without probing keep their JSON unchanged.
func TestProbeResultsRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	set := observe.NewSet()
	leaf := certRef(leafDER)
	set.AddProbe(observe.ProbeEndpoint{Server: ap("10.20.0.5:443"), Name: "ehr.example.local", Time: t0,
		Outcome: observe.ProbeTLS, Protocol: "tls", Connections: 9, Profile: "standard", TLS: &observe.TLSProfile{
			Versions: []uint16{0x0002, 0x0301, 0x0303},
			Suites: []observe.VersionSuites{
				{Version: 0x0002, Suites: []uint32{0x0700c0}},
				{Version: 0x0303, Suites: []uint32{0xc02f, 0x009c}, ServerPreference: true},
			},
			Groups: []uint16{29}, DHBits: 1024, CertRequest: true, CertRequestCAs: []string{"CN=Ward CA"},
			ServerChain: []observe.CertRef{leaf}, Renegotiation: "secure", TicketLifetime: -1}})
	set.AddProbe(observe.ProbeEndpoint{Server: ap("10.20.0.5:2575"), Time: t0, Outcome: observe.ProbeRefused,
		Error: "connect: connection refused", Connections: 1})
	// The same port again (a target named twice) adds connections, keeps the richer result.
	set.AddProbe(observe.ProbeEndpoint{Server: ap("10.20.0.5:443"), Time: t0, Outcome: observe.ProbeTimeout, Connections: 1})
	set.AddProbeHost(observe.ProbeHost{Addr: netip.MustParseAddr("10.20.0.5"), Name: "ehr.example.local", Connections: 11,
		Failures: 1, First: t0, Last: t0})
	set.AddProbeHost(observe.ProbeHost{Addr: netip.MustParseAddr("10.20.0.9"), Skipped: "medical device"})
	id, err := save(ctx, s, findings.ScanInfo{Started: t0, Finished: t0, Complete: true}, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Probes) != 2 || r.Probes[0].Port != 443 || r.Probes[1].Outcome != "refused" ||
		r.Probes[1].Error != "connect: connection refused" || r.Probes[1].TLS != nil {
		t.Fatalf("probes = %+v", r.Probes)
	}
	p := r.Probes[0]
	if p.Connections != 10 || p.Outcome != "tls" || p.Name != "ehr.example.local" || p.TLS == nil {
		t.Fatalf("richer result not kept: %+v", p)
	}
	// The profile the port was probed with is kept: the history reads it.
	if p.Profile != "standard" || !p.Enumerated("standard") || p.Enumerated("thorough") {
		t.Errorf("profile = %q, enumerated(standard) %v", p.Profile, p.Enumerated("standard"))
	}
	if !slices.Equal(p.TLS.Versions, []string{"SSLv2", "TLSv1.0", "TLSv1.2"}) &&
		!slices.Equal(p.TLS.Versions, []string{observe.VersionName(2), observe.VersionName(0x0301), observe.VersionName(0x0303)}) {
		t.Errorf("versions = %v", p.TLS.Versions)
	}
	if got := p.TLS.Suites[0].Suites; !slices.Equal(got, []string{observe.SSLv2CipherName(0x0700c0)}) {
		t.Errorf("SSLv2 cipher kinds = %v", got)
	}
	if got := p.TLS.Suites[1]; got.Version != observe.VersionName(0x0303) || !got.ServerPreference ||
		!slices.Equal(got.Suites, []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"}) {
		t.Errorf("TLS 1.2 suites = %+v", got)
	}
	if !p.TLS.CertRequest || p.TLS.DHBits != 1024 || p.TLS.ServerCerts[0] != leaf.String() || p.TLS.Renegotiation != "secure" {
		t.Errorf("profile = %+v", p.TLS)
	}
	if len(r.ProbeHosts) != 2 || r.ProbeHosts[0].Connections != 11 || r.ProbeHosts[1].Skipped != "medical device" {
		t.Errorf("probe hosts = %+v", r.ProbeHosts)
	}
	js, _ := json.Marshal(r)
	if strings.Contains(string(js), `"compression"`) || !strings.Contains(string(js), `"ticket_lifetime":-1`) {
		t.Errorf("untested thorough checks must be absent, tested ones present: %s", js)
	}

	empty, err := save(ctx, s, findings.ScanInfo{Started: t0, Finished: t0, Complete: true}, observe.NewSet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err = s.Load(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	js, _ = json.Marshal(r)
	if strings.Contains(string(js), `"probes"`) || strings.Contains(string(js), `"probe_hosts"`) {
		t.Errorf("a scan that probed nothing has no probe sections: %s", js)
	}
}
