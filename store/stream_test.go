package store_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

// TestStreamRendersAsLoad holds the streamed report (Stream: findings read from SQL in
// the document's order as they are written, counted and grouped there) to the bytes of
// the whole document (Load) in every format that streams, on the ward capture and on a
// dense generated scan large enough to be grouped, with and without -v and -s, and the
// gate to the same verdict. It does so for the document as stored, and as the CLI
// prepares it (StreamWith): with its change since the previous comparable scan
// (AttachChange) and with suppressions in force (rules.ApplySuppressions), on later
// scans whose change has new, fixed and unassessed findings, some of them suppressed.
// The store's tests run on SQLite and on PostgreSQL. (svg, which only counts the
// findings on the flows, is held to the whole document by cmd/medscan's
// TestReportStreamsAsWhole.)
func TestStreamRendersAsLoad(t *testing.T) {
	ctx := context.Background()
	saveAll := func(t *testing.T, s *store.Store, reps ...*findings.Report) int64 {
		t.Helper()
		var id int64
		for _, r := range reps {
			var err error
			if id, err = s.Save(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	filesAndOddHosts := func(drop, add int) *findings.Report {
		// Findings about files (placed by file, a file named like a host of the same
		// rule), hosts that are names and IPv6 addresses, above the lowest threshold.
		var fs []findings.Finding
		hosts := []string{"", "", "", "10.0.0.10", "10.0.0.9", "fe80::1%eth0", "fe80::1", "pacs.example", "::ffff:10.0.0.9", ""}
		fileOf := []string{"certs/a.pem#1", "certs/b.pem#1", "certs/a.pem#1", "", "", "", "", "", "", "10.0.0.10"}
		for i, h := range hosts {
			for _, rule := range []string{"cert-expired", "key-weak"} {
				if i == drop && rule == "key-weak" {
					continue
				}
				fs = append(fs, findings.Finding{Rule: rule, Severity: findings.High, Host: h, Port: 443 - i%2,
					Subject: fmt.Sprintf("CN=dev%d", i), Message: "m", File: fileOf[i], Time: densescan.T0,
					Source: "file", Evidence: map[string]any{"n": i}})
			}
			if i == add {
				fs = append(fs, findings.Finding{Rule: "cert-self-signed", Severity: findings.Medium, Host: h, Port: 443,
					Subject: "CN=new", Message: "new", File: fileOf[i], Time: densescan.T0.Add(time.Hour), Source: "file"})
			}
		}
		info := findings.ScanInfo{Kind: findings.KindLint, Started: densescan.T0, Finished: densescan.T0, Complete: true}
		return findings.NewReport(info, nil, fs)
	}
	stores := []struct {
		name string
		save func(t *testing.T, s *store.Store) int64
	}{
		{"ward", func(t *testing.T, s *store.Store) int64 {
			if testing.Short() {
				t.Skip("scans a capture")
			}
			res, err := scan.Run(ctx, s, scan.Options{Pcaps: []string{filepath.Join("..", "fixtures", "ward.pcapng")},
				Label: "4-west", ToolVersion: "test", Clock: func() time.Time { return densescan.T0 }})
			if err != nil {
				t.Fatal(err)
			}
			return res.ScanID
		}},
		{"files and odd hosts", func(t *testing.T, s *store.Store) int64 {
			return saveAll(t, s, filesAndOddHosts(-1, -1))
		}},
		{"files and odd hosts, later", func(t *testing.T, s *store.Store) int64 {
			return saveAll(t, s, filesAndOddHosts(-1, -1), filesAndOddHosts(4, 3))
		}},
		{"dense", func(t *testing.T, s *store.Store) int64 {
			return saveAll(t, s, densescan.Report(12))
		}},
		{"dense, later", func(t *testing.T, s *store.Store) int64 {
			first := densescan.Report(16)
			return saveAll(t, s, first, densescan.Later(first, 1), densescan.Later(first, 2))
		}},
		{"dense, later and incomplete", func(t *testing.T, s *store.Store) int64 {
			// Every finding gone is not assessed again: the later scan is incomplete.
			first := densescan.Report(16)
			later := densescan.Later(first, 1)
			later.Scan.Complete = false
			return saveAll(t, s, first, later)
		}},
	}
	high := findings.High
	views := []struct {
		name  string
		opts  report.Options
		show  []findings.Severity
		since time.Time // Report.ChangedSince, after show, as the CLI's --since
	}{
		{"default", report.Options{}, nil, time.Time{}},
		{"verbose", report.Options{Verbose: true}, nil, time.Time{}},
		{"grouped above 5", report.Options{GroupAbove: 5, Width: 100}, nil, time.Time{}},
		{"high and critical", report.Options{GroupAbove: 3}, []findings.Severity{findings.High, findings.Critical}, time.Time{}},
		// A day on: a later scan started since keeps its new findings only (the others
		// were seen before), the first scan none; the capture's last seconds keep some.
		{"changed since a day on", report.Options{GroupAbove: 3}, nil, densescan.T0.Add(24 * time.Hour)},
		{"changed since the capture's last seconds", report.Options{GroupAbove: 3}, []findings.Severity{findings.High},
			densescan.T0.Add(10 * time.Second)},
	}
	expires := time.Now().AddDate(0, 1, 0).UTC().Truncate(24 * time.Hour)
	active := []rules.Suppression{
		{Rule: "cert-expired", Host: netip.MustParsePrefix("10.1.0.0/23"), Reason: "replaced in June", Expires: expires,
			File: "ignore.yaml", Line: 3},
		{Port: 40002, Reason: "a test port", Expires: expires, File: "ignore.yaml", Line: 7}, // new in dense, later
		{Host: netip.MustParsePrefix("10.0.0.10/32"), Reason: "lab host", Expires: expires, File: "ignore.yaml", Line: 11},
		{Rule: "cleartext-hl7", Reason: "matches no finding of a lint run", Expires: expires, File: "ignore.yaml", Line: 15},
	}
	catalog := rules.CatalogIndex()
	suppress := func(f findings.Finding) (findings.SuppressionRef, bool) { return rules.Suppressing(active, f) }
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			s, err := store.Open(store.TempStoreName(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			id := sc.save(t, s)
			// The store's first scan as a baseline document (--baseline): a later scan's
			// earlier one, or the scan itself.
			base, err := s.Load(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			prepared := []struct {
				name string
				opts store.StreamOptions
			}{
				{"as stored", store.StreamOptions{}},
				{"with its change", store.StreamOptions{Catalog: catalog}},
				{"with its change and suppressions", store.StreamOptions{Catalog: catalog, Suppress: suppress}},
				{"against a baseline, with suppressions", store.StreamOptions{Catalog: catalog, Baseline: base, Suppress: suppress}},
			}
			for _, p := range prepared {
				load := func() *findings.Report {
					t.Helper()
					whole, err := s.Load(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					switch {
					case p.opts.Baseline != nil:
						whole.Change = store.Diff(p.opts.Baseline, whole, catalog)
					case p.opts.Catalog != nil:
						if err := s.AttachChange(ctx, whole, catalog); err != nil {
							t.Fatal(err)
						}
					}
					if p.opts.Suppress != nil {
						rules.ApplySuppressions(whole, active)
					}
					return whole
				}
				if whole := load(); strings.Contains(sc.name, "later") && p.opts.Catalog != nil {
					c := whole.Change
					if c == nil || c.Counts.New == 0 || c.Counts.Fixed+c.Counts.NotAssessed == 0 || c.Counts.Persisting == 0 {
						t.Fatalf("%s: the change is too thin to test: %+v", p.name, c)
					}
					if p.opts.Suppress != nil && (len(whole.Suppressed) == 0 || len(whole.Suppressed) == whole.Summary.Total) {
						t.Fatalf("%s: %d suppressed of %d: too thin to test", p.name, len(whole.Suppressed), whole.Summary.Total)
					}
				}
				for _, v := range views {
					for _, format := range []string{"json", "csv", "csv-assets", "table", "sarif", "ocsf", "defectdojo", "html"} {
						render := func(rep *findings.Report) []byte {
							t.Helper()
							rep.ShowOnly(v.show)
							if err := rep.ChangedSince(v.since); err != nil {
								t.Fatal(err)
							}
							opts := v.opts
							opts.Catalog = catalog // as the CLI gives it: sarif streams only with it
							w, err := report.Scan.New(format, opts)
							if err != nil {
								t.Fatal(err)
							}
							var b bytes.Buffer
							if err := w.Write(&b, rep); err != nil {
								t.Fatal(err)
							}
							return b.Bytes()
						}
						whole := load()
						gates := []store.Gate{{FailOn: &high}, {FailOn: &high, NewOnly: true}}
						var wantGates []string
						for _, g := range gates {
							n, msg := g.Failed(whole)
							wantGates = append(wantGates, fmt.Sprint(n, msg))
						}
						before := whole.Summary.Total + whole.Summary.Suppressed
						want := render(whole)
						if kept := whole.Summary.Total + whole.Summary.Suppressed; sc.name == "dense, later" && !v.since.IsZero() && p.opts.Catalog != nil &&
							(kept == 0 || kept == before) {
							t.Errorf("%s %s: %d of %d findings kept: too thin to test", p.name, v.name, kept, before)
						}
						streamed, done, err := s.StreamWith(ctx, id, p.opts)
						if err != nil {
							t.Fatal(err)
						}
						if len(streamed.Findings) != 0 || streamed.Stream == nil {
							t.Fatalf("Stream read %d findings whole", len(streamed.Findings))
						}
						for i, g := range gates {
							if n, msg := g.Failed(streamed); fmt.Sprint(n, msg) != wantGates[i] {
								t.Errorf("%s %s: gate %+v: %d %q; whole document: %s", p.name, v.name, g, n, msg, wantGates[i])
							}
						}
						got := render(streamed)
						if err := done(); err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(got, want) {
							t.Errorf("%s %s %s: streamed (%d bytes) differs from the whole document's (%d bytes) at byte %d:\n%s\nwant\n%s",
								p.name, v.name, format, len(got), len(want), diffAt(got, want), excerpt(got, diffAt(got, want)),
								excerpt(want, diffAt(got, want)))
						}
						if wantGates[0] == "0 " && v.show == nil && v.since.IsZero() && !strings.HasPrefix(sc.name, "files and odd hosts") {
							t.Errorf("%s: the gate at high failed nothing: the test scan is too thin", v.name)
						}
					}
				}
			}
		})
	}
}

func diffAt(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func excerpt(b []byte, at int) string {
	return string(b[max(0, at-200):min(len(b), at+200)])
}
