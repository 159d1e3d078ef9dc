// Package scan runs one medscan scan from sources to the store: it reads captures through
// the passive engine, examines every certificate, classifies the assets, applies the
// rules of the policy, builds the scan's report document (findings.NewReport) and saves
// it in one transaction (package store). It is the one place that knows the
// order of the stages, so that the CLI stays a thin shell and tests can drive a whole scan
// without a binary.
//
// The stages run one after the other, but for work that reads what is settled and
// writes apart, which runs beside a stage that leaves a core waiting: the work a
// process does once (the lint cache's version, the OUI table) beside the reading of
// the captures (warm.go), the classification beside the key checks, and the caller's
// Options.WhileSaving beside the save (MEDSCAN_TRACE shows the stages as regions).
//
// Run reads captures and, when given targets, probes them after the captures (active.go),
// so that the hosts the captures show to be medical devices are spared. RunLive (live.go)
// does the same for live interfaces, storing one scan at every commit interval through
// store.Store.BeginScan and Checkpoint. RunFiles (files.go) lints certificate files and
// stores a run of kind lint. A passive scan keeps the update images it sees on the wire,
// has package codesign examine them when the sources are read, and deletes them
// (updates.go).
package scan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"slices"
	"sync"
	"time"

	"github.com/medscan/medscan/capture"
	"github.com/medscan/medscan/capture/protocols"
	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/inventory"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all" // registers every rule
	"github.com/medscan/medscan/store"
)

// Options describe one scan.
type Options struct {
	Pcaps       []string      // capture files; "-" reads Stdin
	Stdin       io.Reader     // what "-" reads; os.Stdin when nil
	Policy      *rules.Policy // nil means the default policy
	Label       string        // names a recurring scan (a ward)
	Site        string        // where the scan is made (--site): a hospital, a clinic
	ToolVersion string
	// SourceError is told about each source that could not be read to its end, as it
	// happens, so the CLI can print it while the scan goes on.
	SourceError func(err error)
	// Clock gives the scan's start and end times (wall clock); tests fix it.
	Clock func() time.Time
	// KeyBlocklist lists known-compromised keys (--key-blocklist); nil for none.
	KeyBlocklist *lint.Blocklist
	// Probe, when set, probes its targets after the captures are read, so that what the
	// captures taught (which hosts are medical devices) guides the prober; both land in
	// one scan.
	Probe *Probe
	// Updates says how update images seen in the captures are kept, examined for code
	// signing and saved (updates.go).
	Updates Updates

	// WhileSaving, when set, runs beside the scan's save, given the scan's description
	// (without its id, which the save gives) and its findings as the rules made them,
	// which it must only read: the save keeps one core busy and leaves the other
	// waiting, and the CLI reads there what the report will compare the scan with
	// (store.Store.ReadPrevious). Run waits for it to return before it returns.
	WhileSaving func(ctx context.Context, info findings.ScanInfo, current []findings.Finding)

	// ReportOnly says the caller reads Result.Report (and the scan's id and state) but
	// not Result.Set or Result.Findings, which are then left nil: the set and the rules'
	// findings are let go once the report document is built, before it is saved.
	ReportOnly bool
}

// Result summarises a finished scan.
type Result struct {
	ScanID   int64
	Complete bool // every source was read to its end, and every target assessed
	// Partial is set when the scan is incomplete only because the probe did not assess
	// some targets (all excluded, backed off, capped, checks cut): every capture was read
	// and nothing interrupted it. --allow-partial accepts such a scan at the gate.
	Partial  bool
	Findings []findings.Finding
	Set      *observe.Set
	// Report is the scan's document, normalized as a reader expects
	// (findings.Report.Normalize): for a stored scan, what reading it back from the
	// store would give (store.SaveAsStored), so that it is rendered without being read
	// back; for a scan that ran but could not be stored (the error is then a
	// *NotStoredError), as built in memory, so that the work is not lost with the store.
	Report *findings.Report
}

