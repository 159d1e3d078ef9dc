package report

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/medscan/medscan/findings"
)

// testCatalog stands in for rules.Catalog(): three of the fixture's rules, one rule
// with no finding, and none for cert-expiring-soon, which must be derived.
func testCatalog() findings.Catalog {
	return findings.NewCatalog([]findings.RuleInfo{
		{ID: "cleartext-credentials", Title: "Credential in clear", Default: findings.High,
			Rationale:   "A secret seen on the wire is a secret anyone on the segment has.",
			Remediation: "Move the login under TLS and rotate the credential.",
			References:  []string{"HIPAA 45 CFR 164.312(d)", "NIST SP 800-63B 5.1.1"},
			Covers:      findings.Coverage{Domain: findings.DomainCleartext, Needs: []findings.Evidence{findings.SeenCredentialExchange}}},
		{ID: "cleartext-hl7", Title: "HL7 v2 in clear", Default: findings.High,
			Rationale:   "HL7 messages carry patient identity and results; MLLP has no protection of its own.",
			Remediation: "Wrap MLLP in TLS (`MLLP/S`) or a VPN.", References: []string{"HIPAA 45 CFR 164.312(e)"},
			Covers: findings.Coverage{Domain: findings.DomainCleartext, Tags: []string{"clinical"},
				Needs: []findings.Evidence{findings.SeenHL7}}},
		{ID: "key-factorable", Title: "Factorable RSA key", Default: findings.Critical,
			Rationale: "The private key can be computed from public data.", Remediation: "Replace the key.",
			References: []string{"Heninger et al., Mining Your Ps and Qs (2012)"},
			Covers:     findings.Coverage{Domain: findings.DomainKeys, Needs: []findings.Evidence{findings.SeenCertificates}}},
		{ID: "tls-weak-cipher", Title: "Weak TLS cipher suite", Default: findings.High,
			Rationale: "RC4, DES and export suites are broken.", Remediation: "Disable RC4.",
			References: []string{"NIST SP 800-52r2 3.3.1"},
			Covers:     findings.Coverage{Domain: findings.DomainTLS, Needs: []findings.Evidence{findings.SeenTLSSuites}}},
	})
}

var (
	sarifSchemaOnce sync.Once
	sarifSchema     *jsonschema.Schema
	sarifSchemaErr  error
)

// sarifSchemaPath finds the SARIF 2.1.0 JSON schema. medscan does not ship a copy of it:
// MEDSCAN_SARIF_SCHEMA names the file (CI takes it from the npm package
// @microsoft/jest-sarif, lib/schemas/sarif-2.1.0-rtm.5.json). Without it the schema checks
// skip, saying so; with MEDSCAN_REQUIRE_SARIF_SCHEMA=1 they fail instead.
func sarifSchemaPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("MEDSCAN_SARIF_SCHEMA")
	if path == "" {
		if os.Getenv("MEDSCAN_REQUIRE_SARIF_SCHEMA") == "1" {
			t.Fatal("MEDSCAN_REQUIRE_SARIF_SCHEMA=1 but MEDSCAN_SARIF_SCHEMA names no schema file")
		}
		t.Skip("skipping SARIF schema validation: set MEDSCAN_SARIF_SCHEMA to the SARIF 2.1.0 JSON schema (see .ci/run)")
	}
	return path
}

// loadSARIFSchema compiles the SARIF 2.1.0 schema, with format assertions on.
func loadSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := sarifSchemaPath(t)
	sarifSchemaOnce.Do(func() {
		sarifSchema, sarifSchemaErr = compileSchema(path)
	})
	if sarifSchemaErr != nil {
		t.Fatal(sarifSchemaErr)
	}
	return sarifSchema
}

func compileSchema(path string) (*jsonschema.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		return nil, err
	}
	return c.Compile(path)
}

func validate(t *testing.T, sch *jsonschema.Schema, name string, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s does not validate: %v", name, err)
	}
}

// hostile is the fixture with text off the network that tries to become markup: a
// SARIF embedded link, a spreadsheet formula, HTML.
func hostile() *findings.Report {
	r := fixture()
	r.Findings[0].Message = "HL7 from [click](https://evil.example) =HYPERLINK(\"http://x\") <script>alert(1)</script>"
	r.Findings[0].Subject = "+SUM(A1)"
	return r
}

func TestSARIFGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		report func() *findings.Report
	}{
		{"fixture.sarif.golden", Options{}, fixture},
		{"fixture_catalog.sarif.golden", Options{Catalog: testCatalog()}, fixture},
		{"empty.sarif.golden", Options{}, empty},
		{"empty_catalog.sarif.golden", Options{Catalog: testCatalog()}, empty},
		{"fixture_repo.sarif.golden", Options{Catalog: testCatalog(), Repos: map[string]string{"/repo/captures/ward7.pcap": "captures/ward7.pcap"}},
			func() *findings.Report { r := fixture(); r.Scan.Sources[0] = "/repo/captures/ward7.pcap"; return r }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, "sarif", tc.opts, tc.report())
			golden(t, tc.name, got)
			if again := render(t, "sarif", tc.opts, tc.report()); !bytes.Equal(got, again) {
				t.Fatal("two renders of the same report differ")
			}
		})
	}
}

func TestSARIFValidates(t *testing.T) {
	sch := loadSARIFSchema(t)
	for name, r := range map[string]func() *findings.Report{"fixture": fixture, "empty": empty, "hostile": hostile} {
		for _, opts := range []Options{{}, {Catalog: testCatalog()}} {
			validate(t, sch, name, render(t, "sarif", opts, r()))
		}
		doc := r()
		if len(doc.Scan.Sources) > 0 {
			validate(t, sch, name+" in a repository", render(t, "sarif", repoOptions(doc), doc))
		}
	}
	// The schema is not vacuous: it rejects what SARIF forbids.
	for name, doc := range map[string]string{
		"wrong version":  `{"version":"2.0.0","runs":[]}`,
		"no runs":        `{"version":"2.1.0"}`,
		"unknown field":  `{"version":"2.1.0","runs":[],"extra":1}`,
		"bad level":      `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"critical"}]}]}`,
		"result no text": `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{}}]}]}`,
		"line zero":      `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(inst) == nil {
			t.Errorf("the SARIF schema accepted %s", name)
		}
	}
}

// sarifDoc is the part of a SARIF log the content tests read.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID               string `json:"id"`
					Name             string `json:"name"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					FullDescription *struct {
						Text string `json:"text"`
					} `json:"fullDescription"`
					Help struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Properties struct {
						SecuritySeverity string   `json:"security-severity"`
						Tags             []string `json:"tags"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Artifacts []struct {
			Location struct {
				URI string `json:"uri"`
			} `json:"location"`
			Roles []string `json:"roles"`
		} `json:"artifacts"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
			Notifications       []struct {
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Locations           []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name               string `json:"name"`
					FullyQualifiedName string `json:"fullyQualifiedName"`
					Kind               string `json:"kind"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			Properties map[string]any `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func decodeSARIF(t *testing.T, b []byte) sarifDoc {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("%d runs; want 1", len(d.Runs))
	}
	return d
}

// repoOptions are the options of a scan whose first capture lies in a git repository
// checked out at /repo, as the CLI finds it (Options.Repos).
func repoOptions(r *findings.Report) Options {
	r.Scan.Sources[0] = "/repo/" + r.Scan.Sources[0]
	return Options{Catalog: testCatalog(), Repos: map[string]string{r.Scan.Sources[0]: "captures/ward7.pcap"}}
}

func TestSARIFContent(t *testing.T) {
	r := fixture()
	d := decodeSARIF(t, render(t, "sarif", repoOptions(r), r))
	run := d.Runs[0]
	drv := run.Tool.Driver
	if d.Version != "2.1.0" || !strings.Contains(d.Schema, "sarif-schema-2.1.0.json") {
		t.Errorf("version %q, $schema %q", d.Version, d.Schema)
	}
	if drv.Name != "medscan" || drv.Version != "v0.1.0" || drv.InformationURI != InformationURI {
		t.Errorf("driver = %q %q %q", drv.Name, drv.Version, drv.InformationURI)
	}
	// Every catalog rule, then the derived one, in that order.
	var ids []string
	for _, rule := range drv.Rules {
		ids = append(ids, rule.ID)
	}
	if got := strings.Join(ids, " "); got != "cleartext-credentials cleartext-hl7 key-factorable tls-weak-cipher cert-expiring-soon" {
		t.Fatalf("rules = %s", got)
	}
	for _, tc := range []struct {
		i                    int
		name, short, sev, lv string
		help                 []string
	}{
		// cleartext-hl7 defaults to high, but this scan holds a critical one.
		{1, "CleartextHl7", "HL7 v2 in clear", "9.5", "error",
			[]string{"**Remediation:** Wrap MLLP in TLS (\\`MLLP/S\\`) or a VPN.", "- HIPAA 45 CFR 164.312(e)"}},
		{2, "KeyFactorable", "Factorable RSA key", "9.5", "error", []string{"Heninger et al."}},
		{3, "TlsWeakCipher", "Weak TLS cipher suite", "8.0", "error", []string{"NIST SP 800-52r2 3.3.1"}},
		{4, "CertExpiringSoon", "cert-expiring-soon", "2.0", "note", nil},
	} {
		rule := drv.Rules[tc.i]
		if rule.Name != tc.name || rule.ShortDescription.Text != tc.short || rule.Properties.SecuritySeverity != tc.sev ||
			rule.DefaultConfiguration.Level != tc.lv {
			t.Errorf("rule %s = %q %q %q %q; want %q %q %q %q", rule.ID, rule.Name, rule.ShortDescription.Text,
				rule.Properties.SecuritySeverity, rule.DefaultConfiguration.Level, tc.name, tc.short, tc.sev, tc.lv)
		}
		if len(rule.Properties.Tags) == 0 || rule.Properties.Tags[0] != "security" {
			t.Errorf("rule %s tags = %v; want security first", rule.ID, rule.Properties.Tags)
		}
		// The other tags are the rule's declared domain and tags, never words of its ID.
		var want []string
		if ri, ok := testCatalog()[rule.ID]; ok {
			want = append([]string{"security", string(ri.Covers.Domain)}, ri.Covers.Tags...)
		} else {
			want = []string{"security"}
		}
		if !slices.Equal(rule.Properties.Tags, want) {
			t.Errorf("rule %s tags = %v; want %v", rule.ID, rule.Properties.Tags, want)
		}
		for _, h := range tc.help {
			if !strings.Contains(rule.Help.Markdown, h) {
				t.Errorf("rule %s help.markdown lacks %q:\n%s", rule.ID, h, rule.Help.Markdown)
			}
		}
		if rule.Help.Text == "" {
			t.Errorf("rule %s has no help text", rule.ID)
		}
	}
	if fd := drv.Rules[1].FullDescription; fd == nil || !strings.HasPrefix(fd.Text, "HL7 messages carry") {
		t.Errorf("cleartext-hl7 fullDescription = %v", fd)
	}
	if fd := drv.Rules[4].FullDescription; fd != nil {
		t.Errorf("a derived rule claims a rationale: %v", fd)
	}

	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(r.Findings))
	}
	wantLevel := map[findings.Severity]string{findings.Critical: "error", findings.High: "error",
		findings.Medium: "warning", findings.Low: "note", findings.Info: "note"}
	for i, res := range run.Results {
		f := r.Findings[i]
		if res.RuleID != f.Rule || drv.Rules[res.RuleIndex].ID != f.Rule {
			t.Errorf("result %d: rule %q index %d; want %q", i, res.RuleID, res.RuleIndex, f.Rule)
		}
		if res.Level != wantLevel[f.Severity] {
			t.Errorf("result %d: level %q for %s", i, res.Level, f.Severity)
		}
		if res.PartialFingerprints[FingerprintKey] != f.Fingerprint || len(f.Fingerprint) != 32 {
			t.Errorf("result %d: partialFingerprints %v; want %s", i, res.PartialFingerprints, f.Fingerprint)
		}
		// The capture in the repository, from its root, with no made-up line.
		if len(res.Locations) != 1 || res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "captures/ward7.pcap" ||
			res.Locations[0].PhysicalLocation.ArtifactLocation.URIBaseID != "%SRCROOT%" ||
			res.Locations[0].PhysicalLocation.Region != nil || len(res.Locations[0].LogicalLocations) != 1 {
			t.Fatalf("result %d: locations %+v", i, res.Locations)
		}
		if res.Properties["host"] != f.Host || res.Properties["port"] != float64(f.Port) || res.Properties["source"] != f.Source ||
			res.Properties["severity"] != f.Severity.String() {
			t.Errorf("result %d: properties %v", i, res.Properties)
		}
	}
	cred := run.Results[2].Locations[0]
	if cred.LogicalLocations[0].Name != "[2001:db8::1]:1883" || cred.LogicalLocations[0].Kind != "service" ||
		cred.LogicalLocations[0].FullyQualifiedName != "[2001:db8::1]:1883/00112233445566778899aabbccddeeff" {
		t.Errorf("IPv6 service location = %+v", cred)
	}
	if run.Results[2].Properties["subject"] != "00112233445566778899aabbccddeeff" {
		t.Errorf("subject property = %v", run.Results[2].Properties["subject"])
	}
	if ev, ok := run.Results[0].Properties["evidence"].(map[string]any); !ok || ev["patient_segments"] != float64(4) {
		t.Errorf("evidence property = %v", run.Results[0].Properties["evidence"])
	}

	// The capture files are named as what was analysed; the incomplete scan says so.
	if len(run.Artifacts) != 2 || run.Artifacts[0].Location.URI != "captures/ward7.pcap" || run.Artifacts[0].Roles[0] != "analysisTarget" ||
		run.Artifacts[1].Location.URI != "captures/icu.pcapng" {
		t.Errorf("artifacts = %+v", run.Artifacts)
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful || len(inv.Notifications) != 2 || inv.Notifications[0].Level != "error" ||
		inv.Notifications[0].Message.Text != "captures/icu.pcapng: offset 81920: truncated record" ||
		inv.Notifications[1].Message.Text != "captures/ward7.pcap: 12 packets with a bad IPv4 checksum" {
		t.Errorf("invocation = %+v", inv)
	}
	if e := decodeSARIF(t, render(t, "sarif", Options{}, empty())); !e.Runs[0].Invocations[0].ExecutionSuccessful ||
		len(e.Runs[0].Results) != 0 || len(e.Runs[0].Tool.Driver.Rules) != 0 {
		t.Errorf("empty scan: %+v", e.Runs[0])
	}
}

func TestSARIFEscapes(t *testing.T) {
	out := render(t, "sarif", Options{}, hostile())
	d := decodeSARIF(t, out)
	msg := d.Runs[0].Results[0].Message.Text
	if !strings.Contains(msg, `\[click\](https://evil.example)`) {
		t.Errorf("an embedded link from the network survived: %q", msg)
	}
	if bytes.Contains(out, []byte("<script>")) {
		t.Error("markup reached the SARIF bytes unescaped")
	}
	loc := d.Runs[0].Results[0].Locations[0]
	if loc.LogicalLocations[0].FullyQualifiedName != "10.0.0.7:6661/+SUM(A1)" {
		t.Errorf("fullyQualifiedName = %q", loc.LogicalLocations[0].FullyQualifiedName)
	}
}

func TestSARIFLocations(t *testing.T) {
	scanFile := sarif.NewSimpleArtifactLocation("captures/ward7.pcap").WithUriBaseId(srcRoot)
	for _, tc := range []struct {
		f             findings.Finding
		uri, name, kd string
	}{
		{findings.Finding{Host: "10.0.0.5", Port: 443}, "captures/ward7.pcap", "10.0.0.5:443", "service"},
		{findings.Finding{Host: "10.0.0.5"}, "captures/ward7.pcap", "10.0.0.5", "host"},
		{findings.Finding{Host: "fe80::1"}, "captures/ward7.pcap", "[fe80::1]", "host"},
		{findings.Finding{Host: "fe80::1%eth0", Port: 22}, "captures/ward7.pcap", "[fe80::1%25eth0]:22", "service"},
		{findings.Finding{Host: "::ffff:10.0.0.1", Port: 80}, "captures/ward7.pcap", "10.0.0.1:80", "service"},
		{findings.Finding{Host: "pacs/x?y", Port: 80}, "captures/ward7.pcap", "pacs%2Fx%3Fy:80", "service"},
		{findings.Finding{Subject: strings.Repeat("ab", 32)}, "captures/ward7.pcap", strings.Repeat("ab", 32), "certificate"},
		// A certificate read from a file is in that file, from the repository's root.
		{findings.Finding{File: "/repo/certs/chain.pem#2"}, "certs/chain.pem", "/repo/certs/chain.pem#2", "certificate"},
	} {
		loc := assetLocation(tc.f, scanFile, map[string]string{"/repo/certs/chain.pem": "certs/chain.pem"})
		if got := *loc.PhysicalLocation.ArtifactLocation.URI; got != tc.uri {
			t.Errorf("%+v: uri %q; want %q", tc.f, got, tc.uri)
		}
		if got := loc.PhysicalLocation.ArtifactLocation.URIBaseId; got == nil || *got != srcRoot {
			t.Errorf("%+v: uriBaseId %v; want %s", tc.f, got, srcRoot)
		}
		if loc.PhysicalLocation.Region != nil {
			t.Errorf("%+v: a region", tc.f)
		}
		if ll := loc.LogicalLocations[0]; *ll.Name != tc.name || *ll.Kind != tc.kd {
			t.Errorf("%+v: logical %q %q; want %q %q", tc.f, *ll.Name, *ll.Kind, tc.name, tc.kd)
		}
	}
	// A scan with no file to name (live traffic, the default policy): the logical
	// location only, never a made-up scheme.
	if loc := assetLocation(findings.Finding{Host: "10.0.0.5", Port: 443}, nil, nil); loc.PhysicalLocation != nil ||
		len(loc.LogicalLocations) != 1 {
		t.Errorf("no file: %+v", loc)
	}
}

// TestSARIFArtifact is which file a scan's results point at, by the rules sarifWriter
// documents.
func TestSARIFArtifact(t *testing.T) {
	inRepo := map[string]string{"/repo/caps/b.pcap": "caps/b.pcap", "/repo/policy.yaml": "policy.yaml"}
	for _, tc := range []struct {
		name         string
		scan         findings.ScanInfo
		uri, uriBase string
	}{
		{"the capture in the repository", findings.ScanInfo{Sources: []string{"/tmp/a.pcap", "/repo/caps/b.pcap"},
			Policy: "default"}, "caps/b.pcap", srcRoot},
		{"the policy in the repository", findings.ScanInfo{Sources: []string{"/tmp/a.pcap"},
			Policy: "file /repo/policy.yaml sha256:0011223344556677"}, "policy.yaml", srcRoot},
		{"the policy as given", findings.ScanInfo{Sources: []string{"eth1"}, Policy: "file site/p.yaml sha256:0011"},
			"site/p.yaml", ""},
		{"a capture outside any repository", findings.ScanInfo{Sources: []string{"/tmp/a b.pcap"}, Policy: "default"},
			"file:///tmp/a%20b.pcap", ""},
		{"live traffic, the default policy", findings.ScanInfo{Sources: []string{"eth1"}, Policy: "default"}, "", ""},
		{"targets, the default policy", findings.ScanInfo{Sources: []string{"10.20.0.0/24"}, Policy: "default"}, "", ""},
	} {
		art := sarifArtifact(tc.scan, inRepo)
		switch {
		case art == nil && tc.uri != "":
			t.Errorf("%s: none; want %q", tc.name, tc.uri)
		case art != nil && tc.uri == "":
			t.Errorf("%s: %q; want none", tc.name, *art.URI)
		case art != nil && *art.URI != tc.uri:
			t.Errorf("%s: %q; want %q", tc.name, *art.URI, tc.uri)
		case art != nil && (art.URIBaseId == nil) != (tc.uriBase == ""):
			t.Errorf("%s: uriBaseId %v; want %q", tc.name, art.URIBaseId, tc.uriBase)
		}
	}
}

func TestSARIFFileURI(t *testing.T) {
	for in, want := range map[string]string{
		"captures/ward7.pcap": "captures/ward7.pcap",
		"/srv/caps/a b.pcap":  "file:///srv/caps/a%20b.pcap",
		"c:x.pcap":            "./c:x.pcap",
		"-":                   "-",
	} {
		if got := fileURI(in); got != want {
			t.Errorf("fileURI(%q) = %q; want %q", in, got, want)
		}
	}
}
