package report

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report/flowmap"
)

func init() {
	Scan.register("html", func(o Options) Writer[*findings.Report] { return htmlWriter{catalog: o.Catalog, opts: o} })
}

// htmlFiles holds the page template and its stylesheet: the report is one file that
// opens offline, so both are compiled in rather than linked.
//
//go:embed html/report.html.tmpl html/style.css
var htmlFiles embed.FS

var (
	// htmlStyle is the stylesheet (it holds no comment: html/template drops CSS comments, and
	// the hash must be of what the page carries). Tables reflow rather than widen the page:
	// long tokens (addresses with ports, hashes, distinguished names, suites) may break
	// anywhere, so no column's minimum width is a whole hash, and the widest table fits
	// 1280 px on screen and A4 or Letter on paper. The paper size is the printer's; the
	// running header with the report's title and the page numbers is the page's second style
	// element (pageHeaderCSS). It is inlined verbatim in one <style> element; htmlCSP
	// allows exactly that element by its hash, so that no other style (and no script,
	// image, font or connection at all) can take effect even if escaping ever failed.
	htmlStyle = mustRead("html/style.css")
	htmlCSP   = func() string {
		sum := sha256.Sum256([]byte(htmlStyle))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; base-uri 'none'; form-action 'none'"
	}()
	htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"stamp": htmlStamp,
		"date":  htmlDate,
	}).Parse(mustRead("html/report.html.tmpl")))
)

// The stylesheet is parsed as a template of its own (program text, not data), so that
// html/template copies it into the <style> element verbatim and the CSP hash holds.
func init() { template.Must(htmlTemplate.New("style.css").Parse(htmlStyle)) }

func mustRead(name string) string {
	b, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic("report: " + name + ": " + err.Error())
	}
	return string(b)
}

// htmlWriter renders a scan as one self-contained HTML page for people who do not run
// medscan: no script, no external asset, a print stylesheet, every string from the
// network escaped by html/template after the one sanitizer (findings.Tidy). Given the
// rule catalog (Options.Catalog), it names each rule and says why it matters. Its
// sections are built in files of their own: findings (html_findings.go), assets,
// certificates, shared keys and credentials, and traffic. Above Options.GroupAbove
// findings, each rule lists them by severity (group.go) rather than one by one.
type htmlWriter struct {
	catalog findings.Catalog
	opts    Options
}

