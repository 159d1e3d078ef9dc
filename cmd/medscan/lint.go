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

// cmdLint examines certificate files and folders, and the certificates of a stored
// scan, and stores the result as a lint run.
func cmdLint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("lint", pflag.ContinueOnError)
	var run runFlags
	run.register(fs, "lint run")
	fromScan := fs.String("scan", "", "also lint every certificate of a stored scan: latest, latest~N or an `ID`")
	var kind kindFlag
	kind.register(fs)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := run.check("lint"); err != nil {
		return err
	}
	if err := kind.check("lint"); err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 0 && *fromScan == "" {
		return usageError{"lint: nothing to lint: give certificate files or folders (PEM, DER, PKCS #7), or --scan latest"}
	}
	// A path that does not exist is a typo: say so before anything is recorded.
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w", p, errors.Unwrap(err))
		}
	}
	in, err := run.inputs(ctx, "lint", stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(run.db.path())
	if err != nil {
		return err
	}
	defer st.Close()
	var id int64
	if *fromScan != "" {
		// "latest" is the latest network scan (--kind lint: the latest lint run), never
		// the run this command is about to store.
		if id, err = st.ResolveScan(ctx, *fromScan, kind.kind); err != nil {
			return err
		}
	}
	res, err := scan.RunFiles(ctx, st, scan.FileOptions{
		Paths:        paths,
		FromScan:     id,
		Policy:       in.policy,
		Label:        run.label,
		ToolVersion:  version,
		FileError:    func(err error) { fmt.Fprintf(stderr, "medscan: %s\n", err) },
		Warn:         func(msg string) { fmt.Fprintf(stderr, "medscan: warning: %s\n", msg) },
		KeyBlocklist: in.blocklist,
	})
	if err != nil {
		return err
	}
	if s := scan.SkippedSummary(res.Set.Counters); s != "" {
		fmt.Fprintf(stderr, "medscan: skipped: %s\n", s)
	}
	return run.finish(ctx, st, res.ScanID, res.Complete, in, fmt.Sprintf("%d certificate(s), ", len(res.Set.Certificates)),
		"some files could not be read in full; every certificate that was read is stored and reported", stdout, stderr)
}
