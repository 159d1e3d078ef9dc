package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/medscan/medscan/internal/scan"
)

// lintCommand examines certificate files and folders, and the certificates of a stored
// scan, and stores the result as a lint run.
func lintCommand(a *app) *cobra.Command {
	var (
		run      runFlags
		fromScan string
		kind     kindFlag
	)
	c := &cobra.Command{
		Use:   "lint [PATH…] [--scan latest|ID] [flags]",
		Short: "lint certificate files (PEM, DER, PKCS #7) and stored certificates",
		Long: `Lint certificates: files and folders (PEM, DER, PKCS #7 bundles), and every
certificate of a stored scan (--scan). Each is judged by its role, with zlint's lints
and medscan's own rules, and the result is stored as a lint run.`,
		Example: `  medscan lint certs/
  medscan lint --scan latest -f json
  medscan lint pump.pem --fail-on high`,
		RunE: func(c *cobra.Command, args []string) error {
			return runLint(a, c.Flags(), args, &run, fromScan, &kind)
		},
	}
	fs := c.Flags()
	run.register(a, fs, "lint run")
	fs.StringVar(&fromScan, "scan", "", "also lint every certificate of a stored scan: latest, latest~N or an `ID`")
	kind.register(fs)
	completeFlags(c, run.out.formats)
	return c
}

func runLint(a *app, fs *pflag.FlagSet, paths []string, run *runFlags, fromScan string, kind *kindFlag) error {
	ctx := a.ctx
	if err := run.check(fs, "lint"); err != nil {
		return err
	}
	if err := kind.check("lint"); err != nil {
		return err
	}
	if len(paths) == 0 && fromScan == "" {
		return usageError{"lint: nothing to lint: give certificate files or folders (PEM, DER, PKCS #7), or --scan latest"}
	}
	in, st, err := run.openFiles(ctx, "lint", paths)
	if err != nil {
		return err
	}
	defer st.Close()
	var id int64
	if fromScan != "" {
		// "latest" is the latest network scan (--kind lint: the latest lint run), never
		// the run this command is about to store.
		if id, err = run.site.resolve(ctx, st, fromScan, kind.kind); err != nil {
			return err
		}
	}
	res, err := scan.RunFiles(ctx, st, scan.FileOptions{
		Paths:        paths,
		FromScan:     id,
		Policy:       in.policy,
		Label:        run.label,
		Site:         run.site.name,
		ToolVersion:  version,
		FileError:    func(err error) { fmt.Fprintf(a.stderr, "medscan: %s\n", err) },
		Warn:         func(msg string) { fmt.Fprintf(a.warn(), "medscan: warning: %s\n", msg) },
		KeyBlocklist: in.blocklist,
	})
	var notStored *scan.NotStoredError
	if err != nil && !errors.As(err, &notStored) {
		return err
	}
	if s := scan.SkippedSummary(res.Set.Counters); s != "" {
		fmt.Fprintf(a.warn(), "medscan: skipped: %s\n", s)
	}
	const incomplete = "some files could not be read in full"
	if notStored != nil {
		return run.finishUnstored(res, err, in, incomplete)
	}
	return run.finish(ctx, st, res.ScanID, res.Report, res.Complete, in, fmt.Sprintf("%d certificate(s), ", len(res.Set.Certificates)),
		incomplete+"; every certificate that was read is stored and reported")
}
