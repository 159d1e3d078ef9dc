package observe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pump-0011.example", "pump-0011.example"},
		{"Hôpital Saint-Éloi", "Hôpital Saint-Éloi"},
		{"CN=pacs\x1b[2J.example", `CN=pacs\x1b[2J.example`},
		{"a\tb", "a b"},
		{"line\nbreak", `line\x0abreak`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bom\ufeff", `bom\ufeff`},
		{"bell\a", `bell\x07`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"sep\u2028", `sep\u2028`},
		{"DOMAIN\\user", `DOMAIN\user`},
	}
	for _, tc := range tests {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Clean(Clean(tc.in)); got != Clean(tc.in) {
			t.Errorf("Clean is not idempotent on %q: %q", tc.in, got)
		}
	}
}

func TestTextCutsAtCharacterBoundary(t *testing.T) {
	// An escape is never cut in two, and counts against the cap.
	if got := Text([]byte("ab\x00cd"), 5); got != "ab" {
		t.Errorf("Text cut inside an escape: %q", got)
	}
	if got := Text([]byte("ab\x00cd"), 6); got != `ab\x00` {
		t.Errorf("Text = %q", got)
	}
	got := Text([]byte("ééé"), 5) // 6 bytes: the cut would split the third é
	if got != "éé" || !utf8.ValidString(got) {
		t.Errorf("Text cut = %q", got)
	}
	if got := Text([]byte(strings.Repeat("a", 100)), 10); got != strings.Repeat("a", 10) {
		t.Errorf("Text cap = %q", got)
	}
	if got := Text([]byte("x\x00y"), 10); got != `x\x00y` {
		t.Errorf("Text = %q", got)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31mred", "\u202e", "\xff\xfe", "a\tb\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Clean(%q) = %q: not UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, out, r)
			}
		}
		if Clean(out) != out {
			t.Fatalf("Clean not idempotent on %q", s)
		}
	})
}

// FuzzText holds Text to its cap whatever the escapes cost, and to Clean's output.
func FuzzText(f *testing.F) {
	// "\t000" once came back longer than its cap: a tab is escaped.
	for _, s := range []string{"", "abc", "\t000", "\x00\x00\x00\x00", "ééé\x1b", "\xff\xfe\xfd"} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 0 {
			max = -max
		}
		max %= 300
		out := Text(b, max)
		if len(out) > max || Clean(out) != out || !utf8.ValidString(out) {
			t.Fatalf("Text(%q, %d) = %q", b, max, out)
		}
		if full := Clean(string(b)); !strings.HasPrefix(full, out) {
			t.Fatalf("Text(%q, %d) = %q is not a prefix of Clean's %q", b, max, out, full)
		}
	})
}

func TestCleanAllocatesOnlyForEscapes(t *testing.T) {
	for _, s := range []string{"CN=Krankenhaus München Süd", "病院", "plain"} {
		if n := testing.AllocsPerRun(100, func() { _ = Clean(s) }); n != 0 {
			t.Errorf("Clean(%q) allocates %v times", s, n)
		}
	}
}
