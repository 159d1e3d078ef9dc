package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/store"
)

func cmdScan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("scan", pflag.ContinueOnError)
	var run runFlags
	run.register(fs, "scan")
	pcaps := fs.StringArray("pcap", nil, "read a capture `FILE` (pcap, pcapng, optionally gzip-compressed; - for stdin); repeatable")
	var live liveFlags
	live.register(fs)
	var active activeFlags
	active.register(fs)
	if help, err := parseFlags(fs, nmapArgs(args), stdout); help || err != nil {
		return err
	}
	if err := run.check("scan"); err != nil {
		return err
	}
	if live.wanted(fs) {
		if fs.NArg() > 0 || len(active.targetFiles) > 0 || active.listTargets {
			return usageError{"scan: live capture (--iface) and probing targets are separate scans; run them one after the other"}
		}
		return live.run(ctx, fs, liveArgs{run: &run, pcaps: *pcaps}, stdout, stderr)
	}
	stdinUsers := 0
	for _, p := range *pcaps {
		if p == "-" {
			stdinUsers++
		}
	}
	if stdinUsers > 1 {
		return usageError{"scan: standard input (-) can be read only once"}
	}
	// Targets are parsed, and names resolved, before anything is recorded or contacted.
	prb, err := active.build(ctx, fs.Args(), stdin, stdinUsers > 0, stderr, run.quiet)
	if err != nil {
		return err
	}
	if active.listTargets {
		return active.list(prb, len(*pcaps) > 0, stdout, stderr, run.quiet)
	}
	if len(*pcaps) == 0 && prb == nil {
		return usageError{"scan: " + scan.ErrNoSources.Error()}
	}
	// A missing file is a typo, not a damaged capture: say so before a scan is recorded.
	for _, p := range *pcaps {
		if p == "-" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, errors.Unwrap(err))
		}
		if fi.IsDir() {
			return fmt.Errorf("%s: is a directory; give the capture files in it", p)
		}
	}
	in, err := run.inputs(ctx, "scan", stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(run.db.path())
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := scan.Run(ctx, st, scan.Options{
		Pcaps:        *pcaps,
		Stdin:        stdin,
		Policy:       in.policy,
		Label:        run.label,
		ToolVersion:  version,
		SourceError:  func(err error) { fmt.Fprintf(stderr, "medscan: %s\n", err) },
		KeyBlocklist: in.blocklist,
		Probe:        prb,
	})
	if err != nil {
		return err
	}
	return run.finish(ctx, st, res.ScanID, res.Complete, in, "",
		"the scan is incomplete: some input could not be read to its end; what was read is stored and reported",
		stdout, stderr)
}
