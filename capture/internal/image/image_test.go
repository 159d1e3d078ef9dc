package image

import "testing"

func TestKinds(t *testing.T) {
	magic := []struct {
		b     string
		final bool
		kind  string
		done  bool
	}{
		{"\x7fELF\x02\x01", false, "elf", true},
		{"\x27\x05\x19\x56", false, "uimage", true},
		{"\xd0\x0d\xfe\xed\x00\x04", false, "fit", true},
		{"\x1f\x8b\x08\x00", false, "gzip", true},
		{"PK\x03\x04", false, "zip", true},
		{":10000000A5", false, "ihex", true},
		{"\x7fEL", false, "", false}, // a prefix: more bytes could tell
		{"\x7fEL", true, "", true},
		{"<html>", true, "", true},
	}
	for _, m := range magic {
		if k, d := Magic([]byte(m.b), m.final); k != m.kind || d != m.done {
			t.Errorf("Magic(%q, %v) = %q, %v; want %q, %v", m.b, m.final, k, d, m.kind, m.done)
		}
	}
	for path, want := range map[string]string{"/fw/pump.BIN": "ext:.bin", "a.uimage": "ext:.uimage", "/x.txt": "", "/dir.bin/file": ""} {
		if got := PathKind(path); got != want {
			t.Errorf("PathKind(%q) = %q, want %q", path, got, want)
		}
	}
	if got := TypeKind("Application/Octet-Stream; charset=binary"); got != "type:application/octet-stream" {
		t.Errorf("TypeKind = %q", got)
	}
}

func FuzzMagic(f *testing.F) {
	f.Add([]byte("MZ\x90\x00"), true)
	f.Fuzz(func(t *testing.T, b []byte, final bool) {
		k, done := Magic(b, final)
		if final && !done {
			t.Fatalf("final but not done: %q", k)
		}
		PathKind(string(b))
		TypeKind(string(b))
	})
}
