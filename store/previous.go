package store

import (
	"context"
	"slices"

	"github.com/medscan/medscan/findings"
)

// ReadPrevious reads, for a scan not yet stored, described by info and holding the
// findings current, what AttachChange will compare it with once stored: the latest
// comparable scan the store holds now (PreviousScan's rules), with its findings and
// certificates; nil when there is none. A scan reads it while its own save keeps one
// core busy and the other waits (internal/scan's Options.WhileSaving):
// AttachChangeFrom then takes it, unless another scan was stored in between.
//
// An earlier finding that current holds too (by identity) is kept as its identity
// alone, as the findings are read: Diff reads nothing else of it (it persists, and is
// described from the later scan). The earlier scan is then held through the save, where
// a scan's memory peaks, at a fraction of its size: in a scheduled scan nearly every
// finding persists, and their evidence is most of a scan's findings. The document is
// thus for AttachChangeFrom of the scan current describes, not for rendering. current
// is only read.
func (s *Store) ReadPrevious(ctx context.Context, info findings.ScanInfo, current []findings.Finding) (*findings.Report, error) {
	want := slices.Clone(info.Sources)
	slices.Sort(want)
	want = slices.Compact(want)
	prevID, ok, err := s.previous(ctx, 0, info.RunKind(), info.Label, info.Site, want)
	if err != nil || !ok {
		return nil, err
	}
	now := make(map[string]struct{}, len(current))
	for i := range current {
		now[current[i].Identity()] = struct{}{}
	}
	return s.loadWith(ctx, prevID, func(l *loader) ([]func(*findings.Report) error, error) {
		return []func(*findings.Report) error{l.scanInfo, l.findingsBesides(now), l.certificatesOnly}, nil
	})
}

// findingsBesides reads the scan's findings (loader.findings), keeping one whose identity
// is in persisting (nil: none) as that identity alone (ReadPrevious): its row is read
// but never decoded (its evidence is most of the cost, and of the garbage made during a
// save).
func (l *loader) findingsBesides(persisting map[string]struct{}) func(*findings.Report) error {
	return func(r *findings.Report) error {
		var identities []findings.Finding // appended on the reading goroutine, read once the walk is over
		skip := func(row *findingRow) bool {
			if !hasKey(persisting, row.f.Fingerprint) {
				return false
			}
			identities = append(identities, findings.Finding{Fingerprint: row.f.Fingerprint})
			return true
		}
		for f, err := range l.findingsOf("", skip) {
			if err != nil {
				return err
			}
			r.Findings = append(r.Findings, f)
		}
		r.Findings = append(r.Findings, identities...) // loadWith sorts the document
		return nil
	}
}

func hasKey(m map[string]struct{}, k string) bool { _, ok := m[k]; return ok }
