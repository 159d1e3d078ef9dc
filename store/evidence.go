package store

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/medscan/medscan/findings"
)

// decodeEvidence reads a finding's evidence column. UseNumber keeps evidence numbers
// exactly as written (a serial, a count beyond 2^53) instead of turning them into float64.
//
// The evidence of every finding is decoded each time a scan is rendered, and
// encoding/json's Decoder reads a value twice (once to find its end, once to decode
// it) through a reflective decoder: a third of reading a hospital's findings. Evidence
// as medscan writes it is a small object of strings, numbers, booleans and lists, which
// parseEvidence decodes in one pass; anything it does not take on (an escape in a
// string, text that is not UTF-8, bytes after the object, bad JSON) goes to
// encoding/json, whose result or error is then the answer. A fuzz target holds the one
// pass to encoding/json's result wherever it gives one.
func decodeEvidence(text string) (map[string]any, error) {
	if m, ok := parseEvidence(text); ok {
		return m, nil
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	err := dec.Decode(&m)
	return m, err
}

// parseEvidence decodes text, a JSON object, as decodeEvidence's Decoder would, or
// reports false for anything it does not take on.
func parseEvidence(text string) (map[string]any, bool) {
	p := evidenceParser{s: text}
	p.space()
	if !p.peek('{') {
		return nil, false
	}
	v, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.space()
	if p.i != len(p.s) {
		return nil, false
	}
	return v.(map[string]any), true
}

// evidenceParser is a position in the JSON text being parsed.
type evidenceParser struct {
	s string
	i int
}

// maxEvidenceDepth is the nesting parseEvidence takes on; deeper goes to encoding/json.
const maxEvidenceDepth = 64

func (p *evidenceParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *evidenceParser) peek(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

// value parses one value at p.i (after any space).
func (p *evidenceParser) value(depth int) (any, bool) {
	if depth > maxEvidenceDepth {
		return nil, false
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		m := map[string]any{}
		p.space()
		if p.peek('}') {
			p.i++
			return m, true
		}
		for {
			p.space()
			k, ok := p.str()
			if !ok {
				return nil, false
			}
			p.space()
			if !p.peek(':') {
				return nil, false
			}
			p.i++
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			p.space()
			if p.peek(',') {
				p.i++
				continue
			}
			if p.peek('}') {
				p.i++
				return m, true
			}
			return nil, false
		}
	case c == '[':
		p.i++
		l := []any{}
		p.space()
		if p.peek(']') {
			p.i++
			return l, true
		}
		for {
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			l = append(l, v)
			p.space()
			if p.peek(',') {
				p.i++
				continue
			}
			if p.peek(']') {
				p.i++
				return l, true
			}
			return nil, false
		}
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.word("true")
	case c == 'f':
		return false, p.word("false")
	case c == 'n':
		return nil, p.word("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, false
}

// word reads a literal.
func (p *evidenceParser) word(w string) bool {
	if !strings.HasPrefix(p.s[p.i:], w) {
		return false
	}
	p.i += len(w)
	return true
}

// str reads a string without escapes, of UTF-8 text with no control character.
func (p *evidenceParser) str() (string, bool) {
	if !p.peek('"') {
		return "", false
	}
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '"':
			s := p.s[start:j]
			if !ascii && !utf8.ValidString(s) {
				return "", false
			}
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// number reads a number in JSON's grammar, kept as written (json.Number).
func (p *evidenceParser) number() (any, bool) {
	n := findings.NumberLen(p.s[p.i:])
	if n == 0 {
		return nil, false
	}
	start := p.i
	p.i += n
	return json.Number(p.s[start:p.i]), true
}
