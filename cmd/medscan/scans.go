package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

// scanEntry is one scan of `medscan scans --format json`.
type scanEntry struct {
	ID       int64            `json:"id"`
	Started  time.Time        `json:"started"`
	Finished time.Time        `json:"finished"`
	Label    string           `json:"label"`
	Sources  []string         `json:"sources"`
	Complete bool             `json:"complete"`
	Policy   string           `json:"policy"`
	Summary  findings.Summary `json:"summary"`
}

func cmdScans(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("scans", pflag.ContinueOnError)
	format := fs.String("format", "table", "output `FORMAT`: table or json")
	output := fs.StringP("output", "o", "", "write the list to `FILE` instead of standard output")
	db := fs.String("db", "", "SQLite store `PATH` (default $MEDSCAN_DB, else ./medscan.db)")
	label := fs.String("label", "", "list only the scans with this `LABEL`")
	var g gateFlags
	g.register(fs, false)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("scans: unexpected argument %q", fs.Arg(0))}
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Sprintf("scans: --format: unknown format %q (want table or json)", *format)}
	}
	active, err := g.suppressions(stderr)
	if err != nil {
		return err
	}
	st, err := readStore((&outputFlags{db: *db}).dbPath())
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ScanSummaries(ctx)
	if err != nil {
		return err
	}
	entries := []scanEntry{}
	for _, s := range list {
		if *label != "" && s.Scan.Label != *label {
			continue
		}
		// The counts are those a report of the scan shows: suppressed findings apart.
		rep := &findings.Report{Findings: s.Findings}
		rules.ApplySuppressions(rep, active)
		rep.Summarize()
		entries = append(entries, scanEntry{ID: s.Scan.ID, Started: s.Scan.Started, Finished: s.Scan.Finished,
			Label: s.Scan.Label, Sources: s.Scan.Sources, Complete: s.Scan.Complete, Policy: s.Scan.Policy,
			Summary: rep.Summary})
	}
	return writeOut(*output, stdout, func(w io.Writer) error {
		if *format == "json" {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(entries)
		}
		return scansTable(w, entries)
	})
}

// scansTable renders the scan list in 100 columns, newest last, like the store's order.
func scansTable(w io.Writer, entries []scanEntry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "No scans.")
		return err
	}
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		names := make([]string, len(e.Sources))
		for i, s := range e.Sources {
			names[i] = filepath.Base(s)
		}
		complete := "yes"
		if !e.Complete {
			complete = "NO"
		}
		s := e.Summary
		rows = append(rows, []string{strconv.FormatInt(e.ID, 10), e.Started.UTC().Format("2006-01-02T15:04Z"),
			cleanText(e.Label), complete, strconv.Itoa(s.Critical), strconv.Itoa(s.High), strconv.Itoa(s.Medium),
			strconv.Itoa(s.Low), strconv.Itoa(s.Info), strconv.Itoa(s.Suppressed), cleanText(strings.Join(names, ", "))})
	}
	return renderTable(w, []string{"ID", "STARTED", "LABEL", "DONE", "CRIT", "HIGH", "MED", "LOW", "INFO", "SUPPR", "SOURCES"}, rows)
}

// tableWidth is the width the command tables fit, as the reports do.
const tableWidth = 100

// renderTable writes an ASCII table fitted to tableWidth columns: every column but the
// last keeps its natural width, and the last (the free text) wraps in what is left.
func renderTable(w io.Writer, header []string, rows [][]string) error {
	// A column's width counts its one-space padding on each side; the borders take one
	// column each.
	widths := tw.NewMapper[int, int]()
	used := len(header) + 1
	for i, h := range header[:len(header)-1] {
		n := utf8.RuneCountInString(h)
		for _, r := range rows {
			n = max(n, utf8.RuneCountInString(r[i]))
		}
		widths[i] = n + 2
		used += n + 2
	}
	last := len(header) - 1
	natural := utf8.RuneCountInString(header[last])
	for _, r := range rows {
		natural = max(natural, utf8.RuneCountInString(r[last]))
	}
	widths[last] = min(natural+2, max(tableWidth-used, 14))
	tb := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithColumnWidths(widths),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	hdr := make([]any, len(header))
	for i, h := range header {
		hdr[i] = h
	}
	tb.Header(hdr...)
	for _, r := range rows {
		cells := make([]any, len(r))
		for i, c := range r {
			cells[i] = c
		}
		if err := tb.Append(cells...); err != nil {
			return err
		}
	}
	return tb.Render()
}
