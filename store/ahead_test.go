package store

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestAhead holds runAhead to what computing in place gives: every result in order
// across chunk boundaries, the first error in place of the result that failed (the
// results before it given first), nothing for an empty list, and no goroutine left
// behind when the writer stops early.
func TestAhead(t *testing.T) {
	for _, n := range []int{0, 1, aheadChunkLen - 1, aheadChunkLen, aheadChunkLen + 1, aheadChunks*aheadChunkLen*3 + 5} {
		a := runAhead(n, func(i int) (string, error) { return fmt.Sprint(i * i), nil })
		for i := range n {
			got, err := a.next()
			if want := fmt.Sprint(i * i); err != nil || got != want {
				t.Fatalf("n=%d: result %d = %q, %v; want %q", n, i, got, err, want)
			}
		}
		a.close()
	}

	bad := errors.New("cannot encode")
	failAt := aheadChunkLen + 3
	a := runAhead(1000, func(i int) (int, error) {
		if i == failAt {
			return 0, bad
		}
		return i, nil
	})
	for i := range failAt {
		if got, err := a.next(); err != nil || got != i {
			t.Fatalf("result %d = %d, %v before the failure", i, got, err)
		}
	}
	if _, err := a.next(); !errors.Is(err, bad) {
		t.Fatalf("result %d: error %v; want %v", failAt, err, bad)
	}
	a.close()

	// A writer that fails after a few rows closes the work with most of it not taken.
	before := runtime.NumGoroutine()
	for range 20 {
		a := jsonAhead(10_000, func(i int) any { return map[string]int{"i": i} })
		if got, err := a.next(); err != nil || got != `{"i":0}` {
			t.Fatalf("first text = %q, %v", got, err)
		}
		a.close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after closing, %d before", n, before)
	}
}
