package observe

import (
	"slices"
	"time"
)

// Index groups values by key: the first value seen under a key is kept, in order of
// arrival, and later ones are merged into it by the caller. It holds at most Max values
// (0: no limit); past it a new key is not kept (Add says so, for the caller to count),
// so that a hostile or enormous capture cannot grow it without bound and the report can
// say what was left out. Set keeps most kinds of observation in one, and rules group
// what they judge with one.
//
// The index finds a key's value by its position in Items: a caller must not reorder or
// append to that slice (Sorted gives an ordered copy).
type Index[K comparable, V any] struct {
	Max   int
	keys  map[K]int
	items []V
}

// NewIndex returns an empty Index holding at most max values (0: no limit).
func NewIndex[K comparable, V any](max int) *Index[K, V] {
	return &Index[K, V]{Max: max, keys: map[K]int{}}
}

// Get returns the value kept under k.
func (x *Index[K, V]) Get(k K) (V, bool) {
	if i, ok := x.keys[k]; ok {
		return x.items[i], true
	}
	var zero V
	return zero, false
}

// Add returns the value kept under k, making it with fresh when k is new. added is true
// when fresh was called; ok is false when k is new and the index is full: nothing is
// kept, and v is the zero value.
func (x *Index[K, V]) Add(k K, fresh func() V) (v V, added, ok bool) {
	if i, found := x.keys[k]; found {
		return x.items[i], false, true
	}
	if x.Max > 0 && len(x.items) >= x.Max {
		var zero V
		return zero, false, false
	}
	if x.keys == nil {
		x.keys = map[K]int{}
	}
	v = fresh()
	x.keys[k] = len(x.items)
	x.items = append(x.items, v)
	return v, true, true
}

// Items returns the kept values in order of arrival; the slice is the index's own.
func (x *Index[K, V]) Items() []V { return x.items }

// Len is how many values are kept.
func (x *Index[K, V]) Len() int { return len(x.items) }

// Sorted returns the kept values ordered by cmp (a copy; the index keeps its order).
func (x *Index[K, V]) Sorted(cmp func(a, b V) int) []V {
	out := slices.Clone(x.items)
	slices.SortStableFunc(out, cmp)
	return out
}

// Widen stretches the span [*first, *last] to cover every non-zero time in ts: the one
// way first-seen and last-seen times are merged, by the Set, by rules and by the store.
func Widen(first, last *time.Time, ts ...time.Time) {
	for _, t := range ts {
		if t.IsZero() {
			continue
		}
		if first.IsZero() || t.Before(*first) {
			*first = t
		}
		if t.After(*last) {
			*last = t
		}
	}
}

// Span is a first-seen and last-seen pair, for aggregates that are not observations.
type Span struct{ First, Last time.Time }

// Add widens the span to cover every non-zero time in ts.
func (s *Span) Add(ts ...time.Time) { Widen(&s.First, &s.Last, ts...) }
