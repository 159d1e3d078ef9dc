package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
)

// outputFlags are shared by every command that renders a report.
type outputFlags struct {
	format string
	output string
	db     string
	failOn string
	gateFlags
}

func (o *outputFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "table", "report `FORMAT`: "+strings.Join(report.Formats(), ", "))
	fs.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fs.StringVar(&o.db, "db", "", "SQLite store `PATH` (default $MEDSCAN_DB, else ./medscan.db)")
	fs.StringVar(&o.failOn, "fail-on", "", "exit 3 when a finding at or above `SEVERITY` exists (info, low, medium, high, critical)")
	o.gateFlags.register(fs, true)
}

// gateFlags choose what the CI gate counts: suppressions, and new findings only.
type gateFlags struct {
	failOnNew    bool
	baseline     string
	baselineScan string
	ignoreFile   string
	policyPath   string
	loaded       *rules.Policy // --policy, read once (it may be a pipe)
}

func (g *gateFlags) register(fs *pflag.FlagSet, withBaseline bool) {
	fs.BoolVar(&g.failOnNew, "fail-on-new", false,
		"exit 3 only for findings new since the baseline (or the previous scan with the same label); with --fail-on, new ones at or above it")
	fs.StringVar(&g.ignoreFile, "ignore-file", "", "suppression `FILE` (default ./"+rules.IgnoreFile+" when present)")
	fs.StringVar(&g.policyPath, "policy", "", "policy `FILE` (YAML): thresholds, severities, disabled rules, trust anchors, webpki, suppressions")
	if withBaseline {
		fs.StringVar(&g.baseline, "baseline", "", "compare with `FILE`: a medscan JSON report, or a store (its latest scan, or --baseline-scan)")
		fs.StringVar(&g.baselineScan, "baseline-scan", "", "which scan of a --baseline store: latest, latest~N or an `ID`")
	}
}

// suppressions reads the suppression file (--ignore-file, else ./.medscanignore.yaml when
// present) and returns the entries in force today, after those of extra (a policy's),
// printing a warning for each expired one. It runs before the store is opened, so a bad
// file changes nothing.
func (g *gateFlags) suppressions(stderr io.Writer, extra ...rules.Suppression) ([]rules.Suppression, error) {
	list := extra
	if len(list) == 0 && g.policyPath != "" {
		pol, err := g.policy()
		if err != nil {
			return nil, err
		}
		list = pol.Suppressions
	}
	path := g.ignoreFile
	if path == "" {
		if _, err := os.Stat(rules.IgnoreFile); err == nil {
			path = rules.IgnoreFile
		}
	}
	if path != "" {
		fromFile, err := rules.LoadSuppressions(path)
		if err != nil {
			return nil, err
		}
		list = append(slices.Clone(list), fromFile...)
	}
	active, warnings, err := rules.ActiveSuppressions(list, time.Now())
	for _, w := range warnings {
		fmt.Fprintf(stderr, "medscan: %s\n", w)
	}
	return active, err
}

// policy loads --policy once, or returns the default policy.
func (g *gateFlags) policy() (*rules.Policy, error) {
	if g.loaded != nil {
		return g.loaded, nil
	}
	if g.policyPath == "" {
		return rules.DefaultPolicy(), nil
	}
	pol, err := rules.LoadPolicy(g.policyPath)
	if err != nil {
		return nil, err
	}
	g.loaded = pol
	return pol, nil
}

// loadBaseline reads --baseline: a store (recognised by SQLite's header) opened read-only,
// or a medscan JSON report. Nil when no baseline was given.
func (g *gateFlags) loadBaseline(ctx context.Context) (*findings.Report, error) {
	if g.baseline == "" {
		if g.baselineScan != "" {
			return nil, usageError{"--baseline-scan needs --baseline STORE"}
		}
		return nil, nil
	}
	f, err := os.Open(g.baseline)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", g.baseline, errors.Unwrap(err))
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, _ := io.ReadFull(f, head)
	if string(head[:n]) == sqliteHeader {
		st, err := findings.OpenReadOnly(g.baseline)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		defer st.Close()
		ref := g.baselineScan
		if ref == "" {
			ref = "latest"
		}
		id, err := st.ResolveScan(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		rep, err := st.Load(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		return rep, nil
	}
	if g.baselineScan != "" {
		return nil, usageError{"--baseline-scan applies to a store; " + g.baseline + " is not one"}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", g.baseline, err)
	}
	var rep findings.Report
	dec := json.NewDecoder(f)
	dec.UseNumber()
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("baseline %s: not a medscan JSON report or store: %w", g.baseline, err)
	}
	if rep.SchemaVersion != findings.ReportSchemaVersion {
		return nil, fmt.Errorf("baseline %s: schema_version %d, want %d (a medscan JSON report)",
			g.baseline, rep.SchemaVersion, findings.ReportSchemaVersion)
	}
	rep.Normalize()
	return &rep, nil
}

// sqliteHeader opens every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// readStore opens an existing store for a command that only reads it: read-only, so
// that nothing that goes wrong can change it; an older store is migrated first, as
// reading it needs.
func readStore(path string) (*findings.Store, error) {
	// Reading a store must not create one: a mistyped --db is an error, not an empty store.
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no store at %s (%w); run medscan scan first, or give --db", path, errors.Unwrap(err))
	}
	st, err := findings.OpenReadOnly(path)
	if errors.Is(err, findings.ErrNeedsMigration) {
		return findings.Open(path)
	}
	return st, err
}

