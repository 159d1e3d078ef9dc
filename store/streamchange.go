package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
)

// StreamOptions are what StreamWith applies to a scan while its findings stay in the
// store: what the CLI's prepare applies to a scan loaded whole (AttachChange, then the
// suppressions in force), so that the usual report (a scheduled scan with an earlier
// one, a site with accepted risks) streams too; and what of the scan the writer does
// not read, so that it is not read either.
type StreamOptions struct {
	// Catalog, when not nil, fills Report.Change against PreviousScan as AttachChange
	// does (its coverage declarations judge fixed and not assessed).
	Catalog findings.Catalog
	// Baseline, when not nil (with Catalog), is the report the change is computed
	// against in place of PreviousScan, as Diff(Baseline, scan) does: a document read
	// from a file (--baseline), whose findings' fingerprints are held as a set.
	Baseline *findings.Report
	// Suppress, when not nil, says whether a suppression in force sets a finding aside
	// and which, as rules.ApplySuppressions asks of each finding (the first entry that
	// matches). It is handed the finding's identity only (rule, severity, host, port,
	// subject, fingerprint), tidy: all that a suppression matches on.
	Suppress func(findings.Finding) (findings.SuppressionRef, bool)
	// WithoutFlows leaves the data-flow map out: Report.Flows stays nil, neither read
	// nor built (Normalize builds a stored document's flows only when they are missing).
	// A hospital's flows are half the bytes of its observations, and most formats do not
	// render them (report.RendersFlows).
	WithoutFlows bool
	// byFingerprint has All yield the findings in fingerprint order rather than the
	// document's: the order a save writes them in (Sync).
	byFingerprint bool
}

// hidden are the findings of a streamed scan a suppression set aside, by fingerprint.
type hidden map[string]findings.SuppressionRef

// suppress reads the identities of the scan's findings, in the document's order, and
// asks opts.Suppress of each: the findings it sets aside are then read whole into
// r.Suppressed (a suppression hides a few accepted risks, not the scan), and fs's
// counts and spans are those of the others. A first pass over identities costs little
// beside the stream: no texts, no evidence.
func (l *loader) suppress(r *findings.Report, fs *findings.FindingStream,
	match func(findings.Finding) (findings.SuppressionRef, bool)) (hidden, error) {
	hide := hidden{}
	counts := map[findings.Severity]int{}
	spans := map[findings.Severity][2]string{} // stored times compared as SQL's min and max do: as text
	err := l.each(identityQuery, func(rows *sql.Rows) error {
		r, err := scanIdentity(rows)
		if err != nil {
			return err
		}
		f, tm := r.f, r.tm
		if ref, ok := match(f); ok {
			hide[f.Fingerprint] = ref
			return nil
		}
		counts[f.Severity]++
		if tm.Valid {
			sp, ok := spans[f.Severity]
			if !ok || tm.String < sp[0] {
				sp[0] = tm.String
			}
			if !ok || tm.String > sp[1] {
				sp[1] = tm.String
			}
			spans[f.Severity] = sp
		}
		return nil
	})
	if err != nil || len(hide) == 0 {
		return nil, err
	}
	fs.Counts, fs.Spans = counts, map[findings.Severity][2]time.Time{}
	for sev, sp := range spans {
		if t0, t1 := l.t(sql.NullString{String: sp[0], Valid: true}), l.t(sql.NullString{String: sp[1], Valid: true}); !t0.IsZero() {
			fs.Spans[sev] = [2]time.Time{t0, t1}
		}
	}
	// The suppressed findings whole, a few hundred fingerprints a query.
	fps := make([]string, 0, len(hide))
	for fp := range hide {
		fps = append(fps, fp)
	}
	for len(fps) > 0 {
		batch := fps[:min(len(fps), 500)]
		fps = fps[len(batch):]
		args := []any{l.scan}
		for _, fp := range batch {
			args = append(args, fp)
		}
		where := "sf.scan_id = ? AND sf.fingerprint IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
		if err := l.eachOf(findingQuery(where, ""), args, func(rows *sql.Rows) error {
			f, err := l.finding(rows)
			if err != nil {
				return err
			}
			findings.Tidy(&f)
			r.Suppressed = append(r.Suppressed, findings.SuppressedFinding{Finding: f, Suppression: hide[f.Fingerprint]})
			return nil
		}); err != nil {
			return nil, err
		}
	}
	sortSuppressed(r.Suppressed)
	return hide, nil
}

