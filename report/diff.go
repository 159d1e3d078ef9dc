package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
)

// The comparison of two scans (medscan diff).
func init() {
	Comparison.register("table", func(o Options) Writer[*findings.Comparison] {
		return WriterFunc[*findings.Comparison](func(w io.Writer, c *findings.Comparison) error {
			return diffTable(w, c, o.width())
		})
	})
	Comparison.register("json", func(Options) Writer[*findings.Comparison] {
		return WriterFunc[*findings.Comparison](func(w io.Writer, c *findings.Comparison) error { return writeJSON(w, c) })
	})
}

func describeSide(s findings.ScanRef) string {
	d := fmt.Sprintf("scan %d (%s", s.ID, s.Started.UTC().Format("2006-01-02 15:04"))
	if s.Kind != "" && s.Kind != findings.KindNetwork {
		d += ", " + s.Kind + " run"
	}
	if s.Label != "" {
		d += ", label " + strconv.Quote(s.Label)
	}
	if !s.Complete {
		d += ", INCOMPLETE"
	}
	return term(d + ")")
}

// diffTable renders the comparison: a heading, the counts, then one row per finding that
// changed or stayed, new first; or why there was nothing to compare.
func diffTable(w io.Writer, doc *findings.Comparison, total int) error {
	c := doc.Change
	if c == nil || doc.Previous == nil {
		for _, line := range wrap("Nothing to compare: "+term(doc.Reason), total, 0) {
			fmt.Fprintln(w, line)
		}
		return nil
	}
	fmt.Fprintf(w, "Comparing %s\n     with %s\n", describeSide(doc.Scan), describeSide(*doc.Previous))
	fmt.Fprintf(w, "%d new, %d fixed, %d persisting, %d not assessed\n\n",
		c.Counts.New, c.Counts.Fixed, c.Counts.Persisting, c.Counts.NotAssessed)
	tb := &table{cols: []column{{header: "STATUS", maxLines: 2}, {header: "SEVERITY"},
		{header: "RULE", min: 12, flex: true, maxLines: 2}, {header: "TARGET", min: 15, flex: true, maxLines: 2},
		{header: "DETAIL", min: 24, flex: true}}}
	add := func(status string, list []findings.ChangedFinding) {
		for _, f := range list {
			st := status
			if f.Suppressed {
				st += " (suppressed)"
			}
			// A persisting finding is described in the scan's report; here it needs no
			// more than its target. One not assessed says why first.
			detail := f.Message
			switch {
			case f.Reason != "":
				detail = f.Reason + ": " + detail
			case status == "persisting":
				detail = ""
			}
			tb.rows = append(tb.rows, []string{st, strings.ToUpper(f.Severity.String()), term(f.Rule), location(f),
				term(detail)})
		}
	}
	add("NEW", c.New)
	add("FIXED", c.Fixed)
	add("NOT ASSESSED", c.NotAssessed)
	add("persisting", c.Persisting)
	if len(tb.rows) == 0 {
		_, err := fmt.Fprintln(w, "Neither scan has findings.")
		return err
	}
	return tb.render(w, total, false)
}
