package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

func cmdDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("diff", pflag.ContinueOnError)
	var (
		out  outputFlags
		db   storeFlag
		pol  policyFlags
		kind kindFlag
	)
	out.register(fs, report.Comparison.Formats())
	db.register(fs)
	pol.register(fs)
	kind.register(fs)
	failOn := fs.String("fail-on", "", "exit 3 when a finding of the later scan at or above `SEVERITY` exists (with --fail-on-new: a new one)")
	failOnNew := fs.Bool("fail-on-new", false, "with --fail-on, count only the findings new in the later scan")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 2 {
		return usageError{"diff: give at most two scans: medscan diff [EARLIER] [LATER]"}
	}
	if err := out.check("diff"); err != nil {
		return err
	}
	if err := kind.check("diff"); err != nil {
		return err
	}
	g, err := (&gateFlags{failOn: *failOn, failOnNew: *failOnNew}).gate()
	if err != nil {
		return err
	}
	active, err := pol.suppressions(stderr)
	if err != nil {
		return err
	}
	st, err := db.read()
	if err != nil {
		return err
	}
	defer st.Close()

	// No argument: the latest scan; one: that scan; two: EARLIER LATER. Without an
	// earlier one, the previous comparable scan (same kind and label, or unlabelled and
	// of the same sources) is taken, and when there is none, that is said.
	laterRef, earlierRef := "latest", ""
	switch fs.NArg() {
	case 1:
		laterRef = fs.Arg(0)
	case 2:
		earlierRef, laterRef = fs.Arg(0), fs.Arg(1)
	}
	later, err := st.ResolveScan(ctx, laterRef, kind.kind)
	if err != nil {
		return err
	}
	cur, err := st.Load(ctx, later)
	if err != nil {
		return err
	}
	var earlier int64
	if earlierRef != "" {
		if earlier, err = st.ResolveScan(ctx, earlierRef, kind.kind); err != nil {
			return err
		}
	} else {
		prev, ok, err := st.PreviousScan(ctx, later)
		if err != nil {
			return err
		}
		if !ok {
			doc := &findings.Comparison{SchemaVersion: findings.ComparisonSchemaVersion, Scan: findings.RefOf(cur.Scan),
				Reason: store.NothingToCompare(cur.Scan)}
			return write(&out, report.Comparison, doc, stdout)
		}
		earlier = prev
	}
	prev, err := st.Load(ctx, earlier)
	if err != nil {
		return err
	}
	if a, b := prev.Scan.RunKind(), cur.Scan.RunKind(); a != b {
		return usageError{fmt.Sprintf("diff: scan %d is a %s run and scan %d a %s run: neither looks at what the other does; compare two runs of one kind",
			prev.Scan.ID, a, cur.Scan.ID, b)}
	}
	cur.Change = store.Diff(prev, cur, rules.CatalogIndex())
	rules.ApplySuppressions(cur, active)
	prevRef := findings.RefOf(prev.Scan)
	doc := &findings.Comparison{SchemaVersion: findings.ComparisonSchemaVersion, Previous: &prevRef,
		Scan: findings.RefOf(cur.Scan), Change: cur.Change}
	if err := write(&out, report.Comparison, doc, stdout); err != nil {
		return err
	}
	return checkGate(g, cur, stderr)
}
