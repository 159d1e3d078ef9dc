package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/medscan/medscan/findings"
)

// compileReportSchema compiles the embedded JSON Schema of the JSON document.
func compileReportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "medscan-report-v1.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestJSONSchemaValidatesFixtures(t *testing.T) {
	sch := compileReportSchema(t)
	for name, r := range map[string]func() *findings.Report{"fixture": fixture, "empty": empty, "hostile": hostile, "probed": probed} {
		validate(t, sch, name, render(t, "json", Options{}, r()))
	}
}

// TestJSONSchemaIsStrict checks that the schema catches what it is there to catch: a
// field renamed or removed, an unknown field, a value of the wrong type or outside its
// enumeration. Each case edits the fixture's JSON at one path.
func TestJSONSchemaIsStrict(t *testing.T) {
	sch := compileReportSchema(t)
	base := render(t, "json", Options{}, fixture())
	for _, tc := range []struct {
		name string
		edit func(doc map[string]any)
	}{
		{"schema_version 2", func(d map[string]any) { d["schema_version"] = 2 }},
		{"unknown top-level field", func(d map[string]any) { d["extra"] = true }},
		{"missing assets", func(d map[string]any) { delete(d, "assets") }},
		{"null findings", func(d map[string]any) { d["findings"] = nil }},
		{"unknown severity", func(d map[string]any) { finding(d)["severity"] = "severe" }},
		{"unknown source", func(d map[string]any) { finding(d)["source"] = "guessed" }},
		{"port as text", func(d map[string]any) { finding(d)["port"] = "443" }},
		{"port out of range", func(d map[string]any) { finding(d)["port"] = 70000 }},
		{"bad time", func(d map[string]any) { finding(d)["time"] = "yesterday" }},
		{"renamed field", func(d map[string]any) { f := finding(d); f["rule_id"] = f["rule"]; delete(f, "rule") }},
		{"short fingerprint", func(d map[string]any) { finding(d)["fingerprint"] = "abc" }},
		{"unknown scan field", func(d map[string]any) { d["scan"].(map[string]any)["operator"] = "x" }},
		{"unknown certificate field", func(d map[string]any) { d["certificates"].([]any)[0].(map[string]any)["pem"] = "x" }},
		{"negative count", func(d map[string]any) { d["hl7"].([]any)[0].(map[string]any)["count"] = -1 }},
		{"bad sighting role", func(d map[string]any) {
			d["certificates"].([]any)[1].(map[string]any)["seen_on"].([]any)[0].(map[string]any)["role"] = "proxy"
		}},
	} {
		var doc map[string]any
		if err := json.Unmarshal(base, &doc); err != nil {
			t.Fatal(err)
		}
		tc.edit(doc)
		if err := sch.Validate(reencode(t, doc)); err == nil {
			t.Errorf("%s: the schema accepted it", tc.name)
		}
	}
	// Evidence is free-form: any keys and values.
	var doc map[string]any
	json.Unmarshal(base, &doc)
	finding(doc)["evidence"] = map[string]any{"nested": map[string]any{"list": []any{1, "a", nil}}}
	if err := sch.Validate(reencode(t, doc)); err != nil {
		t.Errorf("free-form evidence rejected: %v", err)
	}
}

func finding(doc map[string]any) map[string]any { return doc["findings"].([]any)[0].(map[string]any) }

// reencode turns a decoded document into the value form the validator wants.
func reencode(t *testing.T, doc any) any {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestJSONSchemaMatchesTypes walks the Go types of findings.Report and checks that each
// struct has a schema object declaring exactly its JSON field names, so a field added to
// the Report without the schema fails here even before any fixture fills it in.
func TestJSONSchemaMatchesTypes(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	objects := []map[string]any{schema}
	for _, d := range schema["$defs"].(map[string]any) {
		objects = append(objects, d.(map[string]any))
	}
	propSet := func(o map[string]any) string {
		props, _ := o["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		slices.Sort(names)
		return strings.Join(names, " ")
	}
	have := map[string]bool{}
	for _, o := range objects {
		have[propSet(o)] = true
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Slice || rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Map {
			rt = rt.Elem()
		}
		// Times and addresses are written as strings (they marshal as text).
		if rt.Kind() != reflect.Struct || rt == reflect.TypeOf(time.Time{}) || rt == reflect.TypeOf(netip.Addr{}) || seen[rt] {
			return
		}
		seen[rt] = true
		var names []string
		var fields func(reflect.Type)
		fields = func(st reflect.Type) {
			for f := range st.Fields() {
				if f.Anonymous && f.Tag.Get("json") == "" {
					fields(f.Type) // an embedded struct's fields are promoted into the object
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "-" {
					continue // kept out of the document on purpose (a flow's ports, a certificate's DER)
				}
				if name == "" {
					t.Errorf("%s.%s has no JSON name", st.Name(), f.Name)
					continue
				}
				names = append(names, name)
				walk(f.Type)
			}
		}
		fields(rt)
		slices.Sort(names)
		names = slices.Compact(names) // a wrapper's field shadows an embedded one of the same name
		if !have[strings.Join(names, " ")] {
			t.Errorf("no schema object declares exactly the fields of findings.%s: %v", rt.Name(), names)
		}
	}
	walk(reflect.TypeOf(findings.Report{}))
	if len(seen) < 15 {
		t.Errorf("walked %d struct types; the Report has more", len(seen))
	}
}
