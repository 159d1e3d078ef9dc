package report

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
)

// This file renders the HTML report's findings: grouped by rule, each with its evidence,
// the change since the previous scan, and the suppressed findings.

// changeView is the comparison with an earlier scan, when the Report carries one.
type changeView struct {
	PreviousScan    int64
	PreviousStarted time.Time
	Baseline        string
	Counts          findings.ChangeCounts
	Lists           []changeList // the non-empty ones of new, fixed, not assessed
}

type changeList struct {
	Name string
	Rows []changeRow
}

type changeRow struct {
	Severity, Rule, Target, Message, Reason string
	Suppressed                              bool
}

type suppressedRow struct {
	Severity, Rule, Target, Message, Reason, Expires, Source string
}

type ruleRow struct {
	Rule, Anchor, Title string
	Severity            string
	Count, Hosts        int
}

type ruleGroup struct {
	Rule, Anchor, Severity string
	Title, Rationale       string
	Owner                  string // the team that fixes it (findings.Owner), "" when the catalog does not say
	Remediations           []string
	References             []string
	Count                  int
	Findings               []findingView // every finding, when not grouped
	Summary                []groupRow    // one row per severity, when grouped (group.go)
}

// groupRow is a rule's findings at one severity, in a grouped page.
type groupRow struct {
	Severity     string
	Count, Hosts int
	Where        string
}

type findingView struct {
	Severity, Target, Subject, Message, Source, Fingerprint string
	Device                                                  string // the host as the inventory names it, "" when it has no name
	Time, FirstSeen, LastSeen                               time.Time
	Evidence                                                evNode
}

// evNode is one evidence value, rendered recursively: a scalar, a list or a map.
type evNode struct {
	Text           string
	IsList, IsMap  bool
	Flat           bool // a list of scalars, rendered inline
	Items          []evNode
	Fields         []evField
	Empty, Deepest bool
}

type evField struct {
	Key string
	Val evNode
}

// htmlChange lists what is new, fixed and not assessed since the earlier scan; the
// persisting findings are counted only, since the findings section shows them.
func htmlChange(c *findings.Change) *changeView {
	if c == nil {
		return nil
	}
	rows := func(fs []findings.ChangedFinding) []changeRow {
		var out []changeRow
		for _, f := range fs {
			out = append(out, changeRow{Severity: f.Severity.String(), Rule: term(f.Rule), Target: location(f),
				Message: term(f.Message), Reason: term(f.Reason), Suppressed: f.Suppressed})
		}
		return out
	}
	v := &changeView{PreviousScan: c.PreviousScan, PreviousStarted: c.PreviousStarted, Baseline: term(c.Baseline),
		Counts: c.Counts}
	for _, l := range []changeList{{"New", rows(c.New)}, {"Fixed", rows(c.Fixed)}, {"Not assessed again", rows(c.NotAssessed)}} {
		if len(l.Rows) > 0 {
			v.Lists = append(v.Lists, l)
		}
	}
	return v
}

// htmlAnchor makes an element id from a rule ID: rule IDs are lowercase and hyphenated, but
// the store could hold anything.
func htmlAnchor(prefix, s string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func appendUnique(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// maxEvidenceDepth bounds the nesting rendered: evidence is medscan's own, but a store
// is a file anyone could have edited.
const maxEvidenceDepth = 8

// htmlEvidence converts an evidence value (decoded JSON or the Go values a rule put in)
// into a tree the template renders, with map keys sorted and every string cleaned.
func htmlEvidence(v reflect.Value, depth int) evNode {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			return evNode{Text: "none"}
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return evNode{Text: "none"}
	}
	if depth >= maxEvidenceDepth {
		return evNode{Text: "…", Deepest: true}
	}
	if tm, ok := v.Interface().(time.Time); ok {
		return evNode{Text: htmlStamp(tm)}
	}
	if n, ok := v.Interface().(json.Number); ok {
		return evNode{Text: term(n.String())}
	}
	switch v.Kind() {
	case reflect.Map:
		n := evNode{IsMap: true, Fields: evFields(v, depth)}
		n.Empty = len(n.Fields) == 0
		return n
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return evNode{Text: fmt.Sprintf("%x", v.Bytes())}
		}
		n := evNode{IsList: true, Flat: true, Empty: v.Len() == 0}
		for i := 0; i < v.Len(); i++ {
			item := htmlEvidence(v.Index(i), depth+1)
			if item.IsList || item.IsMap {
				n.Flat = false
			}
			n.Items = append(n.Items, item)
		}
		return n
	case reflect.String:
		return evNode{Text: term(v.String())}
	case reflect.Bool:
		if v.Bool() {
			return evNode{Text: "yes"}
		}
		return evNode{Text: "no"}
	case reflect.Float32, reflect.Float64:
		return evNode{Text: strconv.FormatFloat(v.Float(), 'f', -1, 64)}
	}
	return evNode{Text: term(fmt.Sprint(v.Interface()))}
}
