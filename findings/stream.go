package findings

import (
	"errors"
	"iter"
	"maps"
	"slices"
	"time"
)

// FindingStream is a scan's findings read from the store as they are written out,
// rather than held as a list: a report of a hospital's scan has tens of thousands of
// them, and holding, decoding and sorting every one before the first byte leaves was
// most of the time and memory of rendering it. A Report carrying one (Report.Stream)
// has no Findings of its own; Summary still counts every finding.
type FindingStream struct {
	// All yields every finding in report order (SortFindings), tidy (Tidy), then nil;
	// or an error, after which it yields nothing more.
	All iter.Seq2[Finding, error]
	// Groups are the findings of each rule and severity (GroupFindings), counted
	// without reading the findings whole.
	Groups func() ([]FindingGroup, error)
	// Counts are the number of findings of each severity, and Spans the earliest and
	// latest observation time of a finding of each severity (absent when none has one).
	Counts map[Severity]int
	Spans  map[Severity][2]time.Time
	// Identities yields, in no particular order, what identifies each finding of All
	// (rule, severity, host, port, subject, file, fingerprint) with its times (Time,
	// FirstSeen, LastSeen), tidy, without its text or evidence; then nil, or an error
	// after which it yields nothing more. A filter by identity and time
	// (Report.ChangedSince) reads it to decide and count what it keeps before All is
	// walked.
	Identities iter.Seq2[Finding, error]
	// Only, when not nil, says by fingerprint which findings a filter by identity
	// (Report.ChangedSince) keeps: All passes over the others either way, and the
	// store's All leaves their rows undecoded (a finding's evidence is most of the cost
	// of reading it), so that an export keeping a few new findings of a large scan does
	// not decode the rest.
	Only func(fingerprint string) bool
}

// Span is the earliest and latest observation time of a finding; zero when no finding
// has one.
func (s *FindingStream) Span() (first, last time.Time) {
	for _, sp := range s.Spans {
		if first.IsZero() || !sp[0].IsZero() && sp[0].Before(first) {
			first = sp[0]
		}
		if sp[1].After(last) {
			last = sp[1]
		}
	}
	return first, last
}

