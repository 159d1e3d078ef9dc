package store

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// The history reads what assesses each rule from the rule's declared coverage
// (findings.RuleInfo.Covers), here medscan's own catalog: these tests pin what the later
// scan must hold on a finding's target for its absence to count as fixed.

// verdict is what Diff made of the one finding of prev absent from cur: "fixed", or
// the not-assessed reason.
func verdict(t *testing.T, prev, cur *findings.Report, cat findings.Catalog) string {
	t.Helper()
	c := Diff(prev, cur, cat)
	if len(c.New) != 0 || len(c.Persisting) != 0 || len(c.Fixed)+len(c.NotAssessed) != 1 {
		t.Fatalf("change = %+v; want the one earlier finding fixed or not assessed", c)
	}
	f := prev.Findings[0]
	ok, reason := assessed(cur, f, cat)
	if len(c.Fixed) == 1 {
		if !ok || reason != "" || c.Fixed[0].Reason != "" {
			t.Errorf("Diff says fixed; Assessed = %v, %q; reason %q", ok, reason, c.Fixed[0].Reason)
		}
		return "fixed"
	}
	if ok || reason != c.NotAssessed[0].Reason || reason == "" {
		t.Errorf("Diff says not assessed (%q); Assessed = %v, %q", c.NotAssessed[0].Reason, ok, reason)
	}
	return c.NotAssessed[0].Reason
}

func wantFixed(t *testing.T, what, got string) {
	t.Helper()
	if got != "fixed" {
		t.Errorf("%s: not assessed (%s); want fixed", what, got)
	}
}

func wantNotAssessed(t *testing.T, what, got string, mentions ...string) {
	t.Helper()
	if got == "fixed" {
		t.Errorf("%s: fixed; want not assessed", what)
		return
	}
	for _, m := range mentions {
		if !strings.Contains(got, m) {
			t.Errorf("%s: reason %q does not mention %q", what, got, m)
		}
	}
}

// scanOf is a complete network scan report of id, label "ward", holding fs and what
// the set observed.
func scanOf(id int64, set *observe.Set, fs ...findings.Finding) *findings.Report {
	return findings.NewReport(findings.ScanInfo{ID: id, Kind: findings.KindNetwork, Label: "ward", Complete: true,
		Sources: []string{"eth0"}, Started: t0}, set, fs)
}

func setOf(add ...func(*observe.Set)) *observe.Set {
	s := observe.NewSet()
	for _, f := range add {
		f(s)
	}
	return s
}

// probed adds a prober's TLS result on a server at a profile.
func probed(server, profile string, tls *observe.TLSProfile) func(*observe.Set) {
	return func(s *observe.Set) {
		s.AddProbe(observe.ProbeEndpoint{Server: ap(server), Time: t0, Outcome: observe.ProbeTLS, Protocol: "tls",
			Connections: 3, Profile: profile, TLS: tls})
	}
}

// watched adds a passive TLS session of client 10.0.0.99 with a server, completed (with
// a ServerHello) or not.
func watched(server string, completed bool) func(*observe.Set) {
	return watchedFrom("10.0.0.99", server, completed)
}

func watchedFrom(client, server string, completed bool) func(*observe.Set) {
	return func(s *observe.Set) {
		t := observe.TLSSession{Flow: observe.Flow{Client: ap(client + ":50000"), Server: ap(server)}, FirstSeen: t0,
			Source: observe.SourcePassive, SawClientHello: true}
		if completed {
			t.SawServerHello, t.Version, t.Suite = true, 0x0303, 0xc02f
		}
		s.AddTLS(t, nil, nil)
	}
}

// presents adds a full TLS 1.2 handshake in which server presented a leaf holding key spki.
func presents(server, spki string) func(*observe.Set) {
	return func(s *observe.Set) {
		der := []byte("leaf of " + server + " with " + spki)
		s.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ap("10.0.0.99:50000"), Server: ap(server)}, FirstSeen: t0,
			Source: observe.SourcePassive, SawClientHello: true, SawServerHello: true, Version: 0x0303, Suite: 0xc02f},
			[][]byte{der}, nil)
		s.Certificates[certRef(der)].Facts = &observe.CertFacts{SPKISHA256: spki, Subject: "CN=" + server}
	}
}