// NotStoredError is the error of a scan that ran to its end but could not be saved
// (a full disk, a store that became unwritable): Result.Report holds what it learned,
// so that the caller can still render it.
type NotStoredError struct{ Err error }

func (e *NotStoredError) Error() string { return e.Err.Error() }
func (e *NotStoredError) Unwrap() error { return e.Err }

// Run performs the scan and stores it. A capture that holds no capture at all (empty, or
// not pcap or pcapng) is refused first, with nothing stored (CheckCaptures). A source that
// fails part-way does not stop the scan: what was read is kept, the problem is recorded,
// and the scan is marked incomplete. Run returns an error only when nothing was stored;
// a *NotStoredError when the scan ran but saving it failed, with its document in
// Result.Report.
func Run(ctx context.Context, st *store.Store, opt Options) (Result, error) {
	clock := opt.Clock
	if clock == nil {
		clock = time.Now
	}
	pol := opt.Policy
	if pol == nil {
		pol = rules.DefaultPolicy()
	}
	stdin, err := CheckCaptures(opt.Pcaps, opt.Stdin)
	if err != nil {
		return Result{}, err
	}
	started := clock()
	defer warmUp(st)()
	set := observe.NewSet()
	keep := opt.Updates.keeper()
	defer keep.Close() // the kept images are deleted however the scan ends
	eng := capture.NewEngine(passiveConfig(st, keep), set)
	complete, partial, readFailed := true, false, false
	read := trace.StartRegion(ctx, "scan.read")
	for _, p := range opt.Pcaps {
		if err := ctx.Err(); err != nil {
			complete, readFailed = false, true
			set.Problem(observe.Problem{Source: p, Offset: -1, Message: "not read: scan interrupted", Fatal: true})
			continue
		}
		var err error
		if p == "-" {
			err = eng.ReadContext(ctx, "-", stdin)
		} else {
			err = eng.ReadFileContext(ctx, p)
		}
		if err != nil {
			complete, readFailed = false, true
			if opt.SourceError != nil {
				opt.SourceError(err)
			}
		}
	}
	eng.Finish()
	read.End()
	finishUpdates(ctx, keep, opt.Updates, pol.CodeSigning, set)
	// The images are examined: their bytes (up to Updates.MaxSize each, 80 MB on a
	// 737-site capture) are given back now rather than held through judging and saving,
	// where the scan's memory peaks.
	keep.Close()
	sources := sourceNames(opt.Pcaps)
	if opt.Probe != nil {
		sources = append(sources, opt.Probe.sources()...)
		status, err := runProbe(ctx, st, set, opt.Probe)
		if err != nil {
			return Result{}, err
		}
		partial = status == probePartial
		if status != probeComplete {
			complete = false
		}
	}
	if ctx.Err() != nil {
		// Whatever stage the signal cut short, the scan says it was interrupted, and why.
		complete = false
		set.Problem(observe.Problem{Source: "scan", Offset: -1,
			Message: fmt.Sprintf("scan interrupted (%v): what was learned before it is stored", context.Cause(ctx))})
		readFailed = true // not what --allow-partial accepts
	}
	res, err := judgeAndStore(ctx, st, set, pol, opt.KeyBlocklist, clock, findings.ScanInfo{Kind: findings.KindNetwork,
		Started: started, Label: opt.Label, Site: opt.Site, Sources: sources, Complete: complete, ToolVersion: opt.ToolVersion}, opt.ReportOnly, opt.WhileSaving)
	// Partial only when the probe's gaps are all that is missing: an unread capture or
	// an interruption is not what --allow-partial accepts.
	res.Partial = partial && !readFailed
	return res, err
}

// passiveConfig is the engine configuration of every passive scan, from files or live:
// every dissector, credentials hashed with the store's key so that the same secret
// compares equal across scans, and the keeper of update images (nil for none).
func passiveConfig(st *store.Store, keep *updatekeep.Keeper) capture.Config {
	return capture.Config{
		Dissectors: protocols.All(),
		Datagrams:  protocols.Datagrams(),
		Secrets:    observe.NewSecretHasher(st.SecretKey()),
		Source:     observe.SourcePassive,
		Keep:       keep,
	}
}

