package findings

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func flow(client, server string) observe.Flow {
	return observe.Flow{Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server)}
}

// TestNewReportFromSet builds the document of a small scan and checks what the document
// derives and the order it keeps: the same set in any order of arrival gives the same
// bytes.
func TestNewReportFromSet(t *testing.T) {
	build := func(reverse bool) *Report {
		set := observe.NewSet()
		reqs := []observe.HTTPRequest{
			{Flow: flow("10.0.0.9:40000", "10.0.0.80:8080"), FirstSeen: t0, Method: "GET", Path: "/fhir/Patient/WRD4471902",
				RespContentType: "application/fhir+json", Status: 200},
			{Flow: flow("10.0.0.5:40000", "10.0.0.80:8080"), FirstSeen: t0, Method: "POST", Path: "/api/v1/vitals",
				ContentType: "application/json", Status: 201},
		}
		if reverse {
			reqs[0], reqs[1] = reqs[1], reqs[0]
		}
		for _, r := range reqs {
			set.AddHTTP(r.AsEmitted())
		}
		set.AddTLS(observe.TLSSession{Flow: flow("10.0.0.9:40001", "10.0.0.80:443"), FirstSeen: t0, SawServerHello: true,
			Version: 0x0303, Suite: 0xc02f, ECDHCurve: 29, SNI: "ehr.example"}, [][]byte{[]byte("leaf")}, nil)
		set.AddService(observe.Service{Server: netip.MustParseAddrPort("10.0.0.80:443"), Transport: "tcp", Protocol: "tls",
			FirstSeen: t0, Source: observe.SourcePassive})
		set.AddHost(netip.MustParseAddr("10.0.0.80"), "00:00:0c:11:22:33", t0)
		fs := []Finding{{Rule: "b-rule", Severity: Low, Host: "10.0.0.80", Port: 8080, Message: "low"},
			{Rule: "a-rule", Severity: High, Host: "10.0.0.80", Port: 443, Message: "high \x1b[2J"}}
		for i := range fs {
			fs[i].SetFingerprint()
		}
		r := NewReport(ScanInfo{ID: 7, Started: t0}, set, fs)
		r.Normalize() // as the store gives every document back
		return r
	}
	r := build(false)
	if r.Scan.Kind != KindNetwork || r.Tool.Name != ToolName || r.SchemaVersion != ReportSchemaVersion {
		t.Errorf("scan %+v tool %+v", r.Scan, r.Tool)
	}
	if r.Summary.Total != 2 || r.Summary.High != 1 || r.Findings[0].Rule != "a-rule" {
		t.Errorf("summary %+v, first %s", r.Summary, r.Findings[0].Rule)
	}
	if r.Findings[0].Message != `high \x1b[2J` {
		t.Errorf("a finding's text was not tidied: %q", r.Findings[0].Message)
	}
	if len(r.HTTP) != 2 || r.HTTP[0].Client != "10.0.0.5" || r.HTTP[1].Path != "/fhir/Patient/{id}" ||
		r.HTTP[1].API != observe.APIFHIR || r.HTTP[1].Resource != "Patient" || r.HTTP[0].Host != "10.0.0.80" || r.HTTP[0].Port != 8080 {
		t.Errorf("http %+v", r.HTTP)
	}
	if s := r.TLSSessions[0]; s.Version != "TLSv1.2" || s.Cipher != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" ||
		s.ECDHCurve != "x25519" || !s.CertsObservable || s.CipherID != 0xc02f {
		t.Errorf("session not derived: %+v", s)
	}
	if v := r.Services[0]; v.TLSVersion != "TLSv1.2" || v.Cipher != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" {
		t.Errorf("service not derived: %+v", v)
	}
	if a := r.Assets[0]; a.IP() != "10.0.0.80" || a.MAC != "00:00:0c:11:22:33" || a.Vendor == "" || a.Kind != "" {
		t.Errorf("asset from the host table: %+v", a)
	}
	if len(r.Certificates) != 1 || r.Certificates[0].Examined() || len(r.Certificates[0].SeenOn) != 1 ||
		r.Certificates[0].SeenOn[0].Host != "10.0.0.80" || r.Certificates[0].SeenOn[0].SNI != "ehr.example" {
		t.Errorf("certificates %+v", r.Certificates)
	}
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(build(true))
	if !bytes.Equal(a, b) {
		t.Error("the order of arrival changed the document")
	}
	if bytes.Contains(a, []byte("WRD4471902")) || bytes.Contains(a, []byte("null")) {
		t.Errorf("document holds a raw path or a null: %s", a)
	}
}

