package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
)

// Diff compares an earlier report with a later one by fingerprint: a finding only in the
// later one is new, one in both persists, and one only in the earlier one is fixed when
// the later scan assessed it again (coverage.go) and not assessed otherwise, with the
// reason. The two should be runs of one kind (SameKind); of the earlier report only the
// description, the findings and the certificates (certChanges) are read.
// Suppressed findings of either report take part as findings (a suppression hides, it
// does not fix); the later report's are flagged Suppressed. catalog is the rule catalog,
// whose coverage declarations say what assesses each rule.
func Diff(prev, cur *findings.Report, catalog findings.Catalog) *findings.Change {
	c := &findings.Change{PreviousScan: prev.Scan.ID, PreviousStarted: prev.Scan.Started,
		New: []findings.ChangedFinding{}, Fixed: []findings.ChangedFinding{}, Persisting: []findings.ChangedFinding{},
		NotAssessed: []findings.ChangedFinding{}}
	earlier := allFindings(prev)
	before := map[string]bool{}
	for _, f := range earlier {
		before[f.Identity()] = true
	}
	suppressed := map[string]bool{}
	for _, s := range cur.Suppressed {
		suppressed[s.Identity()] = true
	}
	now := map[string]bool{}
	for _, f := range allFindings(cur) {
		cf := findings.Changed(f)
		now[cf.Fingerprint] = true
		cf.Suppressed = suppressed[cf.Fingerprint]
		if before[cf.Fingerprint] {
			c.Persisting = append(c.Persisting, cf)
		} else {
			c.New = append(c.New, cf)
		}
	}
	seen := newSeen(cur)
	for _, f := range earlier {
		cf := findings.Changed(f)
		if now[cf.Fingerprint] {
			continue
		}
		if reason := seen.unassessed(f, catalog); reason != "" {
			cf.Reason = reason
			c.NotAssessed = append(c.NotAssessed, cf)
		} else {
			c.Fixed = append(c.Fixed, cf)
		}
	}
	c.Counts = findings.ChangeCounts{New: len(c.New), Fixed: len(c.Fixed), Persisting: len(c.Persisting),
		NotAssessed: len(c.NotAssessed)}
	c.CertificatesChanged = certChanges(prev, cur)
	return c
}

// allFindings is a report's findings and suppressed findings, in report order.
func allFindings(r *findings.Report) []findings.Finding {
	out := slices.Clone(r.Findings)
	for _, s := range r.Suppressed {
		out = append(out, s.Finding)
	}
	findings.SortFindings(out)
	return out
}

// SameKind returns an error when two runs are of different kinds: neither looks at what
// the other does, so that a comparison of them means nothing. PreviousScan never pairs
// them; a comparison asked for (two scan IDs, a baseline) is refused with this.
func SameKind(prev, cur findings.ScanInfo) error {
	if a, b := prev.RunKind(), cur.RunKind(); a != b {
		return &KindError{Earlier: prev.ID, EarlierKind: a, Later: cur.ID, LaterKind: b}
	}
	return nil
}

// KindError is SameKind's refusal: a comparison asked of two runs of different kinds,
// the asker's mistake (medscan diff says it as a usage error).
type KindError struct {
	Earlier, Later         int64
	EarlierKind, LaterKind string
}

func (e *KindError) Error() string {
	return fmt.Sprintf("scan %d is a %s run and scan %d a %s run: neither looks at what the other does; compare two runs of one kind",
		e.Earlier, e.EarlierKind, e.Later, e.LaterKind)
}

// Every store function that compares runs (PreviousScan, AttachChange, LoadWithChange)
// takes the later scan by its id in the store: r.Scan.ID must be set.

// PreviousScan returns the scan a history compares scan id with: the latest earlier scan
// of the same site, kind and label (two sites' "icu" are two wards); or, when id has no label, the latest earlier
// unlabelled scan of the same kind that read the same sources (the same captures,
// interfaces or targets, in any order; never standard input, another capture each
// time). ok is false when there is none: two unrelated scans are never compared.
func (s *Store) PreviousScan(ctx context.Context, id int64) (prev int64, ok bool, err error) {
	var kind, label, sources, site string
	err = s.db.QueryRowContext(ctx, "SELECT kind, label, sources, site FROM scans WHERE id = ?", id).Scan(&kind, &label,
		&sources, &site)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, noScan("store: %s: no scan with id %d", s.path, id)
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: %s: %w", s.path, err)
	}
	want, err := sourceSet(sources)
	if err != nil {
		return 0, false, err
	}
	return s.previous(ctx, id, kind, label, site, want)
}

