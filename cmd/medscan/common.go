package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

// The flags below are declared once and registered by every command that needs them:
// where a document goes (--format, -o), which store (--db), which policy and accepted
// risks (--policy, --ignore-file), and the CI gate (--fail-on, --fail-on-new, --baseline).

// outputFlags choose how a command's document is written.
type outputFlags struct {
	format  string
	output  string
	formats formatSet // the formats this command's document has
}

// formatSet is what a command knows of its document's formats: report.Registry.
type formatSet interface {
	Formats() []string
	Has(format string) bool
}

// register declares --format and -o for a document written in the given formats.
func (o *outputFlags) register(fs *pflag.FlagSet, formats formatSet) {
	o.formats = formats
	fs.StringVar(&o.format, "format", "table", "output `FORMAT`: "+strings.Join(formats.Formats(), ", "))
	fs.StringVarP(&o.output, "output", "o", "", "write the output to `FILE` instead of standard output")
}

// check refuses an unknown format, or an -o that cannot be a file, before any work is
// done.
func (o *outputFlags) check(cmd string) error {
	if !o.formats.Has(o.format) {
		return usageError{fmt.Sprintf("%s: --format: unknown format %q (want one of %s)", cmd, o.format,
			strings.Join(o.formats.Formats(), ", "))}
	}
	if err := checkOutputPath(o.output); err != nil {
		return usageError{cmd + ": -o: " + err.Error()}
	}
	return nil
}

// checkOutputPath tells, without creating anything (the file is created only when the
// output is written), whether path can be written as a file: not a folder, and in a
// folder that exists. A scan of hours must not end in "is a directory".
func checkOutputPath(path string) error {
	if path == "" {
		return nil
	}
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(os.PathSeparator)) {
		return fmt.Errorf("%s: names a folder; give a file name in it", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s: is a folder; give a file name in it", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("%s: folder %s: %w", path, dir, errors.Unwrap(err))
	case !fi.IsDir():
		return fmt.Errorf("%s: %s is not a folder", path, dir)
	}
	return nil
}

// options are the writers' presentation choices for this output.
func (o *outputFlags) options() report.Options {
	return report.Options{Color: o.output == "" && colorWanted(), Width: report.DefaultWidth, Catalog: rules.CatalogIndex()}
}

// write renders doc with w on standard output, or on the file named by -o.
func write[D any](o *outputFlags, reg *report.Registry[D], doc D, stdout io.Writer) error {
	w, err := reg.New(o.format, o.options())
	if err != nil {
		return usageError{"--format: " + err.Error()}
	}
	return writeOut(o.output, stdout, func(out io.Writer) error { return w.Write(out, doc) })
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

// storeFlag names the store.
type storeFlag struct{ db string }

func (s *storeFlag) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.db, "db", "", "SQLite store `PATH` (default $MEDSCAN_DB, else ./medscan.db)")
}

func (s *storeFlag) path() string {
	if s.db != "" {
		return s.db
	}
	if env := os.Getenv("MEDSCAN_DB"); env != "" {
		return env
	}
	return "medscan.db"
}

// read opens an existing store for a command that only reads it: read-only, so that
// nothing that goes wrong can change it; an older store is migrated first, as reading it
// needs.
func (s *storeFlag) read() (*store.Store, error) {
	path := s.path()
	// Reading a store must not create one: a mistyped --db is an error, not an empty store.
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no store at %s (%w); run medscan scan first, or give --db", path, errors.Unwrap(err))
	}
	st, err := store.OpenReadOnly(path)
	if errors.Is(err, store.ErrNeedsMigration) {
		return store.Open(path)
	}
	return st, err
}

// kindFlag chooses which kind of run "latest" means.
type kindFlag struct{ kind string }

func (k *kindFlag) register(fs *pflag.FlagSet) {
	fs.StringVar(&k.kind, "kind", findings.KindNetwork,
		"which runs latest and latest~N count: `KIND` "+findings.KindNetwork+" (scans) or "+findings.KindLint+" (lint runs)")
}

func (k *kindFlag) check(cmd string) error {
	if k.kind != findings.KindNetwork && k.kind != findings.KindLint {
		return usageError{fmt.Sprintf("%s: --kind: unknown kind %q (want %s or %s)", cmd, k.kind, findings.KindNetwork, findings.KindLint)}
	}
	return nil
}

