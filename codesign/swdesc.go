package codesign

import (
	"bytes"
	"errors"
	"fmt"
)

// SWUpdate's sw-description is written in libconfig syntax (the default) or in JSON.
// medscan needs only the artifacts it lists with their sha256 (every group holding a
// "filename" and a "sha256" setting) and the software's version, so one tokenizer reads
// both: a setting is a name (bare or quoted) followed by "=" or ":" and a value; groups
// are braces, lists and arrays are parentheses and brackets.

// swEntry is one artifact sw-description lists.
type swEntry struct {
	filename string
	sha256   string // as written ("" when the entry has none)
}

// Bounds of a sw-description (its size is bounded by MaxManifestSize already).
const (
	maxSWDepth   = 64
	maxSWEntries = 10000
)

// swDescription is what is read of a sw-description.
type swDescription struct {
	entries []swEntry
	version string // the first "version" setting outside an artifact's group
}

// parseSWDescription reads the artifacts listed in a sw-description (libconfig or JSON).
// It returns an error for what neither syntax allows: an unterminated string or comment,
// unbalanced brackets, nesting deeper than maxSWDepth.
func parseSWDescription(b []byte) (swDescription, error) {
	var out swDescription
	type group struct {
		settings map[string]string
		closer   byte
	}
	stack := []group{{closer: 0}}
	var key string     // the name of the setting being read
	var pending string // a string or word not yet known to be a name or a value
	havePending, afterSep := false, false
	setValue := func(v string) {
		g := &stack[len(stack)-1]
		if g.settings == nil {
			g.settings = map[string]string{}
		}
		if _, dup := g.settings[key]; !dup {
			g.settings[key] = v
		}
		key, afterSep = "", false
	}
	i := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '#' || c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			j := bytes.Index(b[i+2:], []byte("*/"))
			if j < 0 {
				return out, errors.New("sw-description: unterminated comment")
			}
			i += j + 4
		case c == '"':
			s, n, err := swString(b[i:])
			if err != nil {
				return out, err
			}
			i += n
			if afterSep {
				setValue(s)
			} else {
				pending, havePending = s, true
			}
		case c == '=' || c == ':':
			if !havePending {
				return out, fmt.Errorf("sw-description: %q without a name at byte %d", c, i)
			}
			key, havePending, afterSep = pending, false, true
			i++
		case c == '{' || c == '(' || c == '[':
			if len(stack) >= maxSWDepth {
				return out, fmt.Errorf("sw-description: nested deeper than %d", maxSWDepth)
			}
			closer := map[byte]byte{'{': '}', '(': ')', '[': ']'}[c]
			stack = append(stack, group{closer: closer})
			key, havePending, afterSep = "", false, false
			i++
		case c == '}' || c == ')' || c == ']':
			top := stack[len(stack)-1]
			if len(stack) == 1 || top.closer != c {
				return out, fmt.Errorf("sw-description: unbalanced %q at byte %d", c, i)
			}
			stack = stack[:len(stack)-1]
			if fn, ok := top.settings["filename"]; ok && len(out.entries) < maxSWEntries {
				out.entries = append(out.entries, swEntry{filename: fn, sha256: top.settings["sha256"]})
			} else if v, ok := top.settings["version"]; ok && out.version == "" {
				out.version = v
			}
			key, havePending, afterSep = "", false, false
			i++
		case c == ';' || c == ',':
			key, havePending, afterSep = "", false, false
			i++
		default:
			j := i
			for j < len(b) && !isSWDelim(b[j]) {
				j++
			}
			if j == i {
				return out, fmt.Errorf("sw-description: unexpected byte %#x at %d", c, i)
			}
			w := string(b[i:j])
			i = j
			if afterSep {
				setValue(w)
			} else {
				pending, havePending = w, true
			}
		}
	}
	if len(stack) != 1 {
		return out, errors.New("sw-description: unbalanced brackets at the end")
	}
	return out, nil
}

func isSWDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '=', ':', ';', ',', '{', '}', '(', ')', '[', ']', '#':
		return true
	}
	return c == '/'
}

// swString reads a double-quoted string (libconfig and JSON escapes alike: \" \\ \n \t
// and the rest kept as the escaped byte), returning it and the bytes it took.
func swString(b []byte) (string, int, error) {
	var s []byte
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			if i+1 >= len(b) {
				return "", 0, errors.New("sw-description: unterminated string")
			}
			i++
			switch b[i] {
			case 'n':
				s = append(s, '\n')
			case 't':
				s = append(s, '\t')
			default:
				s = append(s, b[i])
			}
		case '"':
			return string(s), i + 1, nil
		default:
			s = append(s, b[i])
		}
	}
	return "", 0, errors.New("sw-description: unterminated string")
}
