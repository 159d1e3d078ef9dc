package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
)

// Writer renders one scan in one format.
type Writer interface {
	Write(w io.Writer, r *findings.Report) error
}

// Options are the presentation choices a caller (the CLI) makes; formats ignore the
// ones that do not apply to them.
type Options struct {
	Color bool // ANSI colour, for a terminal
	Width int  // columns to fit text output into; 0 means DefaultWidth
	// Rules is the rule catalog, for formats that describe every rule a scan could
	// raise (SARIF). The Report does not carry it, and this package may not import
	// package rules, so the caller passes it; when empty, writers describe the rules of
	// the findings at hand from what the findings carry.
	Rules []RuleInfo
}

// RuleInfo describes one catalog rule. Its fields match rules.Meta one for one, so a
// caller converts with report.RuleInfo(meta).
type RuleInfo struct {
	ID          string
	Title       string
	Default     findings.Severity
	Rationale   string
	Remediation string
	References  []string
}

// DefaultWidth is the width the table fits when Options.Width is 0.
const DefaultWidth = 100

// formats maps a format name to its constructor; each format's file registers itself.
var formats = map[string]func(Options) Writer{}

func register(name string, fn func(Options) Writer) {
	if _, dup := formats[name]; dup {
		panic("report: format " + name + " registered twice")
	}
	formats[name] = fn
}

// Formats lists the known format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the writer for a format name (case-insensitive).
func New(format string, opts Options) (Writer, error) {
	fn, ok := formats[strings.ToLower(strings.TrimSpace(format))]
	if !ok {
		return nil, fmt.Errorf("report: unknown format %q (known: %s)", format, strings.Join(Formats(), ", "))
	}
	return fn(opts), nil
}
