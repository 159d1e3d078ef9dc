package report

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// summaryCatalog is a catalog of four rules with their owners and risks.
func summaryCatalog() findings.Catalog {
	return findings.NewCatalog([]findings.RuleInfo{
		{ID: "cleartext-hl7", Title: "HL7 in clear", Remediation: "Use TLS.", Owner: findings.OwnerIntegration,
			Risk: findings.RiskPatientData, Covers: findings.Coverage{Domain: findings.DomainCleartext}},
		{ID: "key-weak", Title: "Weak key", Remediation: "Reissue.", Owner: findings.OwnerPKI,
			Risk: findings.RiskImpersonation, Covers: findings.Coverage{Domain: findings.DomainKeys}},
		{ID: "cert-self-signed", Title: "Self-signed", Remediation: "Reissue from the site CA.", Owner: findings.OwnerPKI,
			Risk: findings.RiskImpersonation, Covers: findings.Coverage{Domain: findings.DomainCertificates}},
		{ID: "key-shared", Title: "Shared key", Remediation: "One key each.", Owner: findings.OwnerDeviceMaker,
			Risk: findings.RiskSharedSecrets, Covers: findings.Coverage{Domain: findings.DomainKeys}},
	})
}

// summaryReport: HL7 in clear from three pumps to an engine (critical), weak keys and
// self-signed certificates on two pumps (high, medium), a key shared by two pumps (high),
// and a finding of a rule the catalog does not know.
func summaryReport() *findings.Report {
	asset := func(ip, name, kind string) findings.Asset {
		a := findings.Asset{Asset: observe.Asset{Addr: netip.MustParseAddr(ip), Kind: kind}}
		if name != "" {
			a.Names = []observe.AssetName{{Name: name, Source: "dns"}}
		}
		return a
	}
	f := func(rule string, sev findings.Severity, host string, ev map[string]any) findings.Finding {
		return findings.Finding{Rule: rule, Severity: sev, Host: host, Port: 443, Evidence: ev, Time: t0}
	}
	return &findings.Report{
		Assets: []findings.Asset{asset("10.0.0.10", "engine.example.org", "middleware"),
			asset("10.0.1.1", "pump-1.example.org", "medical-device"), asset("10.0.1.2", "", "medical-device"),
			asset("10.0.1.3", "pump-3", "medical-device"), asset("10.0.3.9", "ws-9", "workstation")},
		Findings: []findings.Finding{
			f("cleartext-hl7", findings.Critical, "10.0.0.10", map[string]any{"clients": []any{"10.0.1.1", "10.0.1.2", "10.0.1.3"}}),
			f("key-weak", findings.High, "10.0.1.1", map[string]any{"clients": []any{"10.0.3.9"}}),
			f("key-weak", findings.High, "10.0.1.2", nil),
			f("cert-self-signed", findings.Medium, "10.0.1.1", nil),
			f("key-shared", findings.High, "10.0.1.1", map[string]any{"shared_by": []any{"10.0.1.1:443", "10.0.1.3:443"}}),
			f("made-up", findings.Low, "10.0.3.9", nil),
		},
	}
}

func TestHTMLRisks(t *testing.T) {
	r := summaryReport()
	risks := htmlRisks(r.Findings, summaryCatalog(), htmlDeviceIndex(r))
	type want struct {
		title                     string
		sev                       string
		devices, medical, nfindgs int
		rules                     string
	}
	wants := []want{
		// Critical first; both ends of the cleartext link count.
		{riskText[findings.RiskPatientData].Title, "critical", 4, 3, 1, "cleartext-hl7"},
		// High, two devices each: shared secrets and impersonation tie on severity and
		// reach, and keep the order of findings.Risks. The weak key's client (a
		// workstation) is not a device its fix touches.
		{riskText[findings.RiskSharedSecrets].Title, "high", 2, 2, 1, "key-shared"},
		{riskText[findings.RiskImpersonation].Title, "high", 2, 2, 3, "key-weak cert-self-signed"},
	}
	if len(risks) != len(wants) {
		t.Fatalf("%d risks; want %d: %+v", len(risks), len(wants), risks)
	}
	for i, w := range wants {
		g := risks[i]
		var rules []string
		for _, rr := range g.Rules {
			rules = append(rules, rr.Rule)
		}
		if g.Title != w.title || g.Severity != w.sev || g.Devices != w.devices || g.Medical != w.medical ||
			g.Findings != w.nfindgs || strings.Join(rules, " ") != w.rules || g.Consequence == "" {
			t.Errorf("risk %d = %+v; want %+v", i, g, w)
		}
	}
	// At most maxRisks, however many risks there are.
	var many []findings.Finding
	cat := findings.Catalog{}
	for i, risk := range append(findings.Risks, "extra-a", "extra-b") {
		id := "rule-" + string(risk)
		cat[id] = findings.RuleInfo{ID: id, Risk: risk}
		many = append(many, findings.Finding{Rule: id, Severity: findings.Severity(i % 5), Host: "10.0.0.1"})
	}
	if got := htmlRisks(many, cat, deviceIndex{}); len(got) != maxRisks {
		t.Errorf("%d risks; want at most %d", len(got), maxRisks)
	}
}

