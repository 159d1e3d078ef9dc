package report

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medscan/medscan/findings"
)

// A scan's findings are most of its JSON (40,794 of them in a hospital's dense store),
// and encoding each through encoding/json (reflection over the struct, the evidence
// map's keys sorted through reflect.Value) and then indenting the result was most of
// what the writer's goroutine did: the one part of writing a report that does not run
// on every core. appendFinding writes a finding's indented JSON directly, in the bytes
// json.Encoder (SetEscapeHTML(false)) and indentJSON give it, or reports false for a
// finding it does not take on (evidence of a type it does not know, a number
// encoding/json would refuse, a time it cannot write), which then goes the general
// way. Tests hold it to the general way on every field filled, and a fuzz target on
// any text and evidence.

var findingType = reflect.TypeFor[findings.Finding]()

// findingFields are findings.Finding's fields, in order, with their JSON tags, as
// appendFinding writes them. A finding of another shape (a field added, renamed or
// retagged) is written the general way (findingFast is false) until appendFinding
// learns it: TestAppendFindingShape fails meanwhile.
var findingFields = []struct{ name, tag string }{
	{"Rule", "rule"}, {"Severity", "severity"}, {"Host", "host"}, {"Port", "port"},
	{"File", "file,omitempty"}, {"Subject", "subject,omitempty"}, {"Message", "message"},
	{"Evidence", "evidence"}, {"Time", "time"}, {"Source", "source"}, {"Remediation", "remediation"},
	{"References", "references"}, {"Fingerprint", "fingerprint"}, {"FirstSeen", "first_seen"},
	{"LastSeen", "last_seen"},
}

// findingFast is whether findings.Finding has the shape appendFinding writes.
var findingFast = func() bool {
	if findingType.NumField() != len(findingFields) {
		return false
	}
	for i, want := range findingFields {
		f := findingType.Field(i)
		if f.Name != want.name || f.Tag.Get("json") != want.tag {
			return false
		}
	}
	return true
}()

// appendFinding appends f's JSON to dst as writeJSON writes a finding whose first line
// is already indented by prefix (its later lines get prefix, and two spaces a level);
// ok is false, with dst's contents then undefined beyond its length on entry, for a
// finding it does not take on.
func appendFinding(dst []byte, f *findings.Finding, prefix string) (_ []byte, ok bool) {
	if !findingFast {
		return dst, false
	}
	start := len(dst)
	fail := func() ([]byte, bool) { return dst[:start], false }
	e := findingEncoder{dst: dst, prefix: prefix}
	e.dst = append(e.dst, '{')
	e.key(1, "rule")
	e.str(f.Rule)
	e.key(1, "severity")
	sev, err := f.Severity.MarshalText()
	if err != nil {
		return fail()
	}
	e.dst = appendJSONString(e.dst, sev)
	e.key(1, "host")
	e.str(f.Host)
	e.key(1, "port")
	e.dst = strconv.AppendInt(e.dst, int64(f.Port), 10)
	if f.File != "" {
		e.key(1, "file")
		e.str(f.File)
	}
	if f.Subject != "" {
		e.key(1, "subject")
		e.str(f.Subject)
	}
	e.key(1, "message")
	e.str(f.Message)
	e.key(1, "evidence")
	if f.Evidence == nil {
		e.dst = append(e.dst, "null"...)
	} else if !e.object(f.Evidence, 1) {
		return fail()
	}
	e.key(1, "time")
	if !e.time(f.Time) {
		return fail()
	}
	e.key(1, "source")
	e.str(f.Source)
	e.key(1, "remediation")
	e.str(f.Remediation)
	e.key(1, "references")
	switch {
	case f.References == nil:
		e.dst = append(e.dst, "null"...)
	case len(f.References) == 0:
		e.dst = append(e.dst, "[]"...)
	default:
		e.dst = append(e.dst, '[')
		for i, r := range f.References {
			if i > 0 {
				e.dst = append(e.dst, ',')
			}
			e.newline(2)
			e.str(r)
		}
		e.newline(1)
		e.dst = append(e.dst, ']')
	}
	e.key(1, "fingerprint")
	e.str(f.Fingerprint)
	e.key(1, "first_seen")
	if !e.time(f.FirstSeen) {
		return fail()
	}
	e.key(1, "last_seen")
	if !e.time(f.LastSeen) {
		return fail()
	}
	e.newline(0)
	e.dst = append(e.dst, '}')
	return e.dst, true
}

// findingEncoder writes one finding; prefix is its first line's indentation.
type findingEncoder struct {
	dst    []byte
	prefix string
	keys   []string // reused for sorting an object's keys
}

// newline starts a line at depth levels below the finding's own.
func (e *findingEncoder) newline(depth int) {
	e.dst = append(e.dst, '\n')
	e.dst = append(e.dst, e.prefix...)
	n := 2 * depth
	for ; n > len(indentSpaces); n -= len(indentSpaces) {
		e.dst = append(e.dst, indentSpaces...)
	}
	e.dst = append(e.dst, indentSpaces[:n]...)
}