func httpTo(server string, r observe.HTTPRequest) func(*observe.Set) {
	return func(s *observe.Set) {
		r.Flow = observe.Flow{Client: ap("10.0.0.30:40000"), Server: ap(server)}
		r.FirstSeen = t0
		s.AddHTTP(r)
	}
}

func credentialTo(server, kind string) func(*observe.Set) {
	return credentialFrom("10.0.0.30", server, kind)
}

func credentialFrom(client, server, kind string) func(*observe.Set) {
	return func(s *observe.Set) {
		s.AddCredential(observe.Credential{Flow: observe.Flow{Client: ap(client + ":40000"), Server: ap(server)},
			FirstSeen: t0, Protocol: "http", Kind: kind, Where: "Authorization", Preview: "ab****yz (12 chars)",
			Hash: "00112233445566778899aabbccddeeff"})
	}
}

// withEvidence is f with its evidence.
func withEvidence(f findings.Finding, ev map[string]any) findings.Finding {
	f.Evidence = ev
	return f
}

// noFS is the profile a standard probe finds on a server without forward secrecy.
var noFS = &observe.TLSProfile{Versions: []uint16{0x0303},
	Suites: []observe.VersionSuites{{Version: 0x0303, Suites: []uint32{0x009c, 0x002f}}}}

// oneSuite is what an inventory probe learns: the one handshake it made.
var oneSuite = &observe.TLSProfile{Versions: []uint16{0x0303},
	Suites: []observe.VersionSuites{{Version: 0x0303, Suites: []uint32{0xc02f}}}}

func TestCoverageTLSSuitesByProfile(t *testing.T) {
	cat := catalog()
	if info := cat["tls-no-forward-secrecy"]; info.Covers.Profile != "standard" {
		t.Fatalf("tls-no-forward-secrecy covers %+v; this test expects it assessed at the standard profile", info.Covers)
	}
	active := fnd("tls-no-forward-secrecy", "10.0.0.5", 443, "")
	active.Source = string(observe.SourceActive)
	active.SetFingerprint()
	prev := scanOf(1, setOf(probed("10.0.0.5:443", "standard", noFS)), active)

	// A later probe at the inventory profile made one handshake, which cannot show
	// that the server stopped accepting the suites without forward secrecy.
	got := verdict(t, prev, scanOf(2, setOf(probed("10.0.0.5:443", "inventory", oneSuite))), cat)
	wantNotAssessed(t, "inventory probe", got, "inventory", "10.0.0.5:443", "standard")
	// At the standard profile it enumerated every suite: the finding is fixed.
	wantFixed(t, "standard probe", verdict(t, prev, scanOf(2, setOf(probed("10.0.0.5:443", "standard", oneSuite))), cat))
	// And at a heavier one.
	wantFixed(t, "thorough probe", verdict(t, prev, scanOf(2, setOf(probed("10.0.0.5:443", "thorough", oneSuite))), cat))
	// A probe of another port, or one that reached no TLS, assesses nothing here.
	wantNotAssessed(t, "probe of another port",
		verdict(t, prev, scanOf(2, setOf(probed("10.0.0.5:8443", "standard", oneSuite))), cat), "10.0.0.5:443")
	wantNotAssessed(t, "probe that timed out", verdict(t, prev, scanOf(2, setOf(func(s *observe.Set) {
		s.AddProbe(observe.ProbeEndpoint{Server: ap("10.0.0.5:443"), Outcome: observe.ProbeTimeout, Profile: "standard"})
	})), cat), "timeout")
	// A finding the prober raised is not assessed by watching handshakes: one
	// negotiation does not show what else the server accepts.
	wantNotAssessed(t, "active finding, passive handshake",
		verdict(t, prev, scanOf(2, setOf(watched("10.0.0.5:443", true))), cat), "probe it")

	// A finding raised passively is assessed by a later passive handshake with a
	// ServerHello on the target from one of its clients, and by nothing less: a server
	// answers each client from what that client offers.
	passive := withEvidence(fnd("tls-no-forward-secrecy", "10.0.0.5", 443, ""),
		map[string]any{"clients": []any{"10.0.0.7", "10.0.0.99"}})
	passive.Source = string(observe.SourcePassive)
	prevPassive := scanOf(1, setOf(watched("10.0.0.5:443", true)), passive)
	wantFixed(t, "passive finding, passive handshake",
		verdict(t, prevPassive, scanOf(2, setOf(watched("10.0.0.5:443", true))), cat))
	wantNotAssessed(t, "passive finding, handshake of another client",
		verdict(t, prevPassive, scanOf(2, setOf(watchedFrom("10.0.0.50", "10.0.0.5:443", true))), cat),
		"other clients", "10.0.0.7, 10.0.0.99")
	wantNotAssessed(t, "passive finding, no ServerHello",
		verdict(t, prevPassive, scanOf(2, setOf(watched("10.0.0.5:443", false))), cat), "no completed TLS handshake")
	wantNotAssessed(t, "passive finding, handshake with another server",
		verdict(t, prevPassive, scanOf(2, setOf(watched("10.0.0.6:443", true))), cat), "no TLS seen on 10.0.0.5:443")
}

