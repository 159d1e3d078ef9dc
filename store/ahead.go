package store

import "bytes"

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
	a := &ahead[T]{chunks: make(chan aheadChunk[T], aheadChunks), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		defer close(a.chunks)
		for start := 0; start < n; start += aheadChunkLen {
			end := min(start+aheadChunkLen, n)
			c := aheadChunk[T]{out: make([]T, 0, end-start)}
			for i := start; i < end; i++ {
				v, err := fn(i)
				if err != nil {
					c.err = err
					break
				}
				c.out = append(c.out, v)
			}
			select {
			case a.chunks <- c:
			case <-a.stop:
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	return a
}

// next returns the next result, or the error computing it gave. It is called at most n
// times.
func (a *ahead[T]) next() (T, error) {
	for a.i == len(a.cur.out) {
		var zero T
		if a.cur.err != nil {
			return zero, a.cur.err
		}
		c, ok := <-a.chunks
		if !ok {
			panic("store: ahead: more results taken than asked for")
		}
		a.cur, a.i = c, 0
	}
	v := a.cur.out[a.i]
	var zero T
	a.cur.out[a.i] = zero // held no longer than needed
	a.i++
	return v, nil
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
