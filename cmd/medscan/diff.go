package main

import (
	"context"
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
		gf   gateFlags
	)
	out.register(fs, report.Comparison)
	db.register(fs)
	pol.register(fs)
	kind.register(fs)
	gf.registerGate(fs)
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
	g, err := gf.gate()
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
			// Nothing to compare with: said so, and the gate judges every finding as new.
			doc := &findings.Comparison{SchemaVersion: findings.ComparisonSchemaVersion, Scan: findings.RefOf(cur.Scan),
				Reason: store.NothingToCompare(cur.Scan)}
			if err := write(&out, report.Comparison, doc, stdout); err != nil {
				return err
			}
			rules.ApplySuppressions(cur, active)
			return checkGate(g, cur, stderr)
		}
		earlier = prev
	}
	prev, err := st.LoadFindings(ctx, earlier)
	if err != nil {
		return err
	}
	if err := store.SameKind(prev.Scan, cur.Scan); err != nil {
		return usageError{"diff: " + err.Error()}
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
