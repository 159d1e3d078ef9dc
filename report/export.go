package report

import (
	"cmp"
	"iter"
	"time"

	"github.com/medscan/medscan/findings"
)

// The exports for other tools' databases (OCSF for SIEMs, DefectDojo's generic import)
// file each finding with its lifecycle: opened, still open, closed. That lifecycle is
// the history's (store.Diff, through Report.Change), never recomputed here: a finding
// new since the previous comparable scan is opened, one that persists is updated, one
// the later scan proved fixed is closed, and one the later scan could not assess stays
// as it was. exportItems lays a report out that way, once, for every export.

// lifecycle is where a finding stands in the scan being exported.
type lifecycle int

const (
	// opened: new since the previous comparable scan (or the first such scan).
	opened lifecycle = iota
	// updated: seen by the previous comparable scan and again by this one.
	updated
	// closed: in the previous scan, and this one proved it fixed (Change.Fixed).
	closed
	// unassessed: in the previous scan, absent from this one, which could not assess
	// it (Change.NotAssessed): not fixed, so an export must not close it.
	unassessed
)

// exportItem is one finding as the exports file it.
type exportItem struct {
	// f is the finding; for a closed or unassessed one, only what Change keeps of it
	// (rule, severity, place, message, fingerprint), without evidence or times.
	f          findings.Finding
	state      lifecycle
	suppressed bool
	rule       findings.RuleInfo // the catalog's entry, or what the finding carries of it
	reason     string            // why an unassessed finding was not assessed
}

// exportItems yields the report's findings, then its suppressed findings, then those it
// closed, then those it could not assess, each in report order; a scan streamed from the
// store (findings.Report.Stream) yields its findings as the store reads them, so that
// an export of tens of thousands never holds them all. An error from the stream ends
// the walk.
func exportItems(r *findings.Report, catalog findings.Catalog) iter.Seq2[exportItem, error] {
	return func(yield func(exportItem, error) bool) {
		isNew := map[string]bool{}
		if r.Change != nil {
			for _, c := range r.Change.New {
				isNew[c.Fingerprint] = true
			}
		}
		state := func(f findings.Finding) lifecycle {
			if r.Change == nil || isNew[f.Identity()] {
				return opened
			}
			return updated
		}
		item := func(f findings.Finding) exportItem {
			return exportItem{f: f, state: state(f), rule: ruleOf(f, catalog)}
		}
		if r.Stream != nil {
			for f, err := range r.Stream.All {
				if err != nil {
					yield(exportItem{}, err)
					return
				}
				if !yield(item(f), nil) {
					return
				}
			}
		}
		for _, f := range r.Findings {
			if !yield(item(f), nil) {
				return
			}
		}
		for _, s := range r.Suppressed {
			if !yield(exportItem{f: s.Finding, state: state(s.Finding), suppressed: true, rule: ruleOf(s.Finding, catalog)}, nil) {
				return
			}
		}
		if r.Change != nil {
			for _, c := range r.Change.Fixed {
				f := fromChanged(c)
				if !yield(exportItem{f: f, state: closed, rule: ruleOf(f, catalog)}, nil) {
					return
				}
			}
			for _, c := range r.Change.NotAssessed {
				f := fromChanged(c)
				if !yield(exportItem{f: f, state: unassessed, suppressed: c.Suppressed, rule: ruleOf(f, catalog), reason: c.Reason}, nil) {
					return
				}
			}
		}
	}
}

// fromChanged is what a Change keeps of a finding, as a Finding.
func fromChanged(c findings.ChangedFinding) findings.Finding {
	return findings.Finding{Rule: c.Rule, Severity: c.Severity, Host: c.Host, Port: c.Port, File: c.File,
		Subject: c.Subject, Message: c.Message, Fingerprint: c.Fingerprint}
}

// ruleOf is the catalog's entry for the finding's rule; for a rule the catalog does not
// hold (a report from a newer medscan, a catalog not given), what the finding says.
func ruleOf(f findings.Finding, catalog findings.Catalog) findings.RuleInfo {
	if ri, ok := catalog[f.Rule]; ok {
		return ri
	}
	return findings.RuleInfo{ID: f.Rule, Title: f.Rule, Default: f.Severity, Remediation: f.Remediation,
		References: f.References}
}

// assetIndex finds the inventory's asset for an address.
func assetIndex(r *findings.Report) map[string]findings.Asset {
	m := make(map[string]findings.Asset, len(r.Assets))
	for _, a := range r.Assets {
		m[a.IP()] = a
	}
	return m
}

// serviceProtocols names the protocol each host:port spoke ("tls", "http", "hl7-mllp").
func serviceProtocols(r *findings.Report) map[string]string {
	m := make(map[string]string, len(r.Services))
	for _, s := range r.Services {
		if s.Protocol != "" {
			m[findings.Target(s.Host, s.Port)] = s.Protocol
		}
	}
	return m
}

// assetName is the name a person knows the asset by: its first name (the inventory
// sorts the strongest source first), "" when it has none.
func assetName(a findings.Asset) string {
	if len(a.Names) > 0 {
		return a.Names[0].Name
	}
	return ""
}

// siteOf is the site a scan belongs to, for exports that file findings by site: the
// scan's --site, else, for scans made without one (and stored before sites), its label
// (operators label recurring scans by ward or site); "" when it has neither.
func siteOf(r *findings.Report) string {
	if r.Scan.Site != "" {
		return r.Scan.Site
	}
	return r.Scan.Label
}

// scanTime is when the scan's judgement was made: when it finished, else when it began.
func scanTime(r *findings.Report) time.Time {
	if !r.Scan.Finished.IsZero() {
		return r.Scan.Finished
	}
	return r.Scan.Started
}

// title names the finding's rule for people: the catalog's title, else the rule's ID,
// else (a hand-made document without either) "medscan finding": never empty, as the
// formats' titles must not be.
func (it exportItem) title() string {
	return cmp.Or(it.rule.Title, it.f.Rule, "medscan finding")
}
