package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

// The attributes OCSF 1.x requires of the classes and objects the ocsf format emits,
// with the type each must have. Source: github.com/ocsf/ocsf-schema,
// events/base_event.json (with the classification and occurrence traits it includes:
// activity_id, category_uid, class_uid, severity_id, time, type_uid; and metadata),
// events/findings/finding.json (finding_info), events/findings/compliance_finding.json
// (compliance), events/findings/vulnerability_finding.json (vulnerabilities), and
// objects/metadata.json (product, version), product.json (vendor_name),
// finding_info.json (uid), analytic.json (type_id), compliance.json (standards),
// vulnerability.json (at least one of cve and cwe), cve.json (uid), device.json
// (type_id), remediation.json (desc). The copies read were not all of the v1.3.0 tag;
// where versions differ the table takes the stricter (finding_info.title, required in
// earlier 1.x and recommended later, is checked). Types from dictionary.json: integer_t
// (an enum's _id), long_t and timestamp_t (milliseconds since the epoch), string_t, and
// arrays of them.
type ocsfType int

const (
	ocsfInt ocsfType = iota
	ocsfTimestamp
	ocsfString
	ocsfObject
	ocsfObjects // an array of objects
	ocsfStrings // an array of strings
)

var ocsfRequired = map[string]map[string]ocsfType{
	"base_event": {"activity_id": ocsfInt, "category_uid": ocsfInt, "class_uid": ocsfInt, "metadata": ocsfObject,
		"severity_id": ocsfInt, "time": ocsfTimestamp, "type_uid": ocsfInt},
	"finding":               {"finding_info": ocsfObject},
	"compliance_finding":    {"compliance": ocsfObject},
	"vulnerability_finding": {"vulnerabilities": ocsfObjects},
	"metadata":              {"product": ocsfObject, "version": ocsfString},
	"product":               {"vendor_name": ocsfString},
	"finding_info":          {"uid": ocsfString, "title": ocsfString},
	"analytic":              {"type_id": ocsfInt},
	"compliance":            {"standards": ocsfStrings},
	"cve":                   {"uid": ocsfString},
	"device":                {"type_id": ocsfInt},
	"remediation":           {"desc": ocsfString},
}

// checkType reports what is wrong with v as an OCSF value of type want.
func checkType(v any, want ocsfType) string {
	switch want {
	case ocsfInt, ocsfTimestamp:
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Sprintf("%v is not an integer", v)
		}
		// A timestamp_t in milliseconds is after 2001-09-09 (1e12) for any capture medscan reads.
		if want == ocsfTimestamp && (n < 1e12 || n > 1e14) {
			return fmt.Sprintf("%v is not a time in milliseconds since the epoch", v)
		}
	case ocsfString:
		if s, ok := v.(string); !ok || s == "" {
			return fmt.Sprintf("%v is not a non-empty string", v)
		}
	case ocsfObject:
		if _, ok := v.(map[string]any); !ok {
			return fmt.Sprintf("%v is not an object", v)
		}
	case ocsfObjects, ocsfStrings:
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return fmt.Sprintf("%v is not a non-empty array", v)
		}
		for _, x := range a {
			if want == ocsfStrings {
				if s, ok := x.(string); !ok || s == "" {
					return fmt.Sprintf("element %v is not a non-empty string", x)
				}
			} else if _, ok := x.(map[string]any); !ok {
				return fmt.Sprintf("element %v is not an object", x)
			}
		}
	}
	return ""
}