// TestCoverageProfileSurvivesTheStore runs the inventory-profile case through the store:
// the profile each port was probed with is kept, so that a later run at a lighter
// profile cannot mark a finding fixed when the scans are read back.
func TestCoverageProfileSurvivesTheStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	f := fnd("tls-no-forward-secrecy", "10.0.0.5", 443, "")
	f.Source = string(observe.SourceActive)
	firstID, err := s.Save(ctx, scanOf(0, setOf(probed("10.0.0.5:443", "standard", noFS)), f))
	if err != nil {
		t.Fatal(err)
	}
	light, err := s.Save(ctx, scanOf(0, setOf(probed("10.0.0.5:443", "inventory", oneSuite))))
	if err != nil {
		t.Fatal(err)
	}
	full, err := s.Save(ctx, scanOf(0, setOf(probed("10.0.0.5:443", "standard", oneSuite))))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.LoadWithChange(ctx, light, catalog())
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Change; c == nil || len(c.Fixed) != 0 || len(c.NotAssessed) != 1 ||
		!strings.Contains(c.NotAssessed[0].Reason, "inventory") {
		t.Fatalf("after an inventory probe: change %+v; want the finding not assessed, for the inventory profile", c)
	}
	// The standard run is compared with the inventory run, which no longer holds the
	// finding: nothing to fix there. Compared with the first run, it fixes it.
	first, err := s.Load(ctx, firstID)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Load(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	if c := Diff(first, cur, catalog()); len(c.Fixed) != 1 {
		t.Errorf("standard probe read back from the store: change %+v; want fixed", c)
	}
}

