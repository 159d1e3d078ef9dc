package report

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/medscan/medscan/findings"
)

func init() {
	Scan.register("defectdojo", func(o Options) Writer[*findings.Report] { return defectDojoWriter{catalog: o.Catalog} })
}

// defectDojoWriter renders a scan as DefectDojo's "Generic Findings Import" JSON
// ({"findings": [...]}, dojo/tools/generic/json_parser.py), for import-scan and
// reimport-scan.
//
// Reimport closes what is missing. With close_old_findings, DefectDojo closes every
// finding of the test that the new file does not hold again, so the file holds every
// finding still open: the scan's findings; its suppressed ones (marked risk_accepted and
// inactive, as DefectDojo files an accepted risk); and those the scan could not assess
// (Change.NotAssessed: an incomplete scan, a profile too light), rebuilt from what the
// history keeps of them, because not assessed is not fixed. Only findings the history
// proved fixed are left out, and reimport closes them. A report narrowed with -s would
// close the rest, so the CLI refuses -s with this format.
//
// Matching. DefectDojo matches a reimported finding with the one it holds by its
// deduplication algorithm, for this parser a hash of title, cwe, line, file_path and
// description unless the server is configured otherwise. So title and description are
// built from what identifies the finding only (the rule and its title, the place, the
// fingerprint), never from what a later scan, or a later medscan, may word differently:
// the message, counts and times go in steps_to_reproduce and the rule's rationale in
// impact, outside the hash. unique_id_from_tool is the
// fingerprint, for a server set to match on it (docs/integrations.md).
type defectDojoWriter struct{ catalog findings.Catalog }

// ddFinding is one finding in the Generic Findings Import's field names; fields absent
// from the file are the parser's defaults.
type ddFinding struct {
	Title            string       `json:"title"`
	Severity         string       `json:"severity"`
	Description      string       `json:"description"`
	Date             string       `json:"date,omitempty"`
	Mitigation       string       `json:"mitigation,omitempty"`
	Impact           string       `json:"impact,omitempty"`
	StepsToReproduce string       `json:"steps_to_reproduce,omitempty"`
	References       string       `json:"references,omitempty"`
	CWE              int          `json:"cwe,omitempty"`
	VulnerabilityIDs []string     `json:"vulnerability_ids,omitempty"`
	Active           bool         `json:"active"`
	Verified         bool         `json:"verified"`
	RiskAccepted     bool         `json:"risk_accepted,omitempty"`
	StaticFinding    bool         `json:"static_finding"`
	DynamicFinding   bool         `json:"dynamic_finding"`
	FilePath         string       `json:"file_path,omitempty"`
	UniqueIDFromTool string       `json:"unique_id_from_tool"`
	VulnIDFromTool   string       `json:"vuln_id_from_tool"`
	Endpoints        []ddEndpoint `json:"endpoints,omitempty"`
	Tags             []string     `json:"tags,omitempty"`
}

// ddEndpoint is an endpoint as DefectDojo's Endpoint model takes it.
type ddEndpoint struct {
	Protocol string `json:"protocol,omitempty"`
	Host     string `json:"host"`
	Port     int    `json:"port,omitempty"`
}

// ddDocument is the whole file.
type ddDocument struct {
	Name     string      `json:"name"`
	Version  string      `json:"version,omitempty"`
	Findings []ddFinding `json:"findings"`
}

// ddSeverity is DefectDojo's name for a severity.
func ddSeverity(s findings.Severity) string {
	switch s {
	case findings.Critical:
		return "Critical"
	case findings.High:
		return "High"
	case findings.Medium:
		return "Medium"
	case findings.Low:
		return "Low"
	}
	return "Info"
}

