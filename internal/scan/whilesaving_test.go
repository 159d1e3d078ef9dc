package scan

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

// TestWhileSavingReadsPrevious scans the ward twice into one store, the second time
// reading the previous scan beside the save (Options.WhileSaving, as the CLI does): the
// hook is given the scan's description and findings, runs once, and the change it leads
// to is the one AttachChange computes after the save. Under -race it also holds the
// hook's reading of the findings apart from the save's work on the same document.
func TestWhileSavingReadsPrevious(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clock := func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }
	first, err := Run(ctx, st, Options{Pcaps: []string{wardFile(t)}, Label: "4-west", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	var pre *findings.Report
	res, err := Run(ctx, st, Options{Pcaps: []string{wardFile(t)}, Label: "4-west", Clock: clock, ReportOnly: true,
		WhileSaving: func(ctx context.Context, info findings.ScanInfo, current []findings.Finding) {
			calls++
			if info.Label != "4-west" || info.ID != 0 || len(current) == 0 {
				t.Errorf("WhileSaving given %+v and %d findings", info, len(current))
			}
			var err error
			if pre, err = st.ReadPrevious(ctx, info, current); err != nil {
				t.Error(err)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || pre == nil {
		t.Fatalf("WhileSaving ran %d times, read %v; want once, a scan", calls, pre)
	}
	switch pre.Scan.ID {
	case first.ScanID:
	case res.ScanID:
		// The save committed before the reader began (a loaded machine): the reader
		// rightly found the new scan, and AttachChangeFrom must fall back to reading the
		// previous scan itself; the change compared below is the same either way.
		t.Logf("the save committed before the reader ran: checking AttachChangeFrom's fallback")
	default:
		t.Fatalf("WhileSaving read scan %d; want %d (or, late, %d)", pre.Scan.ID, first.ScanID, res.ScanID)
	}
	catalog := rules.CatalogIndex()
	if err := st.AttachChangeFrom(ctx, res.Report, catalog, pre); err != nil {
		t.Fatal(err)
	}
	again, err := st.Load(ctx, res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AttachChange(ctx, again, catalog); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(res.Report.Change)
	want, _ := json.Marshal(again.Change)
	if again.Change == nil || again.Change.Counts.Persisting == 0 || string(got) != string(want) {
		t.Errorf("change read beside the save:\n%s\nwant\n%s", got, want)
	}
}