// Write renders r as an HTML document. A scan read from the store as a stream
// (findings.Report.Stream) has its findings read once, in the document's order, and
// folded into the page as they come (htmlFindings), never held as a list.
func (h htmlWriter) Write(w io.Writer, r *findings.Report) error {
	if r == nil {
		return fmt.Errorf("report: html: no report")
	}
	n := shownFindings(r)
	v, err := buildHTMLView(r, h.catalog, h.opts.grouped(n))
	if err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	m, err := htmlFlowMap(r)
	if err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	v.FlowMap = m
	// The page is written as the template makes it, not held whole: a hospital's page is
	// tens of megabytes (the view it is made of is all computed by now, so only the
	// writer can fail from here on).
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := htmlTemplate.Execute(bw, v); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// htmlView is what the template renders: every string in it has been through the one
// sanitizer,
// and everything the writer derives (groups, chart geometry) is computed here, so the
// template only lays out.
type htmlView struct {
	Title, Version, Label, CSP string
	// Site is where the scan was made (--site); Heading names the scan on the cover: its
	// site and label, whichever it has.
	Site, Heading             string
	ScanID                    int64
	Sources                   []string
	Methods                   []string
	CaptureFirst, CaptureLast time.Time
	CaptureSpan               string
	Started, Finished         time.Time
	Policy                    string
	Complete                  bool
	Problems                  []string
	Summary                   findings.Summary
	Chart                     sevChart
	Hosts                     int
	RuleRows                  []ruleRow
	GroupedNote               string // set when the findings are grouped
	Hidden                    hiddenCerts
	Groups                    []ruleGroup
	Assets                    assetTable
	Certs                     []certRow
	CertRef                   time.Time
	CertRefName               string
	Timeline                  *timeline
	SharedKeys                []sharedKey
	SharedCreds               []sharedCred
	Services                  []serviceRow
	Sessions                  []sessionRow
	Probes                    []probeRow
	NotProbed                 []string
	HL7                       []findings.HL7Message
	DICOM                     []findings.DICOMAssociation
	HTTP                      []findings.HTTPRequest
	MQTT                      []findings.MQTTConnect
	Counters                  []findings.Counter
	Updates                   []updateRow
	Change                    *changeView
	Suppressed                []suppressedRow
	// The deliverable's front: the three to five risks that matter, the data-flow map
	// when the document has flows, and each owner's remediation steps.
	Risks      []riskView
	FlowMap    template.HTML
	Plan       []ownerPlan
	Devices    int // distinct hosts with at least one finding that the inventory calls a medical device
	PageHeader template.CSS
}

type sevChart struct {
	Bars   []sevBar
	Height int
}

type sevBar struct {
	Name        string
	Count       int
	Y, W, TextX int
}

// buildHTMLView computes what the page shows; grouped lists each rule's findings by
// severity (a large scan) rather than one by one. The findings, a list or a stream, are
// read once (htmlFindings); an error is the stream's.
func buildHTMLView(r *findings.Report, catalog findings.Catalog, grouped bool) (htmlView, error) {
	v := htmlView{
		Version:  term(r.Tool.Version),
		Label:    term(r.Scan.Label),
		Site:     term(r.Scan.Site),
		CSP:      htmlCSP,
		ScanID:   r.Scan.ID,
		Started:  r.Scan.Started,
		Finished: r.Scan.Finished,
		Policy:   term(r.Scan.Policy),
		Complete: r.Scan.Complete,
		Summary:  r.Summary,
		Counters: htmlCounters(r.Scan.Counters),
	}
	v.Heading = strings.Join(slices.DeleteFunc([]string{v.Site, v.Label}, func(s string) bool { return s == "" }), " · ")
	v.Title = fmt.Sprintf("medscan report: scan %d", r.Scan.ID)
	if v.Heading != "" {
		v.Title += " (" + v.Heading + ")"
	}
	v.PageHeader = pageHeaderCSS(v.Title)
	v.CSP = htmlCSPFor(v.PageHeader)
	for _, s := range r.Scan.Sources {
		v.Sources = append(v.Sources, term(s))
	}
	for _, p := range r.Scan.Problems {
		v.Problems = append(v.Problems, problemLine(p))
	}
	v.CaptureFirst, v.CaptureLast = captureSpan(r)
	if !v.CaptureFirst.IsZero() {
		v.CaptureSpan = v.CaptureLast.Sub(v.CaptureFirst).Round(time.Second).String()
	}
	v.Chart = htmlSeverityChart(r.Summary)
	fold := newHTMLFindings(catalog, htmlDeviceIndex(r), grouped)
	for i := range r.Findings {
		fold.add(&r.Findings[i])
	}
	if r.Stream != nil {
		for f, err := range r.Stream.All {
			if err != nil {
				return htmlView{}, err
			}
			fold.add(&f)
		}
	}
	v.Methods = htmlMethods(r, fold.sources)
	v.RuleRows, v.Groups, v.Hosts = fold.byRule()
	v.Risks = fold.riskViews()
	v.Plan = fold.plan()
	v.Devices = fold.medicalDevices()
	if grouped {
		v.GroupedNote = groupedNote(fold.n)
	}
	v.Hidden = htmlHiddenCerts(r.TLSSessions)
	v.Assets = htmlAssets(r, fold.tally)
	// Certificates are judged at the time the traffic shows, as the rules judge them:
	// a capture replayed a year later must not call everything in it expired.
	v.CertRef, v.CertRefName = v.CaptureLast, "the end of the capture"
	if v.CertRef.IsZero() {
		v.CertRef, v.CertRefName = r.Scan.Started, "the time of the scan"
	}
	v.Certs = htmlCertRows(r.Certificates, v.CertRef, fold.posture)
	v.Timeline = htmlTimeline(r.Certificates, v.CertRef, v.CertRefName, r.Scan.Started, fold.posture)
	v.SharedKeys, v.SharedCreds = fold.keys, fold.creds
	v.Services = htmlServices(r.Services)
	v.Sessions = htmlSessions(r.TLSSessions)
	v.Probes, v.NotProbed = htmlProbes(r)
	v.HL7, v.DICOM, v.HTTP, v.MQTT = r.HL7, r.DICOM, r.HTTP, r.MQTT
	v.Updates = updateRows(r)
	v.Change = htmlChange(r.Change)
	for _, sf := range r.Suppressed {
		v.Suppressed = append(v.Suppressed, suppressedRow{Severity: sf.Severity.String(), Rule: term(sf.Rule),
			Target: location(sf), Message: term(sf.Message), Reason: term(sf.Suppression.Reason),
			Expires: term(sf.Suppression.Expires), Source: term(sf.Suppression.Source)})
	}
	return v, nil
}

// htmlFlowMap draws the document's data flows (package flowmap) as inline SVG for the
// executive summary, "" for a document without flows (the template then leaves the
// figure out). flowmap escapes every text it writes and styles by presentation
// attributes only, so the map needs nothing the page's CSP forbids; the namespace
// attribute a standalone file needs is dropped, as HTML gives inline SVG its namespace.
func htmlFlowMap(r *findings.Report) (template.HTML, error) {
	if len(r.Flows) == 0 {
		return "", nil
	}
	var b strings.Builder
	if err := flowmap.SVG(&b, r.Flows, r.Assets, flowmap.Options{Title: "Data flows"}); err != nil {
		return "", err
	}
	return template.HTML(strings.Replace(b.String(), ` xmlns="http://www.w3.org/2000/svg"`, "", 1)), nil
}

// pageHeaderCSS is the printed page's running header and footer: the report's title at
// the top, "Page N of M" at the bottom, in CSS @page margin boxes (Chromium prints them
// since version 131). The title comes from the scan's label, so it is written as a CSS
// string with every character outside a small safe set escaped as a hexadecimal code
// point: nothing in a label can end the string, the rule or the <style> element. The
// CSP allows this second style element by its own hash (htmlCSPFor).
func pageHeaderCSS(title string) template.CSS {
	var b strings.Builder
	for _, r := range title {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ', r == ':', r == '.', r == ',', r == '-':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "\\%06x", r)
		}
	}
	return template.CSS("@page { @top-left { content: \"" + b.String() +
		"\"; } @bottom-right { content: \"Page \" counter(page) \" of \" counter(pages); } }")
}

