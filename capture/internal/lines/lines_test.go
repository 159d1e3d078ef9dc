package lines

import (
	"strings"
	"testing"
)

func TestBufferFramesAcrossCalls(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   []string // "LONG" for a line reported as too long
	}{
		{"whole lines", []string{"USER bob\r\nPASS x\r\n"}, []string{"USER bob", "PASS x"}},
		{"split everywhere", []string{"US", "ER b", "ob\r", "\nPA", "SS x\n"}, []string{"USER bob", "PASS x"}},
		{"bare LF and empty line", []string{"a\n\nb\n"}, []string{"a", "", "b"}},
		{"too long in one piece", []string{strings.Repeat("x", 20) + "\nok\n"}, []string{"LONG", "ok"}},
		{"too long across pieces", []string{strings.Repeat("x", 10), strings.Repeat("y", 10), "\nok\n"}, []string{"LONG", "ok"}},
		{"held part plus tail too long", []string{strings.Repeat("x", 12), strings.Repeat("y", 5) + "\nok\n"}, []string{"LONG", "ok"}},
		{"no line end yet", []string{"partial"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Buffer{Max: 16}
			var got []string
			for _, c := range tt.chunks {
				b := []byte(c)
				for {
					line, rest, ok, long := l.Next(b)
					if !ok {
						break
					}
					if long {
						got = append(got, "LONG")
					} else {
						got = append(got, string(line))
					}
					b = rest
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBufferWipesAndSkips(t *testing.T) {
	l := Buffer{Max: 64}
	l.Next([]byte("PASS hunt"))
	line, _, _, _ := l.Next([]byte("er2\n"))
	if string(line) != "PASS hunter2" {
		t.Fatalf("line = %q", line)
	}
	held := l.buf[:len(line)]
	l.Next([]byte("x")) // the next call wipes the line a password may have been in
	if strings.Contains(string(held), "hunter2") {
		t.Error("the previous line is still in the reused buffer")
	}
	l.Reset()
	l.Next([]byte("garbage after a gap"))
	l.SkipLine()
	skipped, rest, ok, long := l.Next([]byte(" more\nNOOP\n"))
	if !ok || !long || skipped != nil {
		t.Errorf("the skipped line: %q ok=%v long=%v; want its end reported with no content", skipped, ok, long)
	}
	if got, _, _, _ := l.Next(rest); string(got) != "NOOP" {
		t.Errorf("after SkipLine, next line = %q", got)
	}
}

func TestFold(t *testing.T) {
	for _, tt := range []struct {
		b, s          string
		equal, within bool
	}{
		{"AUTH", "auth", true, true},
		{"Content-Length", "content-length", true, true},
		{"220 mail ESMTP Postfix", "esmtp", false, true},
		{"USER", "pass", false, false},
		{"", "", true, true},
		{"\xc3\x89", "\xc3\xa9", false, false}, // only ASCII folds
	} {
		if got := EqualFold([]byte(tt.b), tt.s); got != tt.equal {
			t.Errorf("EqualFold(%q, %q) = %v", tt.b, tt.s, got)
		}
		if got := ContainsFold([]byte(tt.b), tt.s); got != tt.within {
			t.Errorf("ContainsFold(%q, %q) = %v", tt.b, tt.s, got)
		}
	}
}
