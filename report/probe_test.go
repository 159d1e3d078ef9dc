package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// probed is a scan that probed targets: a legacy TLS service demanding a client
// certificate, a refused port, a host left alone as a medical device and one the prober
// backed off from, with a hostile error string off the wire.
func probed() *findings.Report {
	r := empty()
	r.Scan.Sources = []string{"probe:10.20.0.0/30", "probe:ehr.example.local"}
	r.Probes = []findings.ProbeEndpoint{
		{Host: "10.20.0.1", Port: 443, ProbeEndpoint: observe.ProbeEndpoint{Name: "ehr.example.local", Time: t0, Outcome: "tls",
			Protocol: "tls", Connections: 17, Profile: "standard"},
			TLS: &findings.ProbeTLSProfile{
				Versions: []string{"TLSv1.0", "TLSv1.2"}, NegotiatedVersion: "TLSv1.2", NegotiatedSuite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
				Suites: []findings.ProbeVersion{
					{Version: "TLSv1.0", Suites: []string{"TLS_RSA_WITH_AES_128_CBC_SHA"}},
					{Version: "TLSv1.2", ServerPreference: true, Suites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
						"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_CBC_SHA"}},
				},
				Groups: []string{"x25519"}, DHBits: 1024, CertRequest: true, CertRequired: true,
				CertRequestCAs: []string{"CN=Ward CA"}, ServerCerts: []string{},
			}},
		{Host: "10.20.0.2", Port: 2575, ProbeEndpoint: observe.ProbeEndpoint{Time: t0, Outcome: "not-tls", Protocol: "hl7-mllp",
			Error: "peer answered <b>not TLS</b>\x1b[31m", Connections: 1, Profile: "standard"}},
		{Host: "10.20.0.2", Port: 11112, ProbeEndpoint: observe.ProbeEndpoint{Time: t0, Outcome: "open", Protocol: "dicom",
			Software: "OFFIS_DCMTK_367 1.2.276.0.7230010.3.0.3.6.7", Connections: 2, Profile: "standard"}},
		{Host: "10.20.0.2", Port: 8443, ProbeEndpoint: observe.ProbeEndpoint{Time: t0, Outcome: "refused",
			Error: "connect: connection refused", Connections: 1, Profile: "standard"}},
	}
	addr := netip.MustParseAddr
	r.ProbeHosts = []findings.ProbeHost{
		{Addr: addr("10.20.0.1"), Name: "ehr.example.local", Connections: 17, First: t0, Last: t0.Add(4 * time.Second)},
		{Addr: addr("10.20.0.2"), Connections: 2, First: t0, Last: t0},
		{Addr: addr("10.20.0.3"), Skipped: "medical device (classified from passive observation)"},
		{Addr: addr("10.20.0.4"), Connections: 3, Failures: 3, BackedOff: true, First: t0, Last: t0},
	}
	return r
}

func TestProbeGolden(t *testing.T) {
	for _, tc := range []struct{ name, format string }{
		{"table_probe.golden", "table"},
		{"json_probe.golden", "json"},
		{"report_probe.html.golden", "html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, render(t, tc.format, Options{}, probed()))
		})
	}
}

// TestProbeSections checks what a reader must learn from a probed scan: every accepted
// suite by name (HTML, JSON), the client-certificate demand, the hosts left alone with
// why; and that hostile bytes stay text.
func TestProbeSections(t *testing.T) {
	table := string(render(t, "table", Options{Width: 200}, probed()))
	for _, want := range []string{"Probed (4 ports on 4 hosts, 22 connections)", "TLSv1.2: 3 suites, server order",
		"required", "Not probed: 10.20.0.3: medical device", "Backed off: 10.20.0.4 after 3 connections, 3 failed",
		"DH 1024 bits"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	html := string(render(t, "html", Options{}, probed()))
	for _, want := range []string{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "(server order)", "10.20.0.3: not probed: medical device"} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(html, "<b>not TLS") || strings.Contains(html, "\x1b") || strings.Contains(table, "\x1b") {
		t.Error("a peer's bytes became markup or a terminal escape")
	}
	if passive := render(t, "table", Options{}, empty()); bytes.Contains(passive, []byte("Probed")) {
		t.Error("a scan that probed nothing shows a probe section")
	}
}
