package report

import (
	"strconv"
	"time"

	"github.com/medscan/medscan/findings"
)

// This file renders the HTML report's asset inventory.

type assetTable struct {
	Rows                                         []assetRow
	HasMAC, HasVendor, HasOtherMACs, HasServices bool
	HasKind, HasNames, HasMaker                  bool // the inventory columns, shown when any asset has them
	HasSeenVia                                   bool // any asset seen inside a tunnel
	// Quiet counts the quiet hosts, which the page does not list (a sweep has
	// hundreds of thousands): the JSON and CSV reports do.
	Quiet int
}

type assetRow struct {
	IP, MAC, Vendor     string
	OtherMACs, Services []string
	Findings            int
	Worst               string
	FirstSeen, LastSeen time.Time
	// The inventory: kind, roles, names with their sources, maker and model, reasons.
	Kind, Maker           string
	Roles, Names, Reasons []string
	SeenVia               []string // the sensor paths of the tunnels it was seen through
}

// htmlAssets is the asset table; tally is each asset's findings, as the fold counted
// them (htmlFindings).
func htmlAssets(r *findings.Report, tally map[string]hostTally) assetTable {
	svc := map[string][]string{}
	for _, s := range r.Services {
		name := strconv.Itoa(s.Port) + "/" + term(s.Transport)
		if s.Protocol != "" {
			name += " " + term(s.Protocol)
		}
		svc[s.Host] = append(svc[s.Host], name)
	}
	t := assetTable{Quiet: len(r.QuietHosts)}
	for _, a := range r.Assets {
		row := assetRow{IP: term(a.IP()), MAC: term(a.MAC), Vendor: term(a.Vendor), Services: svc[a.IP()], Findings: tally[a.IP()].count,
			FirstSeen: a.FirstSeen, LastSeen: a.LastSeen}
		if row.Findings > 0 {
			row.Worst = tally[a.IP()].worst.String()
		}
		for _, m := range a.MACs {
			if m != a.MAC {
				row.OtherMACs = append(row.OtherMACs, term(m))
			}
		}
		htmlInventory(&row, a)
		t.HasKind = t.HasKind || row.Kind != ""
		t.HasNames = t.HasNames || len(row.Names) > 0
		t.HasMaker = t.HasMaker || row.Maker != ""
		t.HasSeenVia = t.HasSeenVia || len(row.SeenVia) > 0
		t.HasMAC = t.HasMAC || row.MAC != ""
		t.HasVendor = t.HasVendor || row.Vendor != ""
		t.HasOtherMACs = t.HasOtherMACs || len(row.OtherMACs) > 0
		t.HasServices = t.HasServices || len(row.Services) > 0
		t.Rows = append(t.Rows, row)
	}
	return t
}
