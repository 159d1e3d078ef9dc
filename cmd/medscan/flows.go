package main

import (
	"github.com/spf13/cobra"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/store"
)

// flowsCommand prints a stored scan's data flows: who talks to whom, carrying what, how
// protected, with the findings on each edge; as a table, data, a graph or the map.
func flowsCommand(a *app) *cobra.Command {
	var (
		out outputFlags
		db  storeFlag
		ref string
	)
	c := &cobra.Command{
		Use:   "flows [--scan latest|ID] [flags]",
		Short: "list a stored scan's data flows: client, server, what they carried, protection and findings; or draw them (dot, mermaid, svg)",
		Args:  argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := a.ctx
			if err := out.check(c.Flags(), "flows"); err != nil {
				return err
			}
			st, err := db.read()
			if err != nil {
				return err
			}
			defer st.Close()
			id, err := st.ResolveScan(ctx, ref, "")
			if err != nil {
				return err
			}
			// Only what the map draws: the flows, the findings linked to them (counted by
			// rule and severity on each: their places, not their evidence) and the assets
			// at their ends.
			rep, err := st.LoadParts(ctx, id, store.PartFlows, store.PartFindingPlaces, store.PartAssets)
			if err != nil {
				return err
			}
			return write(&out, report.Flows, findings.NewFlowMap(rep))
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.Flows)
	db.register(fs)
	fs.StringVar(&ref, "scan", "latest", "which stored scan: `latest`, latest~N, or a scan ID")
	completeFlags(c, report.Flows)
	return c
}
