package rules

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// Meta is a rule's catalog entry: what reports, suppressions, CI gates and the history
// rely on, including what the rule covers (findings.Coverage), which every rule declares
// for itself. It is the finding model's RuleInfo, so that the store and the writers read
// it without importing this package.
type Meta = findings.RuleInfo

// Rule is one check: a pure function of the observations and the policy, which reports
// what it finds through Context.Emit.
type Rule interface {
	Meta() Meta
	Check(c *Context)
}

var (
	regMu    sync.RWMutex
	registry = map[string]Rule{}
)

// idPattern is the shape of a rule ID: lowercase words joined by single hyphens.
var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Register adds a rule to the catalog; rule packages call it from init(). A duplicate or
// malformed ID is a programming error, so it panics at start-up rather than letting one
// rule silently shadow another.
func Register(r Rule) {
	m := r.Meta()
	if !idPattern.MatchString(m.ID) {
		panic(fmt.Sprintf("rules: malformed rule ID %q", m.ID))
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[m.ID]; dup {
		panic(fmt.Sprintf("rules: rule %q registered twice", m.ID))
	}
	registry[m.ID] = r
}

// Catalog returns every registered rule's metadata, sorted by ID.
func Catalog() []Meta {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Meta, 0, len(registry))
	for _, r := range registry {
		m := r.Meta()
		m.References = slices.Clone(m.References)
		m.Covers.Needs = slices.Clone(m.Covers.Needs)
		m.Covers.Tags = slices.Clone(m.Covers.Tags)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Meta) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// CatalogIndex is the catalog by ID, as the history (store.Diff) and the writers take it.
func CatalogIndex() findings.Catalog { return findings.NewCatalog(Catalog()) }

// Lookup returns the metadata of a registered rule.
func Lookup(id string) (Meta, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	r, ok := registry[id]
	if !ok {
		return Meta{}, false
	}
	return r.Meta(), true
}

// sortedRules returns the registered rules in ID order, so evaluation is deterministic.
func sortedRules() []Rule {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Rule, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rule) int { return cmp.Compare(a.Meta().ID, b.Meta().ID) })
	return out
}

// Context is what a rule sees: the observations, the policy, and the way to report.
type Context struct {
	Set    *observe.Set
	Policy *Policy

	meta  Meta
	out   []findings.Finding
	pres  []Presentation
	built bool
}

// Emit reports a finding for the rule being checked. The rule fills what it knows (host,
// port, subject, message, evidence, time, source, and a computed severity where its
// severity depends on the evidence); Emit fills the rest from the catalog and the policy:
//   - Rule is the checking rule's ID.
//   - Severity: a policy override wins; otherwise the rule's computed severity; the zero
//     value (Info) means "the rule's default" (a rule that means info calls EmitInfo).
//   - Remediation and References default to the catalog's.
//   - Source defaults to passive: the capture engine is the one producer whose
//     observations (HL7, DICOM, credentials) carry no source of their own.
//   - Fingerprint is derived from rule, host, port and subject.
//
// A finding of a rule the policy disables is dropped.
func (c *Context) Emit(f findings.Finding) { c.emit(f, false) }

// EmitInfo reports a finding at severity info, which Emit cannot be told (its zero
// severity is the rule's default), with everything else as Emit does it: a policy
// override of the rule's severity still wins.
func (c *Context) EmitInfo(f findings.Finding) { c.emit(f, true) }

func (c *Context) emit(f findings.Finding, info bool) {
	if c.Policy != nil && c.Policy.IsDisabled(c.meta.ID) {
		return
	}
	f.Rule = c.meta.ID
	switch {
	case info:
		f.Severity = findings.Info
	case f.Severity == findings.Info:
		f.Severity = c.meta.Default
	}
	if c.Policy != nil {
		if s, ok := c.Policy.Severity[c.meta.ID]; ok {
			f.Severity = s
		}
	}
	if f.Remediation == "" {
		f.Remediation = c.meta.Remediation
	}
	if f.References == nil {
		f.References = slices.Clone(c.meta.References)
	}
	if f.Source == "" {
		f.Source = string(observe.SourcePassive)
	}
	if f.Evidence == nil {
		f.Evidence = map[string]any{}
	}
	findings.TidyEvidence(f.Evidence)
	f.Time = f.Time.UTC()
	if f.FirstSeen.IsZero() {
		f.FirstSeen = f.Time
	}
	if f.LastSeen.IsZero() {
		f.LastSeen = f.Time
	}
	f.SetFingerprint()
	c.out = append(c.out, f)
}