// htmlCSPFor is the page's Content-Security-Policy: the stylesheet and the page header
// rule allowed by their hashes, nothing else.
func htmlCSPFor(header template.CSS) string {
	sum := sha256.Sum256([]byte(header))
	return strings.Replace(htmlCSP, "style-src ", "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"' ", 1)
}

// htmlMethods names how the scan's facts were obtained (passive, active, file), from the
// sources its findings (fromFindings, as the fold collected them: htmlFindings),
// services, sessions and certificate sightings carry.
func htmlMethods(r *findings.Report, fromFindings map[string]bool) []string {
	seen := maps.Clone(fromFindings)
	if seen == nil {
		seen = map[string]bool{}
	}
	add := func(s string) {
		if s = term(s); s != "" {
			seen[s] = true
		}
	}
	for _, s := range r.Services {
		add(string(s.Source))
	}
	for _, s := range r.TLSSessions {
		add(string(s.Source))
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// htmlSeverityChart lays out one horizontal bar per severity, scaled to the largest count.
func htmlSeverityChart(s findings.Summary) sevChart {
	const barMax, rowH = 420, 28
	most := 0
	for _, sev := range findings.Severities {
		most = max(most, s.Count(sev))
	}
	c := sevChart{Height: len(findings.Severities)*rowH + 4}
	for i, sev := range findings.Severities {
		n := s.Count(sev)
		w := 0
		if most > 0 {
			w = int(math.Round(float64(n) / float64(most) * barMax))
		}
		if n > 0 {
			w = max(w, 3) // a single finding among hundreds still shows
		}
		c.Bars = append(c.Bars, sevBar{Name: sev.String(), Count: n, Y: i*rowH + 2, W: w, TextX: 100 + w + 8})
	}
	return c
}

func htmlStamp(tm time.Time) string {
	if tm.IsZero() {
		return "unknown"
	}
	return tm.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func htmlDate(tm time.Time) string {
	if tm.IsZero() {
		return "unknown"
	}
	return tm.UTC().Format(time.DateOnly)
}
