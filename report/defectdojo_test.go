package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

// DefectDojo's Generic Findings Import, as dojo/tools/generic/json_parser.py
// (github.com/DefectDojo/django-DefectDojo) reads it: a finding must have title,
// severity and description, and may have only the fields below (the parser refuses the
// file otherwise: "Not allowed fields are present"); endpoints, tags and
// vulnerability_ids are taken out before that check. An endpoint object is passed to
// the Endpoint model, whose fields include protocol, host and port.
var (
	ddRequired = []string{"title", "severity", "description"}
	ddAllowed  = []string{"date", "cwe", "cve", "epss_score", "epss_percentile", "cvssv3", "cvssv3_score", "cvssv4",
		"cvssv4_score", "mitigation", "impact", "steps_to_reproduce", "severity_justification", "references", "active",
		"verified", "false_p", "out_of_scope", "risk_accepted", "under_review", "is_mitigated", "thread_id", "mitigated",
		"numerical_severity", "param", "payload", "line", "file_path", "component_name", "component_version",
		"static_finding", "dynamic_finding", "scanner_confidence", "unique_id_from_tool", "vuln_id_from_tool",
		"sast_source_object", "sast_sink_object", "sast_source_line", "sast_source_file_path", "nb_occurences",
		"publish_date", "service", "planned_remediation_date", "planned_remediation_version", "effort_for_fixing",
		"tags", "kev_date", "known_exploited", "ransomware_used", "fix_available", "fix_version",
		// popped before the check:
		"endpoints", "files", "vulnerability_ids", "cwes"}
	ddSeverities     = []string{"Critical", "High", "Medium", "Low", "Info"}
	ddEndpointFields = []string{"protocol", "userinfo", "host", "port", "path", "query", "fragment"}
	ddTopLevel       = []string{"name", "type", "version", "description", "dynamic_tool", "static_tool", "soc", "findings"}
)

// checkDDFinding returns what DefectDojo's generic parser would refuse in a finding, or
// what medscan's reimport depends on that is missing.
func checkDDFinding(f map[string]any) []string {
	var errs []string
	for _, k := range ddRequired {
		if s, ok := f[k].(string); !ok || s == "" {
			errs = append(errs, "required "+k+" missing or empty")
		}
	}
	for k := range f {
		if !slices.Contains(ddAllowed, k) && !slices.Contains(ddRequired, k) {
			errs = append(errs, "field "+k+" is not allowed")
		}
	}
	if s, _ := f["severity"].(string); !slices.Contains(ddSeverities, s) {
		errs = append(errs, fmt.Sprintf("severity %v is not one of %v", f["severity"], ddSeverities))
	}
	if id, _ := f["unique_id_from_tool"].(string); len(id) != 32 {
		errs = append(errs, fmt.Sprintf("unique_id_from_tool %v is not a fingerprint", f["unique_id_from_tool"]))
	}
	if v, _ := f["vuln_id_from_tool"].(string); v == "" {
		errs = append(errs, "vuln_id_from_tool missing")
	}
	if d, ok := f["date"]; ok {
		if _, err := time.Parse("2006-01-02", fmt.Sprint(d)); err != nil {
			errs = append(errs, fmt.Sprintf("date %v is not a date", d))
		}
	}
	if c, ok := f["cwe"]; ok {
		if n, ok := c.(float64); !ok || n != float64(int(n)) || n <= 0 {
			errs = append(errs, fmt.Sprintf("cwe %v is not a CWE number", c))
		}
	}
	for _, k := range []string{"active", "verified", "static_finding", "dynamic_finding"} {
		if _, ok := f[k].(bool); !ok {
			errs = append(errs, k+" is not a boolean")
		}
	}
	if ids, ok := f["vulnerability_ids"]; ok {
		a, ok := ids.([]any)
		if !ok || len(a) == 0 {
			errs = append(errs, "vulnerability_ids is not a list")
		}
		for _, x := range a {
			if _, ok := x.(string); !ok {
				errs = append(errs, fmt.Sprintf("vulnerability id %v is not a string", x))
			}
		}
	}
	if eps, ok := f["endpoints"]; ok {
		a, _ := eps.([]any)
		for _, ep := range a {
			m, ok := ep.(map[string]any)
			if !ok {
				errs = append(errs, fmt.Sprintf("endpoint %v is not an object", ep))
				continue
			}
			for k := range m {
				if !slices.Contains(ddEndpointFields, k) {
					errs = append(errs, "endpoint field "+k+" is not the Endpoint model's")
				}
			}
			if h, _ := m["host"].(string); h == "" {
				errs = append(errs, "endpoint without a host")
			}
			if p, ok := m["port"]; ok {
				if n, ok := p.(float64); !ok || n < 1 || n > 65535 || n != float64(int(n)) {
					errs = append(errs, fmt.Sprintf("endpoint port %v", p))
				}
			}
		}
	}
	return errs
}

