package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/medscan/medscan/findings"
)

// A long-running scan (a live capture) is one scan row that is rewritten as it goes:
// BeginScan records it, Checkpoint replaces everything stored for it with what has
// been learned so far, and the last checkpoint, with Complete set, ends it. A process
// killed between checkpoints leaves the last one, whole: each is one transaction.

// BeginScan records the start of a long-running scan and returns its id. The scan is
// stored incomplete (whatever info.Complete says) until a Checkpoint says otherwise, so
// that a scan whose process died is never mistaken for one that ended; the caller says
// why in info.Problems ("still running").
func (s *Store) BeginScan(ctx context.Context, info findings.ScanInfo) (int64, error) {
	info.Complete = false
	var id int64
	err := s.inTx(ctx, false, func(tx *sql.Tx) error {
		w := &scanWriter{ctx: ctx, tx: tx, keyID: s.keyID}
		defer w.close()
		err := w.scanRow(info)
		id = w.scan
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: %s: beginning scan: %w", s.path, err)
	}
	return id, nil
}

// Checkpoint replaces, in one transaction, everything stored for scan id (begun with
// BeginScan) with the document of what the scan has learned so far. Store-wide rows
// (assets, certificates, findings) are upserted as Save does, so their first and last
// seen only widen; a finding an earlier checkpoint of this scan stored that no scan holds
// any longer is removed, so that the store never keeps a finding nothing reported.
// Readers (other Stores, other processes) see either the previous checkpoint or this one.
func (s *Store) Checkpoint(ctx context.Context, id int64, r *findings.Report) error {
	var missing error // the scan does not exist: said as it is, not as a failed checkpoint
	err := s.inTx(ctx, false, func(tx *sql.Tx) error {
		if missing = s.scanExists(ctx, tx, id); missing != nil {
			return missing
		}
		old, err := clearScan(ctx, tx, id, s.dialect)
		if err != nil {
			return err
		}
		w := &scanWriter{ctx: ctx, tx: tx, scan: id}
		if _, err := w.save(r); err != nil {
			return err
		}
		return dropOrphanFindings(ctx, tx, old)
	})
	if missing != nil {
		return missing
	}
	if err != nil {
		return fmt.Errorf("store: %s: checkpointing scan %d: %w", s.path, id, err)
	}
	return nil
}

// scanTable is a table holding rows of one scan, and the column naming the scan.
type scanTable struct{ name, column string }

// scanTables lists, from the schema itself, every table with a foreign key to scans:
// a table a later migration adds is cleared by Checkpoint without anyone having
// to remember to list it here.
func scanTables(ctx context.Context, q queryer, d dialect) ([]scanTable, error) {
	rows, err := q.QueryContext(ctx, d.scanTablesQuery())
	if err != nil {
		return nil, fmt.Errorf("listing the scan tables: %w", err)
	}
	defer rows.Close()
	var out []scanTable
	for rows.Next() {
		var t scanTable
		if err := rows.Scan(&t.name, &t.column); err != nil {
			return nil, fmt.Errorf("listing the scan tables: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the scan tables: %w", err)
	}
	return out, nil
}

// quoteIdent quotes an SQL identifier read from the schema.
func quoteIdent(s string) string {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}

// clearScan deletes every row of scan id in the scan tables, keeping the scan row, and
// returns the fingerprints of the findings the scan held.
func clearScan(ctx context.Context, tx *sql.Tx, id int64, d dialect) ([]string, error) {
	var old []string
	rows, err := tx.QueryContext(ctx, "SELECT fingerprint FROM scan_findings WHERE scan_id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("reading the scan's findings: %w", err)
	}
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the scan's findings: %w", err)
		}
		old = append(old, fp)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the scan's findings: %w", err)
	}
	tables, err := scanTables(ctx, tx, d)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(t.name)+" WHERE "+quoteIdent(t.column)+" = ?", id); err != nil {
			return nil, fmt.Errorf("clearing %s: %w", t.name, err)
		}
	}
	return old, nil
}

// dropOrphanFindings deletes those of the fingerprints that no scan holds any more.
func dropOrphanFindings(ctx context.Context, tx *sql.Tx, fps []string) error {
	if len(fps) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `DELETE FROM findings WHERE fingerprint = ?
		AND NOT EXISTS (SELECT 1 FROM scan_findings WHERE scan_findings.fingerprint = findings.fingerprint)`)
	if err != nil {
		return fmt.Errorf("removing findings no scan holds: %w", err)
	}
	defer st.Close()
	for _, fp := range fps {
		if _, err := st.ExecContext(ctx, fp); err != nil {
			return fmt.Errorf("removing finding %s: %w", fp, err)
		}
	}
	return nil
}