// checkOCSFEvent returns what is wrong with one event: a required attribute missing or
// of the wrong type, in the event or in an object it holds, or an identifier that
// disagrees with another.
func checkOCSFEvent(e map[string]any) []string {
	var errs []string
	need := func(where, object string, m map[string]any) {
		for attr, typ := range ocsfRequired[object] {
			v, ok := m[attr]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: required %s.%s missing", where, object, attr))
				continue
			}
			if msg := checkType(v, typ); msg != "" {
				errs = append(errs, fmt.Sprintf("%s: %s.%s: %s", where, object, attr, msg))
			}
		}
	}
	obj := func(m map[string]any, key string) map[string]any {
		o, _ := m[key].(map[string]any)
		return o
	}
	need("event", "base_event", e)
	need("event", "finding", e)
	class, _ := e["class_uid"].(float64)
	switch class {
	case 2003:
		need("event", "compliance_finding", e)
		if c := obj(e, "compliance"); c != nil {
			need("compliance", "compliance", c)
		}
	case 2002:
		need("event", "vulnerability_finding", e)
		vs, _ := e["vulnerabilities"].([]any)
		for i, v := range vs {
			vm, _ := v.(map[string]any)
			cve, cwe := obj(vm, "cve"), obj(vm, "cwe")
			if cve == nil && cwe == nil {
				errs = append(errs, fmt.Sprintf("vulnerabilities[%d]: neither cve nor cwe (the schema wants one)", i))
			}
			if cve != nil {
				need(fmt.Sprintf("vulnerabilities[%d].cve", i), "cve", cve)
			}
		}
	default:
		errs = append(errs, fmt.Sprintf("class_uid %v is neither 2002 nor 2003", e["class_uid"]))
	}
	if m := obj(e, "metadata"); m != nil {
		need("metadata", "metadata", m)
		if p := obj(m, "product"); p != nil {
			need("metadata.product", "product", p)
		}
		if m["version"] != OCSFVersion {
			errs = append(errs, fmt.Sprintf("metadata.version %v, want %s", m["version"], OCSFVersion))
		}
	}
	if fi := obj(e, "finding_info"); fi != nil {
		need("finding_info", "finding_info", fi)
		if a := obj(fi, "analytic"); a != nil {
			need("finding_info.analytic", "analytic", a)
		}
	}
	if d := obj(e, "device"); d != nil {
		need("device", "device", d)
	}
	if r := obj(e, "remediation"); r != nil {
		need("remediation", "remediation", r)
	}
	act, _ := e["activity_id"].(float64)
	if act < 1 || act > 3 {
		errs = append(errs, fmt.Sprintf("activity_id %v is not Create, Update or Close", e["activity_id"]))
	}
	if tu, _ := e["type_uid"].(float64); tu != class*100+act {
		errs = append(errs, fmt.Sprintf("type_uid %v is not class_uid*100+activity_id", e["type_uid"]))
	}
	if cat, _ := e["category_uid"].(float64); cat != 2 {
		errs = append(errs, fmt.Sprintf("category_uid %v is not Findings (2)", e["category_uid"]))
	}
	if s, _ := e["severity_id"].(float64); s < 1 || s > 5 {
		errs = append(errs, fmt.Sprintf("severity_id %v is out of 1..5", e["severity_id"]))
	}
	if s, _ := e["status_id"].(float64); !slices.Contains([]float64{1, 3, 4}, s) {
		errs = append(errs, fmt.Sprintf("status_id %v is not New, Suppressed or Resolved", e["status_id"]))
	}
	for _, k := range []string{"start_time", "end_time"} {
		if v, ok := e[k]; ok {
			if msg := checkType(v, ocsfTimestamp); msg != "" {
				errs = append(errs, k+": "+msg)
			}
		}
	}
	return errs
}

// CheckOCSF holds every line of an ocsf output to the schema's required attributes and
// returns the events, decoded.
func CheckOCSF(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var events []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		var e map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		if err := dec.Decode(&e); err != nil || dec.More() {
			t.Fatalf("line %d is not one JSON object: %v", n, err)
		}
		for _, msg := range checkOCSFEvent(e) {
			t.Errorf("line %d: %s", n, msg)
		}
		events = append(events, e)
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		t.Error("the last event does not end its line")
	}
	return events
}

