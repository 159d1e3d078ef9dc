package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/medscan/medscan/findings"
)

// sqliteHeader opens every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// ErrBaselineScanNotStore matches the error of LoadBaseline given a scan reference for a
// baseline that is a JSON report, not a store.
var ErrBaselineScanNotStore = errors.New("store: a baseline scan reference applies to a store only")

// LoadBaseline reads a CI baseline: a store (an SQLite file, recognised by its header,
// or a PostgreSQL URL), opened
// read-only, of which it takes scan ref (latest network scan when ref is ""), or a
// medscan JSON report. Either way the document is normalized (findings.Report.Normalize:
// derived, tidy, sorted): a baseline is a file from elsewhere.
func LoadBaseline(ctx context.Context, path, ref string) (*findings.Report, error) {
	if IsPostgresDSN(path) {
		return loadBaselineStore(ctx, path, ref)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, _ := io.ReadFull(f, head)
	if string(head[:n]) == sqliteHeader {
		return loadBaselineStore(ctx, path, ref)
	}
	if ref != "" {
		return nil, fmt.Errorf("baseline %s is not a store: %w", path, ErrBaselineScanNotStore)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return decodeBaseline(f, path)
}

// loadBaselineStore reads scan ref of a store (a file or a PostgreSQL URL) as a baseline.
func loadBaselineStore(ctx context.Context, path, ref string) (*findings.Report, error) {
	st, err := OpenReadOnly(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer st.Close()
	id, err := st.ResolveScan(ctx, ref, "")
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	// A baseline is compared with, never rendered: its findings, and its certificates,
	// whose renewals and replacements are part of the change (certChanges).
	rep, err := st.LoadParts(ctx, id, PartFindings, PartCertificates)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return rep, nil
}

// decodeBaseline reads a medscan JSON report given as a baseline from r; path names it
// in errors. Split from LoadBaseline so that the decoding of these untrusted bytes is
// fuzzed without a file (FuzzDecodeBaseline).
func decodeBaseline(r io.Reader, path string) (*findings.Report, error) {
	var rep findings.Report
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("baseline %s: not a medscan JSON report or store: %w", path, err)
	}
	if rep.SchemaVersion != findings.ReportSchemaVersion {
		return nil, fmt.Errorf("baseline %s: schema_version %d, want %d (a medscan JSON report)",
			path, rep.SchemaVersion, findings.ReportSchemaVersion)
	}
	// A report of an older medscan: its findings as this one identifies them.
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if now, _, _, ok := currentSubject(f.Rule, f.Subject); ok {
			f.Subject = now
			f.SetFingerprint()
		}
	}
	rep.Normalize()
	return &rep, nil
}
