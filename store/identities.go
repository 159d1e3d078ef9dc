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

// identityQuery reads the identity and times of each of a scan's findings (scanIdentity).
const identityQuery = `SELECT f.rule, sf.severity, f.host, f.port, f.subject, sf.file, f.fingerprint, sf.time,
	f.first_seen, f.last_seen FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint
	WHERE sf.scan_id = ?`

// identityRow is one row of identityQuery: the finding's identity and severity, tidy,
// and its times as stored (text, compared or parsed by the reader).
type identityRow struct {
	f               findings.Finding
	tm, first, last sql.NullString
}

// scanIdentity reads one row of identityQuery.
func scanIdentity(rows *sql.Rows) (identityRow, error) {
	var (
		r   identityRow
		sev int
	)
	if err := rows.Scan(&r.f.Rule, &sev, &r.f.Host, &r.f.Port, &r.f.Subject, &r.f.File, &r.f.Fingerprint, &r.tm,
		&r.first, &r.last); err != nil {
		return r, err
	}
	r.f.Severity = findings.Severity(sev)
	findings.Tidy(&r.f)
	return r, nil
}

// streamIdentities yields the identity and times of each of the scan's findings, tidy,
// but for those a suppression set aside (hide), in no particular order (the store's
// own): FindingStream.Identities. An error ends the walk.
func (l *loader) streamIdentities(path string, hide hidden) iter.Seq2[findings.Finding, error] {
	return func(yield func(findings.Finding, error) bool) {
		stop := errors.New("stopped") // the caller's, not an error
		err := l.each(identityQuery, func(rows *sql.Rows) error {
			r, err := scanIdentity(rows)
			if err != nil {
				return err
			}
			if _, ok := hide[r.f.Fingerprint]; ok {
				return nil
			}
			f := r.f
			var errT, errF, errL error
			f.Time, errT = parseTime(r.tm)
			f.FirstSeen, errF = parseTime(r.first)
			f.LastSeen, errL = parseTime(r.last)
			for _, err := range []error{errT, errF, errL} {
				if err != nil {
					return fmt.Errorf("finding %s: %w", f.Fingerprint, err)
				}
			}
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