// CheckDefectDojo holds a defectdojo output to the generic parser's shape and returns
// its findings, decoded.
func CheckDefectDojo(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&doc); err != nil || dec.More() {
		t.Fatalf("not one JSON document: %v", err)
	}
	for k := range doc {
		if !slices.Contains(ddTopLevel, k) {
			t.Errorf("top-level field %s is not the generic parser's", k)
		}
	}
	list, ok := doc["findings"].([]any)
	if !ok {
		t.Fatalf("findings is %T, want a list", doc["findings"])
	}
	var out2 []map[string]any
	for i, x := range list {
		f, ok := x.(map[string]any)
		if !ok {
			t.Fatalf("finding %d is not an object", i)
		}
		for _, msg := range checkDDFinding(f) {
			t.Errorf("finding %d (%v): %s", i, f["title"], msg)
		}
		out2 = append(out2, f)
	}
	return out2
}

func TestDefectDojoGolden(t *testing.T) {
	catalog := rules.CatalogIndex()
	for _, tc := range []struct {
		name   string
		opts   Options
		report func() *findings.Report
	}{
		{"defectdojo.golden", Options{Catalog: catalog}, changing},
		{"defectdojo_empty.golden", Options{Catalog: catalog}, empty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, "defectdojo", tc.opts, tc.report())
			golden(t, tc.name, out)
			CheckDefectDojo(t, out)
		})
	}
}

// TestDefectDojoReimport checks what reimport with close_old_findings relies on: every
// finding still open is in the file (suppressed ones as accepted risks, not-assessed
// ones active), the fixed one is not, and each is identified by its fingerprint and
// titled by what identifies it, not by its message.
func TestDefectDojoReimport(t *testing.T) {
	r := changing()
	fs := CheckDefectDojo(t, render(t, "defectdojo", Options{Catalog: rules.CatalogIndex()}, r))
	byRule := map[string]map[string]any{}
	for _, f := range fs {
		byRule[f["vuln_id_from_tool"].(string)] = f
	}
	if _, ok := byRule["tls-legacy-version"]; ok {
		t.Error("the fixed finding is in the file: reimport would not close it")
	}
	if f := byRule["tls-no-client-auth"]; f == nil || f["active"] != true {
		t.Errorf("the not-assessed finding is missing or inactive: %v", f)
	}
	if f := byRule["cert-self-signed"]; f == nil || f["risk_accepted"] != true || f["active"] != false {
		t.Errorf("the suppressed finding: %v", f)
	}
	if len(fs) != len(r.Findings)+2 {
		t.Errorf("%d findings, want %d", len(fs), len(r.Findings)+2)
	}
	hl7 := byRule["cleartext-hl7"]
	if hl7["unique_id_from_tool"] != r.Findings[0].Fingerprint || hl7["title"] != "HL7 v2 messages in clear at 10.0.0.7:6661" {
		t.Errorf("hl7: %v", hl7)
	}
	if eps := fmt.Sprint(hl7["endpoints"]); eps != "[map[host:10.0.0.7 port:6661 protocol:hl7-mllp]]" {
		t.Errorf("endpoints %s", eps)
	}
	if ids := fmt.Sprint(byRule["key-weak"]["vulnerability_ids"]); ids != "[CVE-2017-15361]" {
		t.Errorf("ROCA: vulnerability_ids %s", ids)
	}
	// The matching fields do not change when the message does.
	r2 := changing()
	r2.Findings[0].Message = "HL7 v2 messages, 40 of them now"
	again := CheckDefectDojo(t, render(t, "defectdojo", Options{Catalog: rules.CatalogIndex()}, r2))
	for _, k := range []string{"title", "description", "unique_id_from_tool"} {
		if again[0][k] != fs[0][k] {
			t.Errorf("%s changed with the message: %q, was %q", k, again[0][k], fs[0][k])
		}
	}
}

// TestDefectDojoCheckFails makes sure the shape check can fail.
func TestDefectDojoCheckFails(t *testing.T) {
	good := map[string]any{"title": "t", "severity": "High", "description": "d", "active": true, "verified": false,
		"static_finding": false, "dynamic_finding": true, "unique_id_from_tool": "0123456789abcdef0123456789abcdef",
		"vuln_id_from_tool": "r"}
	if errs := checkDDFinding(good); len(errs) > 0 {
		t.Fatalf("a good finding fails: %v", errs)
	}
	for _, mutate := range []func(m map[string]any){
		func(m map[string]any) { delete(m, "title") },
		func(m map[string]any) { m["severity"] = "high" },
		func(m map[string]any) { m["fingerprint"] = "x" },
		func(m map[string]any) { m["cwe"] = "CWE-321" },
		func(m map[string]any) { m["endpoints"] = []any{map[string]any{"host": "h", "port": 0.0}} },
		func(m map[string]any) { m["endpoints"] = []any{map[string]any{"host": "h", "transport": "tcp"}} },
		func(m map[string]any) { m["date"] = "yesterday" },
		func(m map[string]any) { delete(m, "unique_id_from_tool") },
	} {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		mutate(m)
		if len(checkDDFinding(m)) == 0 {
			t.Errorf("a broken finding passes: %v", m)
		}
	}
}
