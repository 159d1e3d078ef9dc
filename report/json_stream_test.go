package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
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
	long := densescan.Report(9) // lists encoded in chunks on every core (encodeList)
	long.Normalize()
	if len(long.Flows) < 3*listChunk+1 {
		t.Fatalf("%d flows: not a long list", len(long.Flows))
	}
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
		"long lists":      long,
		"long flat list":  long.Flows,
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

// TestJSONListError: an element that cannot be encoded, in a list long enough to be
// encoded on every core, fails the document; nothing is left running.
func TestJSONListError(t *testing.T) {
	for _, at := range []int{0, listChunk - 1, 5*listChunk + 3, 20*listChunk - 1} {
		l := make([]float64, 20*listChunk)
		l[at] = math.Inf(1)
		var b bytes.Buffer
		if err := writeJSON(&b, l); err == nil || !strings.Contains(err.Error(), "unsupported value") {
			t.Errorf("at %d: %v; want encoding/json's error", at, err)
		}
	}
}

// TestIndentJSON holds indentJSON to json.Indent on compact JSON of every shape:
// nesting, empty objects and lists, escaped quotes and backslashes in strings and keys,
// brackets and commas inside strings, numbers and literals.
func TestIndentJSON(t *testing.T) {
	for _, src := range []string{
		`{}`, `[]`, `{"a":[]}`, `{"a":{},"b":[{}]}`, `[1,-2.5e+3,true,false,null]`,
		`{"k\"{":"v,\\\"[]:","e":"\\","u":"\u2028 <&>"}`, `"x"`, `7`, `[[[]],[{"a":[1,{"b":{}}]}]]`,
		`{"evidence":{"list":["a","b"],"n":12345678901234567890,"m":{"x":{"y":[]}}},"z":""}`,
		strings.Repeat(`{"a":[`, 20) + "1" + strings.Repeat("]}", 20), // deeper than indentSpaces
	} {
		for _, prefix := range []string{"", "  ", "      "} {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(src), prefix, "  "); err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if got := indentJSON(nil, []byte(src), prefix); string(got) != want.String() {
				t.Errorf("%s with prefix %q:\n got %s\nwant %s", src, prefix, got, want.Bytes())
			}
		}
	}
}

// FuzzIndentJSON: for any valid JSON, compacted as encoding/json writes it, indentJSON
// gives json.Indent's bytes.
func FuzzIndentJSON(f *testing.F) {
	dense := densescan.Report(1)
	dense.Normalize()
	for _, v := range []any{dense.Findings[0], dense.Flows[0], dense.Assets[0], dense.Scan} {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"a":[{},[]],"b":"\"}\\"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := indentJSON(nil, compact.Bytes(), "  "); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%q:\n got %s\nwant %s", compact.Bytes(), got, want.Bytes())
		}
	})
}
