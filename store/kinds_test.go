package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
)

// saveRun saves an empty complete run of a kind, label and sources.
func saveRun(t *testing.T, s *Store, kind, label string, sources ...string) int64 {
	t.Helper()
	return mustSave(t, s, findings.ScanInfo{Kind: kind, Started: t0, Finished: t0, Label: label, Sources: sources,
		Complete: true}, nil, nil)
}

// TestLatestIsPerKind checks that a lint run saved after a network scan does not become
// the "latest" scan: "latest" and "latest~N" count runs of the kind asked for (network
// when none is), and a numeric id names a run of any kind.
func TestLatestIsPerKind(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	net1 := saveRun(t, s, findings.KindNetwork, "", "a.pcap")
	lint := saveRun(t, s, findings.KindLint, "", "certs/")
	resolve := func(ref, kind string) (int64, error) { return s.ResolveScan(ctx, ref, kind) }
	for _, tc := range []struct {
		ref, kind string
		want      int64
	}{
		{"latest", "", net1},
		{"", "", net1},
		{" latest ", "", net1},
		{"latest~0", "", net1}, // the lint run saved since is not counted
		{"latest", findings.KindNetwork, net1},
		{"latest", findings.KindLint, lint},
		{"latest~0", findings.KindLint, lint},
		{fmt.Sprint(lint), "", lint},                   // an id resolves whatever its kind
		{fmt.Sprint(lint), findings.KindNetwork, lint}, // whatever kind is asked for
		{fmt.Sprint(net1), findings.KindLint, net1},
	} {
		got, err := resolve(tc.ref, tc.kind)
		if err != nil || got != tc.want {
			t.Errorf("ResolveScan(%q, %q) = %d, %v; want %d", tc.ref, tc.kind, got, err, tc.want)
		}
	}
	if got, err := s.LatestScanID(ctx, ""); err != nil || got != net1 {
		t.Errorf("LatestScanID(\"\") = %d, %v; want the network scan %d", got, err, net1)
	}
	if got, err := s.LatestScanID(ctx, findings.KindLint); err != nil || got != lint {
		t.Errorf("LatestScanID(lint) = %d, %v; want %d", got, err, lint)
	}
	// latest~N skips the runs of other kinds.
	net2 := saveRun(t, s, findings.KindNetwork, "", "b.pcap")
	if got, err := resolve("latest~1", ""); err != nil || got != net1 {
		t.Errorf("latest~1 = %d, %v; want %d (the lint run between is not counted)", got, err, net1)
	}
	if got, err := resolve("latest", ""); err != nil || got != net2 {
		t.Errorf("latest = %d, %v; want %d", got, err, net2)
	}
	_, err := resolve("latest~1", findings.KindLint)
	if !errors.Is(err, ErrNoScan) || !strings.Contains(err.Error(), "the store holds 1 lint run(s)") {
		t.Errorf("latest~1 of the lint runs = %v; want ErrNoScan saying there is 1 lint run", err)
	}
	// Kinds are read back as saved; a scan saved without one is a network scan.
	unkinded := mustSave(t, s, findings.ScanInfo{Started: t0, Complete: true}, nil, nil)
	scans, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[int64]string{}
	for _, si := range scans {
		kinds[si.ID] = si.Kind
	}
	want := map[int64]string{net1: "network", lint: "lint", net2: "network", unkinded: "network"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("kinds = %v; want %v", kinds, want)
	}
}