// policyFlags name the policy and the accepted risks.
type policyFlags struct {
	policyPath string
	ignoreFile string
	loaded     *rules.Policy // --policy, read once (it may be a pipe)
}

func (p *policyFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&p.policyPath, "policy", "", "policy `FILE` (YAML): thresholds, severities, disabled rules, trust anchors, webpki, suppressions")
	fs.StringVar(&p.ignoreFile, "ignore-file", "", "suppression `FILE` (default ./"+rules.IgnoreFile+" when present)")
}

// policy loads --policy once, or returns the default policy.
func (p *policyFlags) policy() (*rules.Policy, error) {
	if p.loaded != nil {
		return p.loaded, nil
	}
	if p.policyPath == "" {
		return rules.DefaultPolicy(), nil
	}
	pol, err := rules.LoadPolicy(p.policyPath)
	if err != nil {
		return nil, err
	}
	p.loaded = pol
	return pol, nil
}

// suppressions reads the policy's suppressions and the suppression file (--ignore-file,
// else ./.medscanignore.yaml when present) and returns the entries in force today,
// printing a warning for each expired one. It runs before the store is opened, so a bad
// file changes nothing.
func (p *policyFlags) suppressions(stderr io.Writer) ([]rules.Suppression, error) {
	pol, err := p.policy()
	if err != nil {
		return nil, err
	}
	list := pol.Suppressions
	path := p.ignoreFile
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

// gateFlags choose what the CI gate counts and what a scan is compared with.
type gateFlags struct {
	failOn       string
	failOnNew    bool
	baseline     string
	baselineScan string
}

func (g *gateFlags) register(fs *pflag.FlagSet) {
	g.registerGate(fs)
	fs.StringVar(&g.baseline, "baseline", "", "compare with `FILE`: a medscan JSON report, or a store (its latest scan, or --baseline-scan)")
	fs.StringVar(&g.baselineScan, "baseline-scan", "", "which scan of a --baseline store: latest, latest~N or an `ID`")
}

// registerGate declares --fail-on and --fail-on-new alone (diff compares two scans it is
// given, and takes no baseline).
func (g *gateFlags) registerGate(fs *pflag.FlagSet) {
	fs.StringVar(&g.failOn, "fail-on", "", "exit 3 when a finding at or above `SEVERITY` exists (info, low, medium, high, critical)")
	fs.BoolVar(&g.failOnNew, "fail-on-new", false,
		"exit 3 only for findings new since the baseline (or the previous comparable scan); with --fail-on, new ones at or above it")
}

// gate reads --fail-on and --fail-on-new.
func (g *gateFlags) gate() (store.Gate, error) {
	var out store.Gate
	if g.failOn != "" {
		s, err := findings.ParseSeverity(g.failOn)
		if err != nil {
			return out, usageError{"--fail-on: " + err.Error()}
		}
		out.FailOn = &s
	}
	out.NewOnly = g.failOnNew
	return out, nil
}

// loadBaseline reads --baseline; nil when none was given.
func (g *gateFlags) loadBaseline(ctx context.Context) (*findings.Report, error) {
	if g.baseline == "" {
		if g.baselineScan != "" {
			return nil, usageError{"--baseline-scan needs --baseline STORE"}
		}
		return nil, nil
	}
	rep, err := store.LoadBaseline(ctx, g.baseline, g.baselineScan)
	if errors.Is(err, store.ErrBaselineScanNotStore) {
		return nil, usageError{"--baseline-scan applies to a store; " + g.baseline + " is not one"}
	}
	return rep, err
}

// check applies the gate to a prepared report: a message on stderr and exit 3 when it
// fails.
func checkGate(g store.Gate, rep *findings.Report, stderr io.Writer) error {
	if n, msg := g.Failed(rep); n > 0 {
		fmt.Fprintf(stderr, "medscan: %s\n", msg)
		return codeError{exitFindings}
	}
	return nil
}

// prepare loads a stored scan as it is rendered: with its change since the baseline
// (when given) or the previous comparable scan, and the suppressions in force applied.
func prepare(ctx context.Context, st *store.Store, id int64, base *findings.Report, baseName string,
	active []rules.Suppression) (*findings.Report, error) {
	catalog := rules.CatalogIndex()
	if base == nil {
		rep, err := st.LoadWithChange(ctx, id, catalog)
		if err != nil {
			return nil, err
		}
		rules.ApplySuppressions(rep, active)
		return rep, nil
	}
	rep, err := st.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := store.SameKind(base.Scan, rep.Scan); err != nil {
		return nil, usageError{"--baseline " + baseName + ": " + err.Error()}
	}
	rep.Change = store.Diff(base, rep, catalog)
	rep.Change.Baseline = baseName
	rules.ApplySuppressions(rep, active)
	return rep, nil
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

// blocklistFlag registers --key-blocklist, shared by scan and lint.
func blocklistFlag(fs *pflag.FlagSet) *string {
	return fs.String("key-blocklist", "", "known-compromised keys: a `FILE` of hex SHA-256 digests of SubjectPublicKeyInfo DER, one per line")
}

// runFlags are the flags of the commands that run and store a scan (scan, lint).
type runFlags struct {
	out     outputFlags
	db      storeFlag
	pol     policyFlags
	gate    gateFlags
	label   string
	quiet   bool
	blockls *string
}

func (r *runFlags) register(fs *pflag.FlagSet, what string) {
	r.out.register(fs, report.Scan)
	r.db.register(fs)
	r.pol.register(fs)
	r.gate.register(fs)
	fs.StringVar(&r.label, "label", "", "name this "+what+" (a site, a ward) so later ones can be compared with it")
	fs.BoolVarP(&r.quiet, "quiet", "q", false, "print nothing on stderr but errors")
	r.blockls = blocklistFlag(fs)
}

// inputs are what a storing command reads before it opens the store, so that a bad
// policy, suppression file, baseline or blocklist stops it before anything is recorded.
type inputs struct {
	policy       *rules.Policy
	suppressions []rules.Suppression // in force today
	base         *findings.Report    // --baseline, nil for none
	blocklist    *lint.Blocklist     // --key-blocklist, nil for none
	gate         store.Gate
}

// check refuses a bad --format or --fail-on before any other work, so a typo costs
// nothing and is told as a usage error.
func (r *runFlags) check(cmd string) error {
	if err := r.out.check(cmd); err != nil {
		return err
	}
	_, err := r.gate.gate()
	return err
}

// inputs reads the gate, the policy, the suppressions, the baseline and the key
// blocklist.
func (r *runFlags) inputs(ctx context.Context, cmd string, stderr io.Writer) (inputs, error) {
	var in inputs
	var err error
	if err = r.check(cmd); err != nil {
		return in, err
	}
	in.gate, _ = r.gate.gate()
	if in.policy, err = r.pol.policy(); err != nil {
		return in, err
	}
	if in.suppressions, err = r.pol.suppressions(stderr); err != nil {
		return in, err
	}
	if in.base, err = r.gate.loadBaseline(ctx); err != nil {
		return in, err
	}
	if *r.blockls != "" {
		in.blocklist, err = lint.LoadBlocklist(*r.blockls)
	}
	return in, err
}

// finish renders a scan just stored, prints its summary line, and applies the gate, then
// the incomplete-input exit code: the tail every storing command shares.
func (r *runFlags) finish(ctx context.Context, st *store.Store, id int64, complete bool, in inputs, what, incomplete string,
	stdout, stderr io.Writer) error {
	// The scan is stored: rendering it must not fail because Ctrl-C cancelled the scan.
	ctx = context.WithoutCancel(ctx)
	rep, err := prepare(ctx, st, id, in.base, r.gate.baseline, in.suppressions)
	if err != nil {
		return err
	}
	if err := write(&r.out, report.Scan, rep, stdout); err != nil {
		return err
	}
	if !r.quiet {
		fmt.Fprintf(stderr, "medscan: scan %d stored in %s: %s%s\n", id, st.Path(), what, report.SummaryLine(rep))
	}
	if err := checkGate(in.gate, rep, stderr); err != nil {
		return err
	}
	if !complete {
		fmt.Fprintln(stderr, "medscan: "+incomplete)
		return codeError{exitError}
	}
	return nil
}
