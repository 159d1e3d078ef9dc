package main

import (
	"github.com/spf13/cobra"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
)

func scansCommand(a *app) *cobra.Command {
	var (
		out   outputFlags
		db    storeFlag
		pol   policyFlags
		label string
		kind  string
		site  siteValue
	)
	c := &cobra.Command{
		Use:   "scans [--label L] [--kind K] [--site S] [flags]",
		Short: "list the stored scans and lint runs with their counts",
		Long: `List the stored scans and lint runs, newest last, with their finding counts by
severity. The counts are those a report of the scan shows: findings suppressed by the
policy and the suppression file in force today are counted apart.`,
		Args: argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := a.ctx
			if err := out.check(c.Flags(), "scans"); err != nil {
				return err
			}
			if kind != "" {
				if err := (&kindFlag{kind}).check("scans"); err != nil {
					return err
				}
			}
			active, err := pol.suppressions(a.warn())
			if err != nil {
				return err
			}
			st, err := db.read()
			if err != nil {
				return err
			}
			defer st.Close()
			var suppressed func(findings.Finding) bool
			if len(active) > 0 {
				// The counts are those a report of the scan shows: suppressed findings apart.
				suppressed = func(f findings.Finding) bool {
					_, ok := rules.Suppressing(active, f)
					return ok
				}
			}
			list, err := st.ScanSummaries(ctx, suppressed)
			if err != nil {
				return err
			}
			doc := &findings.ScanList{Scans: []findings.ScanEntry{}}
			for _, s := range list {
				if label != "" && s.Scan.Label != label || kind != "" && s.Scan.Kind != kind || site.set && s.Scan.Site != site.name {
					continue
				}
				doc.Scans = append(doc.Scans, findings.EntryOf(&findings.Report{Scan: s.Scan, Summary: s.Summary}))
			}
			return write(&out, report.ScanList, doc)
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.ScanList)
	db.register(fs)
	pol.register(fs)
	fs.Lookup("policy").Usage = "count apart the findings suppressed by this policy `FILE`'s suppressions"
	fs.Lookup("ignore-file").Usage = "count apart the findings suppressed by this `FILE` (default ./" + rules.IgnoreFile + " when present)"
	fs.StringVar(&label, "label", "", "list only the scans with this `LABEL`")
	registerSiteFilter(fs, &site)
	fs.StringVar(&kind, "kind", "", "list only the runs of this `KIND`: "+findings.KindNetwork+", "+findings.KindLint+" or "+findings.KindVerify)
	completeFlags(c, report.ScanList)
	_ = c.RegisterFlagCompletionFunc("kind", fixed(findings.KindNetwork, findings.KindLint, findings.KindVerify))
	return c
}
