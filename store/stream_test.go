package store_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/store"
)

// TestStreamRendersAsLoad holds the streamed report (Stream: findings read from SQL in
// the document's order as they are written, counted and grouped there) to the bytes of
// the whole document (Load) in every format that streams, on the ward capture and on a
// dense generated scan large enough to be grouped, with and without -v and -s, and the
// gate to the same verdict. The store's tests run on SQLite and on PostgreSQL.
func TestStreamRendersAsLoad(t *testing.T) {
	ctx := context.Background()
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
			// Findings about files (placed by file, a file named like a host of the same
			// rule), hosts that are names and IPv6 addresses, above the lowest threshold.
			var fs []findings.Finding
			hosts := []string{"", "", "", "10.0.0.10", "10.0.0.9", "fe80::1%eth0", "fe80::1", "pacs.example", "::ffff:10.0.0.9", ""}
			fileOf := []string{"certs/a.pem#1", "certs/b.pem#1", "certs/a.pem#1", "", "", "", "", "", "", "10.0.0.10"}
			for i, h := range hosts {
				for _, rule := range []string{"cert-expired", "key-weak"} {
					fs = append(fs, findings.Finding{Rule: rule, Severity: findings.High, Host: h, Port: 443 - i%2,
						Subject: fmt.Sprintf("CN=dev%d", i), Message: "m", File: fileOf[i], Time: densescan.T0,
						Source: "file", Evidence: map[string]any{"n": i}})
				}
			}
			info := findings.ScanInfo{Kind: findings.KindLint, Started: densescan.T0, Finished: densescan.T0, Complete: true}
			id, err := s.Save(ctx, findings.NewReport(info, nil, fs))
			if err != nil {
				t.Fatal(err)
			}
			return id
		}},
		{"dense", func(t *testing.T, s *store.Store) int64 {
			id, err := s.Save(ctx, densescan.Report(12))
			if err != nil {
				t.Fatal(err)
			}
			return id
		}},
	}
	high := findings.High
	views := []struct {
		name string
		opts report.Options
		show []findings.Severity
	}{
		{"default", report.Options{}, nil},
		{"verbose", report.Options{Verbose: true}, nil},
		{"grouped above 5", report.Options{GroupAbove: 5, Width: 100}, nil},
		{"high and critical", report.Options{GroupAbove: 3}, []findings.Severity{findings.High, findings.Critical}},
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			s, err := store.Open(store.TempStoreName(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			id := sc.save(t, s)
			for _, v := range views {
				for _, format := range []string{"json", "csv", "table"} {
					render := func(rep *findings.Report) []byte {
						t.Helper()
						rep.ShowOnly(v.show)
						w, err := report.Scan.New(format, v.opts)
						if err != nil {
							t.Fatal(err)
						}
						var b bytes.Buffer
						if err := w.Write(&b, rep); err != nil {
							t.Fatal(err)
						}
						return b.Bytes()
					}
					whole, err := s.Load(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					gate := store.Gate{FailOn: &high}
					wantFailed, wantMsg := gate.Failed(whole)
					want := render(whole)
					streamed, done, err := s.Stream(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if len(streamed.Findings) != 0 || streamed.Stream == nil {
						t.Fatalf("Stream read %d findings whole", len(streamed.Findings))
					}
					failed, msg := gate.Failed(streamed)
					got := render(streamed)
					if err := done(); err != nil {
						t.Fatal(err)
					}
					if failed != wantFailed || msg != wantMsg {
						t.Errorf("%s: gate %d %q; whole document: %d %q", v.name, failed, msg, wantFailed, wantMsg)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("%s %s: streamed (%d bytes) differs from the whole document's (%d bytes) at byte %d:\n%s\nwant\n%s",
							v.name, format, len(got), len(want), diffAt(got, want), excerpt(got, diffAt(got, want)),
							excerpt(want, diffAt(got, want)))
					}
					if wantFailed == 0 && v.show == nil && sc.name != "files and odd hosts" {
						t.Errorf("%s: the gate at high failed nothing: the test scan is too thin", v.name)
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
