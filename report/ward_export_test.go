package report_test

import (
	"bytes"
	"testing"

	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
)

// TestWardExports renders the ward scan in the SIEM and DefectDojo formats against
// golden files, and holds every event to OCSF's required attributes and every finding
// to DefectDojo's generic parser.
func TestWardExports(t *testing.T) {
	rep := wardReport(t)
	// A credential's keyed hash is keyed by the store's secret, new in every test run.
	for i := range rep.Findings {
		maskHashes(rep.Findings[i].Evidence)
	}
	for _, tc := range []struct{ format, golden string }{
		{"ocsf", "ward.ocsf.golden"},
		{"defectdojo", "ward.defectdojo.golden"},
	} {
		w, err := report.Scan.New(tc.format, report.Options{Catalog: rules.CatalogIndex()})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := w.Write(&b, rep); err != nil {
			t.Fatal(err)
		}
		report.Golden(t, tc.golden, b.Bytes())
		switch tc.format {
		case "ocsf":
			events := report.CheckOCSF(t, b.Bytes())
			if len(events) != len(rep.Findings) {
				t.Errorf("%d events for %d findings", len(events), len(rep.Findings))
			}
			sites := 0
			for _, e := range events {
				for _, r := range e["resources"].([]any) {
					if r.(map[string]any)["type"] == "site" && r.(map[string]any)["name"] == "4-west" {
						sites++
					}
				}
			}
			if sites != len(events) {
				t.Errorf("%d of %d events name the site", sites, len(events))
			}
		case "defectdojo":
			if got := report.CheckDefectDojo(t, b.Bytes()); len(got) != len(rep.Findings) {
				t.Errorf("%d DefectDojo findings for %d", len(got), len(rep.Findings))
			}
		}
	}
}

// maskHashes replaces every "hash" value in evidence, at any depth, with a placeholder.
func maskHashes(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "hash" {
				x[k] = "(keyed hash)"
				continue
			}
			maskHashes(e)
		}
	case []any:
		for _, e := range x {
			maskHashes(e)
		}
	}
}