// previous is PreviousScan for a scan of kind, label, site and sources (a sorted set, as
// sourceSet gives), among the scans stored before before (every scan when before is 0).
func (s *Store) previous(ctx context.Context, before int64, kind, label, site string, want []string) (prev int64, ok bool, err error) {
	if label == "" && slices.Contains(want, "-") {
		return 0, false, nil
	}
	if before == 0 {
		before = math.MaxInt64
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, sources FROM scans WHERE id < ? AND site = ? AND kind = ? AND label = ?
		ORDER BY id DESC`, before, site, kind, label)
	if err != nil {
		return 0, false, fmt.Errorf("store: %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var cand int64
		var text string
		if err := rows.Scan(&cand, &text); err != nil {
			return 0, false, fmt.Errorf("store: %s: %w", s.path, err)
		}
		if label != "" {
			return cand, true, nil
		}
		if got, err := sourceSet(text); err == nil && slices.Equal(got, want) {
			return cand, true, nil
		}
	}
	return 0, false, rows.Err()
}

// sourceSet reads a scan's stored sources as a sorted set.
func sourceSet(text string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(text), &l); err != nil {
		return nil, fmt.Errorf("store: bad source list %.40q: %w", text, err)
	}
	slices.Sort(l)
	return slices.Compact(l), nil
}

// NothingToCompare explains why a scan has no previous scan to be compared with.
func NothingToCompare(s findings.ScanInfo) string {
	if s.Label != "" && s.Site != "" {
		return fmt.Sprintf("scan %d is the first %s run labelled %q at site %q", s.ID, s.RunKind(), s.Label, s.Site)
	}
	if s.Label != "" {
		return fmt.Sprintf("scan %d is the first %s run labelled %q", s.ID, s.RunKind(), s.Label)
	}
	if slices.Contains(s.Sources, "-") {
		return fmt.Sprintf("scan %d has no label and read standard input, which is another capture each time; label recurring scans (--label) or give two scan IDs",
			s.ID)
	}
	return fmt.Sprintf("scan %d has no label and no earlier %s run read the same sources (%s); label recurring scans (--label) or give two scan IDs",
		s.ID, s.RunKind(), strings.Join(s.Sources, ", "))
}

// LoadWithChange is Load with Report.Change filled against PreviousScan, when there is
// one.
func (s *Store) LoadWithChange(ctx context.Context, id int64, catalog findings.Catalog) (*findings.Report, error) {
	r, err := s.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.AttachChange(ctx, r, catalog); err != nil {
		return nil, err
	}
	return r, nil
}

// AttachChange fills r.Change against the previous comparable scan in the store, when
// there is one; r need not have been read from this store (a scan just run and rendered
// from memory).
func (s *Store) AttachChange(ctx context.Context, r *findings.Report, catalog findings.Catalog) error {
	return s.AttachChangeFrom(ctx, r, catalog, nil)
}

// AttachChangeFrom is AttachChange given the previous scan read ahead (ReadPrevious):
// it is used when it is still the scan r is compared with, and the comparison reads the
// store otherwise (another scan stored between the two). pre may be nil.
func (s *Store) AttachChangeFrom(ctx context.Context, r *findings.Report, catalog findings.Catalog, pre *findings.Report) error {
	prevID, ok, err := s.PreviousScan(ctx, r.Scan.ID)
	if err != nil || !ok {
		return err
	}
	prev := pre
	if prev == nil || prev.Scan.ID != prevID {
		// The earlier scan's findings and certificates: its renewed and replaced server
		// certificates are part of the change (certChanges).
		if prev, err = s.LoadParts(ctx, prevID, PartFindings, PartCertificates); err != nil {
			return err
		}
	}
	r.Change = Diff(prev, r, catalog)
	return nil
}
