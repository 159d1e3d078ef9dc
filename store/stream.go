package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"time"

	"github.com/medscan/medscan/findings"
)

// Stream reads one scan for rendering as it is written out: the document as Load
// returns it, except that its findings stay in the store (Report.Stream): counted by
// severity in SQL, and read, in the document's order (findingOrder), one row at a time
// while a writer walks them, so that memory does not grow with their number. The other
// lists are read whole, as Load reads them. Everything is read in one read transaction,
// as Load's; close ends it, and the stream may not be walked after.
//
// A document stored before its flows were (which Load computes from the findings)
// gets each flow's finding counts from the findings' identities alone.
func (s *Store) Stream(ctx context.Context, scanID int64) (r *findings.Report, close func() error, err error) {
	return s.StreamWith(ctx, scanID, StreamOptions{})
}

// StreamWith is Stream with the change since the previous comparable scan and the
// suppressions in force applied as the findings are read (StreamOptions): the document
// the CLI's prepare makes of a scan loaded whole, its findings still in the store.
func (s *Store) StreamWith(ctx context.Context, scanID int64, opts StreamOptions) (r *findings.Report, close func() error,
	err error) {
	var prev int64
	hasPrev := false
	if opts.Catalog != nil && opts.Baseline == nil {
		if prev, hasPrev, err = s.PreviousScan(ctx, scanID); err != nil {
			return nil, nil, err
		}
	}
	tx, err := s.db.BeginTx(ctx, s.readTx())
	if err != nil {
		return nil, nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := s.scanExists(ctx, tx, scanID); err != nil {
		return nil, nil, err
	}
	l := &loader{ctx: ctx, q: tx, scan: scanID}
	if opts.WithoutFlows {
		l.skipKind = "flow"
	}
	r = &findings.Report{SchemaVersion: findings.ReportSchemaVersion}
	for _, step := range []func(*findings.Report) error{l.scanInfo, l.lists} {
		if err := step(r); err != nil {
			return nil, nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, scanID, err)
		}
	}
	if opts.WithoutFlows {
		r.Flows = []findings.Flow{} // for Normalize: none to build
	}
	stored := r.Flows != nil
	fs := &findings.FindingStream{Counts: map[findings.Severity]int{}, Spans: map[findings.Severity][2]time.Time{}}
	if err := l.findingCounts(fs); err != nil {
		return nil, nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, scanID, err)
	}
	if !stored && r.Scan.RunKind() == findings.KindNetwork {
		// Normalize builds the flows; their finding counts need the findings' places.
		if err := l.findingPlaces(r); err != nil {
			return nil, nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, scanID, err)
		}
	}
	r.Normalize()
	if opts.WithoutFlows {
		r.Flows = nil
	}
	r.Findings = []findings.Finding{}
	var hide hidden
	if opts.Suppress != nil {
		if hide, err = l.suppress(r, fs, opts.Suppress); err != nil {
			return nil, nil, fmt.Errorf("store: %s: applying the suppressions to scan %d: %w", s.path, scanID, err)
		}
	}
	switch {
	case opts.Baseline != nil && opts.Catalog != nil:
		if r.Change, err = l.changeFrom(opts.Baseline, r, opts.Catalog, hide); err != nil {
			return nil, nil, fmt.Errorf("store: %s: scan %d: %w", s.path, scanID, err)
		}
	case hasPrev:
		earlier := &findings.Report{}
		if err := (&loader{ctx: ctx, q: tx, scan: prev}).scanInfo(earlier); err != nil {
			return nil, nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, prev, err)
		}
		if r.Change, err = l.change(earlier, r, opts.Catalog, hide); err != nil {
			return nil, nil, fmt.Errorf("store: %s: scan %d: %w", s.path, scanID, err)
		}
	}
	order := findingOrder
	if opts.byFingerprint {
		order = "sf.fingerprint"
	}
	fs.All = l.streamFindings(s.path, hide, fs, order)
	fs.Identities = l.streamIdentities(s.path, hide)
	fs.Groups = func() ([]findings.FindingGroup, error) {
		gs, err := l.findingGroups(hide)
		if err != nil {
			return nil, fmt.Errorf("store: %s: grouping the findings of scan %d: %w", s.path, scanID, err)
		}
		return gs, nil
	}
	r.Stream = fs
	r.Summarize()
	return r, tx.Rollback, nil
}

// findingCounts counts the scan's findings by severity, with the span of their times.
func (l *loader) findingCounts(fs *findings.FindingStream) error {
	return l.each(`SELECT severity, count(*), min(time), max(time) FROM scan_findings WHERE scan_id = ? GROUP BY severity`,
		func(rows *sql.Rows) error {
			var sev, n int
			var first, last sql.NullString
			if err := rows.Scan(&sev, &n, &first, &last); err != nil {
				return err
			}
			fs.Counts[findings.Severity(sev)] += n
			if t0, t1 := l.t(first), l.t(last); !t0.IsZero() {
				fs.Spans[findings.Severity(sev)] = [2]time.Time{t0, t1}
			}
			return nil
		})
}

