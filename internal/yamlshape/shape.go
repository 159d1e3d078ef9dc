// Package yamlshape checks a YAML document against the Go type it will be decoded into,
// before it is decoded, so that a mistake in a file a person wrote is told in that
// person's terms: the line, the key path (thresholds.leaf_max_days, disabled[2]), what
// the key wants and what the file gave ("want a whole number, got \"lots\""), rather
// than yaml.v3's "cannot unmarshal !!str `lots` into int", which names a Go type and
// no key. It reads yaml tags as yaml.v3 does; leaf values are decoded by yaml.v3 itself,
// so what passes here decodes the same.
package yamlshape

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/medscan/medscan/internal/suggest"
)

// Error is one value of the wrong shape, or an unknown key.
type Error struct {
	Line int    // 1-based line of the value (of the key, for an unknown key)
	Path string // the key path from the document's root: "thresholds.min_dh_bits", "disabled[1]"; "" for the root
	Msg  string // what is wrong: "want a whole number, got \"lots\"", "unknown key \"x\" (want one of a, b)"
}

// Error renders "line N: path: message" (the caller prefixes the file name).
func (e *Error) Error() string {
	s := "line " + strconv.Itoa(e.Line) + ": "
	if e.Path != "" {
		s += e.Path + ": "
	}
	return s + e.Msg
}

var (
	nodeType     = reflect.TypeFor[yaml.Node]()
	durationType = reflect.TypeFor[time.Duration]()
)

// Check walks doc (a document node, or any node) against the type of v (a pointer or a
// value) and returns the first value, in document order, whose shape the type cannot
// take, or the first key no field declares; nil when the document would decode. A null
// value suits any type (it decodes to the zero value), and a field of type yaml.Node
// takes anything (its reader checks it).
func Check(doc *yaml.Node, v any) *Error {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if doc.Kind == 0 { // an empty document
		return nil
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		doc = doc.Content[0]
	}
	return check(doc, t, "")
}

func check(n *yaml.Node, t reflect.Type, path string) *Error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType || t.Kind() == reflect.Interface || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if t.String() != "time.Time" {
			return checkStruct(n, t, path)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return wrong(n, path, "a mapping of keys to values")
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if err := check(k, t.Key(), join(path, k.Value)); err != nil {
				return err
			}
			if err := check(val, t.Elem(), join(path, k.Value)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return wrong(n, path, "a list")
		}
		for i, item := range n.Content {
			if err := check(item, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	}
	// A single value: yaml.v3 decodes it, so that what passes here decodes the same;
	// except that yaml.v3 cuts a fraction given for a whole number (2048.5 is 2048).
	if n.Kind != yaml.ScalarNode || n.Decode(reflect.New(t).Interface()) != nil ||
		(isInteger(t) && t != durationType && n.ShortTag() != "!!int") {
		return wrong(n, path, want(t))
	}
	return nil
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// checkStruct checks a mapping against a struct's yaml fields.
func checkStruct(n *yaml.Node, t reflect.Type, path string) *Error {
	fields := map[string]reflect.Type{}
	var names []string
	collectFields(t, fields, &names)
	if n.Kind != yaml.MappingNode {
		return wrong(n, path, "a mapping of keys ("+strings.Join(names, ", ")+")")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			return &Error{Line: k.Line, Path: path, Msg: "unknown key " + quote(k.Value) + " (" + didYouMean(k.Value, names) + ")"}
		}
		if err := check(val, ft, join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// collectFields lists the keys a struct decodes, as yaml.v3 names them: the tag's name,
// else the field's name in lowercase; inline structs promote theirs.
func collectFields(t reflect.Type, fields map[string]reflect.Type, names *[]string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") {
			collectFields(f.Type, fields, names)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := fields[name]; !dup {
			*names = append(*names, name)
		}
		fields[name] = f.Type
	}
}

// want says what a single value of type t must be, in words.
func want(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 90s, 15m or 12h"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct:
		if t.String() == "time.Time" {
			return "a date such as 2026-12-31"
		}
	}
	return "a single value"
}

// wrong is the error of a node that is not what the type wants: it says what it found.
func wrong(n *yaml.Node, path, wanted string) *Error {
	return &Error{Line: n.Line, Path: path, Msg: "want " + wanted + ", got " + found(n)}
}

// found describes a node as the file shows it: a value quoted (at most 40 characters,
// escaped), or the kind of a list or mapping.
func found(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return quote(n.Value)
}

// quote quotes a value from the file, escaping what a terminal could act on, at most 40
// characters of it.
func quote(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return strconv.Quote(s)
}

// didYouMean names the key that was probably meant, or lists them all.
func didYouMean(key string, names []string) string {
	if best := suggest.Closest(key, names); best != "" {
		return "did you mean " + best + "?"
	}
	return "want one of " + strings.Join(names, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
