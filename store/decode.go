package store

import (
	"cmp"
	"database/sql"
	"errors"
	"iter"
	"runtime"
	"sync"

	"github.com/medscan/medscan/findings"
)

// Reading a stored scan's lists (observations, assets, certificates) is mostly decoding
// their JSON: a hospital's scan has tens of thousands of elements, tens of megabytes of
// it. The rows are read on the one read transaction, by one goroutine, as they always
// were; decoding them is handed over in batches to a decoder on every core, each batch
// into a part of its own, and the parts are joined in the order the rows were read
// once all are done. The document is then what decoding the rows one by one gave.

// decoders runs decoding jobs on a worker per core.
type decoders struct {
	jobs chan func()
	wg   sync.WaitGroup
}

// newDecoders starts the workers; wait stops them.
func newDecoders() *decoders {
	n := runtime.GOMAXPROCS(0)
	d := &decoders{jobs: make(chan func(), 2*n)}
	d.wg.Add(n)
	for range n {
		go func() {
			defer d.wg.Done()
			for job := range d.jobs {
				job()
			}
		}()
	}
	return d
}

// wait returns once every job handed over is done; no job may be handed over after.
func (d *decoders) wait() {
	close(d.jobs)
	d.wg.Wait()
}

// decodeRows and decodeBytes bound a batch: enough work to be worth handing over, little
// enough that the reader and the decoders keep each other busy and that the raw rows
// waiting (at most a few batches) stay small.
const (
	decodeRows  = 256
	decodeBytes = 256 << 10
)

// batches decodes the rows of one list, one element a row, into the list itself: its
// length is counted first (in the same read transaction, so the count is the rows'), and
// each batch decodes into its own stretch of it, so that no element is copied after (a
// flow is 600 bytes, and a hospital's scan has tens of thousands).
type batches[E any] struct {
	pool   *decoders
	decode func(data []byte, into *E) error
	list   []E
	read   int      // rows handed over, batched or not
	rows   [][]byte // rows not yet batched, the last ones read
	size   int
	errs   []*error // each batch's first error, in the order read
}

// newBatches decodes n rows (as counted) with decode.
func newBatches[E any](pool *decoders, n int, decode func(data []byte, into *E) error) *batches[E] {
	return &batches[E]{pool: pool, decode: decode, list: make([]E, n)}
}

// errMoreRows is a list that holds more rows than were counted: not possible in one
// read transaction, and a list is never grown while decoders write into it.
var errMoreRows = errors.New("more rows than counted: the store changed while it was read")

// row hands over one stored row (data is not reused by the caller).
func (b *batches[E]) row(data []byte) {
	b.rows = append(b.rows, data)
	b.size += len(data)
	if len(b.rows) >= decodeRows || b.size >= decodeBytes {
		b.flush()
	}
}

// flush hands the rows collected so far to a decoder.
func (b *batches[E]) flush() {
	if len(b.rows) == 0 {
		return
	}
	rows, start := b.rows, b.read
	b.read += len(rows)
	b.rows, b.size = nil, 0
	err := new(error)
	b.errs = append(b.errs, err)
	if b.read > len(b.list) {
		*err = errMoreRows
		return
	}
	dst, decode := b.list[start:b.read], b.decode
	b.pool.jobs <- func() {
		for i, data := range rows {
			if *err = decode(data, &dst[i]); *err != nil {
				return
			}
		}
	}
}

// all is the list, once the decoders are done (decoders.wait): nil when no row was read,
// as appending the rows' elements one by one to a nil list left it; the error is the
// first row's, in the order read, that could not be decoded.
func (b *batches[E]) all() ([]E, error) {
	for _, err := range b.errs {
		if *err != nil {
			return nil, *err
		}
	}
	if b.read == 0 {
		return nil, nil
	}
	return b.list[:b.read], nil
}

// findingBatchRows is how many finding rows a decoder takes at a time.
const findingBatchRows = 128

// findingBatch is a batch of rows of findingQuery, then their findings once ready is
// closed.
type findingBatch struct {
	rows      []findingRow
	fs        []findings.Finding
	decodeErr error // the first row's that could not be decoded; fs holds those before it
	readErr   error // reading the rows after these failed
	ready     chan struct{}
}

// decode decodes and tidies the batch's findings, in order, up to the first that cannot
// be decoded.
func (b *findingBatch) decode() {
	defer close(b.ready)
	refs := map[string][]string{}
	b.fs = make([]findings.Finding, 0, len(b.rows))
	for i := range b.rows {
		f, err := b.rows[i].decode(refs)
		if err != nil {
			b.decodeErr = err
			break
		}
		findings.Tidy(&f)
		b.fs = append(b.fs, f)
	}
	b.rows = nil
}

// decodeFindings yields the findings of rows (of findingQuery) in their order, each tidy,
// then nil; or an error, after which it yields nothing more. The rows are read on a
// goroutine of their own and decoded (their evidence is most of the cost) on a decoder
// per core in batches, a few batches ahead of the caller, so that reading, decoding and
// the caller's writing of a scan's findings run at once. Its walk returns only once
// nothing of it runs any more: the caller may then close rows. A row for which skip
// (when not nil) says true, read but not yet decoded, is passed over; skip is called on
// the reading goroutine.
func decodeFindings(rows *sql.Rows, skip func(row *findingRow) bool) iter.Seq2[findings.Finding, error] {
	return func(yield func(findings.Finding, error) bool) {
		pool := newDecoders()
		out := make(chan *findingBatch, cap(pool.jobs))
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			defer close(out)
			b := &findingBatch{}
			send := func() bool {
				select {
				case <-stop:
					return false
				default:
				}
				sent := b
				b = &findingBatch{}
				sent.ready = make(chan struct{})
				pool.jobs <- sent.decode
				select {
				case out <- sent:
					return true
				case <-stop:
					return false
				}
			}
			for rows.Next() {
				row, err := scanFinding(rows)
				if err != nil {
					b.readErr = err
					send()
					return
				}
				if skip != nil && skip(&row) {
					continue
				}
				b.rows = append(b.rows, row)
				if len(b.rows) == findingBatchRows && !send() {
					return
				}
			}
			b.readErr = rows.Err()
			if len(b.rows) > 0 || b.readErr != nil {
				send()
			}
		}()
		defer func() {
			close(stop)
			<-done
			pool.wait()
		}()
		for b := range out {
			<-b.ready
			for _, f := range b.fs {
				if !yield(f, nil) {
					return
				}
			}
			if err := cmp.Or(b.decodeErr, b.readErr); err != nil {
				yield(findings.Finding{}, err)
				return
			}
		}
	}
}