// TestOnlyLintRuns checks that a store holding only lint runs has no network "latest",
// says so in an error matching ErrNoScan that tells the user what it holds and how to
// ask for it, and still resolves its lint runs.
func TestOnlyLintRuns(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	lint := saveRun(t, s, findings.KindLint, "", "certs/")
	for _, ref := range []string{"", "latest", "latest~0", "latest~2"} {
		_, err := s.ResolveScan(ctx, ref, "")
		if !errors.Is(err, ErrNoScan) {
			t.Errorf("ResolveScan(%q, \"\") = %v; want an error matching ErrNoScan", ref, err)
			continue
		}
		if !strings.Contains(err.Error(), "--kind lint") || !strings.Contains(err.Error(), "1 lint run(s)") {
			t.Errorf("ResolveScan(%q, \"\") error %q does not say the store holds a lint run (--kind lint)", ref, err)
		}
	}
	if _, err := s.LatestScanID(ctx, ""); !errors.Is(err, ErrNoScan) || !strings.Contains(err.Error(), "--kind lint") {
		t.Errorf("LatestScanID(\"\") = %v", err)
	}
	if got, err := s.ResolveScan(ctx, "latest", findings.KindLint); err != nil || got != lint {
		t.Errorf("ResolveScan(latest, lint) = %d, %v; want %d", got, err, lint)
	}
	// A baseline store is read the same way: its latest network scan.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBaseline(ctx, path, ""); !errors.Is(err, ErrNoScan) || !strings.Contains(err.Error(), "--kind lint") {
		t.Errorf("LoadBaseline of a lint-only store = %v; want ErrNoScan naming --kind lint", err)
	}
	// An empty store asks for the command that makes a run of the kind.
	empty, _ := openTemp(t)
	if _, err := empty.ResolveScan(ctx, "latest", findings.KindLint); !errors.Is(err, ErrNoScan) ||
		!strings.Contains(err.Error(), "no lint run") || !strings.Contains(err.Error(), "run medscan lint first") {
		t.Errorf("ResolveScan(latest, lint) on an empty store = %v", err)
	}
}

