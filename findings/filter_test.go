package findings

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// sinceReport is a scan started at t0+1h of ten findings whose first and last seen
// times spread over a day, one suppressed, with a change against an earlier scan: some
// new, the others persisting, one fixed and one not assessed.
func sinceReport(t0 time.Time) *Report {
	r := &Report{Scan: ScanInfo{ID: 2, Kind: KindNetwork, Started: t0.Add(time.Hour)}}
	for i := range 10 {
		f := Finding{Rule: []string{"cleartext-hl7", "key-weak", "tls-weak-cipher"}[i%3], Severity: Severity(i % 5),
			Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 443, Message: "m", Evidence: map[string]any{"n": float64(i)},
			Time: t0.Add(time.Duration(i) * time.Hour), FirstSeen: t0.Add(time.Duration(i) * time.Hour),
			LastSeen: t0.Add(time.Duration(2*i) * time.Hour)}
		f.SetFingerprint()
		r.Findings = append(r.Findings, f)
	}
	SortFindings(r.Findings)
	r.Suppressed = []SuppressedFinding{{Finding: r.Findings[4], Suppression: SuppressionRef{Reason: "accepted"}}}
	r.Findings = slices.Delete(r.Findings, 4, 5)
	c := &Change{PreviousScan: 1}
	for i, f := range r.Findings {
		if i%3 == 0 {
			c.New = append(c.New, Changed(f))
		} else {
			c.Persisting = append(c.Persisting, Changed(f))
		}
	}
	c.Persisting = append(c.Persisting, Changed(r.Suppressed[0].Finding))
	c.Fixed = []ChangedFinding{{Fingerprint: "gone", Rule: "key-weak", Severity: High}}
	c.NotAssessed = []ChangedFinding{{Fingerprint: "unseen", Rule: "key-weak", Severity: High, Reason: "not probed"}}
	r.Change = c
	r.Summarize()
	return r
}

// streamOf is r with its findings in a stream, as the store hands them: All in report
// order, Identities without texts or evidence in another order, counted by severity.
func streamOf(r *Report) *Report {
	s := *r
	list := slices.Clone(r.Findings)
	fs := &FindingStream{Counts: map[Severity]int{}, Spans: map[Severity][2]time.Time{}}
	for _, f := range list {
		fs.Tally(f)
	}
	fs.All = func(yield func(Finding, error) bool) {
		for _, f := range list {
			if !yield(f, nil) {
				return
			}
		}
	}
	fs.Identities = func(yield func(Finding, error) bool) {
		for _, f := range slices.Backward(list) {
			id := Finding{Rule: f.Rule, Severity: f.Severity, Host: f.Host, Port: f.Port, Subject: f.Subject, File: f.File,
				Fingerprint: f.Fingerprint, Time: f.Time, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen}
			if !yield(id, nil) {
				return
			}
		}
	}
	fs.Groups = func() ([]FindingGroup, error) { return GroupFindings(list), nil }
	s.Findings, s.Stream = []Finding{}, fs
	c := *r.Change
	s.Change = &c
	s.Summarize()
	return &s
}

