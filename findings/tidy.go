package findings

import (
	"encoding/json"
	"reflect"
	"strings"

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
// without being named here. Clean text costs a scan of its bytes and no allocation.
func Tidy(doc any) {
	v := reflect.ValueOf(doc)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	tidy(v.Elem())
}

func tidy(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			tidy(v.Elem())
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			fv := v.Field(i)
			if !strings.Contains(tag, ",omitempty") {
				switch {
				case fv.Kind() == reflect.Slice && fv.IsNil() && fv.CanSet():
					fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
				case fv.Kind() == reflect.Map && fv.IsNil() && fv.CanSet():
					fv.Set(reflect.MakeMap(fv.Type()))
				}
			}
			tidy(fv)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Array && v.Type().Elem().Kind() == reflect.Uint8 {
			return // a digest
		}
		for i := 0; i < v.Len(); i++ {
			tidy(v.Index(i))
		}
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); observe.Clean(s) != s {
				v.SetString(observe.Clean(s))
			}
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		iter := v.MapRange()
		type kv struct {
			old, key string
			val      reflect.Value
		}
		var changed []kv
		for iter.Next() {
			k, val := iter.Key().String(), iter.Value()
			nk := observe.Clean(k)
			nv := cleanValue(val)
			if nk != k || nv.IsValid() {
				if !nv.IsValid() {
					nv = val
				}
				changed = append(changed, kv{k, nk, nv})
			}
		}
		for _, c := range changed {
			v.SetMapIndex(reflect.ValueOf(c.old).Convert(v.Type().Key()), reflect.Value{})
			v.SetMapIndex(reflect.ValueOf(c.key).Convert(v.Type().Key()), c.val)
		}
	}
}

// cleanValue returns a cleaned copy of a map value (evidence), or the invalid Value when
// it holds nothing to clean.
func cleanValue(v reflect.Value) reflect.Value {
	x := v.Interface()
	y, changed := cleanAny(x)
	if !changed {
		return reflect.Value{}
	}
	if y == nil {
		return reflect.Zero(v.Type())
	}
	return reflect.ValueOf(y)
}

// cleanAny cleans the strings of an evidence value: the JSON-shaped values rules put in
// evidence and the store reads back (strings, numbers, booleans, lists and maps of
// them), and, by reflection, any other list or map of strings. It reports whether
// anything changed, and then returns a copy.
func cleanAny(x any) (any, bool) {
	switch t := x.(type) {
	case nil, bool, int, int64, float64, json.Number, uint64, uint16, uint32, int32:
		return x, false
	case string:
		c := observe.Clean(t)
		return c, c != t
	case []string:
		var out []string
		for i, s := range t {
			if c := observe.Clean(s); c != s {
				if out == nil {
					out = append([]string(nil), t...)
				}
				out[i] = c
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range t {
			if c, ok := cleanAny(e); ok {
				if out == nil {
					out = append([]any(nil), t...)
				}
				out[i] = c
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	case map[string]any:
		var out map[string]any
		for k, e := range t {
			nk := observe.Clean(k)
			c, ok := cleanAny(e)
			if ok || nk != k {
				if out == nil {
					out = make(map[string]any, len(t))
					for k2, e2 := range t {
						out[k2] = e2
					}
				}
				delete(out, k)
				out[nk] = c
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	case []map[string]any:
		var out []map[string]any
		for i, e := range t {
			if c, ok := cleanAny(e); ok {
				if out == nil {
					out = append([]map[string]any(nil), t...)
				}
				out[i] = c.(map[string]any)
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	// Anything else a rule put in evidence: tidy a copy by reflection.
	v := reflect.ValueOf(x)
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	if v.Kind() == reflect.Slice {
		cp = reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(cp, v)
	}
	before, _ := json.Marshal(x)
	tidy(cp)
	after, _ := json.Marshal(cp.Interface())
	if string(before) == string(after) {
		return x, false
	}
	return cp.Interface(), true
}
