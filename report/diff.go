package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
)

// The comparison of two scans (medscan diff).
func init() {
	Comparison.register("table", func(o Options) Writer[*findings.Comparison] {
		return WriterFunc[*findings.Comparison](func(w io.Writer, c *findings.Comparison) error {
			return diffTable(w, c, o)
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
// changed or stayed, new first; or why there was nothing to compare. A status with more
// findings than the table shows one by one (Options.grouped: a hospital's persisting
// findings are tens of thousands) is shown grouped by rule and severity below the rows,
// its suppressed findings apart, with where every row is.
func diffTable(w io.Writer, doc *findings.Comparison, o Options) error {
	total := o.width()
	c := doc.Change
	if c == nil || doc.Previous == nil {
		return writeWrapped(w, total, "Nothing to compare: "+term(doc.Reason))
	}
	fieldLines(w, "Comparing", wrap(describeSide(doc.Scan), total-10))
	fieldLines(w, "     with", wrap(describeSide(*doc.Previous), total-10))
	if len(doc.SeverityFilter) > 0 {
		fieldLines(w, "Shown:", wrap(showing(doc.SeverityFilter), total-10))
	}
	fmt.Fprintf(w, "%d new, %d fixed, %d persisting, %d not assessed\n\n",
		c.Counts.New, c.Counts.Fixed, c.Counts.Persisting, c.Counts.NotAssessed)
	tb := &table{cols: []column{{header: "STATUS", min: 10, flex: true}, {header: "SEVERITY"},
		{header: "RULE", min: 10, flex: true}, {header: "TARGET", min: 12, flex: true},
		{header: "DETAIL", min: 16, flex: true, prose: true}}}
	// On a narrow terminal the rule and target head the detail, in one column.
	compact := &table{cols: []column{{header: "STATUS", min: 10, flex: true}, {header: "SEVERITY"},
		{header: "FINDING", min: 20, flex: true, prose: true}}}
	type groupedStatus struct {
		status string
		list   []findings.ChangedFinding
	}
	var grouped []groupedStatus
	add := func(status string, list []findings.ChangedFinding) {
		if o.grouped(len(list)) {
			var shown, suppressed []findings.ChangedFinding
			for _, f := range list {
				if f.Suppressed {
					suppressed = append(suppressed, f)
				} else {
					shown = append(shown, f)
				}
			}
			grouped = append(grouped, groupedStatus{status, shown}, groupedStatus{status + " (suppressed)", suppressed})
			return
		}
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
			sev, rule, at := strings.ToUpper(f.Severity.String()), term(f.Rule), location(f)
			tb.rows = append(tb.rows, []string{st, sev, rule, at, term(detail)})
			compact.rows = append(compact.rows, []string{st, sev, headed(rule+" "+at, term(detail))})
		}
	}
	add("NEW", c.New)
	add("FIXED", c.Fixed)
	add("NOT ASSESSED", c.NotAssessed)
	add("persisting", c.Persisting)
	switch {
	case len(tb.rows) > 0:
		if err := layout(total, tb, compact).render(w, total, false); err != nil {
			return err
		}
	case len(grouped) == 0:
		if _, err := fmt.Fprintln(w, "Neither scan has findings."); err != nil {
			return err
		}
	}
	above := len(tb.rows) > 0 // something is written above the next section
	for _, g := range grouped {
		if len(g.list) == 0 {
			continue
		}
		if above {
			fmt.Fprintln(w)
		}
		above = true
		fmt.Fprintf(w, "%s (%d), grouped\n", g.status, len(g.list))
		if err := groupTable(w, changedGroups(g.list), total, false); err != nil {
			return err
		}
		fmt.Fprintf(w, "%d %s findings, grouped by rule and severity; every finding, one row each: --format json, or -v\n",
			len(g.list), strings.ToLower(g.status))
	}
	return certChangesTable(w, c.CertificatesChanged, total)
}

// changedGroups groups a comparison's findings (in the comparison's order: most severe
// first, then rule) by rule and severity as a scan's are grouped (groupFindings).
func changedGroups(list []findings.ChangedFinding) []findingGroup {
	fs := make([]findings.Finding, len(list))
	for i, f := range list {
		fs[i] = fromChanged(f)
	}
	return groupFindings(fs)
}

// certChangesTable lists the endpoints that presented another leaf certificate in the
// later scan, each certificate before and after on a row of its own.
func certChangesTable(w io.Writer, changes []findings.CertChange, total int) error {
	if len(changes) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "\nCertificates changed (%d endpoint(s)):\n", len(changes)); err != nil {
		return err
	}
	tb := &table{cols: []column{{header: "ENDPOINT", min: 10, flex: true}, {header: "WHEN"},
		{header: "SUBJECT", min: 12, flex: true, prose: true}, {header: "NOT AFTER"}, {header: "KEY (SPKI)"}, {header: "SHA-256"}}}
	for _, ch := range changes {
		for _, side := range []struct {
			name  string
			certs []findings.ChangedCert
		}{{"before", ch.Before}, {"after", ch.After}} {
			for _, c := range side.certs {
				when := side.name
				if side.name == "after" && ch.KeyKept && slices.ContainsFunc(ch.Before, func(b findings.ChangedCert) bool { return b.SPKISHA256 == c.SPKISHA256 }) {
					when = "after (same key)"
				}
				tb.rows = append(tb.rows, []string{term(ch.Endpoint), when, term(c.Subject), c.NotAfter.UTC().Format("2006-01-02"),
					shortHash(c.SPKISHA256), shortHash(c.SHA256)})
			}
		}
	}
	return layout(total, tb).render(w, total, false)
}