// judgeAndStore runs the stages every kind of scan shares once its sources are read
// (judge), builds the scan's report document and stores it in one transaction. meta
// brings what the caller knows (kind, start, label, sources, complete); the rest is
// filled here. reportOnly is Options.ReportOnly, whileSaving Options.WhileSaving.
func judgeAndStore(ctx context.Context, st *store.Store, set *observe.Set, pol *rules.Policy,
	blocklist *lint.Blocklist, clock func() time.Time, meta findings.ScanInfo, reportOnly bool,
	whileSaving func(context.Context, findings.ScanInfo, []findings.Finding)) (Result, error) {
	if meta.RunKind() == findings.KindNetwork {
		// Judged across every site of the store (observe.Fleet); a lint run's files
		// belong to no site's network.
		set.Fleet = &observe.Fleet{Site: meta.Site}
	}
	region := trace.StartRegion(ctx, "scan.judge")
	fs := judge(ctx, st, set, pol, blocklist, true)
	region.End()
	meta = judgedMeta(meta, set, pol, clock)
	// Store even when the context was cancelled: what was learned is kept.
	region = trace.StartRegion(ctx, "scan.report")
	rep := findings.NewReport(meta, set, fs)
	region.End()
	if reportOnly {
		// Nothing reads the set or the rules' findings once the document is built: let
		// go of them so that the save, where a large scan's memory peaks, does not hold
		// them (14,000 hosts: about 60 MB less live at the save's peak). The collection
		// sets the save's GC goal at twice what the save starts with, rather than twice
		// what judging last held, set included (14,000 hosts: 313 MB of heap at the
		// save's peak against 347 MB, for one collection of about 160 MB live).
		set, fs = nil, nil
		runtime.GC()
	}
	var beside sync.WaitGroup
	if whileSaving != nil {
		// Taken before the save starts: once stored, the document's description and
		// lists are replaced by what the store holds (its findings list by a new one: the
		// list given here is only read, by the save and by whileSaving).
		info, current := rep.Scan, rep.Findings
		info.Sources = slices.Clone(info.Sources)
		beside.Go(func() {
			trace.WithRegion(ctx, "scan.whileSaving", func() { whileSaving(ctx, info, current) })
		})
	}
	region = trace.StartRegion(ctx, "scan.save")
	id, err := st.SaveAsStored(context.WithoutCancel(ctx), rep)
	region.End()
	beside.Wait()
	if err != nil {
		// Save is one transaction: nothing of the scan is in the store.
		rep.Normalize()
		return Result{Complete: meta.Complete, Findings: fs, Set: set, Report: rep}, &NotStoredError{err}
	}
	return Result{ScanID: id, Complete: meta.Complete, Findings: fs, Set: set, Report: rep}, nil
}

// judge examines the set's certificates and keys and applies the rules of the policy:
// the stages between reading sources and storing, shared by every kind of scan. A live
// scan judges its growing set again at each checkpoint; lint.ExamineWith only examines
// certificates without facts, and keys false skips the key checks when no certificate
// changed since they last ran (their facts stand), so that judging again costs what
// changed, not what was learned. Certificates an earlier run examined with the same
// linter come from the store's lint cache (examineCertificates).
func judge(ctx context.Context, st *store.Store, set *observe.Set, pol *rules.Policy,
	blocklist *lint.Blocklist, keys bool) []findings.Finding {
	trace.WithRegion(ctx, "scan.lint", func() { examineCertificates(ctx, st, set, pol.WebPKI) })
	lint.MatchKeyFiles(set)
	// Each session's chains against the site's anchors: the flows' mtls anchoring.
	lint.AnchorSessions(set, pol.Anchors)
	readFleet(ctx, st, set) // after the certificates' facts (their keys), before what reads other sites
	// The classification and the key checks read what is settled by now (the
	// certificates' facts, the fleet's senders) and write apart: Classify the set's
	// assets; the key checks the certificates' key facts, the fleet's factor sites, the
	// key renewals and the problems. Classify runs on one core (about 0.2 s of 150
	// sites), the key checks partly on both: run side by side, they end sooner.
	var wg sync.WaitGroup
	wg.Go(func() {
		trace.WithRegion(ctx, "scan.classify", func() { inventory.Classify(set, inventory.Options{}) })
	})
	if keys {
		trace.WithRegion(ctx, "scan.keys", func() {
			checkKeys(ctx, st, set, blocklist)
			checkRotation(ctx, st, set)
		})
	}
	wg.Wait()
	defer trace.StartRegion(ctx, "scan.rules").End()
	return rules.Evaluate(set, pol)
}