// Write renders r as one indented JSON document with a trailing newline: the bytes
// json.MarshalIndent writes for the whole (ddDocument), written a finding at a time, so
// that a scan streamed from the store is never held (findings.Report.Stream).
func (d defectDojoWriter) Write(w io.Writer, r *findings.Report) error {
	if r == nil {
		return fmt.Errorf("report: defectdojo: no report")
	}
	fail := func(err error) error { return fmt.Errorf("report: defectdojo: %w", err) }
	// The document without its findings, cut before the empty list: findings is its
	// last field.
	head, err := json.MarshalIndent(ddDocument{Name: cmp.Or(r.Tool.Name, findings.ToolName), Version: r.Tool.Version,
		Findings: []ddFinding{}}, "", "  ")
	if err != nil {
		return fail(err)
	}
	head, ok := bytes.CutSuffix(head, []byte("[]\n}"))
	if !ok {
		return fail(fmt.Errorf("unexpected document shape %.40q", head))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	protocols := serviceProtocols(r)
	n := 0
	for it, err := range exportItems(r, d.catalog) {
		if err != nil {
			return err
		}
		if it.state == closed {
			continue
		}
		b, err := json.MarshalIndent(ddFindingOf(it, protocols), "    ", "  ")
		if err != nil {
			return fail(err)
		}
		if n == 0 {
			bw.WriteString("[\n    ")
		} else {
			bw.WriteString(",\n    ")
		}
		n++
		bw.Write(b)
	}
	if n == 0 {
		bw.WriteString("[]\n}\n")
	} else {
		bw.WriteString("\n  ]\n}\n")
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	return nil
}

func ddFindingOf(it exportItem, protocols map[string]string) ddFinding {
	f := it.f
	where := f.Location()
	title := it.title()
	if where != "" {
		title += " at " + where
	}
	desc := fmt.Sprintf("medscan rule %s, finding %s", f.Rule, f.Identity())
	if where != "" {
		desc += ", at " + where
	}
	desc += "."
	refs := it.rule.References
	if len(refs) == 0 {
		refs = f.References
	}
	cites := findings.Cite(refs)
	out := ddFinding{
		Title:            title,
		Severity:         ddSeverity(f.Severity),
		Description:      desc,
		Mitigation:       cmp.Or(f.Remediation, it.rule.Remediation),
		Impact:           it.rule.Rationale,
		References:       strings.Join(refs, "\n"),
		VulnerabilityIDs: f.CVEs(),
		Active:           !it.suppressed,
		RiskAccepted:     it.suppressed,
		StaticFinding:    f.Host == "" && f.File != "",
		DynamicFinding:   f.Host != "",
		FilePath:         f.File,
		UniqueIDFromTool: f.Identity(),
		VulnIDFromTool:   f.Rule,
		Tags:             []string{findings.ToolName},
	}
	if len(cites.CWEs) > 0 {
		out.CWE = cites.CWEs[0]
	}
	if !f.FirstSeen.IsZero() {
		out.Date = f.FirstSeen.UTC().Format("2006-01-02")
	}
	if d := it.rule.Covers.Domain; d != "" {
		out.Tags = append(out.Tags, string(d))
	}
	if f.Source != "" {
		out.Tags = append(out.Tags, f.Source)
	}
	steps := f.Message
	switch it.state {
	case unassessed:
		steps += "\n\nNot assessed by the latest scan"
		if it.reason != "" {
			steps += ": " + it.reason
		}
		steps += "; kept open."
	default:
		if !f.FirstSeen.IsZero() {
			steps += fmt.Sprintf("\n\nFirst seen %s, last seen %s", f.FirstSeen.UTC().Format("2006-01-02 15:04:05Z"),
				f.LastSeen.UTC().Format("2006-01-02 15:04:05Z"))
			if f.Source != "" {
				steps += " (" + f.Source + ")"
			}
			steps += "."
		}
	}
	out.StepsToReproduce = steps
	if f.Host != "" {
		out.Endpoints = []ddEndpoint{{Host: f.Host, Port: f.Port, Protocol: protocols[findings.Target(f.Host, f.Port)]}}
	}
	return out
}
