package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestEvidenceAsStored: evidence converted directly reads exactly as the JSON save
// writes of it decodes, for every kind of value evidence holds, and values the direct
// conversion does not take are decoded from the text.
func TestEvidenceAsStored(t *testing.T) {
	when := time.Date(2026, 3, 2, 9, 23, 55, 120000000, time.FixedZone("x", 3600))
	cases := []struct {
		name   string
		ev     map[string]any
		direct bool // converted without decoding the text
	}{
		{"nil", nil, false},
		{"empty", map[string]any{}, true},
		{"scalars", map[string]any{"s": "RC4 <b>&'\"\u2028\\", "t": true, "f": false, "n": nil, "i": -3, "i64": int64(-1) << 62,
			"u64": uint64(1) << 63, "u8": uint8(200), "i32": int32(-7), "u16": uint16(443), "u32": uint32(1) << 31,
			"u": uint(12), "i16": int16(-300), "i8": int8(-8)}, true},
		{"time", map[string]any{"at": when, "zero": time.Time{}}, true},
		{"lists", map[string]any{"names": []string{"a", "b"}, "none": []string(nil), "empty": []string{},
			"mixed": []any{"x", 1, true, nil, []any{"y"}, map[string]any{"k": "v"}}, "nilany": []any(nil)}, true},
		{"list of maps", map[string]any{"secrets": []map[string]any{{"kind": "basic", "count": 2}, nil, {}},
			"none": []map[string]any(nil)}, true},
		{"list of maps, one not converted", map[string]any{"secrets": []map[string]any{{"f": 0.5}}}, false},
		{"nested", map[string]any{"m": map[string]any{"a": map[string]any{"b": []string{"c"}}}, "nilmap": map[string]any(nil)}, true},
		{"float", map[string]any{"f": 0.1, "g": 1e21}, false},
		{"number", map[string]any{"n": json.Number("12")}, false},
		{"typed list", map[string]any{"ports": []int{443, 8443}}, false},
		{"typed map", map[string]any{"m": map[string]int{"a": 1}}, false},
		{"struct", map[string]any{"s": struct{ A int }{1}}, false},
		{"named string", map[string]any{"s": json.RawMessage(`"x"`)}, false},
		{"bad utf8 value", map[string]any{"s": "a\xffb"}, false},
		{"bad utf8 key", map[string]any{"a\xff": 1}, false},
		{"bad utf8 in list", map[string]any{"l": []string{"\xfe"}}, false},
	}
	w := &scanWriter{}
	for _, c := range cases {
		ev := c.ev
		if ev == nil {
			ev = map[string]any{} // as saveFindings writes a finding without evidence
		}
		text, err := w.jsonText(ev)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want, err := decodeEvidence(text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := evidenceAsStored(c.ev, text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v\nwant %#v", c.name, got, want)
		}
		if c.ev != nil {
			if _, direct := asDecodedMap(c.ev); direct != c.direct {
				t.Errorf("%s: converted directly %v; want %v", c.name, direct, c.direct)
			}
		}
	}
}

// TestAsDecoderShares: one scan's conversion gives every finding the evidence Load
// would decode, while a list several findings hold (the same []string) is converted once
// and shared, a list that starts at the same element but is shorter is not taken for it,
// and a map that converts to itself is kept as it is.
func TestAsDecoderShares(t *testing.T) {
	hosts := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}
	evs := []map[string]any{
		{"shared_by": hosts, "hosts": len(hosts)},
		{"shared_by": hosts, "hosts": len(hosts), "servers": []string{"10.0.0.9:21"}},
		{"shared_by": hosts[:2], "hosts": 2},
		{"secrets": []map[string]any{{"clients": hosts}}, "user": "admin"},
		{"only": "strings", "and": true, "nothing": nil, "nested": map[string]any{"a": "b"}},
		nil,
	}
	d := newAsDecoder()
	w := &scanWriter{}
	var got []map[string]any
	for i, ev := range evs {
		in := ev
		if in == nil {
			in = map[string]any{}
		}
		text, err := w.jsonText(in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := decodeEvidence(text)
		if err != nil {
			t.Fatal(err)
		}
		asked := false
		g, err := d.evidence(ev, func() string { asked = true; return text })
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, want) {
			t.Errorf("evidence %d: got %#v\nwant %#v", i, g, want)
		}
		if asked != (ev == nil) {
			t.Errorf("evidence %d: text asked for %v", i, asked)
		}
		got = append(got, g)
	}
	first := func(i int, key string) *any { return &got[i][key].([]any)[0] }
	if first(0, "shared_by") != first(1, "shared_by") {
		t.Error("the list two findings hold was converted twice")
	}
	if first(0, "shared_by") == first(2, "shared_by") {
		t.Error("a shorter list from the same elements was taken for the longer one")
	}
	if reflect.ValueOf(got[4]).UnsafePointer() != reflect.ValueOf(evs[4]).UnsafePointer() {
		t.Error("a map of strings, booleans and nulls was copied")
	}
}
