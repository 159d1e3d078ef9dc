package findings

import (
	"encoding/json"
	"fmt"
)

// A finding's evidence is built by a rule with Go types ([]string, int, []map[string]any)
// and read back from the store or a JSON document as JSON's ([]any, json.Number,
// float64). These read it the same way whichever path it took.

// EvidenceString reads one value of evidence as text: a string as it is, anything else
// as fmt prints it, "" when absent.
func EvidenceString(ev map[string]any, key string) string {
	switch v := ev[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// EvidenceStrings reads a list of evidence as text (a copy): each element as
// EvidenceString reads a value; a lone string is a list of one.
func EvidenceStrings(ev map[string]any, key string) []string {
	switch v := ev[key].(type) {
	case []string:
		return append([]string(nil), v...)
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			if t, ok := s.(string); ok {
				out = append(out, t)
			} else {
				out = append(out, fmt.Sprint(s))
			}
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

// EvidenceList reads a list of evidence whose elements are anything (maps, mostly).
func EvidenceList(ev map[string]any, key string) []any {
	switch v := ev[key].(type) {
	case []any:
		return v
	case []map[string]any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = v[i]
		}
		return out
	}
	return nil
}

// EvidenceInt reads a number of evidence, 0 when absent or not a number.
func EvidenceInt(ev map[string]any, key string) int {
	switch v := ev[key].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 0
}

// NumberLen is the length of the number in JSON's grammar that s begins with, 0 when it
// begins with none: the check encoding/json makes of a json.Number before writing it,
// shared by the store's evidence reader (which keeps a stored number as written) and the
// report's finding writer (which writes one as it is).
func NumberLen(s string) int {
	i := 0
	digits := func() bool {
		from := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > from
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return 0
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return 0
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return 0
		}
	}
	return i
}
