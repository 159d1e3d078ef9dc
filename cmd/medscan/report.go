package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
)

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	var out outputFlags
	out.register(fs)
	ref := fs.String("scan", "latest", "which stored scan: `latest`, latest~N, or a scan ID")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("report: unexpected argument %q", fs.Arg(0))}
	}
	gate, w, err := out.check()
	if err != nil {
		return err
	}
	// Reading a store must not create one: a mistyped --db is an error, not an empty store.
	if _, err := os.Stat(out.dbPath()); err != nil {
		return fmt.Errorf("no store at %s (%w); run medscan scan first, or give --db", out.dbPath(), errors.Unwrap(err))
	}
	st, err := findings.Open(out.dbPath())
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := st.ResolveScan(ctx, *ref)
	if err != nil {
		return err
	}
	rep, err := out.render(ctx, st, id, w, stdout)
	if err != nil {
		return err
	}
	return gateFailed(gate, rep, stderr)
}