// changing is the fixture as a later scan sees it: two findings new, two persisting,
// one fixed, one not assessed, one suppressed, and a ROCA key (a CVE).
func changing() *findings.Report {
	r := fixture()
	roca := findings.Finding{Rule: "key-weak", Severity: findings.High, Host: "10.0.0.5", Port: 443,
		Subject: strings.Repeat("cd", 32), Message: "10.0.0.5:443 served leaf certificate CN=pacs with a weak key: ROCA fingerprint",
		Evidence: map[string]any{findings.EvidenceCVE: []any{"CVE-2017-15361"}, "key_flaws": []any{"roca"}},
		Time:     t0, Source: "passive", FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	roca.SetFingerprint()
	r.Findings = append(r.Findings, roca)
	sup := findings.Finding{Rule: "cert-self-signed", Severity: findings.Medium, Host: "10.0.0.10", Port: 8443,
		Message: "a self-signed leaf", Source: "passive", FirstSeen: t0, LastSeen: t0}
	sup.SetFingerprint()
	r.Suppressed = []findings.SuppressedFinding{{Finding: sup, Suppression: findings.SuppressionRef{Reason: "vendor fix due",
		Expires: "2024-12-31", Source: ".medscanignore.yaml:3"}}}
	fixed := findings.Finding{Rule: "tls-legacy-version", Severity: findings.High, Host: "10.0.0.5", Port: 443,
		Message: "TLS 1.0 negotiated"}
	fixed.SetFingerprint()
	unassessed := findings.Finding{Rule: "tls-no-client-auth", Severity: findings.Medium, Host: "10.0.0.7", Port: 2575,
		Message: "no client certificate requested"}
	unassessed.SetFingerprint()
	na := findings.Changed(unassessed)
	na.Reason = "the scan saw no TLS handshake on 10.0.0.7:2575"
	r.Change = &findings.Change{PreviousScan: 2, PreviousStarted: t0.Add(-24 * time.Hour),
		New:         []findings.ChangedFinding{findings.Changed(r.Findings[0]), findings.Changed(roca)},
		Persisting:  []findings.ChangedFinding{findings.Changed(r.Findings[1]), findings.Changed(r.Findings[2]), findings.Changed(r.Findings[3]), {Fingerprint: sup.Fingerprint, Rule: sup.Rule, Suppressed: true}},
		Fixed:       []findings.ChangedFinding{findings.Changed(fixed)},
		NotAssessed: []findings.ChangedFinding{na}}
	r.Summarize()
	return r
}

func TestOCSFGolden(t *testing.T) {
	catalog := rules.CatalogIndex()
	for _, tc := range []struct {
		name   string
		opts   Options
		report func() *findings.Report
	}{
		{"ocsf.golden", Options{Catalog: catalog}, changing},
		{"ocsf_nocatalog.golden", Options{}, changing},
		{"ocsf_empty.golden", Options{Catalog: catalog}, empty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, "ocsf", tc.opts, tc.report())
			golden(t, tc.name, out)
			CheckOCSF(t, out)
			if again := render(t, "ocsf", tc.opts, tc.report()); !bytes.Equal(out, again) {
				t.Fatal("two renders of the same report differ")
			}
		})
	}
}