// TestChangedSinceStreamed: ChangedSince keeps of a streamed report what it keeps of the
// same report listed (findings, suppressed, change lists, summary), and the stream's
// counts, spans and groups are those of the findings kept (none is read whole when none
// is kept); before the scan, between the findings' first and last seen times, and after
// them, narrowed by severity first or not.
func TestChangedSinceStreamed(t *testing.T) {
	t0 := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		since time.Time
		only  []Severity
		kept  int // findings kept of the 9 not suppressed
	}{
		{t0.Add(-time.Hour), nil, 9},    // before all: the scan's new ones, and every one seen since
		{t0.Add(5 * time.Hour), nil, 6}, // some first seen before and last seen after
		{t0.Add(5 * time.Hour), []Severity{High, Critical}, 4},
		{t0.Add(13 * time.Hour), nil, 2}, // after the scan started: only those seen since
		{t0.Add(48 * time.Hour), nil, 0}, // after everything
		{t0.Add(-time.Hour), []Severity{Low}, 2},
	} {
		name := fmt.Sprintf("since %s %v", tc.since.Sub(t0), tc.only)
		listed, streamed := sinceReport(t0), streamOf(sinceReport(t0))
		read, all := 0, streamed.Stream.All
		streamed.Stream.All = func(yield func(Finding, error) bool) {
			for f, err := range all {
				read++
				if !yield(f, err) {
					return
				}
			}
		}
		listed.ShowOnly(tc.only)
		streamed.ShowOnly(tc.only)
		if err := listed.ChangedSince(tc.since); err != nil {
			t.Fatal(err)
		}
		if err := streamed.ChangedSince(tc.since); err != nil {
			t.Fatal(err)
		}
		got, err := streamed.Stream.Collect()
		if err != nil {
			t.Fatal(err)
		}
		if len(listed.Findings) != tc.kept {
			t.Errorf("%s: %d findings kept; want %d", name, len(listed.Findings), tc.kept)
		}
		if tc.kept == 0 && read != 0 {
			t.Errorf("%s: none kept, %d read whole", name, read)
		}
		if !reflect.DeepEqual(got, listed.Findings) {
			t.Errorf("%s: streamed findings %v; listed %v", name, fingerprints(got), fingerprints(listed.Findings))
		}
		if !reflect.DeepEqual(streamed.Suppressed, listed.Suppressed) || !reflect.DeepEqual(streamed.Change, listed.Change) ||
			streamed.Summary != listed.Summary {
			t.Errorf("%s: streamed %+v, %+v, %+v; listed %+v, %+v, %+v", name, streamed.Summary, streamed.Suppressed,
				streamed.Change, listed.Summary, listed.Suppressed, listed.Change)
		}
		want := streamOf(listed).Stream
		if !reflect.DeepEqual(streamed.Stream.Counts, want.Counts) || !reflect.DeepEqual(streamed.Stream.Spans, want.Spans) {
			t.Errorf("%s: streamed counts %v and spans %v; want %v and %v", name, streamed.Stream.Counts,
				streamed.Stream.Spans, want.Counts, want.Spans)
		}
		gs, err := streamed.Stream.Groups()
		if err != nil {
			t.Fatal(err)
		}
		wantGroups := GroupFindings(listed.Findings)
		if len(gs) != len(wantGroups) {
			t.Fatalf("%s: %d groups; want %d", name, len(gs), len(wantGroups))
		}
		for i, g := range gs {
			w := wantGroups[i]
			if g.Rule != w.Rule || g.Severity != w.Severity || g.Count != w.Count || g.Hosts != w.Hosts || g.More != w.More ||
				!slices.Equal(fingerprints(g.First), fingerprints(w.First)) {
				t.Errorf("%s: group %d: %+v; want %+v", name, i, g, w)
			}
		}
	}
}

// TestChangedSinceStreamErrors: a store error while the identities are read is
// ChangedSince's, and a stream that cannot list identities is refused rather than
// filtered wrongly.
func TestChangedSinceStreamErrors(t *testing.T) {
	t0 := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	r := streamOf(sinceReport(t0))
	broken := errors.New("store: disk I/O error")
	r.Stream.Identities = func(yield func(Finding, error) bool) { yield(Finding{}, broken) }
	if err := r.ChangedSince(t0); !errors.Is(err, broken) {
		t.Errorf("a failing read: %v; want %v", err, broken)
	}
	r = streamOf(sinceReport(t0))
	r.Stream.Identities = nil
	if err := r.ChangedSince(t0); err == nil {
		t.Error("a stream without identities was narrowed")
	}
	// A zero time narrows nothing and reads nothing.
	if err := r.ChangedSince(time.Time{}); err != nil {
		t.Error(err)
	}
}

func fingerprints(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Fingerprint)
	}
	return out
}
