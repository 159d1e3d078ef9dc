package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/scan"
)

// cmdLint examines certificate files and folders, and the certificates of a stored
// scan, and stores the result as a scan of source file.
func cmdLint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("lint", pflag.ContinueOnError)
	var out outputFlags
	out.register(fs)
	fromScan := fs.String("scan", "", "also lint every certificate of a stored scan: latest, latest~N or an `ID`")
	label := fs.String("label", "", "name this run so later runs can be compared with it")
	quiet := fs.BoolP("quiet", "q", false, "print nothing on stderr but errors")
	keyBlocklist := blocklistFlag(fs)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 0 && *fromScan == "" {
		return usageError{"lint: nothing to lint: give certificate files or folders (PEM, DER, PKCS #7), or --scan latest"}
	}
	gate, w, err := out.check()
	if err != nil {
		return err
	}
	// A path that does not exist is a typo: say so before anything is recorded.
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w", p, errors.Unwrap(err))
		}
	}
	in, err := out.inputs(ctx, stderr, *keyBlocklist)
	if err != nil {
		return err
	}
	st, err := findings.Open(out.dbPath())
	if err != nil {
		return err
	}
	defer st.Close()
	var id int64
	if *fromScan != "" {
		if id, err = st.ResolveScan(ctx, *fromScan); err != nil {
			return err
		}
	}
	res, err := scan.RunFiles(ctx, st, scan.FileOptions{
		Paths:        paths,
		FromScan:     id,
		Policy:       in.policy,
		Label:        *label,
		ToolVersion:  version,
		FileError:    func(err error) { fmt.Fprintf(stderr, "medscan: %s\n", err) },
		KeyBlocklist: in.blocklist,
	})
	if err != nil {
		return err
	}
	return out.finish(ctx, st, res, storedRun{inputs: in, gate: gate, writer: w, quiet: *quiet,
		what:       fmt.Sprintf("%d certificate(s), ", len(res.Set.Certificates)),
		incomplete: "some files could not be read in full; every certificate that was read is stored and reported"},
		stdout, stderr)
}