// streamFindings yields the scan's findings sorted by order (findingOrder is the
// document's), each tidy, as Load returns them, but for those a suppression set aside
// (hide) and those fs.Only, if set when the walk starts, leaves out (neither decoded),
// read ahead of the caller and decoded on every core (findingsOf); an error ends the
// walk.
func (l *loader) streamFindings(path string, hide hidden,
	fs *findings.FindingStream, order string) iter.Seq2[findings.Finding, error] {
	return func(yield func(findings.Finding, error) bool) {
		only := fs.Only
		skip := func(r *findingRow) bool {
			_, hidden := hide[r.f.Fingerprint]
			return hidden || only != nil && !only(r.f.Fingerprint)
		}
		for f, err := range l.findingsOf(order, skip) {
			if err != nil {
				yield(findings.Finding{}, fmt.Errorf("store: %s: reading the findings of scan %d: %w", path, l.scan, err))
				return
			}
			if !yield(f, nil) {
				return
			}
		}
	}
}

// findingsOf yields the scan's findings whole (findingQuery), sorted by order ("": in
// the store's own order), each tidy, decoded on every core (decodeFindings) but for the
// rows skip passes over undecoded; then nil, or an error after which it yields nothing
// more. Every read of a scan's findings whole goes through it: the stream, the earlier
// scan read beside a save, the certificates' verdicts.
func (l *loader) findingsOf(order string, skip func(*findingRow) bool) iter.Seq2[findings.Finding, error] {
	return func(yield func(findings.Finding, error) bool) {
		rows, err := l.q.QueryContext(l.ctx, findingQuery("sf.scan_id = ?", order), l.scan)
		if err != nil {
			yield(findings.Finding{}, err)
			return
		}
		defer rows.Close()
		for f, err := range decodeFindings(rows, skip) {
			if !yield(f, err) || err != nil {
				return
			}
		}
	}
}

// findingGroups groups the scan's findings by rule and severity (findings.GroupFindings)
// in one pass over their identities in the document's order, without their texts or
// evidence: a group's findings come together (the order is by severity and rule
// first), and within a group a host's findings come together too (then by host_order),
// so that counting the distinct hosts holds only the hosts of one address's run (one,
// unless the store spells an address two ways). Findings without a host are placed by
// their file, which are remembered per group: a lint run's files, not a network's
// findings. The findings a suppression set aside (hide) are not counted.
func (l *loader) findingGroups(hide hidden) ([]findings.FindingGroup, error) {
	var (
		gs    []findings.FindingGroup
		g     *findings.FindingGroup
		run   string          // the host_order of the current run of hosts
		hosts map[string]bool // the hosts of the run
		files map[string]bool // the files of the group's findings without a host
		first map[string]bool // the places of g.First
	)
	err := l.each(`SELECT sf.severity, f.rule, f.host, f.host_order, f.port, CASE WHEN f.host = '' THEN sf.file ELSE '' END,
		f.fingerprint FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint WHERE sf.scan_id = ?
		ORDER BY `+findingOrder, func(rows *sql.Rows) error {
		var (
			f     findings.Finding
			sev   int
			order string
		)
		if err := rows.Scan(&sev, &f.Rule, &f.Host, &order, &f.Port, &f.File, &f.Fingerprint); err != nil {
			return err
		}
		if _, ok := hide[f.Fingerprint]; ok {
			return nil
		}
		f.Severity = findings.Severity(sev)
		findings.Tidy(&f)
		if g == nil || g.Rule != f.Rule || g.Severity != f.Severity {
			gs = append(gs, findings.FindingGroup{Rule: f.Rule, Severity: f.Severity})
			g = &gs[len(gs)-1]
			run, hosts, files, first = "", map[string]bool{}, map[string]bool{}, map[string]bool{}
		}
		g.Count++
		place := f.Place()
		switch {
		case f.Host == "":
			if files[place] {
				return nil
			}
			files[place] = true
		case files[place]:
			return nil // a host spelled as a file of the group already counted (they come first)
		case order != run:
			run, hosts = order, map[string]bool{place: true}
		case hosts[place]:
			return nil
		default:
			hosts[place] = true
		}
		g.Hosts++
		if len(g.First) < findings.GroupPlaces && !first[place] {
			first[place] = true
			g.First = append(g.First, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range gs {
		gs[i].More = gs[i].Hosts - len(gs[i].First)
	}
	return gs, nil
}
