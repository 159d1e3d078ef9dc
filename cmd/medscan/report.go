package main

import (
	"github.com/spf13/cobra"

	"github.com/medscan/medscan/report"
)

func reportCommand(a *app) *cobra.Command {
	var (
		out  outputFlags
		db   storeFlag
		pol  policyFlags
		gate gateFlags
		kind kindFlag
		ref  string
	)
	c := &cobra.Command{
		Use:   "report [--scan latest|ID] [flags]",
		Short: "render a stored scan again, in any format, with its change since the previous one",
		Long: `Render a stored scan again (the latest by default), with the suppressions in force
today and its change since the baseline or the previous comparable scan, and apply the
--fail-on gate to it.`,
		Example: `  medscan report -o ward.html
  medscan report --scan latest~1 -f json
  medscan report --kind lint -s high,critical`,
		Args: argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := a.ctx
			if err := out.check(c.Flags(), "report"); err != nil {
				return err
			}
			if err := kind.check("report"); err != nil {
				return err
			}
			g, err := gate.gate()
			if err != nil {
				return err
			}
			active, err := pol.suppressions(a.warn())
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
			id, err := st.ResolveScan(ctx, ref, kind.kind)
			if err != nil {
				return err
			}
			rep, err := prepare(ctx, st, id, nil, base, gate.baseline, active)
			if err != nil {
				return err
			}
			failed, msg := out.judgeThenNarrow(g, rep)
			if err := write(&out, report.Scan, rep); err != nil {
				return err
			}
			return gateOutcome(failed, msg, a.stderr)
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.Scan)
	out.registerSeverity(fs)
	out.registerGroup(fs)
	db.register(fs)
	pol.register(fs)
	gate.register(fs)
	kind.register(fs)
	fs.StringVar(&ref, "scan", "latest", "which stored scan: `latest`, latest~N, or a scan ID")
	completeFlags(c, report.Scan)
	return c
}
