package findings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
)

// TestTidyAsByTags holds Tidy, which works out once per type what to visit, to the walk
// it replaced, which read every struct's tags at every value (tidyByTags, kept here as
// the reference): on a report whose every field is filled, by reflection, with dirty
// text, lists and maps, or left nil, the two give the same document.
func TestTidyAsByTags(t *testing.T) {
	for _, seed := range []int{0, 1, 2} {
		a, b := &Report{}, &Report{}
		fill(reflect.ValueOf(a).Elem(), seed, 0)
		fill(reflect.ValueOf(b).Elem(), seed, 0)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("fill is not deterministic")
		}
		Tidy(a)
		tidyByTags(reflect.ValueOf(b).Elem())
		if !reflect.DeepEqual(a, b) {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			t.Fatalf("seed %d: Tidy differs from the walk by tags:\n%s\n%s", seed, ja, jb)
		}
		if ja, _ := json.Marshal(a); strings.Contains(string(ja), `\u001b`) {
			t.Errorf("seed %d: an escape left: %.300s", seed, ja)
		}
	}
}

// fill sets every settable field under v: strings to text Clean changes, lists to two
// elements or nil, maps to one entry or nil, pointers to a value, by seed and depth.
func fill(v reflect.Value, seed, depth int) {
	if depth > 8 || !v.CanSet() {
		return
	}
	nilHere := (seed+depth)%3 == 0
	switch v.Kind() {
	case reflect.String:
		v.SetString("x\x1b[2J" + v.Type().Name())
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint16, reflect.Uint32, reflect.Uint8:
		if v.CanInt() {
			v.SetInt(int64(depth + 1))
		} else {
			v.SetUint(uint64(depth + 1))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		if nilHere {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), seed, depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), seed+i, depth+1)
		}
	case reflect.Slice:
		if nilHere {
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), seed+i, depth+1)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), seed+i, depth+1)
		}
	case reflect.Map:
		if nilHere {
			return
		}
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, seed, depth+1)
		if e.Kind() == reflect.Interface {
			e.Set(reflect.ValueOf([]any{"e\x1b[31m", json.Number("5"), map[string]any{"k\x07": []string{"\u202e"}}}))
		} else {
			fill(e, seed, depth+1)
		}
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// tidyByTags is the walk Tidy made before it kept a plan per type.
func tidyByTags(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			tidyByTags(v.Elem())
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
			tidyByTags(fv)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Array && v.Type().Elem().Kind() == reflect.Uint8 {
			return // a digest
		}
		for i := 0; i < v.Len(); i++ {
			tidyByTags(v.Index(i))
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
