package findings

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/medscan/medscan/observe"
)

// Tidy makes a document (a *Report, or any other document of this package, by pointer)
// safe and regular to render, in place:
//   - every string in it, evidence included, goes through observe.Clean, so that text
//     from a packet, a certificate, a file or a store someone else wrote cannot drive a
//     terminal, a browser or a spreadsheet, whatever path it took to get here;
//   - every nil list and map becomes an empty one, so JSON carries [] and {} rather than
//     null, except the fields tagged omitempty, which are left out when empty.
//
// It walks the document by reflection, so a field added to an observation type is tidied
// without being named here. What to do with a type (which fields to visit, which of them
// are made non-nil) is worked out once per type (tidierFor) rather than from the struct
// tags of every value: a hospital's scan holds tens of thousands of elements of a few
// types, and reading the tags again for each was most of the cost of tidying it. Parts
// that hold nothing Tidy could change (numbers, times, addresses) are not visited. Clean
// text costs a scan of its bytes and no allocation; the lists and maps of evidence are
// cleaned in place.
func Tidy(doc any) {
	v := reflect.ValueOf(doc)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	tidy(v.Elem())
}

// tidy tidies v in place, by its type's tidier.
func tidy(v reflect.Value) {
	if t := tidierFor(v.Type()); t != nil {
		t(v)
	}
}

// A tidier tidies one value of its type in place; a type with nothing to tidy has none
// (nil).
type tidier func(reflect.Value)

// tidiers caches each type's tidier (a nil tidier too) by reflect.Type.
var tidiers sync.Map

// tidierFor returns t's tidier, building it the first time. A type that refers to
// itself (through a pointer, list or map) finds its own tidier in the cache while it is
// built, as an indirection through a cell filled in once it is done.
func tidierFor(t reflect.Type) tidier {
	if f, ok := tidiers.Load(t); ok {
		return f.(tidier)
	}
	var (
		wg   sync.WaitGroup
		self tidier
	)
	wg.Add(1)
	f, loaded := tidiers.LoadOrStore(t, tidier(func(v reflect.Value) {
		wg.Wait()
		if self != nil {
			self(v)
		}
	}))
	if loaded {
		return f.(tidier)
	}
	self = newTidier(t)
	wg.Done()
	tidiers.Store(t, self)
	return self
}

// tidyField is one field of a struct that Tidy visits: its index, whether a nil list or
// map in it becomes an empty one (no omitempty), and the tidier of its value.
type tidyField struct {
	index   int
	fillNil bool
	kind    reflect.Kind
	typ     reflect.Type
	tidy    tidier
}

// newTidier works out what Tidy does to a value of type t: the rules of the reflective
// walk Tidy has always made, decided once.
func newTidier(t reflect.Type) tidier {
	switch t.Kind() {
	case reflect.Pointer:
		elem := tidierFor(t.Elem())
		if elem == nil {
			return nil
		}
		return func(v reflect.Value) {
			if !v.IsNil() {
				elem(v.Elem())
			}
		}
	case reflect.Struct:
		var fields []tidyField
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			k := f.Type.Kind()
			fill := !strings.Contains(tag, ",omitempty") && (k == reflect.Slice || k == reflect.Map)
			sub := tidierFor(f.Type)
			if fill || sub != nil {
				fields = append(fields, tidyField{index: i, fillNil: fill, kind: k, typ: f.Type, tidy: sub})
			}
		}
		if len(fields) == 0 {
			return nil
		}
		return func(v reflect.Value) {
			for _, f := range fields {
				fv := v.Field(f.index)
				if f.fillNil && fv.IsNil() && fv.CanSet() {
					if f.kind == reflect.Slice {
						fv.Set(reflect.MakeSlice(f.typ, 0, 0))
					} else {
						fv.Set(reflect.MakeMap(f.typ))
					}
				}
				if f.tidy != nil {
					f.tidy(fv)
				}
			}
		}
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // a digest
		}
		return listTidier(t)
	case reflect.Slice:
		return listTidier(t)
	case reflect.String:
		return func(v reflect.Value) {
			if v.CanSet() {
				if s := v.String(); s != "" {
					if c := observe.Clean(s); c != s {
						v.SetString(c)
					}
				}
			}
		}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil
		}
		return tidyMap
	}
	return nil // numbers, booleans, and interfaces, which the walk has never entered
}