// prepare fills what a rendered report shows beyond the stored scan: the change since
// the baseline (when given) or since the previous comparable scan, and the suppressions.
func prepare(ctx context.Context, st *findings.Store, id int64, base *findings.Report, baseName string,
	active []rules.Suppression) (*findings.Report, error) {
	var (
		rep *findings.Report
		err error
	)
	if base != nil {
		if rep, err = st.Load(ctx, id); err == nil {
			rep.Change = findings.Diff(base, rep)
			rep.Change.Baseline = baseName
		}
	} else {
		rep, err = st.LoadWithChange(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	rules.ApplySuppressions(rep, active)
	return rep, nil
}

func (o *outputFlags) dbPath() string {
	if o.db != "" {
		return o.db
	}
	if env := os.Getenv("MEDSCAN_DB"); env != "" {
		return env
	}
	return "medscan.db"
}

// check validates the flags before any work is done, so a typo costs nothing.
func (o *outputFlags) check() (gate *findings.Severity, w report.Writer, err error) {
	if o.failOn != "" {
		s, err := findings.ParseSeverity(o.failOn)
		if err != nil {
			return nil, nil, usageError{"--fail-on: " + err.Error()}
		}
		gate = &s
	}
	w, err = report.New(o.format, report.Options{Color: o.output == "" && colorWanted(), Width: 100, Rules: catalogInfo()})
	if err != nil {
		return nil, nil, usageError{"--format: " + err.Error()}
	}
	return gate, w, nil
}

// render writes a prepared report where the flags say.
func (o *outputFlags) render(rep *findings.Report, w report.Writer, stdout io.Writer) error {
	return writeOut(o.output, stdout, func(out io.Writer) error { return w.Write(out, rep) })
}

// writeOut runs write on standard output, or on the file named by -o.
func writeOut(output string, stdout io.Writer, write func(io.Writer) error) error {
	if output == "" {
		return write(stdout)
	}
	f, err := os.Create(output)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", output, err)
	}
	return f.Close()
}

// gateFailed applies --fail-on and --fail-on-new to a prepared report: it counts the
// findings (never the suppressed ones) at or above --fail-on (any severity without it)
// that are new when --fail-on-new is set: absent from the baseline, or from the previous
// comparable scan, or, when there is neither, every finding.
func gateFailed(gate *findings.Severity, failOnNew bool, rep *findings.Report, stderr io.Writer) error {
	if gate == nil && !failOnNew {
		return nil
	}
	var isNew map[string]bool
	if failOnNew && rep.Change != nil {
		isNew = map[string]bool{}
		for _, c := range rep.Change.New {
			isNew[c.Fingerprint] = true
		}
	}
	n := 0
	for _, f := range rep.Findings {
		if gate != nil && f.Severity < *gate {
			continue
		}
		if isNew != nil && !isNew[f.Fingerprint] {
			continue
		}
		n++
	}
	if n == 0 {
		return nil
	}
	what := "finding(s)"
	if failOnNew {
		what = "new finding(s)"
	}
	if gate != nil {
		what += " at or above " + gate.String()
	}
	against := ""
	switch {
	case !failOnNew:
	case rep.Change == nil:
		against = ", with nothing to compare with"
	case rep.Change.Baseline != "":
		against = ", against " + rep.Change.Baseline
	default:
		against = fmt.Sprintf(", against scan %d", rep.Change.PreviousScan)
	}
	fmt.Fprintf(stderr, "medscan: %d %s (the CI gate%s)\n", n, what, against)
	return codeError{exitFindings}
}

// cleanText makes user- or network-supplied text safe for a terminal: control
// characters and bidirectional overrides are shown as escapes rather than obeyed.
func cleanText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// colorWanted is true when stdout is a terminal and NO_COLOR is not set.
func colorWanted() bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(os.Stdout)
}