// key starts a field of the finding itself (depth 1): the comma after the previous one
// (none after the opening brace), a new line, the name and its colon.
func (e *findingEncoder) key(depth int, name string) {
	if e.dst[len(e.dst)-1] != '{' {
		e.dst = append(e.dst, ',')
	}
	e.newline(depth)
	e.dst = appendJSONString(e.dst, name)
	e.dst = append(e.dst, ':', ' ')
}

func (e *findingEncoder) str(s string) { e.dst = appendJSONString(e.dst, s) }

// time writes t as encoding/json does (its MarshalJSON), or reports false where that
// fails (a year outside 0–9999).
func (e *findingEncoder) time(t time.Time) bool {
	b, err := t.MarshalJSON()
	if err != nil {
		return false
	}
	e.dst = append(e.dst, b...)
	return true
}

// object writes a non-nil map at depth (its opening brace on the current line), its
// keys sorted as encoding/json sorts them.
func (e *findingEncoder) object(m map[string]any, depth int) bool {
	if len(m) == 0 {
		e.dst = append(e.dst, "{}"...)
		return true
	}
	from := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[from:]
	slices.SortFunc(keys, strings.Compare)
	e.dst = append(e.dst, '{')
	for i, k := range keys {
		if i > 0 {
			e.dst = append(e.dst, ',')
		}
		e.newline(depth + 1)
		e.dst = appendJSONString(e.dst, k)
		e.dst = append(e.dst, ':', ' ')
		if !e.value(m[k], depth+1) {
			return false
		}
	}
	e.keys = e.keys[:from]
	e.newline(depth)
	e.dst = append(e.dst, '}')
	return true
}

// maxFindingDepth bounds the nesting appendFinding writes; deeper evidence goes the
// general way.
const maxFindingDepth = 64

// value writes one evidence value at depth: the types evidence holds as the store
// decodes it (decodeEvidence: strings, json.Number, booleans, nil, lists and objects)
// and as rules build it (integers, lists of strings, ints and objects); false for any
// other (a float, whose JSON form encoding/json works out in its own way, a struct).
func (e *findingEncoder) value(v any, depth int) bool {
	if depth > maxFindingDepth {
		return false
	}
	switch v := v.(type) {
	case nil:
		e.dst = append(e.dst, "null"...)
	case string:
		e.str(v)
	case bool:
		e.dst = strconv.AppendBool(e.dst, v)
	case json.Number:
		s := string(v)
		if s == "" {
			s = "0" // as encoding/json writes the zero Number
		}
		if !validNumber(s) {
			return false
		}
		e.dst = append(e.dst, s...)
	case int:
		e.dst = strconv.AppendInt(e.dst, int64(v), 10)
	case int64:
		e.dst = strconv.AppendInt(e.dst, v, 10)
	case int32:
		e.dst = strconv.AppendInt(e.dst, int64(v), 10)
	case uint16:
		e.dst = strconv.AppendUint(e.dst, uint64(v), 10)
	case uint32:
		e.dst = strconv.AppendUint(e.dst, uint64(v), 10)
	case uint64:
		e.dst = strconv.AppendUint(e.dst, v, 10)
	case []int:
		if v == nil {
			e.dst = append(e.dst, "null"...)
			return true
		}
		return list(e, v, depth, func(x int) bool { e.dst = strconv.AppendInt(e.dst, int64(x), 10); return true })
	case []map[string]any:
		if v == nil {
			e.dst = append(e.dst, "null"...)
			return true
		}
		return list(e, v, depth, func(x map[string]any) bool { return e.value(x, depth+1) })
	case map[string]any:
		if v == nil {
			e.dst = append(e.dst, "null"...)
			return true
		}
		return e.object(v, depth)
	case []any:
		if v == nil {
			e.dst = append(e.dst, "null"...)
			return true
		}
		return list(e, v, depth, func(x any) bool { return e.value(x, depth+1) })
	case []string:
		if v == nil {
			e.dst = append(e.dst, "null"...)
			return true
		}
		return list(e, v, depth, func(x string) bool { e.str(x); return true })
	default:
		return false
	}
	return true
}

// list writes a non-nil list at depth, each element by elem.
func list[E any](e *findingEncoder, l []E, depth int, elem func(E) bool) bool {
	if len(l) == 0 {
		e.dst = append(e.dst, "[]"...)
		return true
	}
	e.dst = append(e.dst, '[')
	for i, x := range l {
		if i > 0 {
			e.dst = append(e.dst, ',')
		}
		e.newline(depth + 1)
		if !elem(x) {
			return false
		}
	}
	e.newline(depth)
	e.dst = append(e.dst, ']')
	return true
}

// validNumber reports whether s is a number in JSON's grammar, as encoding/json checks
// a json.Number before writing it.
func validNumber(s string) bool { return s != "" && findings.NumberLen(s) == len(s) }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json writes a string without HTML
// escaping: ", \ and control characters escaped, invalid UTF-8 as \ufffd, U+2028 and
// U+2029 escaped.
func appendJSONString[T []byte | string](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		n := min(len(s)-i, utf8.UTFMax)
		c, size := utf8.DecodeRuneInString(string(s[i : i+n]))
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