// listTidier tidies each element of a slice or array, when its elements have anything
// to tidy.
func listTidier(t reflect.Type) tidier {
	elem := tidierFor(t.Elem())
	if elem == nil {
		return nil
	}
	if t == reflect.TypeFor[[]string]() {
		// A list of strings (names, suites, references): cleaned without a
		// reflect.Value per element.
		return func(v reflect.Value) {
			if !v.CanSet() {
				for i := range v.Len() {
					elem(v.Index(i))
				}
				return
			}
			for i, s := range v.Interface().([]string) {
				if c := observe.Clean(s); c != s {
					v.Index(i).SetString(c)
				}
			}
		}
	}
	return func(v reflect.Value) {
		for i := range v.Len() {
			elem(v.Index(i))
		}
	}
}

// tidyMap tidies a map with string keys: its keys, and its values through cleanAny.
func tidyMap(v reflect.Value) {
	if m, ok := v.Interface().(map[string]any); ok {
		cleanMap(m)
		return
	}
	type kv struct {
		old, key string
		val      reflect.Value
	}
	var changed []kv
	for iter := v.MapRange(); iter.Next(); {
		k := iter.Key().String()
		val, ok := cleanAny(iter.Value().Interface())
		if nk := observe.Clean(k); nk != k || ok {
			changed = append(changed, kv{k, nk, reflect.ValueOf(val)})
		}
	}
	for _, c := range changed {
		v.SetMapIndex(reflect.ValueOf(c.old).Convert(v.Type().Key()), reflect.Value{})
		v.SetMapIndex(reflect.ValueOf(c.key).Convert(v.Type().Key()), c.val.Convert(v.Type().Elem()))
	}
}

// TidyEvidence tidies one finding's evidence in place, as Tidy would: every string
// cleaned and every nil list made empty. Rules call it as they emit (rules.Context.Emit),
// so that the store keeps [] rather than null: a null read back is an untyped nil,
// which no later Tidy can tell from a missing value.
func TidyEvidence(m map[string]any) { cleanMap(m) }

// cleanMap cleans an evidence map in place: its keys and, through cleanAny, its values.
func cleanMap(m map[string]any) {
	var renamed [][2]string
	for k, e := range m {
		if c, ok := cleanAny(e); ok {
			m[k] = c
		}
		if nk := observe.Clean(k); nk != k {
			renamed = append(renamed, [2]string{k, nk})
		}
	}
	for _, r := range renamed {
		m[r[1]] = m[r[0]]
		delete(m, r[0])
	}
}

// cleanAny cleans the strings of an evidence value: the JSON-shaped values rules put in
// evidence and the store reads back (strings, numbers, booleans, lists and maps of
// them), and, by reflection, any other list. Lists and maps are cleaned in place (the
// cleaning cannot be seen twice: Clean of clean text is the text); a string, or a nil
// list that must be written [] rather than null, is replaced: then it returns the
// replacement and true.
func cleanAny(x any) (any, bool) {
	switch t := x.(type) {
	case nil, bool, int, int64, float64, json.Number, uint64, uint16, uint32, int32:
		return x, false
	case string:
		c := observe.Clean(t)
		return c, c != t
	case map[string]any:
		cleanMap(t)
		return x, false
	}
	v := reflect.ValueOf(x)
	switch {
	case v.Kind() == reflect.Slice && v.IsNil():
		return reflect.MakeSlice(v.Type(), 0, 0).Interface(), true
	case v.Kind() == reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			if e.Kind() == reflect.Interface {
				if c, ok := cleanAny(e.Interface()); ok {
					e.Set(reflect.ValueOf(c))
				}
				continue
			}
			tidy(e)
		}
	case v.Kind() == reflect.Map:
		tidy(v)
	}
	return x, false
}