// TestPreviousScanPairs checks which scans the history compares: unlabelled scans only
// with an earlier unlabelled scan of the same kind and the same sources (in any order),
// labelled ones with the latest earlier scan of the same label and kind, whatever their
// sources; never two unrelated scans.
func TestPreviousScanPairs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	net, lint := findings.KindNetwork, findings.KindLint
	id := map[string]int64{}
	for _, sc := range []struct {
		name, kind, label string
		sources           []string
	}{
		{"a", net, "", []string{"a.pcap"}},
		{"b", net, "", []string{"b.pcap"}},
		{"ba", net, "", []string{"b.pcap", "a.pcap"}},
		{"ward-net", net, "ward", []string{"a.pcap"}},
		{"ward-lint", lint, "ward", []string{"a.pcap"}},
		{"ab", net, "", []string{"a.pcap", "b.pcap"}},
		{"ward-net-2", net, "ward", []string{"eth0"}},
		{"ward-lint-2", lint, "ward", []string{"certs/"}},
		{"a-again", net, "", []string{"a.pcap"}},
		{"a-lint", lint, "", []string{"a.pcap"}},
		{"aa", net, "", []string{"a.pcap", "a.pcap"}},
	} {
		id[sc.name] = saveRun(t, s, sc.kind, sc.label, sc.sources...)
	}
	for _, tc := range []struct{ scan, prev string }{
		{"a", ""},
		{"b", ""},                    // unlabelled, other sources: unrelated
		{"ba", ""},                   // neither a.pcap alone nor b.pcap alone
		{"ward-net", ""},             // the first network run labelled ward; unlabelled ones do not count
		{"ward-lint", ""},            // labelled like ward-net, but of another kind
		{"ab", "ba"},                 // the same sources in another order
		{"ward-net-2", "ward-net"},   // same label and kind, other sources
		{"ward-lint-2", "ward-lint"}, // likewise among lint runs
		{"a-again", "a"},             // skips everything in between
		{"a-lint", ""},               // the same sources, but the earlier ones are network scans
		{"aa", "a-again"},            // a source named twice is still that source
	} {
		p, ok, err := s.PreviousScan(ctx, id[tc.scan])
		if err != nil {
			t.Fatalf("PreviousScan(%s): %v", tc.scan, err)
		}
		want, wantOK := id[tc.prev], tc.prev != ""
		if ok != wantOK || p != want {
			t.Errorf("PreviousScan(%s = %d) = %d, %v; want %d (%s), %v", tc.scan, id[tc.scan], p, ok, want, tc.prev, wantOK)
		}
		// LoadWithChange compares with exactly that scan, or with nothing.
		r, err := s.LoadWithChange(ctx, id[tc.scan], catalog())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case wantOK && (r.Change == nil || r.Change.PreviousScan != want):
			t.Errorf("LoadWithChange(%s) change = %+v; want against %d", tc.scan, r.Change, want)
		case !wantOK && r.Change != nil:
			t.Errorf("LoadWithChange(%s) compared with scan %d; want no comparison", tc.scan, r.Change.PreviousScan)
		}
	}
	b := mustLoad(t, s, id["b"])
	if msg := NothingToCompare(b.Scan); !strings.Contains(msg, "b.pcap") || !strings.Contains(msg, "--label") {
		t.Errorf("NothingToCompare(unlabelled) = %q", msg)
	}
	if msg := NothingToCompare(findings.ScanInfo{ID: 9, Sources: []string{"-"}}); !strings.Contains(msg, "standard input") {
		t.Errorf("NothingToCompare(stdin) = %q", msg)
	}
	w := mustLoad(t, s, id["ward-lint"])
	if msg := NothingToCompare(w.Scan); !strings.Contains(msg, `first lint run labelled "ward"`) {
		t.Errorf("NothingToCompare(labelled) = %q", msg)
	}
	for _, tc := range []struct {
		a, b findings.ScanInfo
		want bool
	}{
		{findings.ScanInfo{Sources: []string{"x", "y"}}, findings.ScanInfo{Kind: net, Sources: []string{"y", "x"}}, true},
		{findings.ScanInfo{Sources: []string{"x"}}, findings.ScanInfo{Sources: []string{"x", "y"}}, false},
		{findings.ScanInfo{Label: "l", Sources: []string{"x"}}, findings.ScanInfo{Label: "l", Sources: []string{"y"}}, true},
		{findings.ScanInfo{Label: "l", Kind: lint}, findings.ScanInfo{Label: "l"}, false},
		{findings.ScanInfo{Label: "l", Sources: []string{"x"}}, findings.ScanInfo{Sources: []string{"x"}}, false},
		{findings.ScanInfo{}, findings.ScanInfo{}, true},
		// Standard input is another capture each time; a label still pairs it.
		{findings.ScanInfo{Sources: []string{"-"}}, findings.ScanInfo{Sources: []string{"-"}}, false},
		{findings.ScanInfo{Label: "ci", Sources: []string{"-"}}, findings.ScanInfo{Label: "ci", Sources: []string{"-"}}, true},
	} {
		// Saved one after the other: the later is paired with the earlier, or not.
		pair, _ := openTemp(t)
		tc.a.Started, tc.b.Started = t0, t0
		a := mustSave(t, pair, tc.a, nil, nil)
		b := mustSave(t, pair, tc.b, nil, nil)
		prev, ok, err := pair.PreviousScan(ctx, b)
		if got := ok && prev == a; err != nil || got != tc.want {
			t.Errorf("PreviousScan pairs %+v with %+v: %v (%v); want %v", tc.b, tc.a, got, err, tc.want)
		}
	}
}

// TestAttachChangeFromMemory checks AttachChange on a report that was just saved and is
// rendered from memory: it finds the previous comparable scan by the report's own id.
func TestAttachChangeFromMemory(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	first := testInfo()
	first.Complete = true
	prevID := mustSave(t, s, first, fullSet(), testFindings())
	rep := findings.NewReport(first, fullSet(), testFindings()[1:])
	id, err := s.Save(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	rep.Scan.ID = id
	if err := s.AttachChange(ctx, rep, catalog()); err != nil {
		t.Fatal(err)
	}
	if rep.Change == nil || rep.Change.PreviousScan != prevID || rep.Change.Counts.Persisting != len(testFindings())-1 ||
		rep.Change.Counts.Fixed != 1 {
		t.Fatalf("change = %+v", rep.Change)
	}
	// tls-weak-cipher on 10.0.0.5:443 was raised passively, and the later capture holds a
	// completed handshake with that server: fixed.
	if rep.Change.Fixed[0].Rule != "tls-weak-cipher" {
		t.Errorf("fixed = %+v", rep.Change.Fixed)
	}
}
