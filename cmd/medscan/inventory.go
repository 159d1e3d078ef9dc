package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/report"
)

// inventoryKinds are the kinds --kind accepts.
var inventoryKinds = []string{observe.KindMedicalDevice, observe.KindMiddleware, observe.KindClinicalServer,
	observe.KindWorkstation, observe.KindInfrastructure, observe.KindUnknown}

// cmdInventory lists the assets of a stored scan with their kinds and the reasons.
func cmdInventory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("inventory", pflag.ContinueOnError)
	format := fs.String("format", "table", "output `FORMAT`: table, json or csv")
	output := fs.StringP("output", "o", "", "write the inventory to `FILE` instead of standard output")
	db := fs.String("db", "", "SQLite store `PATH` (default $MEDSCAN_DB, else ./medscan.db)")
	ref := fs.String("scan", "latest", "which stored scan: `latest`, latest~N, or a scan ID")
	kind := fs.String("kind", "", "list only assets of this `KIND`: "+strings.Join(inventoryKinds, ", "))
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("inventory: unexpected argument %q", fs.Arg(0))}
	}
	if !slices.Contains([]string{"table", "json", "csv"}, *format) {
		return usageError{fmt.Sprintf("inventory: --format: unknown format %q (want table, json or csv)", *format)}
	}
	if *kind != "" && !slices.Contains(inventoryKinds, *kind) {
		return usageError{fmt.Sprintf("inventory: --kind: unknown kind %q (want one of %s)", *kind, strings.Join(inventoryKinds, ", "))}
	}
	st, err := readStore((&outputFlags{db: *db}).dbPath())
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := st.ResolveScan(ctx, *ref)
	if err != nil {
		return err
	}
	rep, err := st.Load(ctx, id)
	if err != nil {
		return err
	}
	assets := []findings.Asset{}
	for _, a := range rep.Assets {
		if *kind == "" || a.Kind == *kind {
			assets = append(assets, a)
		}
	}
	return writeOut(*output, stdout, func(w io.Writer) error {
		switch *format {
		case "json":
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(assets)
		case "csv":
			// The csv-assets report, restricted to the assets listed and their services.
			listed := map[string]bool{}
			for _, a := range assets {
				listed[a.IP] = true
			}
			sub := &findings.Report{Assets: assets}
			for _, s := range rep.Services {
				if listed[s.Host] {
					sub.Services = append(sub.Services, s)
				}
			}
			cw, err := report.New("csv-assets", report.Options{})
			if err != nil {
				return err
			}
			return cw.Write(w, sub)
		}
		return inventoryTable(w, rep.Scan.ID, assets)
	})
}

// maxIdentity bounds the NAME / MAKER column so that the reason keeps room to read.
const maxIdentity = 30

// inventoryTable renders the assets in 100 columns: address, kind, first name and maker
// (or the registry's vendor), and the strongest reason.
func inventoryTable(w io.Writer, scan int64, assets []findings.Asset) error {
	if len(assets) == 0 {
		_, err := fmt.Fprintf(w, "No assets in scan %d.\n", scan)
		return err
	}
	rows := make([][]string, 0, len(assets))
	for _, a := range assets {
		kind := a.Kind
		if kind == "" {
			kind = "-"
		}
		var id []string
		if len(a.Names) > 0 {
			id = append(id, a.Names[0].Name)
		}
		if maker := strings.TrimSpace(a.Manufacturer + " " + a.Model); maker != "" {
			id = append(id, maker)
		} else if a.Vendor != "" {
			id = append(id, a.Vendor)
		}
		identity := "-"
		if len(id) > 0 {
			identity = cut(strings.Join(id, " / "), maxIdentity)
		}
		why := "-"
		if len(a.Reasons) > 0 {
			why = a.Reasons[0]
			if len(a.Reasons) > 1 {
				why += fmt.Sprintf(" (+%d more)", len(a.Reasons)-1)
			}
		}
		rows = append(rows, []string{cleanText(a.IP), cleanText(kind), cleanText(identity), cleanText(why)})
	}
	return renderTable(w, []string{"IP", "KIND", "NAME / MAKER", "WHY"}, rows)
}

// cut shortens s to n runes, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
