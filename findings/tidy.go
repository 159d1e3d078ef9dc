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
// without being named here. Clean text costs a scan of its bytes and no allocation; the
// lists and maps of evidence are cleaned in place.
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
			if s := v.String(); s != "" {
				if c := observe.Clean(s); c != s {
					v.SetString(c)
				}
			}
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
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