func TestCoverageHTTPAPIAnswers(t *testing.T) {
	cat := catalog()
	prev := scanOf(1, nil, fnd("api-unauthenticated", "10.0.0.8", 80, ""))
	answered := observe.HTTPRequest{Method: "GET", Path: "/api/v1/status", API: observe.APIOther, Status: 200,
		RespContentType: "application/json"}
	// An API request answered in clear, without credentials this time and without the
	// finding: fixed.
	wantFixed(t, "API request answered in clear", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.8:80", answered))), cat))
	// The port seen only in TLS: whether requests carry credentials cannot be seen.
	wantNotAssessed(t, "TLS only", verdict(t, prev, scanOf(2, setOf(watched("10.0.0.8:80", true))), cat),
		"only in TLS", "10.0.0.8:80")
	// A request without an answer, a page rather than an API, or an API on another port:
	// nothing assessed.
	unanswered := answered
	unanswered.Status = 0
	wantNotAssessed(t, "unanswered", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.8:80", unanswered))), cat),
		"answered in clear")
	page := answered
	page.API = ""
	wantNotAssessed(t, "a page", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.8:80", page))), cat))
	wantNotAssessed(t, "another port", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.8:8080", answered))), cat))
}

func TestCoverageSharedCredentialUse(t *testing.T) {
	cat := catalog()
	f := withEvidence(fnd("credential-shared", "10.0.0.8", 80, "http-basic"),
		map[string]any{"kind": "http-basic", "hosts": 3, "clients": []string{"10.0.0.30", "10.0.0.31", "10.0.0.32"}})
	prev := scanOf(1, nil, f)
	// Two of the hosts that shared the secret send that kind of credential again: if
	// they still shared it, the finding would be there.
	wantFixed(t, "two of the hosts send the kind again", verdict(t, prev, scanOf(2, setOf(
		credentialFrom("10.0.0.30", "10.0.0.8:80", "http-basic"), credentialFrom("10.0.0.32", "10.0.0.8:80", "http-basic"))), cat))
	// One host alone cannot show whether the others still share its secret.
	wantNotAssessed(t, "one of the hosts", verdict(t, prev, scanOf(2, setOf(credentialTo("10.0.0.8:80", "http-basic"))), cat),
		"1 of the 3 hosts", "http-basic", "10.0.0.8:80")
	wantNotAssessed(t, "other hosts", verdict(t, prev, scanOf(2, setOf(
		credentialFrom("10.0.0.40", "10.0.0.8:80", "http-basic"), credentialFrom("10.0.0.41", "10.0.0.8:80", "http-basic"))), cat),
		"0 of the 3")
	wantNotAssessed(t, "another kind of credential", verdict(t, prev, scanOf(2, setOf(
		credentialFrom("10.0.0.30", "10.0.0.8:80", "http-bearer"), credentialFrom("10.0.0.31", "10.0.0.8:80", "http-bearer"))), cat),
		"http-basic", "10.0.0.8:80")
	wantNotAssessed(t, "to another server", verdict(t, prev, scanOf(2, setOf(
		credentialFrom("10.0.0.30", "10.0.0.9:80", "http-basic"), credentialFrom("10.0.0.31", "10.0.0.9:80", "http-basic"))), cat),
		"http-basic")
	// Traffic without credentials proves nothing about them.
	wantNotAssessed(t, "traffic without credentials", verdict(t, prev, scanOf(2, setOf(
		httpTo("10.0.0.8:80", observe.HTTPRequest{Method: "GET", Path: "/", Status: 200}))), cat))
	// A finding whose evidence lost its kind or clients (read from elsewhere) cannot be assessed.
	bare := fnd("credential-shared", "10.0.0.8", 80, "x")
	wantNotAssessed(t, "no kind in the evidence",
		verdict(t, scanOf(1, nil, bare), scanOf(2, setOf(credentialTo("10.0.0.8:80", "http-basic"))), cat), "credential")
	// Through the store: the evidence is read back as it was written.
	s, _ := openTemp(t)
	mustSave(t, s, prev.Scan, nil, prev.Findings)
	later := mustSave(t, s, prev.Scan, setOf(credentialFrom("10.0.0.31", "10.0.0.8:80", "http-basic"),
		credentialFrom("10.0.0.32", "10.0.0.8:80", "http-basic")), nil)
	r, err := s.LoadWithChange(context.Background(), later, cat)
	if err != nil {
		t.Fatal(err)
	}
	if r.Change == nil || len(r.Change.Fixed) != 1 {
		t.Errorf("read back from the store: change %+v; want fixed", r.Change)
	}
}

func TestCoverageImageTransfer(t *testing.T) {
	cat := catalog()
	prev := scanOf(1, nil, fnd("cleartext-update", "10.0.0.40", 80, "/fw/{id}.bin"))
	// Plain HTTP to the update server, but no image fetched: updates are rare, and
	// traffic without one proves nothing.
	plain := observe.HTTPRequest{Method: "GET", Path: "/index.html", Status: 200, RespContentType: "text/html"}
	wantNotAssessed(t, "HTTP without an image", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.40:80", plain))), cat),
		"no software image", "10.0.0.40:80")
	image := plain
	image.Path, image.RespContentType, image.BodyKind, image.BodyBytes = "/fw/{id}.bin", "application/octet-stream", "elf", 4096
	wantFixed(t, "an image fetched in clear", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.40:80", image))), cat))
	wantFixed(t, "the server now speaks TLS", verdict(t, prev, scanOf(2, setOf(watched("10.0.0.40:80", true))), cat))
	// A probe cannot see cleartext traffic, so its TLS result assesses no cleartext rule.
	wantNotAssessed(t, "a probe's TLS", verdict(t, prev, scanOf(2, setOf(probed("10.0.0.40:80", "thorough", oneSuite))), cat),
		"no software image")
}

func TestCoverageCredentialExchange(t *testing.T) {
	cat := catalog()
	basic := withEvidence(fnd("cleartext-credentials", "10.0.0.8", 80, "http-basic"),
		map[string]any{"kind": "http-basic", "protocol": "http"})
	prev := scanOf(1, nil, basic)
	// HTTP requests to the server, without the credential this time: fixed.
	wantFixed(t, "HTTP without credentials", verdict(t, prev, scanOf(2, setOf(
		httpTo("10.0.0.8:80", observe.HTTPRequest{Method: "GET", Path: "/api/v1/status", Status: 200}))), cat))
	wantFixed(t, "TLS on the port", verdict(t, prev, scanOf(2, setOf(watched("10.0.0.8:80", true))), cat))
	wantNotAssessed(t, "only a probe's TLS", verdict(t, prev, scanOf(2, setOf(probed("10.0.0.8:80", "thorough", oneSuite))), cat),
		"no http traffic to 10.0.0.8:80")
	wantNotAssessed(t, "another protocol on the port", verdict(t, prev, scanOf(2, setOf(func(s *observe.Set) {
		s.AddService(observe.Service{Server: ap("10.0.0.8:80"), Transport: "tcp", Protocol: "telnet", FirstSeen: t0})
	})), cat), "no http traffic")
	// MQTT: a connection to the broker; FTP: the service spoken in clear.
	mqtt := scanOf(1, nil, withEvidence(fnd("cleartext-credentials", "10.0.0.9", 1883, "mqtt-password"),
		map[string]any{"kind": "mqtt-password", "protocol": "mqtt"}))
	wantFixed(t, "an MQTT connection", verdict(t, mqtt, scanOf(2, setOf(func(s *observe.Set) {
		s.AddMQTT(observe.MQTTConnect{Flow: observe.Flow{Client: ap("10.0.0.30:40000"), Server: ap("10.0.0.9:1883")},
			FirstSeen: t0, ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "pump-7"})
	})), cat))
	ftp := scanOf(1, nil, withEvidence(fnd("cleartext-credentials", "10.0.0.10", 21, "ftp-password"),
		map[string]any{"kind": "ftp-password", "protocol": "ftp"}))
	wantFixed(t, "an FTP session", verdict(t, ftp, scanOf(2, setOf(func(s *observe.Set) {
		s.AddService(observe.Service{Server: ap("10.0.0.10:21"), Transport: "tcp", Protocol: "ftp", FirstSeen: t0,
			Source: observe.SourcePassive})
	})), cat))
}

func TestCoverageKeyHolders(t *testing.T) {
	cat := catalog()
	f := withEvidence(fnd("key-shared", "10.0.0.5", 443, "spki-shared"),
		map[string]any{"shared_by": []any{"10.0.0.5:443", "10.0.0.6:443", "client 10.0.0.70"}})
	prev := scanOf(1, nil, f)
	// The target alone, still holding the key: whether the others still do is unknown.
	wantNotAssessed(t, "the target alone", verdict(t, prev, scanOf(2, setOf(presents("10.0.0.5:443", "spki-shared"))), cat),
		"none of the others", "10.0.0.6:443")
	// Another holder seen too: had they still shared the key, the finding would be there.
	wantFixed(t, "another holder seen", verdict(t, prev, scanOf(2, setOf(presents("10.0.0.5:443", "spki-shared"),
		presents("10.0.0.6:443", "spki-new"))), cat))
	// The target holds another key now.
	wantFixed(t, "the target rekeyed", verdict(t, prev, scanOf(2, setOf(presents("10.0.0.5:443", "spki-new"))), cat))
	// The target not seen at all.
	wantNotAssessed(t, "target unseen", verdict(t, prev, scanOf(2, setOf(presents("10.0.0.6:443", "spki-shared"))), cat),
		"no TLS seen on 10.0.0.5:443")
	// One holder with the key in certificates for several subjects: its certificates show them all.
	alone := scanOf(1, nil, withEvidence(fnd("key-shared", "10.0.0.5", 443, "spki-shared"),
		map[string]any{"shared_by": []any{"10.0.0.5:443"}}))
	wantFixed(t, "one holder", verdict(t, alone, scanOf(2, setOf(presents("10.0.0.5:443", "spki-shared"))), cat))
	// A key read from a file, shared with a server: the file read again, and the server seen.
	file := scanOf(1, nil, withEvidence(fnd("key-shared", "", 0, "spki-shared"),
		map[string]any{"shared_by": []any{"10.0.0.5:443", "file"}}))
	fromFile := func(s *observe.Set) {
		der := []byte("file certificate")
		ref := s.AddCertificate(der, observe.CertSighting{Time: t0, Source: observe.SourceFile})
		s.Certificates[ref].Facts = &observe.CertFacts{SPKISHA256: "spki-shared"}
	}
	wantNotAssessed(t, "file not read again", verdict(t, file, scanOf(2, setOf(presents("10.0.0.5:443", "spki-shared"))), cat),
		"no certificate file")
	wantNotAssessed(t, "file alone", verdict(t, file, scanOf(2, setOf(fromFile)), cat), "10.0.0.5:443")
	wantFixed(t, "file and server", verdict(t, file, scanOf(2, setOf(fromFile, presents("10.0.0.5:443", "spki-new"))), cat))
}

func TestCoverageFHIRAndAPI(t *testing.T) {
	cat := catalog()
	prev := scanOf(1, nil, fnd("cleartext-fhir", "10.0.0.8", 80, ""))
	fhir := observe.HTTPRequest{Method: "GET", Path: "/fhir/Patient/{id}", API: observe.APIFHIR, Resource: "Patient", Status: 200}
	api := observe.HTTPRequest{Method: "GET", Path: "/api/v1/status", API: observe.APIOther, Status: 200}
	page := observe.HTTPRequest{Method: "GET", Path: "/index.html", Status: 200}
	wantFixed(t, "FHIR requests", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.8:80", fhir))), cat))
	wantNotAssessed(t, "only another API", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.8:80", api))), cat), "no FHIR request")
	wantNotAssessed(t, "only pages", verdict(t, prev, scanOf(2, setOf(httpTo("10.0.0.8:80", page))), cat), "no FHIR request")
	prevAPI := scanOf(1, nil, fnd("cleartext-api", "10.0.0.8", 80, ""))
	wantFixed(t, "API requests", verdict(t, prevAPI, scanOf(2, setOf(httpTo("10.0.0.8:80", api))), cat))
	wantNotAssessed(t, "only pages", verdict(t, prevAPI, scanOf(2, setOf(httpTo("10.0.0.8:80", page))), cat), "no API request")
	// cleartext-api judges the APIs beside FHIR on a port: FHIR alone says nothing of them.
	wantNotAssessed(t, "only FHIR", verdict(t, prevAPI, scanOf(2, setOf(httpTo("10.0.0.8:80", fhir))), cat),
		"no API request other than FHIR")
}

func TestCoverageUnknownRule(t *testing.T) {
	prev := scanOf(1, nil, fnd("snmp-community", "10.0.0.3", 161, ""))
	everything := scanOf(2, setOf(watched("10.0.0.3:161", true), func(s *observe.Set) {
		s.AddService(observe.Service{Server: ap("10.0.0.3:161"), Transport: "udp", Protocol: "snmp", FirstSeen: t0})
	}))
	wantNotAssessed(t, "a rule this medscan does not know", verdict(t, prev, everything, catalog()),
		"snmp-community", "not in this medscan's catalog")
	// A rule in the catalog declaring nothing that assesses it is no better.
	empty := findings.Catalog{"snmp-community": {ID: "snmp-community"}}
	wantNotAssessed(t, "a rule declaring no needs", verdict(t, prev, everything, empty), "snmp-community")
	// A catalog built by hand is read the same way as medscan's: its declarations decide.
	declared := findings.Catalog{"snmp-community": {ID: "snmp-community",
		Covers: findings.Coverage{Domain: findings.DomainCleartext, Needs: []findings.Evidence{findings.SeenCredentialExchange}}}}
	prev = scanOf(1, nil, withEvidence(prev.Findings[0], map[string]any{"kind": "snmp-community", "protocol": "snmp"}))
	wantFixed(t, "a rule declaring the credential exchange as its evidence", verdict(t, prev, everything, declared))
	wantNotAssessed(t, "... with nothing on the target", verdict(t, prev, scanOf(2, nil), declared),
		"no snmp traffic to 10.0.0.3:161")
	// Any one of several needs is enough; the reason names what each lacked.
	either := findings.Catalog{"snmp-community": {ID: "snmp-community", Covers: findings.Coverage{
		Domain: findings.DomainCleartext, Needs: []findings.Evidence{findings.SeenHL7, findings.SeenCredentialExchange}}}}
	wantFixed(t, "either need", verdict(t, prev, everything, either))
	got := verdict(t, prev, scanOf(2, nil), either)
	wantNotAssessed(t, "neither need", got, "HL7 message", "no snmp traffic")
}

// TestCoverageKeyFileFolder: a key file finding is fixed when a later lint run read the
// place the key lay (the file, or a folder above it that the run walks down) and did not
// find it there; any other run cannot tell.
func TestCoverageKeyFileFolder(t *testing.T) {
	cat := catalog()
	lintOf := func(id int64, complete bool, sources ...string) *findings.Report {
		return findings.NewReport(findings.ScanInfo{ID: id, Kind: findings.KindLint, Complete: complete, Sources: sources,
			Started: t0}, nil, nil)
	}
	keyAt := func(paths ...string) *findings.Report {
		f := fnd("key-file-exposed", "", 0, "spki-of-dev")
		f.File = "certs/dev.key"
		var ps []any
		for _, p := range paths {
			ps = append(ps, p)
		}
		return findings.NewReport(findings.ScanInfo{ID: 1, Kind: findings.KindLint, Complete: true,
			Sources: []string{"/site/certs"}, Started: t0}, nil, []findings.Finding{withEvidence(f, map[string]any{"paths": ps})})
	}
	prev := keyAt("/site/certs/dev.key")
	wantFixed(t, "the folder read again", verdict(t, prev, lintOf(2, true, "/site/certs"), cat))
	wantFixed(t, "a folder above it", verdict(t, prev, lintOf(2, true, "/other", "/site"), cat))
	wantFixed(t, "the file itself named", verdict(t, prev, lintOf(2, true, "/site/certs/dev.key"), cat))
	wantNotAssessed(t, "another folder", verdict(t, prev, lintOf(2, true, "/site/certs2", "/site/certs/sub"), cat),
		"did not read /site/certs/dev.key")
	wantNotAssessed(t, "an incomplete run", verdict(t, prev, lintOf(2, false, "/site/certs"), cat), "incomplete")
	wantNotAssessed(t, "a network scan of a capture with that name", verdict(t, prev,
		findings.NewReport(findings.ScanInfo{ID: 2, Kind: findings.KindNetwork, Complete: true, Sources: []string{"/site/certs"}}, nil, nil), cat),
		"did not read")
	hidden := keyAt("/site/.backup/dev.key")
	wantNotAssessed(t, "a hidden folder is not walked", verdict(t, hidden, lintOf(2, true, "/site"), cat), "/site/.backup/dev.key")
	wantFixed(t, "the hidden folder named", verdict(t, hidden, lintOf(2, true, "/site/.backup"), cat))
	two := keyAt("/site/certs/dev.key", "/backup/dev.key")
	wantNotAssessed(t, "one of two places", verdict(t, two, lintOf(2, true, "/site/certs"), cat), "/backup/dev.key")
	wantFixed(t, "both places", verdict(t, two, lintOf(2, true, "/site/certs", "/backup"), cat))
}

// TestCoverageProbeGaps: a host the prober left (backed off, its port skipped) or a port
// whose standard checks a cap cut (recorded at the inventory profile it completed) does
// not make earlier findings there fixed, whether or not the scan says it is complete.
func TestCoverageProbeGaps(t *testing.T) {
	cat := catalog()
	f := fnd("tls-no-forward-secrecy", "10.0.0.5", 443, "")
	f.Source = string(observe.SourceActive)
	f.SetFingerprint()
	prev := scanOf(1, setOf(probed("10.0.0.5:443", "standard", noFS)), f)
	skipped := setOf(func(s *observe.Set) {
		s.AddProbe(observe.ProbeEndpoint{Server: ap("10.0.0.5:443"), Outcome: observe.ProbeSkipped, Profile: "standard",
			Error: "probe: host backed off after consecutive failures"})
	})
	later := scanOf(2, skipped)
	wantNotAssessed(t, "backed off, scan complete", verdict(t, prev, later, cat), "skipped")
	later.Scan.Complete = false
	wantNotAssessed(t, "backed off, scan incomplete", verdict(t, prev, later, cat), "incomplete")

	// A port whose standard checks a cap cut is recorded at the inventory profile.
	wantNotAssessed(t, "standard checks cut",
		verdict(t, prev, scanOf(2, setOf(probed("10.0.0.5:443", "inventory", oneSuite))), cat), "inventory")

	// A scan incomplete only by its probe's gaps is judged target by target: the port
	// probed in full shows the finding fixed, though another host backed off.
	partial := scanOf(2, setOf(probed("10.0.0.5:443", "standard", oneSuite)))
	partial.Scan.Complete = false
	partial.Scan.Problems = []observe.Problem{{Source: "10.0.0.9", Offset: -1, NotAssessed: true,
		Message: "backed off after 3 failure(s) (3 timeouts): port 443 not assessed"}}
	wantFixed(t, "assessed port of a scan with probe gaps", verdict(t, prev, partial, cat))
	// Any other problem (an unread capture, an interruption) leaves it all unassessed.
	partial.Scan.Problems = append(partial.Scan.Problems, observe.Problem{Source: "scan", Offset: -1,
		Message: "scan interrupted (SIGINT received)"})
	wantNotAssessed(t, "probe gaps and an interruption", verdict(t, prev, partial, cat), "incomplete")
}

// TestCoverageInterception checks the needs of the interception rules: ARP claims to
// the address, DHCP replies from the server or to its clients, the server's EHLO reply.
func TestCoverageInterception(t *testing.T) {
	cat := catalog()
	arp := func(addr, mac string) func(*observe.Set) {
		return func(s *observe.Set) {
			s.AddARP(observe.ARPClaim{Addr: netip.MustParseAddr(addr), MAC: mac, Replies: 1, FirstSeen: t0})
		}
	}
	prev := scanOf(1, nil, fnd("arp-spoofing", "10.0.0.1", 0, "02:00:00:00:00:66"))
	wantNotAssessed(t, "no ARP", verdict(t, prev, scanOf(2, setOf(arp("10.0.0.9", "02:00:00:00:00:09"))), cat),
		"no ARP claim to 10.0.0.1")
	wantFixed(t, "the address claimed again", verdict(t, prev, scanOf(2, setOf(arp("10.0.0.1", "02:00:00:00:00:01"))), cat))

	dhcp := func(server, client string) func(*observe.Set) {
		return func(s *observe.Set) {
			s.AddDHCPReply(observe.DHCPReply{Server: netip.MustParseAddr(server), ClientMAC: client, Type: observe.DHCPAck,
				FirstSeen: t0})
		}
	}
	rogue := withEvidence(fnd("dhcp-rogue", "10.0.0.66", 0, ""), map[string]any{"clients": []string{"02:00:00:00:00:0a"}})
	prev = scanOf(1, nil, rogue)
	wantNotAssessed(t, "another segment's DHCP", verdict(t, prev, scanOf(2, setOf(dhcp("10.1.0.2", "02:00:00:00:00:0b"))), cat),
		"no DHCP reply from 10.0.0.66")
	wantFixed(t, "the client answered by the site's server alone", verdict(t, prev, scanOf(2, setOf(dhcp("10.0.0.2", "02:00:00:00:00:0a"))), cat))
	wantFixed(t, "the rogue server seen again", verdict(t, prev, scanOf(2, setOf(dhcp("10.0.0.66", "02:00:00:00:00:0c"))), cat))

	greet := func(server string) func(*observe.Set) {
		return func(s *observe.Set) {
			s.AddGreeting(observe.StartTLSGreeting{Flow: observe.Flow{Client: ap("10.0.0.9:40000"), Server: ap(server)},
				Protocol: "smtp", Offered: true, Outcome: observe.StartTLSUpgraded, FirstSeen: t0})
		}
	}
	prev = scanOf(1, nil, fnd("tls-stripped", "10.0.0.25", 25, ""))
	wantNotAssessed(t, "another server's greeting", verdict(t, prev, scanOf(2, setOf(greet("10.0.0.26:25"))), cat),
		"no capability list", "10.0.0.25:25")
	wantFixed(t, "the server's greeting read again", verdict(t, prev, scanOf(2, setOf(greet("10.0.0.25:25"))), cat))
}
