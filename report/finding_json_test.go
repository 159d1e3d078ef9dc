package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
)

// generalFinding is a finding's JSON the general way: encoding/json without HTML
// escaping, then indented at prefix.
func generalFinding(t testing.TB, f findings.Finding, prefix string) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	return indentJSON(nil, bytes.TrimSuffix(b.Bytes(), []byte("\n")), prefix)
}

// TestAppendFindingShape: appendFinding knows findings.Finding's fields; a field added
// or retagged there fails here until appendFinding writes it.
func TestAppendFindingShape(t *testing.T) {
	if !findingFast {
		t.Fatal("findings.Finding's fields are not the ones appendFinding writes (findingFields): teach it the new shape")
	}
}

// TestAppendFinding holds appendFinding to the general way on every field filled and
// empty, evidence of every type it takes on, and text that encoding/json escapes; and
// checks it declines what it does not take on, leaving dst as it was.
func TestAppendFinding(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	full := findings.Finding{
		Rule: "tls-weak<cipher>", Severity: findings.High, Host: "10.0.0.1", Port: 443, File: "certs/a.pem#2",
		Subject: "ab\"cd", Message: "line\nbreak\ttab \u2028 \x01 \xff & <b>", Time: at, Source: "passive",
		Remediation: "do \\ this", References: []string{"https://a/?b=1&c=2", ""}, Fingerprint: "f00",
		FirstSeen: at.Add(-time.Hour), LastSeen: at.UTC(),
		Evidence: map[string]any{
			"z": "last", "a": json.Number("12345678901234567890"), "b": true, "n": nil, "f": false,
			"list": []any{"x", json.Number("-1.5e+3"), []any{}, map[string]any{}, map[string]any{"k": []any{nil}}},
			"strs": []string{"p", "q\""}, "nostrs": []string(nil), "nolist": []any(nil), "nomap": map[string]any(nil),
			"int": 7, "int64": int64(-9), "zero": json.Number(""), "ints": []int{1, -2}, "noints": []int(nil),
			"u16": uint16(443), "u32": uint32(1 << 31), "u64": uint64(1 << 63), "i32": int32(-5),
			"maps": []map[string]any{{"a": "b"}, {}, nil}, "nomaps": []map[string]any(nil), "é\u2029key": "v",
			"deep": map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{[]any{"d"}}}}},
		},
	}
	cases := map[string]findings.Finding{
		"full":                full,
		"zero":                {},
		"empty lists":         {Evidence: map[string]any{}, References: []string{}},
		"no file, no subject": {Rule: "r", Evidence: map[string]any{"a": "b"}, References: []string{"x"}},
	}
	dense := densescan.Report(2)
	dense.Normalize()
	for i, f := range dense.Findings[:min(len(dense.Findings), 50)] {
		cases["dense "+string(rune('A'+i%26))+string(rune('a'+i/26))] = f
	}
	for name, f := range cases {
		for _, prefix := range []string{"", "  ", strings.Repeat(" ", 40)} {
			got, ok := appendFinding([]byte("keep"), &f, prefix)
			if !ok {
				t.Errorf("%s: not taken on", name)
				continue
			}
			if want := append([]byte("keep"), generalFinding(t, f, prefix)...); !bytes.Equal(got, want) {
				t.Errorf("%s, prefix %q:\n got %s\nwant %s", name, prefix, got, want)
			}
		}
	}
	declined := map[string]findings.Finding{
		"float evidence":     {Evidence: map[string]any{"a": 1.5}},
		"struct evidence":    {Evidence: map[string]any{"a": struct{ A int }{1}}},
		"bad number":         {Evidence: map[string]any{"a": json.Number("1x")}},
		"nested bad":         {Evidence: map[string]any{"a": []any{map[string]any{"b": float32(1)}}}},
		"year out of range":  {LastSeen: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"too deep":           {Evidence: map[string]any{"a": deepList(maxFindingDepth + 2)}},
		"time before year 0": {Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for name, f := range declined {
		got, ok := appendFinding([]byte("keep"), &f, "  ")
		if ok {
			t.Errorf("%s: taken on: %s", name, got)
		}
		if string(got) != "keep" {
			t.Errorf("%s: dst %q after declining; want it as it was", name, got)
		}
	}
}

// deepList is a list nested n deep.
func deepList(n int) any {
	var v any = "x"
	for range n {
		v = []any{v}
	}
	return v
}

// TestAppendJSONString holds appendJSONString to encoding/json on every byte value and
// the runes it treats apart.
func TestAppendJSONString(t *testing.T) {
	var all []byte
	for b := range 256 {
		all = append(all, byte(b))
	}
	for _, s := range []string{"", string(all), "\u2028\u2029é€😀", "a\xe2\x80", "<>&'", "\x7f"} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
		if got := appendJSONString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Errorf("%q as bytes:\n got %s\nwant %s", s, got, want)
		}
	}
}

// FuzzAppendFinding: for any texts and any evidence JSON (decoded as the store decodes
// it, numbers kept as written), appendFinding takes the finding on (unless nested
// deeper than it writes) and gives the general way's bytes.
func FuzzAppendFinding(f *testing.F) {
	dense := densescan.Report(1)
	dense.Normalize()
	for _, d := range dense.Findings[:min(len(dense.Findings), 4)] {
		ev, err := json.Marshal(d.Evidence)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d.Rule, d.Message, d.Subject, d.Remediation, int64(d.Port), ev)
	}
	f.Add("r<&>", "a\u2028\"\\\x00\xff", "", "", int64(-1), []byte(`{"a":[1,{"b":null}],"c":1e-5,"d":"\u00e9"}`))
	f.Add("", "", "s", "", int64(0), []byte(`{}`))
	f.Fuzz(func(t *testing.T, rule, message, subject, remediation string, port int64, evidence []byte) {
		fd := findings.Finding{Rule: rule, Message: message, Subject: subject, Remediation: remediation,
			Port: int(port), Severity: findings.Severity(port % 7), References: []string{message, rule},
			Time: time.Unix(port%(1<<34), port%1e9).UTC()}
		dec := json.NewDecoder(bytes.NewReader(evidence))
		dec.UseNumber()
		if err := dec.Decode(&fd.Evidence); err != nil {
			fd.Evidence = map[string]any{"text": string(evidence)}
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(fd); err != nil {
			if _, ok := appendFinding(nil, &fd, "  "); ok {
				t.Fatalf("encoding/json refuses the finding (%v), appendFinding takes it on", err)
			}
			return
		}
		want := indentJSON(nil, bytes.TrimSuffix(b.Bytes(), []byte("\n")), "  ")
		got, ok := appendFinding(nil, &fd, "  ")
		if !ok {
			if bytes.Count(evidence, []byte("["))+bytes.Count(evidence, []byte("{")) <= maxFindingDepth-2 {
				t.Fatalf("not taken on: %q", evidence)
			}
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", evidence, got, want)
		}
	})
}
