package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
)

// streamOf is r with its findings as a stream, as the store hands a stored scan to a
// writer (store.StreamWith): the findings tidy, in the document's order, counted by
// severity with their times' spans, and the list empty. walks counts the walks of the
// stream.
func streamOf(r *findings.Report, walks *int) *findings.Report {
	s := *r
	fs := append([]findings.Finding(nil), r.Findings...)
	findings.Tidy(&fs)
	findings.SortFindings(fs)
	st := &findings.FindingStream{Counts: map[findings.Severity]int{}, Spans: map[findings.Severity][2]time.Time{}}
	for _, f := range fs {
		st.Tally(f)
	}
	st.All = func(yield func(findings.Finding, error) bool) {
		*walks++
		for _, f := range fs {
			if !yield(f, nil) {
				return
			}
		}
	}
	s.Findings, s.Stream = []findings.Finding{}, st
	s.Summarize()
	return &s
}

// TestHTMLStreamIsList: the page of a scan whose findings come as a stream (a stored scan
// read by store.StreamWith) is the page of the same scan with its findings as a list,
// byte for byte, listed and grouped; the stream is walked once and never collected into
// a list.
func TestHTMLStreamIsList(t *testing.T) {
	docs := map[string]func() *findings.Report{
		"dense": func() *findings.Report { r := densescan.Report(3); r.Normalize(); return r },
		"hostile": func() *findings.Report {
			r := htmlHostile()
			findings.SortFindings(r.Findings)
			return r
		},
		"summary": func() *findings.Report {
			r := summaryReport()
			findings.SortFindings(r.Findings)
			r.Summarize() // as every stored scan is
			return r
		},
		"fixture": func() *findings.Report { r := fixture(); findings.SortFindings(r.Findings); return r },
	}
	for name, doc := range docs {
		if len(doc().Findings) < 3 {
			t.Fatalf("%s: %d findings: too few to group", name, len(doc().Findings))
		}
		for _, opts := range []Options{{}, {GroupAbove: 2}, {GroupAbove: -1}, {GroupAbove: 2, Catalog: summaryCatalog()},
			{GroupAbove: -1, Catalog: summaryCatalog()}} {
			list := render(t, "html", opts, doc())
			walks := 0
			r := streamOf(doc(), &walks)
			w, err := Scan.New("html", opts)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := w.Write(&b, r); err != nil {
				t.Fatalf("%s %+v: %v", name, opts, err)
			}
			if !bytes.Equal(b.Bytes(), list) {
				t.Errorf("%s, group above %d: the streamed page (%d bytes) differs from the listed one (%d bytes)",
					name, opts.GroupAbove, b.Len(), len(list))
			}
			if walks != 1 || r.Stream == nil || len(r.Findings) != 0 {
				t.Errorf("%s, group above %d: the stream was walked %d times, collected %v", name, opts.GroupAbove, walks,
					r.Stream == nil || len(r.Findings) != 0)
			}
		}
	}
}

// TestSVGStreamIsList: the data-flow map of a scan whose findings come as a stream counts
// them on its flows as the map of the same scan with its findings as a list does.
func TestSVGStreamIsList(t *testing.T) {
	doc := func() *findings.Report { r := densescan.Report(3); r.Normalize(); return r }
	list := render(t, "svg", Options{}, doc())
	none := doc()
	none.Findings = []findings.Finding{}
	if bytes.Equal(list, render(t, "svg", Options{}, none)) {
		t.Fatal("the map is the same without the findings: the test scan's flows have none")
	}
	walks := 0
	r := streamOf(doc(), &walks)
	w, err := Scan.New("svg", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), list) || walks != 1 || r.Stream == nil || len(r.Findings) != 0 {
		t.Errorf("streamed map: %d bytes, walked %d times; listed: %d bytes", b.Len(), walks, len(list))
	}
}

// TestHTMLStreamError: a stream that fails (the store's read) fails the page, and
// nothing is written.
func TestHTMLStreamError(t *testing.T) {
	walks := 0
	r := streamOf(fixture(), &walks)
	all := r.Stream.All
	r.Stream.All = func(yield func(findings.Finding, error) bool) {
		for f := range all {
			if !yield(f, nil) {
				return
			}
			yield(findings.Finding{}, errors.New("store: x.db: reading the findings of scan 1: disk I/O error"))
			return
		}
	}
	w, err := Scan.New("html", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = w.Write(&b, r)
	if err == nil || !strings.HasPrefix(err.Error(), "report: html: store: x.db:") || b.Len() != 0 {
		t.Errorf("Write: %v, %d bytes written; want the store's error and nothing written", err, b.Len())
	}
}
