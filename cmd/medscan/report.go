package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"
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
	active, err := out.suppressions(stderr)
	if err != nil {
		return err
	}
	base, err := out.loadBaseline(ctx)
	if err != nil {
		return err
	}
	st, err := readStore(out.dbPath())
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := st.ResolveScan(ctx, *ref)
	if err != nil {
		return err
	}
	rep, err := prepare(ctx, st, id, base, out.baseline, active)
	if err != nil {
		return err
	}
	if err := out.render(rep, w, stdout); err != nil {
		return err
	}
	return gateFailed(gate, out.failOnNew, rep, stderr)
}
