package report

import (
	"bytes"
	"testing"

	"github.com/medscan/medscan/internal/densescan"
)

// TestRendersFlows: every scan format that RendersFlows says leaves the data-flow map
// out writes the same bytes with and without it, grouped or not; and the others do
// render it (so that the list is not wider than it need be).
func TestRendersFlows(t *testing.T) {
	for _, format := range Scan.Formats() {
		for _, opts := range []Options{{}, {Verbose: true}, {GroupAbove: 5}} {
			render := func(withFlows bool) []byte {
				r := densescan.Report(3)
				r.Normalize()
				if !withFlows {
					r.Flows = nil
				}
				w, err := Scan.New(format, opts)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := w.Write(&b, r); err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				return b.Bytes()
			}
			with, without := render(true), render(false)
			if same := bytes.Equal(with, without); same == RendersFlows(format) {
				t.Errorf("%s (%+v): RendersFlows %v, but the bytes with and without flows are the same: %v",
					format, opts, RendersFlows(format), same)
			}
		}
	}
	if len(densescan.Report(3).Flows) == 0 {
		t.Fatal("the document has no flows: the test shows nothing")
	}
}