// TestTidy checks the one pass every output starts from: strings cleaned wherever they
// are (fields, lists, evidence keys and values, nested), nil lists made empty except
// where the field is omitted when empty.
func TestTidy(t *testing.T) {
	r := &Report{
		Scan: ScanInfo{Label: "ward\u202e7", Sources: []string{"a\x1b[31m.pcap"}},
		Findings: []Finding{{Rule: "r", Message: "m\x07", Evidence: map[string]any{
			"k\x1b": "v\x00", "list": []string{"ok", "bad\u202e"}, "any": []any{"x\x1b", 3, map[string]any{"n": "\x1b[2J"}},
			"maps": []map[string]any{{"a": "b\x08"}}, "num": json.Number("7"), "ints": []int{1, 2},
		}}},
		HTTP: []HTTPRequest{{HTTPRequest: observe.HTTPRequest{UserAgent: "curl\x1b[2J", QueryKeys: []string{"t\x00"}}}},
	}
	Tidy(r)
	want := map[string]string{
		"label": `ward\u202e7`, "source": `a\x1b[31m.pcap`, "message": `m\x07`, "agent": `curl\x1b[2J`, "key": `t\x00`,
	}
	got := map[string]string{"label": r.Scan.Label, "source": r.Scan.Sources[0], "message": r.Findings[0].Message,
		"agent": r.HTTP[0].UserAgent, "key": r.HTTP[0].QueryKeys[0]}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s = %q, want %q", k, got[k], want[k])
		}
	}
	ev := r.Findings[0].Evidence
	if ev[`k\x1b`] != `v\x00` || ev["list"].([]string)[1] != `bad\u202e` || ev["any"].([]any)[0] != `x\x1b` ||
		ev["any"].([]any)[2].(map[string]any)["n"] != `\x1b[2J` || ev["maps"].([]map[string]any)[0]["a"] != `b\x08` ||
		ev["num"] != json.Number("7") {
		t.Errorf("evidence not tidied: %#v", ev)
	}
	if r.Certificates == nil || r.Assets == nil || r.Scan.Problems == nil || r.HTTP[0].APIKeyHeaders == nil {
		t.Error("nil lists left")
	}
	if r.Probes != nil || r.Suppressed != nil {
		t.Error("omitted-when-empty lists were made empty")
	}
	out, _ := json.Marshal(r)
	for _, bad := range []string{`\u001b`, `\u0000`, `\u0007`, "\u202e", "null"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("JSON holds %q: %s", bad, out)
		}
	}
}

