package findings

import (
	"slices"
	"strings"
	"time"
)

// A severity filter (-s/--severity) narrows what a document shows, never what is stored
// or what the CI gate counts: the CLI applies the gate before it filters.

// ParseSeverities reads a comma-separated list of severities ("high,critical"), in any
// case, with no duplicates.
func ParseSeverities(list string) ([]Severity, error) {
	var out []Severity
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		s, err := ParseSeverity(item)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}

// namesOf are the names of sevs, for a document that says it was filtered.
func namesOf(sevs []Severity) []string {
	out := make([]string, len(sevs))
	for i, s := range sevs {
		out[i] = s.String()
	}
	return out
}

// ShowOnly keeps, of the findings the report shows, those of the given severities: its
// findings, suppressed findings and change lists, with the summary and the change
// counts recounted, and SeverityFilter naming what was kept. No severities: no change.
func (r *Report) ShowOnly(sevs []Severity) {
	if len(sevs) == 0 {
		return
	}
	keep := func(s Severity) bool { return slices.Contains(sevs, s) }
	r.Findings = slices.DeleteFunc(r.Findings, func(f Finding) bool { return !keep(f.Severity) })
	if r.Stream != nil {
		r.Stream.showOnly(keep)
	}
	r.Suppressed = slices.DeleteFunc(r.Suppressed, func(s SuppressedFinding) bool { return !keep(s.Finding.Severity) })
	r.Change.ShowOnly(sevs)
	r.Summarize()
	r.SeverityFilter = namesOf(sevs)
}

// ShowOnly keeps the changed findings of the given severities and recounts; a nil
// Change stays nil.
func (c *Change) ShowOnly(sevs []Severity) {
	if c == nil || len(sevs) == 0 {
		return
	}
	drop := func(f ChangedFinding) bool { return !slices.Contains(sevs, f.Severity) }
	c.New = slices.DeleteFunc(c.New, drop)
	c.Fixed = slices.DeleteFunc(c.Fixed, drop)
	c.Persisting = slices.DeleteFunc(c.Persisting, drop)
	c.NotAssessed = slices.DeleteFunc(c.NotAssessed, drop)
	c.Counts = ChangeCounts{New: len(c.New), Fixed: len(c.Fixed), Persisting: len(c.Persisting), NotAssessed: len(c.NotAssessed)}
}

// ShowOnly keeps the compared findings of the given severities.
func (c *Comparison) ShowOnly(sevs []Severity) {
	if len(sevs) == 0 {
		return
	}
	c.Change.ShowOnly(sevs)
	c.SeverityFilter = namesOf(sevs)
}

// ChangedSince keeps, for an incremental export (medscan report -f ocsf --since), what
// happened at or after t: the findings first or last seen since then, and, when the
// scan itself started at or after t, those it found new and those it judged fixed (a
// finding new to this scan is news even when the capture that shows it is older than
// t). A persisting finding not seen again since t is dropped: nothing about it changed.
// Suppressed findings are kept by the same test; the summary and the change counts are
// recounted. A zero t keeps everything.
//
// Findings streamed from the store (r.Stream) are kept by the same test (keptSince),
// decided from their identities and times before any is read whole (FindingStream.keep),
// so that an export run every few minutes never holds the scan; the error is the
// store's, reading them.
func (r *Report) ChangedSince(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	scanSince := !r.Scan.Started.Before(t)
	keep := r.keptSince(t, scanSince)
	kept := map[string]bool{}
	if r.Stream != nil {
		if err := r.Stream.keep(keep, kept); err != nil {
			return err
		}
	}
	r.Findings = slices.DeleteFunc(r.Findings, func(f Finding) bool {
		k := keep(f)
		kept[f.Identity()] = k
		return !k
	})
	r.Suppressed = slices.DeleteFunc(r.Suppressed, func(s SuppressedFinding) bool {
		k := keep(s.Finding)
		kept[s.Identity()] = k
		return !k
	})
	if c := r.Change; c != nil {
		c.New = slices.DeleteFunc(c.New, func(f ChangedFinding) bool { return !kept[f.Fingerprint] })
		c.Fixed = slices.DeleteFunc(c.Fixed, func(f ChangedFinding) bool { return !scanSince })
		c.NotAssessed = slices.DeleteFunc(c.NotAssessed, func(f ChangedFinding) bool { return !scanSince })
		c.Persisting = slices.DeleteFunc(c.Persisting, func(f ChangedFinding) bool { return !kept[f.Fingerprint] })
		c.Counts = ChangeCounts{New: len(c.New), Fixed: len(c.Fixed), Persisting: len(c.Persisting), NotAssessed: len(c.NotAssessed)}
	}
	r.Summarize()
	return nil
}

// keptSince is ChangedSince's one test of a finding, listed or streamed: seen (first or
// last) at or after t, or, when the scan started at or after t, new to it. It reads of
// the finding only its identity and its first and last seen times. scanSince is whether
// the scan started at or after t.
func (r *Report) keptSince(t time.Time, scanSince bool) func(Finding) bool {
	isNew := map[string]bool{}
	if r.Change != nil {
		for _, c := range r.Change.New {
			isNew[c.Fingerprint] = true
		}
	}
	return func(f Finding) bool {
		if !f.FirstSeen.Before(t) || !f.LastSeen.Before(t) {
			return true
		}
		// With no earlier comparable scan every finding of this one is new.
		return scanSince && (r.Change == nil || isNew[f.Identity()])
	}
}
