package capture

import (
	"slices"
	"testing"

	"github.com/medscan/medscan/observe"
)

// TestDissectorCountersInNameOrder holds the counters dissectors name (expectations,
// duplicate TFTP blocks, DICOM PDUs...) to one order, whatever order they were first
// counted in: the same capture must give the same document from run to run, and a map's
// order changed it.
func TestDissectorCountersInNameOrder(t *testing.T) {
	names := []string{"tftp_duplicate_blocks", "expectations", "dicom_pdata_pdus", "streams_ftp-data_x", "a_first", "z_last"}
	var first []string
	for run := range 20 {
		set := observe.NewSet()
		e := NewEngine(Config{}, set)
		for i := range names {
			e.addCount(names[(i+run)%len(names)], uint64(i+1))
		}
		e.Finish()
		var got []string
		for _, c := range set.Counters {
			if slices.Contains(names, c.Name) {
				got = append(got, c.Name)
			}
		}
		if !slices.IsSorted(got) || len(got) != len(names) {
			t.Fatalf("run %d: dissector counters %v, want all of them in name order", run, got)
		}
		if first == nil {
			first = got
		} else if !slices.Equal(got, first) {
			t.Fatalf("run %d: %v, first run %v", run, got, first)
		}
	}
}
