package store

import (
	"database/sql"
	"errors"
	"fmt"
	"iter"

	"github.com/medscan/medscan/findings"
)

// A finding's identity (rule, severity, place, fingerprint) and times are a few short
// columns; its message, evidence and rule text are most of its row and nearly all of
// the cost of reading it (the evidence is JSON to decode). What decides or counts by
// identity alone reads these columns only: an incremental export deciding which
// findings changed since a time (FindingStream.Identities), the data-flow map counting
// the findings on each flow (findingPlaces).

// streamIdentities yields the identity and times of each of the scan's findings, tidy,
// but for those a suppression set aside (hide), in no particular order (the store's
// own): FindingStream.Identities. An error ends the walk.
func (l *loader) streamIdentities(path string, hide hidden) iter.Seq2[findings.Finding, error] {
	return func(yield func(findings.Finding, error) bool) {
		stop := errors.New("stopped") // the caller's, not an error
		err := l.each(`SELECT f.rule, sf.severity, f.host, f.port, f.subject, sf.file, f.fingerprint, sf.time,
			f.first_seen, f.last_seen FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint
			WHERE sf.scan_id = ?`, func(rows *sql.Rows) error {
			var (
				f                findings.Finding
				sev              int
				tm, first, last  sql.NullString
				errT, errF, errL error
			)
			if err := rows.Scan(&f.Rule, &sev, &f.Host, &f.Port, &f.Subject, &f.File, &f.Fingerprint, &tm, &first,
				&last); err != nil {
				return err
			}
			if _, ok := hide[f.Fingerprint]; ok {
				return nil
			}
			f.Severity = findings.Severity(sev)
			f.Time, errT = parseTime(tm)
			f.FirstSeen, errF = parseTime(first)
			f.LastSeen, errL = parseTime(last)
			for _, err := range []error{errT, errF, errL} {
				if err != nil {
					return fmt.Errorf("finding %s: %w", f.Fingerprint, err)
				}
			}
			findings.Tidy(&f)
			if !yield(f, nil) {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(findings.Finding{}, fmt.Errorf("store: %s: reading the findings of scan %d: %w", path, l.scan, err))
		}
	}
}

// findingPlaces reads onto r, of each of the scan's findings, what a flow counts of it
// (findings.LinkFlowFindings): its rule, severity, host and port, and nothing more.
// Normalize builds a document's missing flows from them as from whole findings.
func (l *loader) findingPlaces(r *findings.Report) error {
	return l.each(`SELECT f.rule, sf.severity, f.host, f.port FROM scan_findings sf
		JOIN findings f ON f.fingerprint = sf.fingerprint WHERE sf.scan_id = ?`, func(rows *sql.Rows) error {
		var f findings.Finding
		var sev int
		err := rows.Scan(&f.Rule, &sev, &f.Host, &f.Port)
		f.Severity = findings.Severity(sev)
		r.Findings = append(r.Findings, f)
		return err
	})
}
