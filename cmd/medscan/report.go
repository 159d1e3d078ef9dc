package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/report"
)

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	var (
		out  outputFlags
		db   storeFlag
		pol  policyFlags
		gate gateFlags
		kind kindFlag
	)
	out.register(fs, report.Scan)
	db.register(fs)
	pol.register(fs)
	gate.register(fs)
	kind.register(fs)
	ref := fs.String("scan", "latest", "which stored scan: `latest`, latest~N, or a scan ID")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("report: unexpected argument %q", fs.Arg(0))}
	}
	if err := out.check("report"); err != nil {
		return err
	}
	if err := kind.check("report"); err != nil {
		return err
	}
	g, err := gate.gate()
	if err != nil {
		return err
	}
	active, err := pol.suppressions(stderr)
	if err != nil {
		return err
	}
	base, err := gate.loadBaseline(ctx)
	if err != nil {
		return err
	}
	st, err := db.read()
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := st.ResolveScan(ctx, *ref, kind.kind)
	if err != nil {
		return err
	}
	rep, err := prepare(ctx, st, id, base, gate.baseline, active)
	if err != nil {
		return err
	}
	if err := write(&out, report.Scan, rep, stdout); err != nil {
		return err
	}
	return checkGate(g, rep, stderr)
}
