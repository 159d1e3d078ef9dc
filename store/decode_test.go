package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

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
	for _, tc := range []struct{ query, want string }{
		{`UPDATE observations SET data = '{"host": ' WHERE scan_id = ?1 AND kind = 'flow'
			AND seq = (SELECT seq FROM observations WHERE scan_id = ?1 AND kind = 'flow' ORDER BY seq LIMIT 1 OFFSET 600)`,
			"bad flow row"},
		{`UPDATE scan_assets SET data = '[1' WHERE scan_id = ?1
			AND asset_id = (SELECT asset_id FROM scan_assets WHERE scan_id = ?1 ORDER BY asset_id LIMIT 1 OFFSET 270)`,
			"bad asset"},
		{`UPDATE certificates SET facts = '{"subject": 7}' WHERE id = (SELECT max(cert_id) FROM scan_certificates WHERE scan_id = ?1)`,
			"bad certificate facts"},
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
		if _, _, err := s.Stream(ctx, id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Stream: %v; want an error with %q", err, tc.want)
		}
	}
}
