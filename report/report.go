package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
)

// Writer renders one kind of document (D) in one format.
type Writer[D any] interface {
	Write(w io.Writer, doc D) error
}

// WriterFunc adapts a function to Writer.
type WriterFunc[D any] func(w io.Writer, doc D) error

// Write calls f.
func (f WriterFunc[D]) Write(w io.Writer, doc D) error { return f(w, doc) }

// Options are the presentation choices a caller (the CLI) makes; formats ignore the
// ones that do not apply to them.
type Options struct {
	Color bool // ANSI colour, for a terminal
	Width int  // columns to fit text output into; 0 means DefaultWidth
	// Verbose adds to the terminal report what only its developers read: the engine's
	// counters of packets, flows and streams (JSON and HTML always carry them).
	Verbose bool
	// GroupAbove is the number of findings above which the table and the HTML page
	// show them grouped by rule and severity (group.go) rather than one row each: 0
	// means DefaultGroupAbove, a negative number never groups, and Verbose lists every
	// finding whatever their number.
	GroupAbove int
	// Catalog is the rule catalog, for formats that describe every rule a scan could
	// raise (SARIF) or say why a rule matters (HTML). When empty, writers describe the
	// rules of the findings at hand from what the findings carry.
	Catalog findings.Catalog
	// Repos maps a file the document names (a scan's capture source, its policy file,
	// a file a finding was read from) to its path from the root of the git repository
	// it lies in (slash-separated), for SARIF, whose results point at files in the
	// repository that code scanning is uploaded to. The CLI fills it from
	// the file system; the writers only read it, so they still read nothing but what
	// they are given. Files outside any repository are absent.
	Repos map[string]string
}

// DefaultWidth is the width text output fits when Options.Width is 0.
const DefaultWidth = 100

func (o Options) width() int {
	if o.Width <= 0 {
		return DefaultWidth
	}
	return o.Width
}

// Registry holds the formats one kind of document can be written in; each format's
// file registers itself, so that adding a format is adding a file.
type Registry[D any] struct {
	what    string
	formats map[string]func(Options) Writer[D]
}

func newRegistry[D any](what string) *Registry[D] {
	return &Registry[D]{what: what, formats: map[string]func(Options) Writer[D]{}}
}

func (r *Registry[D]) register(name string, fn func(Options) Writer[D]) {
	if _, dup := r.formats[name]; dup {
		panic("report: " + r.what + " format " + name + " registered twice")
	}
	r.formats[name] = fn
}

// Formats lists the format names, sorted.
func (r *Registry[D]) Formats() []string {
	names := make([]string, 0, len(r.formats))
	for n := range r.formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Has reports whether a format name (case-insensitive) is known.
func (r *Registry[D]) Has(format string) bool {
	_, ok := r.formats[strings.ToLower(strings.TrimSpace(format))]
	return ok
}

// New returns the writer for a format name (case-insensitive). Every writer it returns
// tidies the document first (findings.Tidy: every string through the one sanitizer, no
// null where a list is expected), once, whatever the format, so that no format can
// forget it.
func (r *Registry[D]) New(format string, opts Options) (Writer[D], error) {
	fn, ok := r.formats[strings.ToLower(strings.TrimSpace(format))]
	if !ok {
		return nil, fmt.Errorf("report: unknown %s format %q (known: %s)", r.what, format, strings.Join(r.Formats(), ", "))
	}
	name := strings.ToLower(strings.TrimSpace(format))
	return tidied[D]{w: fn(opts), streams: StreamsFindings(name)}, nil
}

// StreamsFindings reports whether a scan format writes a scan's findings as the store
// reads them (findings.Report.Stream: json, csv, sarif, ocsf, defectdojo, the table,
// which groups them in the store when there are many, html, which folds them into its
// sections in one pass, svg, which counts them on the flows, and csv-assets, which
// reads none of them: the store then reads a scan's findings for its counts and the
// gate only, never whole). A format not named here is handed the findings as a list.
func StreamsFindings(format string) bool {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "json", "csv", "csv-assets", "table", "sarif", "ocsf", "defectdojo", "html", "svg":
		return true
	}
	return false
}

// RendersFlows reports whether a scan format renders the data-flow map
// (findings.Report.Flows): json, html and svg do; the table, csv, csv-assets, sarif,
// ocsf and defectdojo do not, and may be handed a document without it
// (store.StreamOptions), which a test holds them to. A format not named here is taken
// to render it.
func RendersFlows(format string) bool {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "table", "csv", "csv-assets", "sarif", "ocsf", "defectdojo":
		return false
	}
	return true
}

// tidied tidies a document, in place, before its writer reads it; a scan whose findings
// are streamed gets them as a list first when its writer does not stream them.
type tidied[D any] struct {
	w       Writer[D]
	streams bool
}

func (t tidied[D]) Write(w io.Writer, doc D) error {
	if r, ok := any(doc).(*findings.Report); ok && r != nil && r.Stream != nil && !t.streams {
		fs, err := r.Stream.Collect()
		if err != nil {
			return err
		}
		r.Findings, r.Stream = fs, nil
	}
	findings.Tidy(&doc)
	return t.w.Write(w, doc)
}

// The documents medscan renders, each with its formats.
var (
	// Scan writes one scan's report: table, json, html, sarif, csv, csv-assets, ocsf,
	// defectdojo.
	Scan = newRegistry[*findings.Report]("report")
	// Inventory writes a scan's assets: table, json, csv.
	Inventory = newRegistry[*findings.Inventory]("inventory")
	// ScanList writes the list of stored scans: table, json.
	ScanList = newRegistry[*findings.ScanList]("scan list")
	// Audit writes the store's audit trail, and the verdict of its check: table, json.
	Audit = newRegistry[*findings.AuditTrail]("audit trail")
	// Certs writes the certificate inventory across scans: table, json, csv.
	Certs = newRegistry[*findings.CertInventory]("certificate inventory")
	// Comparison writes the change between two scans: table, json.
	Comparison = newRegistry[*findings.Comparison]("comparison")
	// Catalog writes the rule catalog: table, json.
	Catalog = newRegistry[[]findings.RuleInfo]("catalog")
)
