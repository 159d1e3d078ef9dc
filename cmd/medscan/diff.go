package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

// diffScan names one side of a comparison in `medscan diff --format json`.
type diffScan struct {
	ID       int64     `json:"id"`
	Started  time.Time `json:"started"`
	Label    string    `json:"label"`
	Complete bool      `json:"complete"`
	Policy   string    `json:"policy"`
}

// diffDoc is the JSON document of `medscan diff`.
type diffDoc struct {
	SchemaVersion int              `json:"schema_version"`
	Previous      diffScan         `json:"previous"`
	Scan          diffScan         `json:"scan"`
	Change        *findings.Change `json:"change"`
}

func cmdDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("diff", pflag.ContinueOnError)
	format := fs.String("format", "table", "output `FORMAT`: table or json")
	output := fs.StringP("output", "o", "", "write the comparison to `FILE` instead of standard output")
	db := fs.String("db", "", "SQLite store `PATH` (default $MEDSCAN_DB, else ./medscan.db)")
	failOn := fs.String("fail-on", "", "exit 3 when a finding of the later scan at or above `SEVERITY` exists (with --fail-on-new: a new one)")
	var g gateFlags
	g.register(fs, false)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 2 {
		return usageError{"diff: give at most two scans: medscan diff [EARLIER] [LATER]"}
	}
	if *format != "table" && *format != "json" {
		return usageError{fmt.Sprintf("diff: --format: unknown format %q (want table or json)", *format)}
	}
	var gate *findings.Severity
	if *failOn != "" {
		s, err := findings.ParseSeverity(*failOn)
		if err != nil {
			return usageError{"--fail-on: " + err.Error()}
		}
		gate = &s
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

	// No argument: the latest scan; one: that scan; two: EARLIER LATER. Without an
	// earlier one, the previous scan with the later one's label is taken.
	laterRef, earlierRef := "latest", ""
	switch fs.NArg() {
	case 1:
		laterRef = fs.Arg(0)
	case 2:
		earlierRef, laterRef = fs.Arg(0), fs.Arg(1)
	}
	later, err := st.ResolveScan(ctx, laterRef)
	if err != nil {
		return err
	}
	var earlier int64
	if earlierRef != "" {
		if earlier, err = st.ResolveScan(ctx, earlierRef); err != nil {
			return err
		}
	} else {
		prev, ok, err := st.PreviousScan(ctx, later)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("diff: scan %d has no earlier scan to compare with (same label, or any when it has none); give two scan IDs", later)
		}
		earlier = prev
	}
	prev, err := st.Load(ctx, earlier)
	if err != nil {
		return err
	}
	cur, err := st.Load(ctx, later)
	if err != nil {
		return err
	}
	cur.Change = findings.Diff(prev, cur)
	rules.ApplySuppressions(cur, active)
	doc := diffDoc{SchemaVersion: 1, Previous: sideOf(prev), Scan: sideOf(cur), Change: cur.Change}
	err = writeOut(*output, stdout, func(w io.Writer) error {
		if *format == "json" {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(doc)
		}
		return diffTable(w, doc)
	})
	if err != nil {
		return err
	}
	return gateFailed(gate, g.failOnNew, cur, stderr)
}

func sideOf(r *findings.Report) diffScan {
	return diffScan{ID: r.Scan.ID, Started: r.Scan.Started, Label: r.Scan.Label, Complete: r.Scan.Complete, Policy: r.Scan.Policy}
}

func describeSide(s diffScan) string {
	d := fmt.Sprintf("scan %d (%s", s.ID, s.Started.UTC().Format("2006-01-02 15:04"))
	if s.Label != "" {
		d += ", label " + strconv.Quote(s.Label)
	}
	if !s.Complete {
		d += ", INCOMPLETE"
	}
	return cleanText(d + ")")
}

// diffTable renders the comparison: a heading, the counts, then one row per finding that
// changed or stayed, new first.
func diffTable(w io.Writer, doc diffDoc) error {
	c := doc.Change
	fmt.Fprintf(w, "Comparing %s\n     with %s\n", describeSide(doc.Scan), describeSide(doc.Previous))
	fmt.Fprintf(w, "%d new, %d fixed, %d persisting, %d not assessed\n\n",
		c.Counts.New, c.Counts.Fixed, c.Counts.Persisting, c.Counts.NotAssessed)
	var rows [][]string
	add := func(status string, list []findings.ChangedFinding) {
		for _, f := range list {
			st := status
			if f.Suppressed {
				st += " (suppressed)"
			}
			// A persisting finding is described in the scan's report; here it needs no
			// more than its target. One not assessed says why first.
			detail := f.Message
			switch {
			case f.Reason != "":
				detail = f.Reason + ": " + detail
			case status == "persisting":
				detail = ""
			}
			target := f.Host
			if f.Port != 0 {
				target = f.Host + ":" + strconv.Itoa(f.Port)
				if strings.Contains(f.Host, ":") {
					target = "[" + f.Host + "]:" + strconv.Itoa(f.Port)
				}
			}
			rows = append(rows, []string{st, strings.ToUpper(f.Severity.String()), f.Rule, cleanText(target), cleanText(detail)})
		}
	}
	add("NEW", c.New)
	add("FIXED", c.Fixed)
	add("NOT ASSESSED", c.NotAssessed)
	add("persisting", c.Persisting)
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "Neither scan has findings.")
		return err
	}
	return renderTable(w, []string{"STATUS", "SEVERITY", "RULE", "TARGET", "DETAIL"}, rows)
}
