package findings

import (
	"encoding/json"
	"testing"
)

// TestNumberLen holds NumberLen to JSON's number grammar: the longest number a text
// begins with, and 0 for every prefix encoding/json would refuse as a json.Number.
func TestNumberLen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0}, {"-", 0}, {"+1", 0}, {".5", 0}, {"x", 0},
		{"0", 1}, {"01", 1}, {"-0", 2}, {"12", 2}, {"12,", 2},
		{"1.", 0}, {"1.5", 3}, {"1.5.2", 3}, {"-0.25e+10}", 9},
		{"1e", 0}, {"1e+", 0}, {"1E-7", 4}, {"3e2e2", 3},
	} {
		if got := NumberLen(c.in); got != c.want {
			t.Errorf("NumberLen(%q) = %d, want %d", c.in, got, c.want)
		}
		// A whole number by NumberLen is one encoding/json writes, and the other way.
		whole := c.in != "" && NumberLen(c.in) == len(c.in)
		_, err := json.Marshal(json.Number(c.in))
		if c.in != "" && whole != (err == nil) {
			t.Errorf("NumberLen(%q) whole = %v, encoding/json's error %v", c.in, whole, err)
		}
	}
}