// TestOCSFLifecycle checks each finding's class, activity and status against the
// history the report carries.
func TestOCSFLifecycle(t *testing.T) {
	r := changing()
	events := CheckOCSF(t, render(t, "ocsf", Options{Catalog: rules.CatalogIndex()}, r))
	type want struct {
		class, activity, status float64
		compliance              string
	}
	byRule := map[string]want{
		"cleartext-hl7":         {2003, 1, 1, "Fail"}, // new
		"key-weak":              {2002, 1, 1, ""},     // new, a CVE
		"tls-weak-cipher":       {2003, 2, 1, "Fail"}, // persisting
		"cleartext-credentials": {2003, 2, 1, "Fail"},
		"cert-expiring-soon":    {2003, 2, 1, "Fail"},
		"cert-self-signed":      {2003, 2, 3, "Fail"}, // suppressed
		"tls-legacy-version":    {2003, 3, 4, "Pass"}, // fixed
	}
	seen := map[string]bool{}
	for _, e := range events {
		rule := e["finding_info"].(map[string]any)["analytic"].(map[string]any)["uid"].(string)
		w, ok := byRule[rule]
		if !ok {
			t.Errorf("an event for %s, which should have none (not assessed)", rule)
			continue
		}
		seen[rule] = true
		if e["class_uid"] != w.class || e["activity_id"] != w.activity || e["status_id"] != w.status {
			t.Errorf("%s: class %v activity %v status %v, want %+v", rule, e["class_uid"], e["activity_id"], e["status_id"], w)
		}
		if w.compliance != "" {
			if got := e["compliance"].(map[string]any)["status"]; got != w.compliance {
				t.Errorf("%s: compliance status %v, want %s", rule, got, w.compliance)
			}
		}
	}
	if len(seen) != len(byRule) {
		t.Errorf("events for %d rules, want %d", len(seen), len(byRule))
	}
	// With no earlier scan, every finding is created.
	r.Change = nil
	for _, e := range CheckOCSF(t, render(t, "ocsf", Options{}, r)) {
		if e["activity_id"] != 1.0 {
			t.Errorf("without history: activity %v, want Create", e["activity_id"])
		}
	}
}

// TestOCSFCompliance checks what the compliance object cites for a rule of the catalog.
func TestOCSFCompliance(t *testing.T) {
	r := empty()
	f := findings.Finding{Rule: "cleartext-dicom", Severity: findings.High, Host: "10.0.0.9", Port: 104, Message: "m",
		FirstSeen: t0, LastSeen: t0}
	f.SetFingerprint()
	r.Findings = []findings.Finding{f}
	events := CheckOCSF(t, render(t, "ocsf", Options{Catalog: rules.CatalogIndex()}, r))
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	c := events[0]["compliance"].(map[string]any)
	got := fmt.Sprint(c["standards"])
	if c["control"] != "cleartext-dicom" || got != "[DICOM PS3.15 HIPAA Security Rule IHE ITI Technical Framework]" {
		t.Errorf("control %v, standards %s", c["control"], got)
	}
}

