package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

func reportCommand(a *app) *cobra.Command {
	var (
		out   outputFlags
		db    storeFlag
		pol   policyFlags
		gate  gateFlags
		kind  kindFlag
		ref   string
		since string
		site  siteValue
	)
	c := &cobra.Command{
		Use:   "report [--scan latest|ID] [flags]",
		Short: "render a stored scan again, in any format, with its change since the previous one",
		Long: `Render a stored scan again (the latest by default), with the suppressions in force
today and its change since the baseline or the previous comparable scan, and apply the
--fail-on gate to it.`,
		Example: `  medscan report -o ward.html
  medscan report --scan latest~1 -f json
  medscan report --kind lint -s high,critical
  medscan report -f ocsf --since 1h -o /var/spool/medscan/findings.jsonl
  medscan report -f defectdojo -o medscan-defectdojo.json`,
		Args: argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := a.ctx
			if err := out.check(c.Flags(), "report"); err != nil {
				return err
			}
			if err := kind.check("report"); err != nil {
				return err
			}
			sinceT, err := parseSince(since, out.format, time.Now())
			if err != nil {
				return err
			}
			g, err := gate.gate()
			if err != nil {
				return err
			}
			active, err := pol.suppressions(a.warn())
			if err != nil {
				return err
			}
			base, err := gate.loadBaseline(ctx)
			if err != nil {
				return err
			}
			st, err := db.read()
			if err != nil {
				return err
			}
			defer st.Close()
			id, err := site.resolve(ctx, st, ref, kind.kind)
			if err != nil {
				return err
			}
			rep, done, err := streamed(ctx, st, id, out.format, base, gate.baseline, active)
			if err != nil {
				return err
			}
			defer done()
			if rep == nil {
				if rep, err = prepare(ctx, st, id, nil, base, gate.baseline, active); err != nil {
					return err
				}
			}
			failed, msg := out.judgeThenNarrow(g, rep)
			if err := rep.ChangedSince(sinceT); err != nil {
				return err
			}
			if err := write(&out, report.Scan, rep); err != nil {
				return err
			}
			return gateOutcome(failed, msg, a.stderr)
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.Scan)
	out.registerSeverity(fs)
	out.registerGroup(fs, groupScanUsage)
	db.register(fs)
	pol.register(fs)
	gate.register(fs)
	kind.register(fs)
	fs.StringVar(&ref, "scan", "latest", "which stored scan: `latest`, latest~N, or a scan ID")
	registerSiteFilter(fs, &site)
	fs.StringVar(&since, "since", "", "with -f ocsf, only the findings first or last seen, new or fixed since `TIME` "+
		"(RFC 3339, a date, or a duration back from now such as 1h or 7d), for incremental export")
	completeFlags(c, report.Scan)
	return c
}

// parseSince reads --since: an RFC 3339 time, a date (midnight UTC), or a duration back
// from now ("90m", "1h", "7d"). It applies to the ocsf format only: the other formats
// are whole documents (a DefectDojo reimport closes whatever a file leaves out).
func parseSince(v, format string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if !strings.EqualFold(format, "ocsf") {
		return time.Time{}, usageError{"report: --since applies to -f ocsf only (an incremental export of events); the other formats render the whole scan"}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		var n int
		if _, e := fmt.Sscanf(days, "%d", &n); e == nil && fmt.Sprint(n) == days {
			d, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	if err != nil || d <= 0 {
		return time.Time{}, usageError{fmt.Sprintf("report: --since %q: want an RFC 3339 time (2026-12-01T08:00:00Z), a date (2026-12-01) or a positive duration (90m, 1h, 7d)", v)}
	}
	return now.Add(-d), nil
}

// streamed reads a stored scan for a writer that streams its findings
// (report.StreamsFindings), its findings left in the store and read as
// they are written (store.StreamWith), so that a scan of tens of thousands of findings
// is neither held nor sorted in memory. Its change since the previous comparable scan
// (a scheduled scan's usual case) or since the baseline (base, read from baseName) is
// computed by fingerprint, in the store or against the baseline's set of them, and the
// suppressions in force are applied as the findings are read: the document prepare
// makes of the scan loaded whole, byte for byte. An incremental export (--since) streams
// too: the caller's ChangedSince decides which findings it keeps from their identities
// and times before the stream is walked. The other formats need every finding first:
// for them it returns nil and the caller loads the scan whole (prepare).
// MEDSCAN_REPORT_WHOLE=1 loads it whole always, to compare the two. done ends the
// store's read; it is never nil.
func streamed(ctx context.Context, st *store.Store, id int64, format string, base *findings.Report, baseName string,
	active []rules.Suppression) (rep *findings.Report, done func() error, err error) {
	none := func() error { return nil }
	if !report.StreamsFindings(format) || os.Getenv("MEDSCAN_REPORT_WHOLE") == "1" {
		return nil, none, nil
	}
	opts := store.StreamOptions{Catalog: rules.CatalogIndex(), Baseline: base, WithoutFlows: !report.RendersFlows(format)}
	if len(active) > 0 {
		opts.Suppress = func(f findings.Finding) (findings.SuppressionRef, bool) { return rules.Suppressing(active, f) }
	}
	rep, done, err = st.StreamWith(ctx, id, opts)
	if err != nil {
		return nil, none, err
	}
	if base != nil {
		if err := store.SameKind(base.Scan, rep.Scan); err != nil {
			done()
			return nil, none, usageError{"--baseline " + baseName + ": " + err.Error()}
		}
		rep.Change.Baseline = baseName
	}
	return rep, done, nil
}
