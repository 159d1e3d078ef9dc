package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
)

// Diff compares an earlier report with a later one by fingerprint: a finding only in the
// later one is new, one in both persists, and one only in the earlier one is fixed when
// the later scan assessed it again (Assessed) and not assessed otherwise, with the reason.
// Suppressed findings of either report take part as findings (a suppression hides, it
// does not fix); the later report's are flagged Suppressed. catalog is the rule catalog,
// whose coverage declarations say what assesses each rule.
func Diff(prev, cur *findings.Report, catalog findings.Catalog) *findings.Change {
	c := &findings.Change{PreviousScan: prev.Scan.ID, PreviousStarted: prev.Scan.Started,
		New: []findings.ChangedFinding{}, Fixed: []findings.ChangedFinding{}, Persisting: []findings.ChangedFinding{},
		NotAssessed: []findings.ChangedFinding{}}
	before := map[string]bool{}
	for _, f := range allFindings(prev) {
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
	seen.earlierKind = prev.Scan.RunKind()
	for _, f := range allFindings(prev) {
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

// Assessed reports whether scan r assessed finding f again, so that its absence from r
// means it was fixed, and if not, why not. The rule's declared coverage decides
// (findings.Coverage): r must be complete, of the finding's kind of run, have run the
// rule, and have seen on the finding's target one of what the rule needs.
func Assessed(r *findings.Report, f findings.Finding, catalog findings.Catalog) (bool, string) {
	reason := newSeen(r).unassessed(f, catalog)
	return reason == "", reason
}

// Every store function that compares runs (PreviousScan, AttachChange, LoadWithChange)
// takes the later scan by its id in the store: r.Scan.ID must be set.

// PreviousScan returns the scan a history compares scan id with: the latest earlier scan
// of the same kind and the same label; or, when id has no label, the latest earlier
// unlabelled scan of the same kind that read the same sources (the same captures,
// interfaces or targets, in any order). ok is false when there is none: two unrelated
// scans are never compared.
func (s *Store) PreviousScan(ctx context.Context, id int64) (prev int64, ok bool, err error) {
	all, err := s.Scans(ctx)
	if err != nil {
		return 0, false, err
	}
	i := slices.IndexFunc(all, func(si findings.ScanInfo) bool { return si.ID == id })
	if i < 0 {
		return 0, false, noScan("store: %s: no scan with id %d", s.path, id)
	}
	cur := all[i]
	for j := i - 1; j >= 0; j-- {
		if Comparable(all[j], cur) {
			return all[j].ID, true, nil
		}
	}
	return 0, false, nil
}

// Comparable reports whether two scans are of the same recurring scan: the same kind,
// and the same label, or both unlabelled and of the same sources.
func Comparable(a, b findings.ScanInfo) bool {
	if a.RunKind() != b.RunKind() || a.Label != b.Label {
		return false
	}
	if a.Label != "" {
		return true
	}
	if slices.Contains(a.Sources, "-") || slices.Contains(b.Sources, "-") {
		return false // standard input is another capture each time
	}
	x, y := slices.Clone(a.Sources), slices.Clone(b.Sources)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// NothingToCompare explains why a scan has no previous scan to be compared with.
func NothingToCompare(s findings.ScanInfo) string {
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
	prevID, ok, err := s.PreviousScan(ctx, r.Scan.ID)
	if err != nil || !ok {
		return err
	}
	prev, err := s.Load(ctx, prevID)
	if err != nil {
		return err
	}
	r.Change = Diff(prev, r, catalog)
	return nil
}