// Collect reads every finding of the stream into a list, for a writer that needs them
// all at once.
func (s *FindingStream) Collect() ([]Finding, error) {
	fs := []Finding{}
	for f, err := range s.All {
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// showOnly narrows the stream to the given severities, as Report.ShowOnly narrows a
// list: the findings of the others are read and passed over.
func (s *FindingStream) showOnly(keep func(Severity) bool) {
	all, groups := s.All, s.Groups
	bySeverity := func(f Finding) bool { return keep(f.Severity) }
	s.All = filtered(all, bySeverity)
	s.Groups = func() ([]FindingGroup, error) {
		gs, err := groups()
		return slices.DeleteFunc(gs, func(g FindingGroup) bool { return !keep(g.Severity) }), err
	}
	maps.DeleteFunc(s.Counts, func(sev Severity, _ int) bool { return !keep(sev) })
	maps.DeleteFunc(s.Spans, func(sev Severity, _ [2]time.Time) bool { return !keep(sev) })
	if ids := s.Identities; ids != nil {
		s.Identities = filtered(ids, bySeverity)
	}
}

// keep narrows the stream to the findings keep keeps (Report.ChangedSince), each
// decided once, from its identity and times, in one pass over Identities before any is
// read whole: kept records every decision by fingerprint (the change lists are kept by
// it), Counts and Spans are recounted from the findings kept, All passes over the
// others as it reads them (and reads nothing when none is kept), and Groups groups the
// kept identities. A stream without
// Identities cannot be narrowed so: it is an error.
// Tally counts f in s's Counts by its severity and widens that severity's span in Spans
// to its time (a zero time is no time), as the store counts a scan's findings: for a
// stream made of findings in memory.
func (s *FindingStream) Tally(f Finding) {
	if s.Counts == nil {
		s.Counts = map[Severity]int{}
	}
	if s.Spans == nil {
		s.Spans = map[Severity][2]time.Time{}
	}
	s.Counts[f.Severity]++
	if f.Time.IsZero() {
		return
	}
	sp, ok := s.Spans[f.Severity]
	if !ok || f.Time.Before(sp[0]) {
		sp[0] = f.Time
	}
	if !ok || f.Time.After(sp[1]) {
		sp[1] = f.Time
	}
	s.Spans[f.Severity] = sp
}

func (s *FindingStream) keep(keep func(Finding) bool, kept map[string]bool) error {
	ids := s.Identities
	if ids == nil {
		return errors.New("findings: a stream without identities cannot be narrowed by time")
	}
	tally := FindingStream{Counts: map[Severity]int{}, Spans: map[Severity][2]time.Time{}}
	for f, err := range ids {
		if err != nil {
			return err
		}
		k := keep(f)
		kept[f.Identity()] = k
		if !k {
			continue
		}
		tally.Tally(f)
	}
	s.Counts, s.Spans = tally.Counts, tally.Spans
	s.Only = func(fp string) bool { return kept[fp] } // ids were an earlier filter's kept ones: kept implies it
	all := s.All
	isKept := func(f Finding) bool { return kept[f.Identity()] }
	keptOfAll := filtered(all, isKept)
	s.All = func(yield func(Finding, error) bool) {
		if len(tally.Counts) == 0 {
			return // none kept (an export run when nothing changed): none read whole
		}
		keptOfAll(yield)
	}
	s.Identities = filtered(ids, isKept)
	s.Groups = func() ([]FindingGroup, error) {
		fs := []Finding{}
		for f, err := range s.Identities {
			if err != nil {
				return nil, err
			}
			fs = append(fs, f)
		}
		SortFindings(fs)
		return GroupFindings(fs), nil
	}
	return nil
}

// FindingGroup is the findings of one rule at one severity, as a large scan's human
// outputs show them: how many, on how many places (hosts, or files for findings about
// files), and the first few of those places.
type FindingGroup struct {
	Rule     string
	Severity Severity
	Count    int       // findings
	Hosts    int       // distinct places: hosts, or files for findings about files
	First    []Finding // a finding at each of the first places, in report order
	More     int       // places beyond First
}

// GroupPlaces is how many places a FindingGroup names before counting the rest.
const GroupPlaces = 3

// Place is what a group counts a finding under: its host, or its file when it has none.
func (f Finding) Place() string {
	if f.Host == "" {
		return f.File
	}
	return f.Host
}

// GroupFindings groups fs (in report order: most severe first, then rule) by rule and
// severity, in the order each group first appears.
func GroupFindings(fs []Finding) []FindingGroup {
	type key struct {
		rule string
		sev  Severity
	}
	at := map[key]int{}
	places := map[key]*Places{}
	var out []FindingGroup
	for _, f := range fs {
		k := key{f.Rule, f.Severity}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			places[k] = &Places{}
			out = append(out, FindingGroup{Rule: f.Rule, Severity: f.Severity})
		}
		g := &out[i]
		g.Count++
		if added, first := places[k].Add(&f); first {
			g.First = append(g.First, f)
		} else if added {
			g.More++
		}
		g.Hosts = places[k].Len()
	}
	return out
}

// Places counts the distinct places (Finding.Place) of one group's findings as they
// come, and tells which are among its first GroupPlaces: what GroupFindings counts, for
// a writer that groups as it goes (the HTML page keeps each first place's location).
type Places struct {
	seen map[string]bool
}

// Add counts f's place: added when it is a place not met before, first when it is also
// one of the first GroupPlaces.
func (p *Places) Add(f *Finding) (added, first bool) {
	place := f.Place()
	if p.seen[place] {
		return false, false
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[place] = true
	return true, len(p.seen) <= GroupPlaces
}

// Len is how many distinct places were added.
func (p *Places) Len() int { return len(p.seen) }

// filtered is seq without the findings keep refuses; errors pass through.
func filtered(seq iter.Seq2[Finding, error], keep func(Finding) bool) iter.Seq2[Finding, error] {
	return func(yield func(Finding, error) bool) {
		for f, err := range seq {
			if err == nil && !keep(f) {
				continue
			}
			if !yield(f, err) {
				return
			}
		}
	}
}
