package store

import (
	"database/sql"
	"fmt"
	"strings"
)

// Saving a scan writes thousands of rows; one INSERT per row costs a statement
// execution, a round trip through database/sql and the driver, and a VDBE program run
// per row, which was most of the time of saving a 10,000-finding scan. A batch
// collects rows and writes them with one multi-row INSERT ... VALUES (...), (...), a
// form both SQLite and PostgreSQL take, prepared once per statement size within the
// transaction.
//
// An upsert must not meet its own key twice in one statement (PostgreSQL refuses "ON
// CONFLICT DO UPDATE command cannot affect row a second time"; SQLite would apply both
// in order): a row whose key the pending rows already hold first writes them, so that
// repeats are applied in the order given, as row-by-row inserts applied them.

// batchRows is the most rows one statement carries; batchVars bounds its bound
// parameters, well under SQLite's (32,766) and PostgreSQL's (65,535) limits.
const (
	batchRows = 256
	batchVars = 8000
)

// batch is one multi-row INSERT being filled.
type batch struct {
	w      *scanWriter
	head   string // INSERT INTO table(columns) VALUES
	tail   string // ON CONFLICT ... and RETURNING ..., or ""
	width  int    // columns per row
	per    int    // rows per full statement
	args   []any
	keys   map[string]struct{} // the keys of the pending rows, for upserts
	stmts  map[int]*sql.Stmt   // by number of rows
	result func(*sql.Rows) error
	after  *batch // when not nil, flushed before this batch's rows are written (the rows they name)
}

// newBatch starts a batch for head (INSERT INTO t(c1, ..., cN) VALUES) and tail;
// result, when not nil, reads each row the tail's RETURNING clause gives back.
func (w *scanWriter) newBatch(head, tail string, width int, result func(*sql.Rows) error) *batch {
	return &batch{w: w, head: head, tail: tail, width: width, per: min(batchRows, batchVars/width),
		keys: map[string]struct{}{}, stmts: map[int]*sql.Stmt{}, result: result}
}

// add queues one row (width values); key, when not "", is the row's conflict key.
func (b *batch) add(key string, row ...any) error {
	if len(row) != b.width {
		return fmt.Errorf("batch %.40q: %d values for %d columns", b.head, len(row), b.width)
	}
	if key != "" {
		if _, dup := b.keys[key]; dup {
			if err := b.flush(); err != nil {
				return err
			}
		}
		b.keys[key] = struct{}{}
	}
	b.args = append(b.args, row...)
	if len(b.args) == b.per*b.width {
		return b.flush()
	}
	return nil
}

// flush writes the pending rows.
func (b *batch) flush() error {
	n := len(b.args) / b.width
	if n > 0 && b.after != nil {
		if err := b.after.flush(); err != nil {
			return err
		}
	}
	if n == 0 {
		return nil
	}
	st, ok := b.stmts[n]
	if !ok {
		var err error
		if st, err = b.w.prepare(b.head + " " + valuesList(n, b.width) + " " + b.tail); err != nil {
			return err
		}
		b.stmts[n] = st
	}
	if b.result == nil {
		if _, err := st.ExecContext(b.w.ctx, b.args...); err != nil {
			return err
		}
	} else if err := b.query(st); err != nil {
		return err
	}
	clear(b.args)
	b.args = b.args[:0]
	clear(b.keys)
	return nil
}

func (b *batch) query(st *sql.Stmt) error {
	rows, err := st.QueryContext(b.w.ctx, b.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := b.result(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// valuesList is "(?, ?), (?, ?)" for rows rows of width columns.
func valuesList(rows, width int) string {
	one := "(" + strings.Repeat("?, ", width-1) + "?)"
	var sb strings.Builder
	sb.Grow(rows * (len(one) + 2))
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(one)
	}
	return sb.String()
}
