package main

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

func diffCommand(a *app) *cobra.Command {
	var (
		out  outputFlags
		db   storeFlag
		pol  policyFlags
		kind kindFlag
		gf   gateFlags
		site siteValue
	)
	c := &cobra.Command{
		Use:   "diff [EARLIER] [LATER] [flags]",
		Short: "new, fixed, persisting and not-assessed findings between two scans",
		Long: `Compare two stored scans of the same kind. No argument: the latest scan with the
previous comparable one (same site, kind and label, or unlabelled and of the same
sources); with --site, "latest" is that site's latest;
one: that scan with its previous one; two: EARLIER with LATER. A finding counts as fixed
only when the later scan was complete, ran its rule and saw what the rule needs on the
target; otherwise it is "not assessed", with the reason.`,
		Example: `  medscan diff
  medscan diff latest~1 latest --fail-on-new --fail-on high
  medscan diff 12 14 -f json`,
		RunE: func(c *cobra.Command, args []string) error {
			return runDiff(a, c, args, &out, &db, &pol, &kind, &gf, &site)
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.Comparison)
	out.registerSeverity(fs)
	out.registerGroup(fs, groupDiffUsage)
	db.register(fs)
	pol.register(fs)
	kind.register(fs)
	gf.registerGate(fs)
	registerSiteFilter(fs, &site)
	completeFlags(c, report.Comparison)
	return c
}

func runDiff(a *app, c *cobra.Command, args []string, out *outputFlags, db *storeFlag, pol *policyFlags, kind *kindFlag, gf *gateFlags,
	site *siteValue) error {
	ctx := a.ctx
	if len(args) > 2 {
		return usageError{"diff: give at most two scans: medscan diff [EARLIER] [LATER]"}
	}
	if err := out.check(c.Flags(), "diff"); err != nil {
		return err
	}
	if err := kind.check("diff"); err != nil {
		return err
	}
	g, err := gf.gate()
	if err != nil {
		return err
	}
	active, err := pol.suppressions(a.warn())
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
	switch len(args) {
	case 1:
		laterRef = args[0]
	case 2:
		earlierRef, laterRef = args[0], args[1]
	}
	later, err := site.resolve(ctx, st, laterRef, kind.kind)
	if err != nil {
		return err
	}
	var earlier int64
	if earlierRef != "" {
		if earlier, err = site.resolve(ctx, st, earlierRef, kind.kind); err != nil {
			return err
		}
	} else {
		prev, ok, err := st.PreviousScan(ctx, later)
		if err != nil {
			return err
		}
		if ok {
			earlier = prev
		}
	}
	compare := compareStreamed
	if os.Getenv("MEDSCAN_REPORT_WHOLE") == "1" {
		compare = compareWhole
	}
	prev, cur, err := compare(ctx, st, earlier, later, active)
	if err != nil {
		return err
	}
	if cur.Change == nil {
		// Nothing to compare with: said so, and the gate judges every finding as new.
		doc := &findings.Comparison{SchemaVersion: findings.ComparisonSchemaVersion, Scan: findings.RefOf(cur.Scan),
			Reason: store.NothingToCompare(cur.Scan)}
		if err := write(out, report.Comparison, doc); err != nil {
			return err
		}
		return checkGate(g, cur, a.stderr)
	}
	prevRef := findings.RefOf(prev)
	doc := &findings.Comparison{SchemaVersion: findings.ComparisonSchemaVersion, Previous: &prevRef,
		Scan: findings.RefOf(cur.Scan), Change: cur.Change}
	failed, msg := g.Failed(cur)
	doc.ShowOnly(out.show)
	if err := write(out, report.Comparison, doc); err != nil {
		return err
	}
	return gateOutcome(failed, msg, a.stderr)
}

// compareStreamed is what diff renders and gates of scan later, with its change since
// scan earlier (none when earlier is 0) and the suppressions in force applied, read in
// the store without loading either scan whole (store.Store.Compare): the document
// compareWhole makes, byte for byte, which MEDSCAN_REPORT_WHOLE=1 makes instead, to
// compare the two. A run of another kind than later's is a usage error.
func compareStreamed(ctx context.Context, st *store.Store, earlier, later int64, active []rules.Suppression) (
	findings.ScanInfo, *findings.Report, error) {
	opts := store.StreamOptions{Catalog: rules.CatalogIndex()}
	if len(active) > 0 {
		opts.Suppress = func(f findings.Finding) (findings.SuppressionRef, bool) { return rules.Suppressing(active, f) }
	}
	prev, cur, err := st.Compare(ctx, earlier, later, opts)
	if kind := (*store.KindError)(nil); errors.As(err, &kind) {
		return prev, nil, usageError{"diff: " + kind.Error()}
	}
	return prev, cur, err
}

// compareWhole is compareStreamed with both scans loaded: the later one whole, the
// earlier one's findings and certificates (its renewed and replaced server certificates
// are part of the change), compared by store.Diff.
func compareWhole(ctx context.Context, st *store.Store, earlier, later int64, active []rules.Suppression) (
	findings.ScanInfo, *findings.Report, error) {
	cur, err := st.Load(ctx, later)
	if err != nil {
		return findings.ScanInfo{}, nil, err
	}
	if earlier == 0 {
		rules.ApplySuppressions(cur, active)
		return findings.ScanInfo{}, cur, nil
	}
	prev, err := st.LoadParts(ctx, earlier, store.PartFindings, store.PartCertificates)
	if err != nil {
		return findings.ScanInfo{}, nil, err
	}
	if err := store.SameKind(prev.Scan, cur.Scan); err != nil {
		return prev.Scan, nil, usageError{"diff: " + err.Error()}
	}
	cur.Change = store.Diff(prev, cur, rules.CatalogIndex())
	rules.ApplySuppressions(cur, active)
	return prev.Scan, cur, nil
}
