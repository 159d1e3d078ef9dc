package store

import (
	"fmt"

	"github.com/medscan/medscan/findings"
)

// Gate is the CI gate: which findings of a rendered scan fail a pipeline.
type Gate struct {
	// FailOn counts findings at or above this severity; nil counts any finding, and only
	// when NewOnly is set (no gate at all otherwise).
	FailOn *findings.Severity
	// NewOnly counts only findings new since the report's Change (the baseline, or the
	// previous comparable scan); with no Change, every finding is new.
	NewOnly bool
}

// Failed counts the findings of rep the gate fails on (never suppressed ones: they are
// not in rep.Findings) and says so in one line; 0 and "" when the gate passes or is off.
func (g Gate) Failed(rep *findings.Report) (int, string) {
	if g.FailOn == nil && !g.NewOnly {
		return 0, ""
	}
	var isNew map[string]bool
	if g.NewOnly && rep.Change != nil {
		isNew = map[string]bool{}
		for _, c := range rep.Change.New {
			isNew[c.Fingerprint] = true
		}
	}
	n := 0
	switch {
	case rep.Stream != nil && isNew == nil:
		// Streamed findings are counted by severity in the store.
		for sev, c := range rep.Stream.Counts {
			if g.FailOn == nil || sev >= *g.FailOn {
				n += c
			}
		}
	case rep.Stream != nil:
		// The new ones of the streamed findings are the change's new findings that no
		// suppression set aside, each with its severity in this scan.
		for _, c := range rep.Change.New {
			if !c.Suppressed && (g.FailOn == nil || c.Severity >= *g.FailOn) {
				n++
			}
		}
	}
	for _, f := range rep.Findings {
		if g.FailOn != nil && f.Severity < *g.FailOn {
			continue
		}
		if isNew != nil && !isNew[f.Identity()] {
			continue
		}
		n++
	}
	if n == 0 {
		return 0, ""
	}
	what := "finding(s)"
	if g.NewOnly {
		what = "new finding(s)"
	}
	if g.FailOn != nil {
		what += " at or above " + g.FailOn.String()
	}
	against := ""
	switch {
	case !g.NewOnly:
	case rep.Change == nil:
		against = ", with nothing to compare with"
	case rep.Change.Baseline != "":
		against = ", against " + rep.Change.Baseline
	default:
		against = fmt.Sprintf(", against scan %d", rep.Change.PreviousScan)
	}
	return n, fmt.Sprintf("%d %s (the CI gate%s)", n, what, against)
}
