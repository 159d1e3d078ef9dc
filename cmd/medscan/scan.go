package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/medscan/medscan/capture"
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/store"
)

const scanLong = `Scan captures (--pcap), a live network segment (--iface), or TLS services
(targets as arguments or -l FILE), and store what was learned.

Targets are IPv4 and IPv6 addresses, CIDRs, ranges and host names, as typed for nmap,
testssl.sh or sslscan (see docs/cli.md). Probing is gentle: one connection at a time
per host, paced, and hosts classified as medical devices are skipped unless
--probe-medical-devices is given.`

const scanExample = `  medscan scan --pcap ward.pcapng
  medscan scan --pcap ward.pcapng -o ward.html
  medscan scan 10.20.0.0/24 -p 443,2575 --fail-on high
  medscan scan --iface eth1 --duration 2h --label icu`

func scanCommand(a *app) *cobra.Command {
	var (
		run    runFlags
		pcaps  []string
		live   liveFlags
		active activeFlags
		key    secretKeyFlag
		upd    updateFlags
	)
	c := &cobra.Command{
		Use:     "scan [TARGET…] [--pcap FILE…] [--iface IF…] [flags]",
		Short:   "scan captures, a live segment or TLS services, and store the result",
		Long:    scanLong,
		Example: scanExample,
		RunE: func(c *cobra.Command, args []string) error {
			return runScan(a, c.Flags(), args, &run, pcaps, &live, &active, &key, &upd)
		},
	}
	fs := c.Flags()
	run.register(a, fs, "scan")
	fs.StringArrayVar(&pcaps, "pcap", nil, "read a capture `FILE` (pcap, pcapng, optionally gzip-compressed; - for stdin); repeatable")
	live.register(fs)
	active.register(fs)
	key.register(fs)
	upd.register(fs)
	completeFlags(c, run.out.formats)
	return c
}

func runScan(a *app, fs *pflag.FlagSet, args []string, run *runFlags, pcaps []string, live *liveFlags, active *activeFlags,
	key *secretKeyFlag, upd *updateFlags) error {
	ctx, stdin, stderr := a.ctx, a.stdin, a.stderr
	if err := run.check(fs, "scan"); err != nil {
		return err
	}
	updates, err := upd.options()
	if err != nil {
		return err
	}
	if live.wanted(fs) {
		if len(args) > 0 || len(active.targetFiles) > 0 || active.listTargets {
			return usageError{"scan: live capture (--iface) and probing targets are separate scans; run them one after the other"}
		}
		return live.run(ctx, fs, liveArgs{run: run, pcaps: pcaps, key: key, updates: updates}, a.stdout, stderr)
	}
	stdinUsers := 0
	for _, p := range pcaps {
		if p == "-" {
			stdinUsers++
		}
	}
	if stdinUsers > 1 {
		return usageError{"scan: standard input (-) can be read only once"}
	}
	// Targets are parsed, and names resolved, before anything is recorded or contacted.
	prb, err := active.build(ctx, args, stdin, stdinUsers > 0, stderr, a.quiet)
	if err != nil {
		return err
	}
	if active.listTargets {
		return active.list(prb, len(pcaps) > 0, a.stdout, stderr, a.quiet)
	}
	if len(pcaps) == 0 && prb == nil {
		return usageError{"scan: " + scan.ErrNoSources.Error()}
	}
	// A missing file, or one that holds no capture, is a mistake in the command, not a
	// damaged capture: say so before a store is opened or a scan recorded. A signal ends
	// the wait for standard input's first bytes too.
	if stdin, err = scan.CheckCaptures(pcaps, capture.ContextReader(ctx, stdin)); err != nil {
		return err
	}
	in, err := run.inputs(ctx, "scan")
	if err != nil {
		return err
	}
	keyFile, err := key.path()
	if err != nil {
		return err
	}
	st, err := store.OpenKeyed(run.db.path(), keyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	var whileSaving func(context.Context, findings.ScanInfo, []findings.Finding)
	if in.base == nil {
		// The report compares the scan with the previous one of its kind: read it on
		// the core the save leaves idle rather than after the save. Should it fail, the
		// comparison reads the store again, and says why.
		whileSaving = func(ctx context.Context, info findings.ScanInfo, current []findings.Finding) {
			in.previous, _ = st.ReadPrevious(ctx, info, current)
		}
	}
	res, err := scan.Run(ctx, st, scan.Options{
		Pcaps:        pcaps,
		Stdin:        stdin,
		Policy:       in.policy,
		Label:        run.label,
		Site:         run.site.name,
		ToolVersion:  version,
		SourceError:  func(err error) { fmt.Fprintf(stderr, "medscan: %s\n", err) },
		KeyBlocklist: in.blocklist,
		Probe:        prb,
		Updates:      updates,
		ReportOnly:   true, // the set and the rules' findings are let go before the save
		WhileSaving:  whileSaving,
	})
	const incomplete = "the scan is incomplete: some input could not be read to its end"
	var notStored *scan.NotStoredError
	if errors.As(err, &notStored) {
		return run.finishUnstored(res, err, in, incomplete)
	}
	if err != nil {
		return err
	}
	releaseJudged(&res)
	if res.Partial {
		accepted := active.allowPartial
		err := run.finish(ctx, st, res.ScanID, res.Report, accepted, in, "",
			"the scan is incomplete: some targets were not assessed (see the scan's problems); --allow-partial accepts that")
		if accepted && !a.quiet {
			fmt.Fprintln(stderr, "medscan: the scan is partial: some targets were not assessed (see the scan's problems); accepted by --allow-partial")
		}
		return err
	}
	msg := incomplete + "; what was read is stored and reported"
	if ctx.Err() != nil {
		msg = fmt.Sprintf("the scan was interrupted (%v): what was read is stored and reported, marked incomplete", context.Cause(ctx))
	}
	return run.finish(ctx, st, res.ScanID, res.Report, res.Complete, in, "", msg)
}

// releaseJudged lets go of what a stored scan's rendering does not read (the set of
// observations and the findings as the rules made them: the report document holds what
// is rendered, as stored) and collects them at once. The garbage collector sets its next
// goal at twice the heap it last found live, and the last collection of a large scan
// falls in its save, where both the rules' findings and the document as stored are
// live: rendering the report would otherwise grow the heap towards twice that (on
// 14,000 hosts, 515 MB) before the next collection. With Options.ReportOnly, Run has let
// go of the set and the rules' findings before the save already; the collection still
// frees the rules' findings the document held until it was stored, and the save's garbage.
func releaseJudged(res *scan.Result) {
	res.Set, res.Findings = nil, nil
	runtime.GC()
}
