package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/trace"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

// The flags below are declared once and registered by every command that needs them:
// where a document goes (--format, -o), which store (--db), which policy and accepted
// risks (--policy, --ignore-file), and the CI gate (--fail-on, --fail-on-new, --baseline).

// outputFlags choose how a command's document is written.
type outputFlags struct {
	app        *app
	format     string
	output     string
	severity   string    // -s, for documents that list findings
	groupAbove int       // --group-above, for a scan's table and HTML
	formats    formatSet // the formats this command's document has
	show       []findings.Severity
}

// formatSet is what a command knows of its document's formats: report.Registry.
type formatSet interface {
	Formats() []string
	Has(format string) bool
}

// formatByExtension is the format -o implies when -f is not given.
var formatByExtension = map[string]string{".json": "json", ".html": "html", ".htm": "html", ".sarif": "sarif", ".csv": "csv",
	".svg": "svg", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}

// register declares -f/--format and -o/--output for a document written in the given formats.
func (o *outputFlags) register(a *app, fs *pflag.FlagSet, formats formatSet) {
	o.app, o.formats = a, formats
	fs.StringVarP(&o.format, "format", "f", "table", "output `FORMAT`: "+strings.Join(formats.Formats(), ", ")+
		"; without -f, the format of -o's extension (.json, .html, .sarif, .csv)")
	fs.StringVarP(&o.output, "output", "o", "", "write the output to `FILE` instead of standard output")
}

// registerSeverity declares -s/--severity, for documents that list findings.
func (o *outputFlags) registerSeverity(fs *pflag.FlagSet) {
	fs.StringVarP(&o.severity, "severity", "s", "",
		"show only findings of these `SEVERITIES` (comma-separated, e.g. high,critical); what is stored and the --fail-on gate are unchanged")
}

// registerGroup declares --group-above: for a scan's document, how many findings the
// table and the HTML page list one by one before they group them (and how many
// certificates, services and assets the table lists before it groups those); for a
// comparison, how many of one status the table lists before it groups them.
func (o *outputFlags) registerGroup(fs *pflag.FlagSet, usage string) {
	fs.IntVar(&o.groupAbove, "group-above", report.DefaultGroupAbove, usage)
}

// The --group-above of the commands that render a scan, and of diff.
const (
	groupScanUsage = "above `N` findings, the table and HTML group them by rule and severity, and the table its certificates, services and assets above N of each (0: never; -v lists every row)"
	groupDiffUsage = "above `N` findings of one status (new, fixed, not assessed, persisting), the table groups them by rule and severity (0: never; -v lists every row)"
)

// check settles the format (-f, else -o's extension), refuses an unknown one, reads
// -s, and makes sure -o can be written, all before any work is done: a typo or an
// unwritable path costs nothing.
func (o *outputFlags) check(fs *pflag.FlagSet, cmd string) error {
	if !fs.Changed("format") && o.output != "" {
		if f, ok := formatByExtension[strings.ToLower(filepath.Ext(o.output))]; ok && o.formats.Has(f) {
			o.format = f
		}
	}
	if !o.formats.Has(o.format) {
		return usageError{fmt.Sprintf("%s: --format: unknown format %q (want one of %s)", cmd, o.format,
			strings.Join(o.formats.Formats(), ", "))}
	}
	if o.severity != "" && strings.EqualFold(o.format, "defectdojo") {
		// DefectDojo's reimport closes every finding the file omits: a narrowed file
		// would close open findings as fixed.
		return usageError{fmt.Sprintf("%s: --severity does not apply to -f defectdojo: reimport would close the findings it leaves out; filter in DefectDojo (minimum_severity) instead", cmd)}
	}
	if o.severity != "" {
		sevs, err := findings.ParseSeverities(o.severity)
		if err != nil {
			return usageError{fmt.Sprintf("%s: --severity: %v", cmd, err)}
		}
		o.show = sevs
	}
	if o.output != "" {
		if err := writable(o.output); err != nil {
			return usageError{fmt.Sprintf("%s: -o %s: %v", cmd, o.output, err)}
		}
	}
	return nil
}

