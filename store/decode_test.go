package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
)

// TestLoadDecodesInBatches saves a scan whose lists each span several decoding batches
// (decode.go: decodeRows) and reads it back as it was saved, every list whole and in
// its order, by Load and by Stream.
func TestLoadDecodesInBatches(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	built := densescan.Report(24)
	if n := len(built.Flows); n < 2*decodeRows+1 {
		t.Fatalf("%d flows: fewer than three batches", n)
	}
	if n := len(built.Assets); n < decodeRows+1 {
		t.Fatalf("%d assets: one batch", n)
	}
	id, err := s.Save(ctx, built)
	if err != nil {
		t.Fatal(err)
	}
	built.Normalize()
	loaded, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	streamed, done, err := s.Stream(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := done(); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"flows": built.Flows, "assets": built.Assets, "certificates": built.Certificates,
		"tls_sessions": built.TLSSessions, "services": built.Services, "hl7": built.HL7}
	for how, r := range map[string]map[string]any{
		"Load": {"flows": loaded.Flows, "assets": loaded.Assets, "certificates": loaded.Certificates,
			"tls_sessions": loaded.TLSSessions, "services": loaded.Services, "hl7": loaded.HL7},
		"Stream": {"flows": streamed.Flows, "assets": streamed.Assets, "certificates": streamed.Certificates,
			"tls_sessions": streamed.TLSSessions, "services": streamed.Services, "hl7": streamed.HL7},
	} {
		for name, list := range r {
			g, _ := json.Marshal(list)
			w, _ := json.Marshal(want[name])
			if string(g) != string(w) {
				t.Errorf("%s: %s differ from those saved (%d bytes of JSON, want %d)", how, name, len(g), len(w))
			}
		}
	}
}

// TestLoadBadRow: a row that cannot be decoded, anywhere in a list (here past the first
// batch), fails the load with the row's own error, as when rows were decoded one by one.
func TestLoadBadRow(t *testing.T) {
	fileOnly(t) // tampers with the SQLite file itself
	ctx := context.Background()
	for _, tc := range []struct {
		query, want string
		stream      bool // the error comes from walking the streamed findings
	}{
		{`UPDATE observations SET data = '{"host": ' WHERE scan_id = ?1 AND kind = 'flow'
			AND seq = (SELECT seq FROM observations WHERE scan_id = ?1 AND kind = 'flow' ORDER BY seq LIMIT 1 OFFSET 600)`,
			"bad flow row", false},
		{`UPDATE scan_assets SET data = '[1' WHERE scan_id = ?1
			AND asset_id = (SELECT asset_id FROM scan_assets WHERE scan_id = ?1 ORDER BY asset_id LIMIT 1 OFFSET 270)`,
			"bad asset", false},
		{`UPDATE certificates SET facts = '{"subject": 7}' WHERE id = (SELECT max(cert_id) FROM scan_certificates WHERE scan_id = ?1)`,
			"bad certificate facts", false},
		{`UPDATE scan_findings SET evidence = '{"a": [' WHERE scan_id = ?1 AND fingerprint = (SELECT sf.fingerprint
			FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint WHERE sf.scan_id = ?1
			ORDER BY ` + findingOrder + ` LIMIT 1 OFFSET 500)`, "bad evidence", true},
	} {
		s, _ := openTemp(t)
		id, err := s.Save(ctx, densescan.Report(24))
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.db.Exec(tc.query, id)
		if err != nil {
			t.Fatalf("%.60s: %v", tc.query, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%.60s: %d rows changed", tc.query, n)
		}
		if _, err := s.Load(ctx, id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load: %v; want an error with %q", err, tc.want)
		}
		r, done, err := s.Stream(ctx, id)
		if err == nil && tc.stream {
			n := 0
			for _, err = range r.Stream.All {
				if err != nil {
					break
				}
				n++
			}
			if n != 500 {
				t.Errorf("Stream: %d findings before the error, want 500", n)
			}
			done()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Stream: %v; want an error with %q", err, tc.want)
		}
	}
}

// TestStreamStopsEarly: a walk of the streamed findings stopped at any point leaves
// nothing reading the store, whose read transaction can then end; walked again, the
// stream gives the findings from the start.
func TestStreamStopsEarly(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	id, err := s.Save(ctx, densescan.Report(24))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, stop := range []int{0, 1, findingBatchRows, 3*findingBatchRows + 7, len(whole.Findings) - 1} {
		r, done, err := s.Stream(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			i := 0
			for f, err := range r.Stream.All {
				if err != nil {
					t.Fatal(err)
				}
				if f.Fingerprint != whole.Findings[i].Fingerprint {
					t.Fatalf("finding %d is %s, want %s", i, f.Fingerprint, whole.Findings[i].Fingerprint)
				}
				if i == stop {
					break
				}
				i++
			}
		}
		if err := done(); err != nil {
			t.Errorf("stopped at %d: ending the read: %v", stop, err)
		}
	}
}

// TestStreamWithoutFlows: a stream for a writer that does not render the data-flow map
// has none, read or built, and every other list as Stream has it.
func TestStreamWithoutFlows(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	id, err := s.Save(ctx, densescan.Report(4))
	if err != nil {
		t.Fatal(err)
	}
	read := func(opts StreamOptions) *findings.Report {
		r, done, err := s.StreamWith(ctx, id, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := done(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	with, without := read(StreamOptions{}), read(StreamOptions{WithoutFlows: true})
	if len(with.Flows) == 0 || without.Flows != nil {
		t.Fatalf("%d flows with, %d (nil: %v) without", len(with.Flows), len(without.Flows), without.Flows == nil)
	}
	with.Flows, with.Stream, without.Stream = nil, nil, nil
	g, _ := json.Marshal(without)
	w, _ := json.Marshal(with)
	if string(g) != string(w) {
		t.Errorf("the document without flows differs in more than its flows:\n got %.300s\nwant %.300s", g, w)
	}
}
