package scan

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
)

// A scan whose save fails (here the store is closed under it) returns a *NotStoredError
// and its document, normalized: the same findings and certificates, in the same order,
// as the same scan read back from a store.
func TestRunNotStoredKeepsTheReport(t *testing.T) {
	fixed := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	opt := Options{Pcaps: []string{wardFile(t)}, Clock: func() time.Time { return fixed }}
	ctx := context.Background()
	good := openStore(t)
	stored, err := Run(ctx, good, opt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := good.Load(ctx, stored.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	// A stored scan's document is what reading it back gives: it is rendered from memory.
	if stored.Report == nil {
		t.Fatal("a stored scan returned no document")
	}
	if g, w := mustJSON(t, stored.Report), mustJSON(t, want); g != w {
		t.Errorf("the stored scan's document differs from the scan read back:\n%s\n%s", g, w)
	}
	broken := openStore(t)
	broken.Close()
	res, err := Run(ctx, broken, opt)
	var notStored *NotStoredError
	if !errors.As(err, &notStored) {
		t.Fatalf("Run into a closed store: err = %v, want a *NotStoredError", err)
	}
	if res.Report == nil || res.ScanID != 0 || !res.Complete {
		t.Fatalf("result = id %d, complete %v, report %v; want the document of a complete, unstored scan",
			res.ScanID, res.Complete, res.Report != nil)
	}
	fps := func(r *findings.Report) []string {
		var out []string
		for _, f := range r.Findings {
			out = append(out, f.Fingerprint)
		}
		return out
	}
	certs := func(r *findings.Report) []string {
		var out []string
		for _, c := range r.Certificates {
			out = append(out, c.SHA256)
		}
		return out
	}
	if got := fps(res.Report); len(got) == 0 || !slices.Equal(got, fps(want)) {
		t.Errorf("findings from memory %v, want as stored %v", got, fps(want))
	}
	if got := certs(res.Report); !slices.Equal(got, certs(want)) {
		t.Errorf("certificates from memory %v, want as stored %v", got, certs(want))
	}
	if res.Report.Summary.Total != want.Summary.Total {
		t.Errorf("summary total %d, want %d", res.Report.Summary.Total, want.Summary.Total)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