// TestOCSFCheckFails makes sure the schema check can fail: each required attribute
// removed, or given the wrong type, is caught.
func TestOCSFCheckFails(t *testing.T) {
	out := render(t, "ocsf", Options{Catalog: rules.CatalogIndex()}, changing())
	line := bytes.SplitN(out, []byte("\n"), 2)[0]
	fresh := func() map[string]any {
		var e map[string]any
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	if errs := checkOCSFEvent(fresh()); len(errs) > 0 {
		t.Fatalf("the first event fails: %v", errs)
	}
	for attr := range ocsfRequired["base_event"] {
		e := fresh()
		delete(e, attr)
		if len(checkOCSFEvent(e)) == 0 {
			t.Errorf("without %s the event passes", attr)
		}
	}
	for _, mutate := range []func(e map[string]any){
		func(e map[string]any) { e["time"] = float64(e["time"].(float64)) / 1000 }, // seconds, not ms
		func(e map[string]any) { e["severity_id"] = "4" },
		func(e map[string]any) {
			delete(e["metadata"].(map[string]any)["product"].(map[string]any), "vendor_name")
		},
		func(e map[string]any) { e["compliance"].(map[string]any)["standards"] = []any{} },
		func(e map[string]any) { delete(e["finding_info"].(map[string]any), "uid") },
		func(e map[string]any) { e["type_uid"] = 200302.0 },
		func(e map[string]any) { delete(e, "compliance") },
	} {
		e := fresh()
		mutate(e)
		if len(checkOCSFEvent(e)) == 0 {
			t.Errorf("a broken event passes: %v", e)
		}
	}
}

// TestChangedSince checks the incremental export's choice.
func TestChangedSince(t *testing.T) {
	at := func(r *findings.Report) []string {
		var out []string
		for _, e := range CheckOCSF(t, render(t, "ocsf", Options{}, r)) {
			out = append(out, e["finding_info"].(map[string]any)["analytic"].(map[string]any)["uid"].(string))
		}
		slices.Sort(out)
		return out
	}
	// The scan started a minute before t0; since t0+1h, only what was seen then:
	// the HL7 finding (last seen t0+1h) and the ROCA key (likewise).
	r := changing()
	r.ChangedSince(t0.Add(time.Hour))
	if got := at(r); !slices.Equal(got, []string{"cleartext-hl7", "key-weak"}) {
		t.Errorf("since t0+1h: %v", got)
	}
	// Since before the scan: everything it found, fixed or new, whatever the capture's times.
	r = changing()
	r.ChangedSince(r.Scan.Started)
	if got := at(r); len(got) != 7 {
		t.Errorf("since the scan's start: %v", got)
	}
	// Since after everything: nothing.
	r = changing()
	r.ChangedSince(t0.Add(24 * time.Hour))
	if got := at(r); len(got) != 0 {
		t.Errorf("since a day later: %v", got)
	}
}

// FuzzExports renders a finding built from arbitrary text (as wire text reaches a
// message, a host name, a label and the evidence) in both export formats: every OCSF
// event stays one line that passes the schema check, and the DefectDojo document stays
// one document the generic parser takes.
func FuzzExports(f *testing.F) {
	f.Add("cleartext-hl7", "10.0.0.7", 6661, "HL7 in clear", "ward 7", "x", "CVE-2017-15361")
	f.Add("", "", 0, "", "", "", "")
	f.Add("key-weak", "2001:db8::1", 443, "line\nbreak \u2028 \x1b[2J\xff", "\u202esite", "a\"b", "CVE-1-2")
	f.Add("no-such-rule", "not an address", 70000, "{\"json\": true}", "label\n", "\x00", "CVE-2022-26320")
	catalog := rules.CatalogIndex()
	f.Fuzz(func(t *testing.T, rule, host string, port int, message, label, evidence, cve string) {
		r := empty()
		r.Scan.Label = label
		// Every finding has a rule (the DefectDojo check holds the file to it).
		if rule == "" {
			rule = "r"
		}
		fd := findings.Finding{Rule: rule, Severity: findings.Severity(port & 7), Host: host, Port: port & 0xffff,
			Message: message, Evidence: map[string]any{"x": evidence, findings.EvidenceCVE: []any{cve}},
			FirstSeen: t0, LastSeen: t0, Source: "passive"}
		fd.SetFingerprint()
		r.Findings = []findings.Finding{fd}
		for _, opts := range []Options{{}, {Catalog: catalog}} {
			w, _ := Scan.New("ocsf", opts)
			var b bytes.Buffer
			if err := w.Write(&b, r); err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"))
			if len(lines) != 1 {
				t.Fatalf("%d lines for one finding", len(lines))
			}
			var e map[string]any
			if err := json.Unmarshal(lines[0], &e); err != nil {
				t.Fatal(err)
			}
			if errs := checkOCSFEvent(e); len(errs) > 0 {
				t.Fatalf("%v\n%s", errs, lines[0])
			}
			w, _ = Scan.New("defectdojo", opts)
			b.Reset()
			if err := w.Write(&b, r); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Findings []map[string]any `json:"findings"`
			}
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil || len(doc.Findings) != 1 {
				t.Fatalf("not one document with one finding: %v", err)
			}
			if errs := checkDDFinding(doc.Findings[0]); len(errs) > 0 {
				t.Fatalf("%v", errs)
			}
		}
	})
}

// TestSiteOf: an export files a scan under its --site, and under its label only when it
// was made without one.
func TestSiteOf(t *testing.T) {
	for _, c := range []struct{ site, label, want string }{{"north", "ward-7", "north"}, {"", "ward-7", "ward-7"}, {"", "", ""}} {
		r := &findings.Report{Scan: findings.ScanInfo{Site: c.site, Label: c.label}}
		if got := siteOf(r); got != c.want {
			t.Errorf("siteOf(site %q, label %q) = %q, want %q", c.site, c.label, got, c.want)
		}
	}
}