// judgedMeta completes what the caller knows of a scan with what judging it settled:
// when it finished, the set's problems and counters after the caller's own (a counter
// the caller already gave not again), and the policy.
func judgedMeta(meta findings.ScanInfo, set *observe.Set, pol *rules.Policy, clock func() time.Time) findings.ScanInfo {
	meta.Finished = clock()
	meta.Problems = append(slices.Clip(meta.Problems), set.Problems...)
	counters := slices.Clone(meta.Counters)
	for _, c := range set.Counters {
		if !slices.ContainsFunc(counters, func(o observe.Counter) bool { return o.Name == c.Name }) {
			counters = append(counters, c)
		}
	}
	if n := set.ERSPANSessions(); n > 0 {
		// Distinct across workers and checkpoints, so computed from the merged set's
		// sensor paths rather than summed like the engine's counters.
		counters = append(counters, observe.Counter{Name: "erspan_sessions", Value: uint64(n)})
	}
	meta.Counters = counters
	meta.Policy, meta.Rules = pol.Describe(), pol.Assessed()
	return meta
}

// CheckCaptures refuses, before anything is stored, a scan of files that hold no capture
// at all: a path that is missing or a folder, an empty file, or a file that is not pcap
// or pcapng, plain or gzip-compressed (capture.Sniff; a named pipe is read once, by the
// scan, so it is not checked here). The user fixes the command, rather
// than find an incomplete scan of nothing stored as the latest. A capture damaged after
// its start passes: what comes before the damage is worth a scan. Standard input ("-")
// is peeked through a buffer, which it returns: the scan must read "-" from it (stdin
// nil means os.Stdin). Run checks again (cheaply, the buffer peeked already); a caller
// that opens a store first calls it before, so that a mistyped file name creates none.
func CheckCaptures(paths []string, stdin io.Reader) (io.Reader, error) {
	if stdin == nil {
		stdin = os.Stdin
	}
	for _, p := range paths {
		if p == "-" {
			br, ok := stdin.(*bufio.Reader)
			if !ok || br.Size() < capture.SniffWindow {
				br = bufio.NewReaderSize(stdin, capture.SniffWindow)
			}
			stdin = br
			if err := capture.Sniff(p, br); err != nil {
				return nil, err
			}
			continue
		}
		if err := checkCaptureFile(p); err != nil {
			return nil, err
		}
	}
	return stdin, nil
}

// checkCaptureFile is CheckCaptures for one named file.
func checkCaptureFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		// A missing file is a typo, not a damaged capture.
		return fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	case fi.IsDir():
		return fmt.Errorf("%s: is a directory; give the capture files in it", path)
	case !fi.Mode().IsRegular():
		// A pipe (--pcap <(zcat ...)) or a device: what is peeked here would be lost to
		// the scan, which reads it once and records a stream that is not a capture as a
		// problem.
		return nil
	}
	return capture.Sniff(path, bufio.NewReaderSize(f, capture.SniffWindow))
}

// ErrNoSources is returned when a scan is asked for with nothing to read.
var ErrNoSources = errors.New("nothing to scan: give targets to probe, --pcap FILE (or - for standard input), or --iface IF")

// sourceNames names files as a scan records them: absolute and clean, so that the history
// pairs two unlabelled runs only when they read the same files ("ward.pcap" read from two
// folders is two captures), and "-" for standard input, which the history never pairs.
func sourceNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if p == "-" {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			out[i] = abs
		}
	}
	return out
}