func TestHTMLPlan(t *testing.T) {
	r := summaryReport()
	plan := htmlPlan(r.Findings, summaryCatalog(), htmlDeviceIndex(r))
	var got []string
	for _, o := range plan {
		for _, s := range o.Steps {
			got = append(got, o.Owner+" | "+s.Priority+" | "+s.Rule+" | "+s.Action+" | "+strings.Join(s.Devices, ", "))
		}
	}
	want := []string{
		// Owners in findings.Owners order, then the rules the catalog does not know.
		"Device maker | P2 high | key-shared | One key each. | pump-1 (10.0.1.1), pump-3 (10.0.1.3)",
		"Integration team | P1 urgent | cleartext-hl7 | Use TLS. | pump-1 (10.0.1.1), 10.0.1.2, pump-3 (10.0.1.3), engine (10.0.0.10)",
		"PKI team | P2 high | key-weak | Reissue. | pump-1 (10.0.1.1), 10.0.1.2",
		"PKI team | P3 planned | cert-self-signed | Reissue from the site CA. | pump-1 (10.0.1.1)",
		"Owner not recorded | P4 routine | made-up |  | ws-9 (10.0.3.9)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A step names at most maxPlanDevices devices and counts the rest.
	var fs []findings.Finding
	for i := range maxPlanDevices + 3 {
		fs = append(fs, findings.Finding{Rule: "key-weak", Severity: findings.High, Host: "10.9.0." + string(rune('a'+i))})
	}
	if p := htmlPlan(fs, summaryCatalog(), deviceIndex{}); len(p[0].Steps[0].Devices) != maxPlanDevices ||
		p[0].Steps[0].MoreDevices != 3 {
		t.Errorf("a step of %d devices names %d and counts %d more", len(fs), len(p[0].Steps[0].Devices), p[0].Steps[0].MoreDevices)
	}
}

// TestHTMLTimelinePosture colours each certificate's bar by what the rules found of it:
// a 30-year 1024-bit certificate is weak, not valid.
func TestHTMLTimelinePosture(t *testing.T) {
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	cert := func(sum string, from, to time.Time) findings.Certificate {
		return findings.Certificate{SHA256: sum, CertFacts: observe.CertFacts{Subject: "CN=" + sum, NotBefore: from, NotAfter: to}}
	}
	old, far := at.AddDate(-7, 0, 0), at.AddDate(23, 0, 0)
	certs := []findings.Certificate{
		cert("weak", old, far), cert("long", old, far), cert("expired", old, at.AddDate(0, -1, 0)),
		cert("weakexpired", old, at.AddDate(0, -2, 0)), cert("fine", at.AddDate(0, -1, 0), at.AddDate(1, 0, 0)),
		cert("soon", old, at.AddDate(0, 0, 10)),
	}
	fs := []findings.Finding{
		{Rule: "key-weak", Evidence: map[string]any{"cert_sha256": "weak"}},
		{Rule: "cert-long-lived", Evidence: map[string]any{"cert_sha256": "weak"}},
		{Rule: "cert-long-lived", Evidence: map[string]any{"cert_sha256": "long"}},
		{Rule: "cert-weak-signature", Evidence: map[string]any{"cert_sha256": "weakexpired"}},
		{Rule: "cert-self-signed", Evidence: map[string]any{"cert_sha256": "fine"}}, // not a posture colour
	}
	posture := htmlCertPostures(fs)
	want := map[string]string{"weak": "weak", "long": "long", "expired": "expired", "weakexpired": "weak", "fine": "valid", "soon": "soon"}
	tl := htmlTimeline(certs, at, "the end of the capture", at, posture)
	for _, row := range tl.Rows {
		if want[row.Label] != row.Class {
			t.Errorf("%s drawn as %s; want %s", row.Label, row.Class, want[row.Label])
		}
	}
	if tl.Classes["weak"] != 2 || tl.Classes["valid"] != 1 {
		t.Errorf("classes %v", tl.Classes)
	}
	rows := htmlCertRows(certs, at, posture)
	if !slices.Contains(rows[0].Flags, "weak key or signature") || !slices.Contains(rows[0].Flags, "valid too long") ||
		len(rows[4].Flags) != 0 {
		t.Errorf("table flags: %v, %v", rows[0].Flags, rows[4].Flags)
	}
}

// TestHTMLEvidenceLabels reads evidence in words and units, and leaves out what the row
// shows elsewhere.
func TestHTMLEvidenceLabels(t *testing.T) {
	ev := map[string]any{"chain_role": "leaf", "position": 0, "is_ca": false, "key_bits": 1024, "validity_days": 10958,
		"not_after": "2049-05-14T00:00:00Z", "observed_at": "2026-03-02T08:01:50Z", "first_seen": "x", "last_seen": "x",
		"some_new_key": "v"}
	var got []string
	for _, f := range htmlEvidence(reflect.ValueOf(ev), 0).Fields {
		got = append(got, f.Key+"="+f.Val.Text)
	}
	want := []string{"Place in the chain=leaf", "Certificate authority=no", "Key size=1024 bits", "Valid until=2049-05-14",
		"Some new key=v", "Validity=10958 days (30.0 years)"}
	if !slices.Equal(got, want) {
		t.Errorf("evidence:\n%q\nwant\n%q", got, want)
	}
}