// writable checks that a file can be created or replaced at path without changing
// anything: not a directory, in a directory that exists and lets us write.
func writable(path string) error {
	if strings.HasSuffix(path, string(os.PathSeparator)) {
		return errors.New("names a directory; give a file name")
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return errors.New("is a directory; give a file name")
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return errors.Unwrap(err)
		}
		return f.Close()
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %w", dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	probe, err := os.CreateTemp(dir, ".medscan-write-check-*")
	if err != nil {
		return fmt.Errorf("directory %s cannot be written: %w", dir, errors.Unwrap(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// options are the writers' presentation choices for this output.
func (o *outputFlags) options() report.Options {
	toTerminal := o.output == "" && isTerminal(o.app.stdout)
	return report.Options{
		Color:   toTerminal && colorWanted(o.app.noColor),
		Width:   terminalWidth(o.app.stdout, toTerminal),
		Verbose: o.app.verbose,
		Catalog: rules.CatalogIndex(),
		// 0 asks never to group; the writers read 0 as their default and a negative
		// number as never.
		GroupAbove: cmp.Or(o.groupAbove, -1),
	}
}

// write renders doc with w on standard output, or on the file named by -o.
func write[D any](o *outputFlags, reg *report.Registry[D], doc D) error {
	opts := o.options()
	if r, ok := any(doc).(*findings.Report); ok && o.format == "sarif" {
		opts.Repos = sarifRepos(r)
	}
	w, err := reg.New(o.format, opts)
	if err != nil {
		return usageError{"--format: " + err.Error()}
	}
	return writeOut(o.output, o.app.stdout, func(out io.Writer) error { return w.Write(out, doc) })
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
	fs.StringVar(&s.db, "db", "", "store: an SQLite file `PATH`, or a PostgreSQL URL postgres://user@host/db (default $MEDSCAN_DB, else ./medscan.db)")
}

// path is --db, which MEDSCAN_DB sets like any flag's variable (config.go), else
// ./medscan.db.
func (s *storeFlag) path() string {
	if s.db != "" {
		return s.db
	}
	return "medscan.db"
}

// name is path for messages and documents: a PostgreSQL URL without its password.
func (s *storeFlag) name() string { return store.RedactDSN(s.path()) }

// read opens an existing store for a command that only reads it: read-only, so that
// nothing that goes wrong can change it, on a read-only mount too, and creating no file
// beside it (store.OpenReadOnly); an older store is migrated first, as reading it needs,
// which only a user who can write it can do.
func (s *storeFlag) read() (*store.Store, error) {
	path := s.path()
	// Reading a store must not create one: a mistyped --db is an error, not an empty
	// store (a PostgreSQL database without medscan's tables is refused by OpenReadOnly).
	if _, err := os.Stat(path); err != nil && !store.IsPostgresDSN(path) {
		return nil, fmt.Errorf("no store at %s (%w); run medscan scan first, or give --db", path, errors.Unwrap(err))
	}
	st, err := store.OpenReadOnly(path)
	if errors.Is(err, store.ErrNeedsMigration) {
		st, err = store.Open(path)
		if errors.Is(err, store.ErrNotWritable) {
			return nil, fmt.Errorf("%s was written by an older medscan and must be migrated before it is read, which this user cannot do (%w); run a command that stores (medscan scan or lint) once as the store's owner",
				s.name(), err)
		}
	}
	return st, err
}

// kindFlag chooses which kind of run "latest" means.
type kindFlag struct{ kind string }

func (k *kindFlag) register(fs *pflag.FlagSet) {
	fs.StringVar(&k.kind, "kind", findings.KindNetwork,
		"which runs latest and latest~N count: `KIND` "+findings.KindNetwork+" (scans), "+findings.KindLint+" (lint runs) or "+findings.KindVerify+" (verify runs)")
}

func (k *kindFlag) check(cmd string) error {
	if k.kind != findings.KindNetwork && k.kind != findings.KindLint && k.kind != findings.KindVerify {
		return usageError{fmt.Sprintf("%s: --kind: unknown kind %q (want %s, %s or %s)", cmd, k.kind, findings.KindNetwork, findings.KindLint, findings.KindVerify)}
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

// checkGate applies the gate to a prepared report: a message on stderr and exit 3 when
// it fails.
func checkGate(g store.Gate, rep *findings.Report, stderr io.Writer) error {
	n, msg := g.Failed(rep)
	return gateOutcome(n, msg, stderr)
}

// judgeThenNarrow applies the gate to the whole report, then narrows what it shows to
// -s: what is shown never changes what the gate counts.
func (o *outputFlags) judgeThenNarrow(g store.Gate, rep *findings.Report) (failed int, msg string) {
	failed, msg = g.Failed(rep)
	rep.ShowOnly(o.show)
	return failed, msg
}

// gateOutcome is the gate's verdict, computed earlier (before -s narrowed the report):
// its message on stderr and exit 3 when findings failed it.
func gateOutcome(failed int, msg string, stderr io.Writer) error {
	if failed > 0 {
		fmt.Fprintf(stderr, "medscan: %s\n", msg)
		return codeError{exitFindings}
	}
	return nil
}

// prepare makes a stored scan ready to render: with its change since the baseline
// (when given) or the previous comparable scan, and the suppressions in force applied.
// rep is the scan's document when the caller holds it as stored (a scan just saved:
// store.SaveAsStored), so that it is not read back; nil reads scan id from the store.
func prepare(ctx context.Context, st *store.Store, id int64, rep *findings.Report, base *findings.Report, baseName string,
	active []rules.Suppression) (*findings.Report, error) {
	return prepareFrom(ctx, st, id, rep, base, baseName, active, nil)
}

// prepareFrom is prepare given the previous scan read ahead (inputs.previous; nil for
// none): the comparison takes it when it is still the previous one
// (store.Store.AttachChangeFrom).
func prepareFrom(ctx context.Context, st *store.Store, id int64, rep *findings.Report, base *findings.Report, baseName string,
	active []rules.Suppression, previous *findings.Report) (*findings.Report, error) {
	catalog := rules.CatalogIndex()
	if rep == nil {
		var err error
		if rep, err = st.Load(ctx, id); err != nil {
			return nil, err
		}
	}
	if base == nil {
		if err := st.AttachChangeFrom(ctx, rep, catalog, previous); err != nil {
			return nil, err
		}
		rules.ApplySuppressions(rep, active)
		return rep, nil
	}
	if err := store.SameKind(base.Scan, rep.Scan); err != nil {
		return nil, usageError{"--baseline " + baseName + ": " + err.Error()}
	}
	rep.Change = store.Diff(base, rep, catalog)
	rep.Change.Baseline = baseName
	rules.ApplySuppressions(rep, active)
	return rep, nil
}

// blocklistFlag registers --key-blocklist, shared by scan and lint.
func blocklistFlag(fs *pflag.FlagSet) *string {
	return fs.String("key-blocklist", "", "known-compromised keys: a `FILE` of hex SHA-256 digests of SubjectPublicKeyInfo DER, one per line")
}

// runFlags are the flags of the commands that run and store a scan (scan, lint).
type runFlags struct {
	app     *app
	out     outputFlags
	db      storeFlag
	pol     policyFlags
	gate    gateFlags
	label   string
	site    siteValue
	blockls *string
	akey    auditKeyFlag
}

func (r *runFlags) register(a *app, fs *pflag.FlagSet, what string) {
	r.app = a
	r.out.register(a, fs, report.Scan)
	r.out.registerSeverity(fs)
	r.out.registerGroup(fs, groupScanUsage)
	r.db.register(fs)
	r.pol.register(fs)
	r.gate.register(fs)
	fs.StringVar(&r.label, "label", "", "give this "+what+" a `NAME` (a ward) so later ones can be compared with it")
	registerSite(fs, &r.site)
	r.blockls = blocklistFlag(fs)
	r.akey.register(fs, false)
}

// inputs are what a storing command reads before it opens the store, so that a bad
// policy, suppression file, baseline or blocklist stops it before anything is recorded.
type inputs struct {
	policy       *rules.Policy
	suppressions []rules.Suppression // in force today
	base         *findings.Report    // --baseline, nil for none
	blocklist    *lint.Blocklist     // --key-blocklist, nil for none
	gate         store.Gate
	auditKey     *store.AuditKey // --audit-key-file, nil for none
	// previous is the scan the report compares this one with, read while the scan was
	// being saved (scan.Options.WhileSaving, store.Store.ReadPrevious); nil when not read.
	previous *findings.Report
}

// check refuses a bad --format or --fail-on before any other work, so a typo costs
// nothing and is told as a usage error.
func (r *runFlags) check(fs *pflag.FlagSet, cmd string) error {
	if err := r.out.check(fs, cmd); err != nil {
		return err
	}
	_, err := r.gate.gate()
	return err
}

// inputs reads the gate, the policy, the suppressions, the baseline and the key
// blocklist.
func (r *runFlags) inputs(ctx context.Context, cmd string) (inputs, error) {
	var in inputs
	var err error
	in.gate, err = r.gate.gate()
	if err != nil {
		return in, err
	}
	if in.policy, err = r.pol.policy(); err != nil {
		return in, err
	}
	if in.suppressions, err = r.pol.suppressions(r.app.warn()); err != nil {
		return in, err
	}
	if in.base, err = r.gate.loadBaseline(ctx); err != nil {
		return in, err
	}
	if in.auditKey, err = r.akey.load(true); err != nil {
		return in, err
	}
	if *r.blockls != "" {
		in.blocklist, err = lint.LoadBlocklist(*r.blockls)
	}
	return in, err
}

// openFiles is the start every command that reads files into a stored run shares (lint,
// verify): a path that does not exist is a typo, said before anything is recorded; then
// the inputs are read and the store opened, which the caller closes.
func (r *runFlags) openFiles(ctx context.Context, cmd string, paths []string) (inputs, *store.Store, error) {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return inputs{}, nil, fmt.Errorf("%s: %w", p, errors.Unwrap(err))
		}
	}
	in, err := r.inputs(ctx, cmd)
	if err != nil {
		return in, nil, err
	}
	st, err := store.Open(r.db.path())
	return in, st, err
}

// finishUnstored renders, from memory, a scan that ran but could not be stored (a full
// disk): the hours it may have taken are not lost with the store. The document has no
// change since a previous scan (that needs the scan in the store) but is compared with
// --baseline when given. The gate's verdict is told, and the exit is 1 whatever it is,
// with one line naming the store and why.
func (r *runFlags) finishUnstored(res scan.Result, saveErr error, in inputs, incomplete string) error {
	stderr := r.app.stderr
	rep := res.Report
	// Every format says so in the document too: a report filed away must not pass for a
	// stored scan.
	rep.Scan.Problems = append(rep.Scan.Problems, observe.Problem{Source: r.db.name(), Offset: -1,
		Message: "the scan was not stored: " + saveErr.Error()})
	if in.base != nil {
		if err := store.SameKind(in.base.Scan, rep.Scan); err != nil {
			return usageError{"--baseline " + r.gate.baseline + ": " + err.Error()}
		}
		rep.Change = store.Diff(in.base, rep, rules.CatalogIndex())
		rep.Change.Baseline = r.gate.baseline
	}
	rules.ApplySuppressions(rep, in.suppressions)
	failed, gateMsg := in.gate.Failed(rep)
	rep.ShowOnly(r.out.show)
	where := "the report above"
	if r.out.output != "" {
		where = "the report in " + r.out.output
	}
	if err := write(&r.out, report.Scan, rep); err != nil {
		return fmt.Errorf("%w; and writing the report from memory failed: %w", saveErr, err)
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "medscan: %s\n", gateMsg)
	}
	if !res.Complete {
		fmt.Fprintln(stderr, "medscan: "+incomplete)
	}
	return fmt.Errorf("%w: %s is from memory and the scan was not stored", saveErr, where)
}

// finish renders a scan just stored, prints its summary line, and applies the gate, then
// the incomplete-input exit code: the tail every storing command shares. rep is the
// scan's document as stored (scan.Result.Report), rendered without reading it back; nil
// reads it from the store (a live scan, stored by checkpoints).
func (r *runFlags) finish(ctx context.Context, st *store.Store, id int64, rep *findings.Report, complete bool, in inputs,
	what, incomplete string) error {
	stderr := r.app.stderr
	// The scan is stored: rendering it must not fail because Ctrl-C cancelled the scan.
	ctx = context.WithoutCancel(ctx)
	// The run is recorded before anything is rendered, so that a report that fails to
	// write does not leave a stored scan that no record accounts for.
	region := trace.StartRegion(ctx, "finish.record")
	recorded := r.app.recordRun(ctx, st, id, r.pol.loaded, in.auditKey)
	region.End()
	region = trace.StartRegion(ctx, "finish.prepare")
	rep, err := prepareFrom(ctx, st, id, rep, in.base, r.gate.baseline, in.suppressions, in.previous)
	region.End()
	if err != nil {
		return err
	}
	// The summary line judges the whole scan, as the gate does.
	summary := report.SummaryLine(rep)
	failed, gateMsg := r.out.judgeThenNarrow(in.gate, rep)
	region = trace.StartRegion(ctx, "finish.write")
	err = write(&r.out, report.Scan, rep)
	region.End()
	if err != nil {
		return err
	}
	if !r.app.quiet {
		fmt.Fprintf(stderr, "medscan: scan %d stored in %s: %s%s\n", id, st.Path(), what, summary)
	}
	if err := gateOutcome(failed, gateMsg, stderr); err != nil {
		return err
	}
	if !recorded {
		return codeError{exitError}
	}
	if !complete {
		fmt.Fprintln(stderr, "medscan: "+incomplete)
		return codeError{exitError}
	}
	return nil
}