// parseFlags parses a subcommand's flags, turning pflag's errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage of medscan %s:\n%s", fs.Name(), fs.FlagUsages())
			return true, nil
		}
		return false, usageError{fs.Name() + ": " + err.Error()}
	}
	return false, nil
}

func summaryLine(rep *findings.Report) string {
	s := rep.Summary
	parts := []string{}
	for _, p := range []struct {
		n    int
		name string
	}{{s.Critical, "critical"}, {s.High, "high"}, {s.Medium, "medium"}, {s.Low, "low"}, {s.Info, "info"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.name))
		}
	}
	line := fmt.Sprintf("%d findings", s.Total)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	if s.Suppressed > 0 {
		line += fmt.Sprintf(", %d suppressed", s.Suppressed)
	}
	if c := rep.Change; c != nil {
		line += fmt.Sprintf("; since scan %d: %d new, %d fixed, %d persisting, %d not assessed",
			c.PreviousScan, c.Counts.New, c.Counts.Fixed, c.Counts.Persisting, c.Counts.NotAssessed)
		if c.Baseline != "" {
			line = strings.Replace(line, fmt.Sprintf("since scan %d", c.PreviousScan), "since the baseline "+c.Baseline, 1)
		}
	}
	return line
}

// catalogInfo hands the rule catalog to the writers (SARIF rule entries, HTML titles and
// rationale): package report may not import package rules, so the CLI passes it.
func catalogInfo() []report.RuleInfo {
	cat := rules.Catalog()
	out := make([]report.RuleInfo, 0, len(cat))
	for _, m := range cat {
		out = append(out, report.RuleInfo(m))
	}
	return out
}

// blocklistFlag registers --key-blocklist, shared by scan and lint.
func blocklistFlag(fs *pflag.FlagSet) *string {
	return fs.String("key-blocklist", "", "known-compromised keys: a `FILE` of hex SHA-256 digests of SubjectPublicKeyInfo DER, one per line")
}

// loadBlocklist reads --key-blocklist before anything is recorded; nil when none was given.
func loadBlocklist(path string) (*lint.Blocklist, error) {
	if path == "" {
		return nil, nil
	}
	return lint.LoadBlocklist(path)
}

// storedRun is what scan and lint hand to finish: how to render and gate the scan they stored.
type storedRun struct {
	inputs
	gate       *findings.Severity
	writer     report.Writer
	quiet      bool
	what       string // what the summary line counts before the findings, e.g. "3 certificate(s), "
	incomplete string // the message for a scan that could not read all its input
}

// finish renders a scan just stored, prints its summary line, and applies the gate, then
// the incomplete-input exit code: the tail every storing command shares.
func (o *outputFlags) finish(ctx context.Context, st *findings.Store, res scan.Result, r storedRun, stdout, stderr io.Writer) error {
	// The scan is stored: rendering it must not fail because Ctrl-C cancelled the scan.
	ctx = context.WithoutCancel(ctx)
	rep, err := prepare(ctx, st, res.ScanID, r.base, o.baseline, r.suppressions)
	if err != nil {
		return err
	}
	if err := o.render(rep, r.writer, stdout); err != nil {
		return err
	}
	if !r.quiet {
		fmt.Fprintf(stderr, "medscan: scan %d stored in %s: %s%s\n", res.ScanID, st.Path(), r.what, summaryLine(rep))
	}
	if err := gateFailed(r.gate, o.failOnNew, rep, stderr); err != nil {
		return err
	}
	if !res.Complete {
		fmt.Fprintln(stderr, "medscan: "+r.incomplete)
		return codeError{exitError}
	}
	return nil
}

// inputs are what a storing command reads before it opens the store, so that a bad
// policy, suppression file, baseline or blocklist stops it before anything is recorded.
type inputs struct {
	policy       *rules.Policy
	suppressions []rules.Suppression // in force today
	base         *findings.Report    // --baseline, nil for none
	blocklist    *lint.Blocklist     // --key-blocklist, nil for none
}

// inputs reads the policy, the suppressions, the baseline and the key blocklist.
func (o *outputFlags) inputs(ctx context.Context, stderr io.Writer, blocklistPath string) (inputs, error) {
	var in inputs
	var err error
	if in.policy, err = o.policy(); err != nil {
		return in, err
	}
	if in.suppressions, err = o.suppressions(stderr, in.policy.Suppressions...); err != nil {
		return in, err
	}
	if in.base, err = o.loadBaseline(ctx); err != nil {
		return in, err
	}
	in.blocklist, err = loadBlocklist(blocklistPath)
	return in, err
}
