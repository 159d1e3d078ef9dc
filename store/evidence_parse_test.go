package store

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// stdEvidence is decodeEvidence as encoding/json alone gives it.
func stdEvidence(text string) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	err := dec.Decode(&m)
	return m, err
}

// evidenceSeeds are evidence texts of every shape: what medscan writes, and what the
// one pass leaves to encoding/json.
var evidenceSeeds = []string{
	`{}`, ` { } `, `{"a":"b"}`, `{"n":12345678901234567890123,"f":-0.5e-3,"z":0,"e":1E+9}`,
	`{"l":[],"m":{},"t":true,"f":false,"x":null,"nested":[{"k":["v",1,[true]]}]}`,
	`{"cipher":"TLS_RSA_WITH_3DES_EDE_CBC_SHA","clients":["10.4.165.10"],"handshakes":1,"sni":["pump933-6.hospital.example"]}`,
	`{"dup":1,"dup":2}`, `{"utf8":"h\u00e9llo ✓"}`, "{\"raw\":\"h\xc3\xa9llo\"}",
	`{"esc":"a\"b\\c\n\u001b[2J"}`, "{\"bad\":\"\xff\"}", "{\"ctl\":\"\x01\"}", `{"a":1} trailing`, `{"a":01}`,
	`{"a":1.}`, `{"a":-}`, `{"a":tru}`, `{"a" 1}`, `{"a":1,}`, `[1,2]`, `null`, ``, `   `, `"s"`, `{"a":[1,]}`,
	`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
}

// TestParseEvidence: decodeEvidence gives encoding/json's map or error for every seed,
// and the one pass takes on what medscan writes.
func TestParseEvidence(t *testing.T) {
	for _, text := range evidenceSeeds {
		got, gotErr := decodeEvidence(text)
		want, wantErr := stdEvidence(text)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("%q: error %v, want %v", text, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %#v, want %#v", text, got, want)
		}
	}
	for _, text := range evidenceSeeds[:6] {
		if _, ok := parseEvidence(text); !ok {
			t.Errorf("%q: left to encoding/json", text)
		}
	}
}

// FuzzParseEvidence: wherever the one pass gives a map, it is encoding/json's.
func FuzzParseEvidence(f *testing.F) {
	for _, s := range evidenceSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, ok := parseEvidence(text)
		if !ok {
			return
		}
		want, err := stdEvidence(text)
		if err != nil {
			t.Fatalf("%q: parsed, but encoding/json fails: %v", text, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %#v, want %#v", text, got, want)
		}
	})
}
