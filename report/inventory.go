package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/medscan/medscan/findings"
)

// The inventory document (medscan inventory): a scan's assets, the ones asked for, with
// the services they offered.
func init() {
	Inventory.register("table", func(o Options) Writer[*findings.Inventory] {
		return WriterFunc[*findings.Inventory](func(w io.Writer, inv *findings.Inventory) error {
			return inventoryTable(w, inv, o.width())
		})
	})
	// The JSON of an inventory is its list of assets, as the scan report's assets[].
	Inventory.register("json", func(Options) Writer[*findings.Inventory] {
		return WriterFunc[*findings.Inventory](func(w io.Writer, inv *findings.Inventory) error { return writeJSON(w, inv.Assets) })
	})
	// The CSV of an inventory is the scan report's csv-assets, restricted to its assets.
	Inventory.register("csv", func(Options) Writer[*findings.Inventory] {
		return csvWriter(func(inv *findings.Inventory) [][]string { return assetRows(inv.Assets, inv.QuietHosts, inv.Services) })
	})
}

// inventoryTable renders the assets: address, kind, names and maker (or the registry's
// vendor), and the strongest reason.
func inventoryTable(w io.Writer, inv *findings.Inventory, total int) error {
	if len(inv.Assets) == 0 {
		_, err := fmt.Fprintf(w, "No assets in scan %d.\n", inv.Scan.ID)
		quietLine(w, len(inv.QuietHosts), inventoryQuietWhere)
		return err
	}
	tb := &table{cols: []column{
		{header: "IP", min: 15, flex: true}, // an IPv6 address wraps after a colon
		{header: "KIND", min: 8, flex: true},
		{header: "NAME / MAKER", min: 16, flex: true, prose: true},
		{header: "WHY", min: 20, flex: true, prose: true},
	}}
	// On a narrow terminal the kind goes under the address.
	compact := &table{cols: []column{
		{header: "IP / KIND", min: 15, flex: true},
		{header: "NAME / MAKER", min: 16, flex: true, prose: true},
		{header: "WHY", min: 20, flex: true, prose: true},
	}}
	for _, a := range inv.Assets {
		var id []string
		if len(a.Names) > 0 {
			id = append(id, term(a.Names[0].Name))
		}
		if maker := makerModel(a); maker != "" {
			id = append(id, maker)
		} else if a.Vendor != "" {
			id = append(id, term(a.Vendor))
		}
		identity := "-"
		if len(id) > 0 {
			identity = strings.Join(id, " / ")
		}
		if via := seenVia(a); len(via) > 0 {
			identity = strings.Join(append([]string{identity}, via...), "\n")
		}
		// Every reason: the inventory is where a reader checks why a device was judged
		// as it was, so none is left to the JSON.
		why := "-"
		switch len(a.Reasons) {
		case 0:
		case 1:
			why = term(a.Reasons[0])
		default:
			lines := make([]string, len(a.Reasons))
			for i, r := range a.Reasons {
				lines[i] = "- " + term(r)
			}
			why = strings.Join(lines, "\n")
		}
		tb.rows = append(tb.rows, []string{target(a.IP(), 0), assetKind(a), identity, why})
		compact.rows = append(compact.rows, []string{target(a.IP(), 0) + "\n" + assetKind(a), identity, why})
	}
	if err := layout(total, tb, compact).render(w, total, false); err != nil {
		return err
	}
	quietLine(w, len(inv.QuietHosts), inventoryQuietWhere)
	return nil
}
