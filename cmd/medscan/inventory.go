package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/store"
)

// inventoryKinds are the kinds --kind accepts.
var inventoryKinds = []string{observe.KindMedicalDevice, observe.KindMiddleware, observe.KindClinicalServer,
	observe.KindWorkstation, observe.KindInfrastructure, observe.KindUnknown}

// inventoryCommand lists the assets of a stored scan with their kinds and the reasons.
func inventoryCommand(a *app) *cobra.Command {
	var (
		out  outputFlags
		db   storeFlag
		ref  string
		kind string
		site siteValue
	)
	c := &cobra.Command{
		Use:   "inventory [--scan latest|ID] [--kind K] [flags]",
		Short: "list a stored scan's assets: kind, maker, names and the reasons for each",
		Args:  argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := a.ctx
			if err := out.check(c.Flags(), "inventory"); err != nil {
				return err
			}
			if kind != "" && !slices.Contains(inventoryKinds, kind) {
				return usageError{fmt.Sprintf("inventory: --kind: unknown kind %q (want one of %s)", kind, strings.Join(inventoryKinds, ", "))}
			}
			st, err := db.read()
			if err != nil {
				return err
			}
			defer st.Close()
			id, err := site.resolve(ctx, st, ref, "")
			if err != nil {
				return err
			}
			// Only what an inventory lists: the findings, certificates and observations
			// that are most of a scan's rows are not read.
			rep, err := st.LoadParts(ctx, id, store.PartAssets, store.PartServices, store.PartQuietHosts)
			if err != nil {
				return err
			}
			return write(&out, report.Inventory, findings.NewInventory(rep, kind))
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.Inventory)
	db.register(fs)
	fs.StringVar(&ref, "scan", "latest", "which stored scan: `latest`, latest~N, or a scan ID")
	registerSiteFilter(fs, &site)
	fs.StringVar(&kind, "kind", "", "list only assets of this `KIND`: "+strings.Join(inventoryKinds, ", "))
	completeFlags(c, report.Inventory)
	_ = c.RegisterFlagCompletionFunc("kind", fixed(inventoryKinds...))
	return c
}
