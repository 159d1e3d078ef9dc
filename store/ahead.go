package store

import (
	"bytes"
	"iter"
)

// A save runs on one goroutine, and SQLite takes one writer: while it executes a batch,
// the other core waits. Encoding the rows' JSON columns (each asset, certificate's facts
// and observation, each finding's evidence and its conversion as Load would decode it)
// was a fifth to a quarter of a save's time on that goroutine. ahead does such work
// for the rows of one list on a goroutine of its own, in the rows' order, a few chunks
// before the writer takes them, so that encoding and executing overlap; the texts are
// the same, from the same functions, and only a few chunks of them are held at once.

// aheadChunkLen is how many results one chunk carries, and aheadChunks how many chunks
// may wait for the writer: a hospital's evidence is tens of megabytes, of which a few
// hundred rows are held here at a time.
const (
	aheadChunkLen = 64
	aheadChunks   = 4
)

// ahead computes fn(0), ..., fn(n-1) on a goroutine of its own, in order, for next to
// take; the first error ends the work, and next returns it in place of its result.
type ahead[T any] struct {
	chunks chan aheadChunk[T]
	stop   chan struct{}
	done   chan struct{}
	cur    aheadChunk[T]
	i      int
}

type aheadChunk[T any] struct {
	out []T
	err error // after out, for the result that failed
}

// runAhead starts fn over 0..n-1. fn is called on the ahead goroutine only, so that it
// may keep state of its own (an encoder's buffer); it must only read what the writer
// reads too. The caller must call close, which stops the work and waits for it, however
// the save ends.
func runAhead[T any](n int, fn func(i int) (T, error)) *ahead[T] {
	return aheadOf(func(yield func(T, error) bool) {
		for i := range n {
			if v, err := fn(i); !yield(v, err) || err != nil {
				return
			}
		}
	})
}

// aheadOf is runAhead of the results seq yields, however many: it is walked on the
// ahead goroutine, in chunks a few ahead of the writer, up to its first error. A scan's
// findings read from another store come so (Sync), rather than as a list.
func aheadOf[T any](seq iter.Seq2[T, error]) *ahead[T] {
	a := &ahead[T]{chunks: make(chan aheadChunk[T], aheadChunks), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		defer close(a.chunks)
		send := func(c aheadChunk[T]) bool {
			select {
			case a.chunks <- c:
				return c.err == nil
			case <-a.stop:
				return false
			}
		}
		c := aheadChunk[T]{out: make([]T, 0, aheadChunkLen)}
		for v, err := range seq {
			if err != nil {
				c.err = err
				send(c)
				return
			}
			c.out = append(c.out, v)
			if len(c.out) == aheadChunkLen {
				if !send(c) {
					return
				}
				c = aheadChunk[T]{out: make([]T, 0, aheadChunkLen)}
			}
		}
		if len(c.out) > 0 {
			send(c)
		}
	}()
	return a
}

// next returns the next result, or the error computing it gave. It is called at most n
// times (runAhead's n).
func (a *ahead[T]) next() (T, error) {
	v, ok, err := a.take()
	if !ok && err == nil {
		panic("store: ahead: more results taken than asked for")
	}
	return v, err
}

// take returns the next result and true, or the error computing it gave, or false once
// every result has been taken.
func (a *ahead[T]) take() (T, bool, error) {
	var zero T
	for a.i == len(a.cur.out) {
		if a.cur.err != nil {
			return zero, false, a.cur.err
		}
		c, ok := <-a.chunks
		if !ok {
			return zero, false, nil
		}
		a.cur, a.i = c, 0
	}
	v := a.cur.out[a.i]
	a.cur.out[a.i] = zero // held no longer than needed
	a.i++
	return v, true, nil
}

// close stops the work and waits for its goroutine to end.
func (a *ahead[T]) close() {
	close(a.stop)
	<-a.done
}

// jsonAhead is runAhead of encodeJSON(value(i)): the texts jsonText gives.
func jsonAhead(n int, value func(i int) any) *ahead[string] {
	var buf bytes.Buffer
	return runAhead(n, func(i int) (string, error) { return encodeJSON(&buf, value(i)) })
}
