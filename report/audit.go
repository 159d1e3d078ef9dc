package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
)

// The audit trail (medscan audit): every run that wrote the store, oldest first, then
// the chain's head and, when checked, the verdict with every problem found.
func init() {
	Audit.register("table", func(o Options) Writer[*findings.AuditTrail] {
		return WriterFunc[*findings.AuditTrail](func(w io.Writer, t *findings.AuditTrail) error {
			return auditTable(w, t, o.width())
		})
	})
	Audit.register("json", func(Options) Writer[*findings.AuditTrail] {
		return WriterFunc[*findings.AuditTrail](func(w io.Writer, t *findings.AuditTrail) error { return writeJSON(w, t) })
	})
}

func auditTable(w io.Writer, t *findings.AuditTrail, total int) error {
	if len(t.Records) == 0 {
		if _, err := fmt.Fprintln(w, "No runs recorded."); err != nil {
			return err
		}
	} else {
		tb := &table{cols: []column{{header: "SEQ"}, {header: "TIME", min: 10, flex: true},
			{header: "USER@HOST", min: 10, flex: true, prose: true}, {header: "VERSION", min: 7, flex: true},
			{header: "POLICY"}, {header: "SCAN"}, {header: "COMMAND", min: 16, flex: true, prose: true}}}
		for _, r := range t.Records {
			pol := "built-in"
			if r.Policy != "" {
				pol = shortHash(r.Policy)
			}
			scan := "-"
			if r.ScanID != 0 {
				scan = strconv.FormatInt(r.ScanID, 10)
			}
			tb.rows = append(tb.rows, []string{strconv.FormatInt(r.Seq, 10), r.At.UTC().Format("2006-01-02 15:04:05Z"),
				term(r.User + "@" + r.Host), term(r.Version), term(pol), scan, term(strings.Join(r.Command, " "))})
		}
		if err := layout(total, tb).render(w, total, false); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "\nHead: %s (%d runs). Keep it where the store's writers cannot change it; medscan audit --verify --head checks the chain still reaches it.\n",
			term(t.Records[len(t.Records)-1].Hash), len(t.Records)); err != nil {
			return err
		}
	}
	c := t.Check
	if c == nil {
		return nil
	}
	if c.Intact {
		msg := fmt.Sprintf("\nChecked: the chain of %d runs is intact", c.Records)
		if c.Expected != "" {
			msg += " and reaches the expected head"
		}
		if c.Key != "" {
			msg += fmt.Sprintf("; %d of them signed by the audit key %s, the others older than its first use", c.Signed, term(shortHash(c.Key)))
			if c.Signed == c.Records {
				msg = fmt.Sprintf("\nChecked: the chain of %d runs is intact, every one signed by the audit key %s", c.Records, term(shortHash(c.Key)))
				if c.Expected != "" {
					msg += ", and reaches the expected head"
				}
			}
		}
		_, err := fmt.Fprintln(w, msg+".")
		return err
	}
	if _, err := fmt.Fprintf(w, "\nChecked: the chain is BROKEN (%d problems):\n", len(c.Problems)); err != nil {
		return err
	}
	for _, p := range c.Problems {
		if _, err := fmt.Fprintf(w, "  - %s\n", term(p)); err != nil {
			return err
		}
	}
	return nil
}

// shortHash is the first 12 hex digits of a hash, enough to tell policies apart on screen.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