// sortSuppressed puts suppressed findings in the document's order, in which
// rules.ApplySuppressions leaves them (it walks the findings in that order).
func sortSuppressed(l []findings.SuppressedFinding) {
	fs := make([]findings.Finding, len(l))
	at := make(map[string]findings.SuppressionRef, len(l))
	for i, s := range l {
		fs[i] = s.Finding
		at[s.Fingerprint] = s.Suppression
	}
	findings.SortFindings(fs)
	for i, f := range fs {
		l[i] = findings.SuppressedFinding{Finding: f, Suppression: at[f.Fingerprint]}
	}
}

// change is Diff of scan prev with the streamed scan r, computed in the store by
// fingerprint rather than from both scans' findings whole (AttachChange): the later
// scan's findings are listed new or persisting from their identities and texts alone,
// each marked by whether prev holds its fingerprint; only the findings of prev that
// the later scan lacks (a scheduled scan's few fixed ones) are read whole, to be judged
// fixed or not assessed by the later scan's coverage (seen: r holds its observations).
// The suppressed findings (hide) are flagged as ApplySuppressions flags them. The
// lists are the same, in the same order, as Diff's.
func (l *loader) change(earlier *findings.Report, r *findings.Report, catalog findings.Catalog, hide hidden) (*findings.Change, error) {
	prev := earlier.Scan.ID
	pl := &loader{ctx: l.ctx, q: l.q, scan: prev}
	// Its certificates (certChanges compares the server leaves); its findings are read
	// below, those the later scan lacks only.
	if err := pl.certificatesOnly(earlier); err != nil {
		return nil, err
	}
	c, err := l.laterFindings(earlier, func(_ string, inPrev bool) bool { return inPrev }, hide)
	if err != nil {
		return nil, fmt.Errorf("comparing with scan %d: %w", prev, err)
	}
	seen := newSeen(r)
	err = pl.eachOf(findingQuery(`sf.scan_id = ? AND NOT EXISTS (SELECT 1 FROM scan_findings c
		WHERE c.scan_id = ? AND c.fingerprint = sf.fingerprint)`, findingOrder), []any{prev, l.scan}, func(rows *sql.Rows) error {
		f, err := pl.finding(rows)
		if err != nil {
			return err
		}
		findings.Tidy(&f)
		c.gone(f, seen, catalog)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("comparing with scan %d: %w", prev, err)
	}
	// The certificates compared are earlier's, read above, as AttachChange reads them.
	return c.done(earlier, r), nil
}

// changeFrom is Diff(base, r) for a baseline document (StreamOptions.Baseline), r's
// findings left in the store: base's fingerprints are a set in memory, r's are read
// once (marked new or persisting by that set) and kept as a set for the other way.
func (l *loader) changeFrom(base, r *findings.Report, catalog findings.Catalog, hide hidden) (*findings.Change, error) {
	earlier := allFindings(base)
	before := make(map[string]bool, len(earlier))
	for _, f := range earlier {
		before[f.Identity()] = true
	}
	now := map[string]bool{}
	c, err := l.laterFindings(base, func(fp string, _ bool) bool { now[fp] = true; return before[fp] }, hide)
	if err != nil {
		return nil, fmt.Errorf("comparing with the baseline: %w", err)
	}
	seen := newSeen(r)
	for _, f := range earlier {
		if !now[f.Identity()] {
			c.gone(f, seen, catalog)
		}
	}
	return c.done(base, r), nil
}

// streamedChange is a Change being built from the store.
type streamedChange struct{ *findings.Change }

// laterFindings lists the streamed scan's findings as new or persisting, in the
// document's order, from their identities and texts alone; persists says whether the
// earlier side holds a fingerprint (inPrev: whether scan prev.Scan.ID of this store
// does).
func (l *loader) laterFindings(prev *findings.Report, persists func(fp string, inPrev bool) bool,
	hide hidden) (streamedChange, error) {
	c := streamedChange{&findings.Change{PreviousScan: prev.Scan.ID, PreviousStarted: prev.Scan.Started,
		New: []findings.ChangedFinding{}, Fixed: []findings.ChangedFinding{}, Persisting: []findings.ChangedFinding{},
		NotAssessed: []findings.ChangedFinding{}}}
	err := l.eachOf(`SELECT f.rule, sf.severity, f.host, f.port, f.subject, sf.message, f.fingerprint, sf.file,
		CASE WHEN EXISTS (SELECT 1 FROM scan_findings p WHERE p.scan_id = ? AND p.fingerprint = sf.fingerprint) THEN 1 ELSE 0 END
		FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint WHERE sf.scan_id = ?
		ORDER BY `+findingOrder, []any{prev.Scan.ID, l.scan}, func(rows *sql.Rows) error {
		var (
			f      findings.Finding
			sev, n int
		)
		if err := rows.Scan(&f.Rule, &sev, &f.Host, &f.Port, &f.Subject, &f.Message, &f.Fingerprint, &f.File, &n); err != nil {
			return err
		}
		f.Severity = findings.Severity(sev)
		findings.Tidy(&f)
		cf := findings.Changed(f)
		_, cf.Suppressed = hide[cf.Fingerprint]
		if persists(cf.Fingerprint, n == 1) {
			c.Persisting = append(c.Persisting, cf)
		} else {
			c.New = append(c.New, cf)
		}
		return nil
	})
	return c, err
}

// gone lists an earlier finding the later scan lacks: fixed, or not assessed when the
// later scan could not show what its rule needs.
func (c streamedChange) gone(f findings.Finding, seen *seen, catalog findings.Catalog) {
	cf := findings.Changed(f)
	if reason := seen.unassessed(f, catalog); reason != "" {
		cf.Reason = reason
		c.NotAssessed = append(c.NotAssessed, cf)
	} else {
		c.Fixed = append(c.Fixed, cf)
	}
}

// done counts the lists and compares the certificates, as Diff does.
func (c streamedChange) done(prev, r *findings.Report) *findings.Change {
	c.Counts = findings.ChangeCounts{New: len(c.New), Fixed: len(c.Fixed), Persisting: len(c.Persisting),
		NotAssessed: len(c.NotAssessed)}
	c.CertificatesChanged = certChanges(prev, r)
	return c.Change
}

// Compare reads what a comparison of two stored scans (medscan diff) renders and gates
// of scan later, without reading either scan whole: later's description, its findings
// counted by severity in the store (Report.Stream holds the counts only, for the gate:
// its findings are not read and it may not be walked), the findings the suppressions in
// force (opts.Suppress) set aside, and, when earlier is not 0, its change since scan
// earlier (Report.Change), computed as StreamWith computes a streamed scan's (change)
// with opts.Catalog: what Diff(LoadParts(earlier, findings and certificates),
// Load(later)) gives, the suppressions then applied. The later scan's coverage reads
// its certificates and the observation kinds newSeen reads (coverageKinds), which are
// let go before Compare returns. prev is earlier's description (the zero ScanInfo when
// earlier is 0). The other StreamOptions do not apply.
func (s *Store) Compare(ctx context.Context, earlier, later int64, opts StreamOptions) (prev findings.ScanInfo,
	r *findings.Report, err error) {
	tx, err := s.db.BeginTx(ctx, s.readTx())
	if err != nil {
		return prev, nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	defer tx.Rollback()
	for _, id := range []int64{later, earlier} {
		if id != 0 {
			if err := s.scanExists(ctx, tx, id); err != nil {
				return prev, nil, err
			}
		}
	}
	l := &loader{ctx: ctx, q: tx, scan: later, onlyKinds: coverageKinds}
	r = &findings.Report{SchemaVersion: findings.ReportSchemaVersion}
	var before findings.Report
	if err := l.scanInfo(r); err != nil {
		return prev, nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, later, err)
	}
	if earlier != 0 {
		// Two runs of different kinds are refused before any of the work is done.
		pl := &loader{ctx: ctx, q: tx, scan: earlier}
		if err := pl.scanInfo(&before); err != nil {
			return prev, nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, earlier, err)
		}
		if err := SameKind(before.Scan, r.Scan); err != nil {
			return before.Scan, nil, err
		}
	}
	fs := &findings.FindingStream{Counts: map[findings.Severity]int{}, Spans: map[findings.Severity][2]time.Time{}}
	steps := []func() error{func() error { return l.findingCounts(fs) }}
	if earlier != 0 {
		steps = append(steps, func() error { return l.someLists(r, true, false) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return prev, nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, later, err)
		}
	}
	r.Flows = []findings.Flow{} // not read: not to be computed from the few lists that were
	r.Normalize()
	var hide hidden
	if opts.Suppress != nil {
		if hide, err = l.suppress(r, fs, opts.Suppress); err != nil {
			return prev, nil, fmt.Errorf("store: %s: applying the suppressions to scan %d: %w", s.path, later, err)
		}
	}
	var change *findings.Change
	if earlier != 0 {
		if change, err = l.change(&before, r, opts.Catalog, hide); err != nil {
			return prev, nil, fmt.Errorf("store: %s: scan %d: %w", s.path, later, err)
		}
	}
	// What the comparison renders and gates; the observations read for the coverage go.
	r = &findings.Report{SchemaVersion: r.SchemaVersion, Scan: r.Scan, Suppressed: r.Suppressed, Change: change, Stream: fs}
	r.Summarize()
	return before.Scan, r, nil
}
