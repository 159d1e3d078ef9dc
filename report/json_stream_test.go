package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
)

// TestJSONStreamIsEncoding holds writeJSON, which streams, to the bytes encoding/json
// writes for the whole document with the same indentation and escaping, for every kind
// of document and for the shapes a streamed object meets: omitted and present optional
// fields, empty and nil lists, a []byte, HTML characters, a nil document.
func TestJSONStreamIsEncoding(t *testing.T) {
	dense := densescan.Report(2)
	dense.Normalize()
	withOptional := densescan.Report(1)
	withOptional.Normalize()
	withOptional.Suppressed = []findings.SuppressedFinding{{Finding: withOptional.Findings[0], Suppression: findings.SuppressionRef{Reason: "<accepted> & signed"}}}
	withOptional.Change = &findings.Change{PreviousScan: 3}
	withOptional.SeverityFilter = []string{"high"}
	// A change written list by list: full, empty and nil lists, an omitted and a present
	// optional field, certificates changed.
	withChange := densescan.Report(1)
	withChange.Normalize()
	cf := findings.Changed(withChange.Findings[0])
	withChange.Change = &findings.Change{PreviousScan: 3, Baseline: "<old>.json", New: []findings.ChangedFinding{cf, cf},
		Fixed: []findings.ChangedFinding{}, Persisting: []findings.ChangedFinding{{Rule: "x", Suppressed: true, Reason: "a & b"}},
		Counts:              findings.ChangeCounts{New: 2, Persisting: 1},
		CertificatesChanged: []findings.CertChange{{Endpoint: "10.0.0.1:443", Before: []findings.ChangedCert{{SHA256: "ab"}}}}}
	type odd struct {
		Bytes  []byte   `json:"bytes"`
		Nil    []string `json:"nil"`
		Empty  []int    `json:"empty,omitempty"`
		Inner  struct{ A, B int }
		hidden int
		Skip   string `json:"-"`
		Quoted int    `json:"quoted,string"`
	}
	docs := map[string]any{
		"dense scan":      dense,
		"optional fields": withOptional,
		"with a change":   withChange,
		"empty scan":      &findings.Report{},
		"nil scan":        (*findings.Report)(nil),
		"catalog":         []findings.RuleInfo{{ID: "a<b>", Title: "x & y"}},
		"empty list":      []findings.Asset{},
		"nil list":        []findings.Asset(nil),
		"comparison":      &findings.Comparison{Scan: findings.ScanRef{ID: 2}},
		"odd struct":      odd{Bytes: []byte("DER"), Quoted: 7},
		"odd list":        []odd{{}, {Bytes: []byte{1}}},
		"scalar":          42,
	}
	for name, doc := range docs {
		var got bytes.Buffer
		if err := writeJSON(&got, doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: streamed\n%s\nencoding/json\n%s", name, got.Bytes(), want.Bytes())
		}
	}
}