// Evaluate runs every registered rule that the policy enables against the set and
// returns the findings, deduplicated by fingerprint and in a deterministic order
// (severity, highest first, then rule, host, port and subject). A nil policy means the
// default. Certificates must have been examined (lint.Examine) first; a certificate
// without facts is not judged.
func Evaluate(set *observe.Set, pol *Policy) []findings.Finding {
	return run(sortedRules(), set, pol)
}

// Run runs one rule against the set under the policy, with the same defaults, policy
// handling and deduplication as Evaluate: for tests and for explaining a single rule.
func Run(r Rule, set *observe.Set, pol *Policy) []findings.Finding {
	return run([]Rule{r}, set, pol)
}

func run(rs []Rule, set *observe.Set, pol *Policy) []findings.Finding {
	if pol == nil {
		pol = DefaultPolicy()
	}
	if set == nil {
		set = observe.NewSet()
	}
	c := &Context{Set: set, Policy: pol}
	for _, r := range rs {
		m := r.Meta()
		if pol.IsDisabled(m.ID) {
			continue
		}
		c.meta = m
		r.Check(c)
	}
	return dedupe(c.out)
}

// dedupe merges findings with the same fingerprint: the highest severity wins, then the
// earliest time; the seen-window spans them all, and evidence keys the kept finding lacks
// are taken from the others, with string lists merged.
func dedupe(in []findings.Finding) []findings.Finding {
	byFP := observe.NewIndex[string, *findings.Finding](0)
	for _, f := range in {
		kept, added, _ := byFP.Add(f.Fingerprint, func() *findings.Finding { n := f; return &n })
		if !added {
			*kept = merge(*kept, f)
		}
	}
	out := make([]findings.Finding, 0, byFP.Len())
	for _, f := range byFP.Items() {
		out = append(out, *f)
	}
	findings.SortFindings(out)
	return out
}

func merge(a, b findings.Finding) findings.Finding {
	keep, other := a, b
	if b.Severity > a.Severity || (b.Severity == a.Severity && b.Time.Before(a.Time)) {
		keep, other = b, a
	}
	ev := make(map[string]any, len(keep.Evidence))
	for k, v := range keep.Evidence {
		ev[k] = v
	}
	for k, v := range other.Evidence {
		cur, ok := ev[k]
		if !ok {
			ev[k] = v
			continue
		}
		if x, ok := cur.([]string); ok {
			if y, ok := v.([]string); ok {
				ev[k] = union(x, y)
			}
		}
	}
	keep.Evidence = ev
	observe.Widen(&keep.FirstSeen, &keep.LastSeen, other.FirstSeen, other.LastSeen)
	return keep
}

// union returns the sorted, duplicate-free union of two string lists.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Observed dates a finding about what was seen over span, the way every rule dates its
// findings: Time (the first sighting), FirstSeen and LastSeen, and in the evidence
// observed_at, first_seen and last_seen.
func Observed(span observe.Span, f findings.Finding) findings.Finding {
	f.Time, f.FirstSeen, f.LastSeen = span.First, span.First, span.Last
	if f.Evidence == nil {
		f.Evidence = map[string]any{}
	}
	f.Evidence["observed_at"] = TimeString(span.First)
	f.Evidence["first_seen"] = TimeString(span.First)
	f.Evidence["last_seen"] = TimeString(span.Last)
	return f
}

// TimeString formats an observation time for evidence: RFC 3339 in UTC, or "" when unknown.
func TimeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
