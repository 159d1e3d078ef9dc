package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
)

func cmdScans(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("scans", pflag.ContinueOnError)
	var (
		out outputFlags
		db  storeFlag
		pol policyFlags
	)
	out.register(fs, report.ScanList)
	db.register(fs)
	pol.register(fs)
	label := fs.String("label", "", "list only the scans with this `LABEL`")
	kind := fs.String("kind", "", "list only the runs of this `KIND`: "+findings.KindNetwork+" or "+findings.KindLint)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("scans: unexpected argument %q", fs.Arg(0))}
	}
	if err := out.check("scans"); err != nil {
		return err
	}
	if *kind != "" {
		if err := (&kindFlag{*kind}).check("scans"); err != nil {
			return err
		}
	}
	active, err := pol.suppressions(stderr)
	if err != nil {
		return err
	}
	st, err := db.read()
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ScanSummaries(ctx)
	if err != nil {
		return err
	}
	doc := &findings.ScanList{Scans: []findings.ScanEntry{}}
	for _, s := range list {
		if *label != "" && s.Scan.Label != *label || *kind != "" && s.Scan.Kind != *kind {
			continue
		}
		// The counts are those a report of the scan shows: suppressed findings apart.
		rep := &findings.Report{Scan: s.Scan, Findings: s.Findings}
		rules.ApplySuppressions(rep, active)
		rep.Summarize()
		doc.Scans = append(doc.Scans, findings.EntryOf(rep))
	}
	return write(&out, report.ScanList, doc, stdout)
}
