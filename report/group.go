package report

import (
	"fmt"

	"github.com/medscan/medscan/findings"
)

// A scan of a hospital raises thousands of findings, mostly the same few rules on many
// devices. One row each is a table nobody reads (and most of the time of rendering it):
// above Options.GroupAbove findings, the terminal table and the HTML page show one row
// per rule and severity, with how many findings and hosts, and the first few places,
// and say where every row is (JSON, CSV, -v). The store, the gate, suppressions and
// comparisons still see every finding: grouping is only how a person is shown them.

// DefaultGroupAbove is the number of findings above which the table and the HTML page
// group them when Options.GroupAbove is 0.
const DefaultGroupAbove = 200

// grouped reports whether n findings are shown grouped: above the threshold, unless the
// reader asked for every row (Verbose) or never to group (a negative GroupAbove).
func (o Options) grouped(n int) bool {
	limit := o.GroupAbove
	if limit == 0 {
		limit = DefaultGroupAbove
	}
	return !o.Verbose && limit > 0 && n > limit
}

// findingGroup is the findings of one rule at one severity.
type findingGroup struct {
	Rule     string
	Severity findings.Severity
	Count    int      // findings
	Hosts    int      // distinct places: hosts, or files for findings about files
	First    []string // the first places, in the findings' order (location)
	More     int      // places beyond First
}

// groupFindings groups fs (in the document's order: most severe first, then rule) by
// rule and severity, in the order each group first appears (findings.GroupFindings).
func groupFindings(fs []findings.Finding) []findingGroup { return placed(findings.GroupFindings(fs)) }

// placed is groups as the human outputs show them, each first place by its location.
func placed(gs []findings.FindingGroup) []findingGroup {
	out := make([]findingGroup, len(gs))
	for i, g := range gs {
		out[i] = findingGroup{Rule: g.Rule, Severity: g.Severity, Count: g.Count, Hosts: g.Hosts, More: g.More}
		for _, f := range g.First {
			out[i].First = append(out[i].First, location(f))
		}
	}
	return out
}

// groupedNote says that findings are grouped, why, and where every row is.
func groupedNote(n int) string {
	return fmt.Sprintf("%d findings, grouped by rule and severity; every finding, one row each: --format json or csv, or -v", n)
}
