package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/medscan/medscan/findings"
)

// maxTableReasons and maxTableNames cap what the table shows of one asset; the JSON and
// HTML reports carry all of it.
const (
	maxTableReasons = 2
	maxTableNames   = 2
)

// assetKind is the kind as shown, "-" for a scan stored without an inventory.
func assetKind(a findings.Asset) string {
	if a.Kind == "" {
		return "-"
	}
	return term(a.Kind)
}

// assetNames lists an asset's names with their sources, at most max of them (0: all).
func assetNames(a findings.Asset, max int) []string {
	var out []string
	for i, n := range a.Names {
		if max > 0 && i == max {
			out = append(out, fmt.Sprintf("(+%d more)", len(a.Names)-max))
			break
		}
		out = append(out, term(n.Name)+" ("+term(n.Source)+")")
	}
	return out
}

// makerModel is "manufacturer model", either part possibly empty.
func makerModel(a findings.Asset) string {
	return strings.TrimSpace(term(a.Manufacturer) + " " + term(a.Model))
}

// inventory writes the asset table: who is on the network, what kind of thing each is,
// and why medscan thinks so.
func (t tableWriter) inventory(b *bytes.Buffer, r *findings.Report, total int) error {
	if len(r.Assets) == 0 {
		fmt.Fprintln(b, "Inventory: no assets seen")
		quietLine(b, len(r.QuietHosts), quietWhere)
		return nil
	}
	defer quietLine(b, len(r.QuietHosts), quietWhere)
	if t.opts.grouped(len(r.Assets)) {
		return t.groupedInventory(b, r.Assets, total)
	}
	fmt.Fprintf(b, "Inventory (%d)\n", len(r.Assets))
	tb := &table{cols: []column{
		{header: "ASSET", min: 17, flex: true},
		{header: "KIND", min: 8, flex: true},
		{header: "IDENTITY", min: 12, flex: true, prose: true},
		{header: "WHY", min: 16, flex: true, prose: true},
	}}
	// On a narrow terminal the kind goes under the address.
	compact := &table{cols: []column{
		{header: "ASSET / KIND", min: 17, flex: true},
		{header: "IDENTITY", min: 12, flex: true, prose: true},
		{header: "WHY", min: 16, flex: true, prose: true},
	}}
	for _, a := range r.Assets {
		asset := []string{target(a.IP(), 0)}
		if a.MAC != "" {
			asset = append(asset, term(a.MAC))
		}
		var id []string
		id = append(id, assetNames(a, maxTableNames)...)
		if mm := makerModel(a); mm != "" {
			id = append(id, "maker: "+mm)
		}
		if a.Vendor != "" {
			id = append(id, "vendor: "+term(a.Vendor))
		}
		id = append(id, seenVia(a)...)
		if len(id) == 0 {
			id = []string{"-"}
		}
		var why []string
		for i, reason := range a.Reasons {
			if i == maxTableReasons {
				why = append(why, fmt.Sprintf("(+%d more)", len(a.Reasons)-maxTableReasons))
				break
			}
			why = append(why, "- "+term(reason))
		}
		if len(why) == 0 {
			why = []string{"-"}
		}
		ids, whys := strings.Join(id, "\n"), strings.Join(why, "\n")
		tb.rows = append(tb.rows, []string{strings.Join(asset, "\n"), assetKind(a), ids, whys})
		compact.rows = append(compact.rows, []string{strings.Join(append(asset, assetKind(a)), "\n"), ids, whys})
	}
	return layout(total, tb, compact).render(b, total, false)
}

// quietWhere and inventoryQuietWhere name the outputs that list each quiet host, for
// a scan report and for the inventory (whose JSON is the list of assets alone).
const (
	quietWhere          = "--format json or csv-assets"
	inventoryQuietWhere = "--format csv, or medscan report --format json,"
)

// quietLine says how many quiet hosts a table leaves out: they are counted, never
// listed, since a sweep has hundreds of thousands of them.
func quietLine(w io.Writer, n int, where string) {
	if n == 0 {
		return
	}
	word := "addresses"
	if n == 1 {
		word = "address"
	}
	fmt.Fprintf(w, "Quiet hosts: %d more %s seen doing nothing else (only sending or sent to); %s lists each\n", n, word, where)
}

// maxTableSeenVia caps the sensor paths a table shows for one asset; the JSON and
// HTML have them all.
const maxTableSeenVia = 2

// seenVia are the table lines naming the tunnels an asset was seen through.
func seenVia(a findings.Asset) []string {
	var out []string
	for i, v := range a.SeenVia {
		if i == maxTableSeenVia {
			out = append(out, fmt.Sprintf("(+%d more paths)", len(a.SeenVia)-maxTableSeenVia))
			break
		}
		out = append(out, "seen via "+term(v))
	}
	return out
}

// htmlInventory fills the inventory columns of an HTML asset row; the template escapes
// every string.
func htmlInventory(row *assetRow, a findings.Asset) {
	row.Kind = term(a.Kind)
	row.Maker = makerModel(a)
	row.Names = assetNames(a, 0)
	for _, r := range a.Roles {
		row.Roles = append(row.Roles, term(r))
	}
	for _, r := range a.Reasons {
		row.Reasons = append(row.Reasons, term(r))
	}
	for _, v := range a.SeenVia {
		row.SeenVia = append(row.SeenVia, term(v))
	}
}

// csvInventory is an asset's inventory columns: vendor, names ("name (source)" joined
// by "; "), kind, roles (space separated), manufacturer, model, reasons (joined by " | ").
func csvInventory(a findings.Asset) []string {
	reasons := make([]string, len(a.Reasons))
	for i, r := range a.Reasons {
		reasons[i] = term(r)
	}
	return []string{term(a.Vendor), strings.Join(assetNames(a, 0), "; "), term(a.Kind), strings.Join(a.Roles, " "),
		term(a.Manufacturer), term(a.Model), strings.Join(reasons, " | ")}
}