func TestProfileAtLeast(t *testing.T) {
	for _, tc := range []struct {
		have, want string
		ok         bool
	}{
		{"standard", "standard", true}, {"thorough", "standard", true}, {"inventory", "standard", false},
		{"", "inventory", true}, {"", "standard", false}, {"standard", "", false}, {"deep", "inventory", true},
	} {
		if got := ProfileAtLeast(tc.have, tc.want); got != tc.ok {
			t.Errorf("ProfileAtLeast(%q, %q) = %v", tc.have, tc.want, got)
		}
	}
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"10.0.0.1", 443, "10.0.0.1:443"}, {"2001:db8::1", 443, "[2001:db8::1]:443"}, {"10.0.0.1", 0, "10.0.0.1"},
		{"", 0, ""}, {"ehr.example", 8443, "ehr.example:8443"},
	} {
		if got := Target(tc.host, tc.port); got != tc.want {
			t.Errorf("Target(%q, %d) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
}

// TestTidyEvidence cleans evidence in place, at any depth, and writes a nil list as [].
func TestTidyEvidence(t *testing.T) {
	r := &Report{Findings: []Finding{{Rule: "r", Evidence: map[string]any{
		"devices": []string(nil),
		"status":  []int{200},
		"k\x1b":   []any{"a\x1b[2J", map[string]any{"x": []string{"\u202e"}}},
		"secrets": []map[string]any{{"preview": "p\x07"}},
	}}}}
	Tidy(r)
	js, err := json.Marshal(r.Findings[0].Evidence)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"devices":[],"k\\x1b":["a\\x1b[2J",{"x":["\\u202e"]}],"secrets":[{"preview":"p\\x07"}],"status":[200]}`
	if string(js) != want {
		t.Errorf("evidence = %s\nwant       %s", js, want)
	}
}

// TestServiceTLSOfProbedService checks the TLS version and suite a service is shown
// with: for a probed service, what its ordinary handshake negotiated, never the suite
// enumeration tried last nor the lowest version accepted; for a service seen in traffic,
// its latest handshake there, whatever a probe of the same port tried later. The store
// gives documents back without the raw profile, so the named one must carry it.
func TestServiceTLSOfProbedService(t *testing.T) {
	set := observe.NewSet()
	probed, watched := netip.MustParseAddrPort("10.0.0.1:443"), netip.MustParseAddrPort("10.0.0.80:443")
	active := func(server netip.AddrPort, at time.Duration, v uint16, suite uint16) {
		set.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.200:50000"), Server: server},
			FirstSeen: t0.Add(at), LastSeen: t0.Add(at), SawServerHello: true, Version: v, Suite: suite, Source: observe.SourceActive}, nil, nil)
	}
	// The default handshake first, then enumeration down to TLS 1.0, last of all.
	active(probed, 0, 0x0303, 0xc02f)
	active(probed, time.Second, 0x0303, 0x009c)
	active(probed, 2*time.Second, 0x0301, 0x002f)
	set.AddProbe(observe.ProbeEndpoint{Server: probed, Time: t0, Outcome: observe.ProbeTLS, Protocol: "tls", Profile: "standard",
		TLS: &observe.TLSProfile{Versions: []uint16{0x0301, 0x0303}, NegotiatedVersion: 0x0303, NegotiatedSuite: 0xc02f,
			Suites: []observe.VersionSuites{{Version: 0x0301, Suites: []uint32{0x002f}}, {Version: 0x0303, Suites: []uint32{0xc02f, 0x009c}}}}})
	set.AddService(observe.Service{Server: probed, Transport: "tcp", Protocol: "tls", FirstSeen: t0, Source: observe.SourceActive})
	// A port seen in traffic, and probed later by a scan that found nothing negotiable.
	set.AddTLS(observe.TLSSession{Flow: flow("10.0.0.9:40001", "10.0.0.80:443"), FirstSeen: t0, LastSeen: t0, SawServerHello: true,
		Version: 0x0303, Suite: 0xc030, Source: observe.SourcePassive}, nil, nil)
	active(watched, time.Hour, 0x0301, 0x000a)
	set.AddProbe(observe.ProbeEndpoint{Server: watched, Time: t0.Add(time.Hour), Outcome: observe.ProbeTLS, Protocol: "tls", Profile: "standard",
		TLS: &observe.TLSProfile{Versions: []uint16{0x0301}, Suites: []observe.VersionSuites{{Version: 0x0301, Suites: []uint32{0x000a}}}}})
	set.AddService(observe.Service{Server: watched, Transport: "tcp", Protocol: "tls", FirstSeen: t0, Source: observe.SourcePassive})
	set.AddService(observe.Service{Server: watched, Transport: "tcp", Protocol: "tls", FirstSeen: t0.Add(time.Hour), Source: observe.SourceActive})

	check := func(what string, r *Report) {
		t.Helper()
		type shown struct{ version, suite string }
		want := map[string]shown{
			"10.0.0.1 active":   {"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			"10.0.0.80 passive": {"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
			"10.0.0.80 active":  {"", ""}, // accepted TLS 1.0 when asked, negotiated nothing by default
		}
		if len(r.Services) != len(want) {
			t.Fatalf("%s: %d services, want %d", what, len(r.Services), len(want))
		}
		for _, s := range r.Services {
			k := s.Host + " " + string(s.Source)
			if got := (shown{s.TLSVersion, s.Cipher}); got != want[k] {
				t.Errorf("%s: service %s shows %q, want %q", what, k, got, want[k])
			}
		}
		for _, p := range r.Probes {
			if p.Host == "10.0.0.1" && (p.TLS == nil || p.TLS.NegotiatedVersion != "TLSv1.2" ||
				p.TLS.NegotiatedSuite != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") {
				t.Errorf("%s: probe profile %+v", what, p.TLS)
			}
		}
	}
	r := NewReport(ScanInfo{ID: 1, Started: t0}, set, nil)
	r.Normalize()
	check("built", r)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.Normalize()
	check("read back", &back)
}
