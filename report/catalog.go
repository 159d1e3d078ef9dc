package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/medscan/medscan/findings"
)

// The rule catalog (medscan rules).
func init() {
	Catalog.register("table", func(o Options) Writer[[]findings.RuleInfo] {
		return WriterFunc[[]findings.RuleInfo](func(w io.Writer, cat []findings.RuleInfo) error {
			tb := &table{cols: []column{{header: "ID"}, {header: "DEFAULT"}, {header: "DOMAIN"},
				{header: "ASSESSED BY", min: 14, flex: true, maxLines: 3}, {header: "TITLE", min: 20, flex: true, maxLines: 3}}}
			for _, m := range cat {
				needs := make([]string, len(m.Covers.Needs))
				for i, n := range m.Covers.Needs {
					needs[i] = string(n)
				}
				by := strings.Join(needs, ", ")
				if m.Covers.Profile != "" {
					by += " (probe: " + m.Covers.Profile + ")"
				}
				tb.rows = append(tb.rows, []string{term(m.ID), m.Default.String(), string(m.Covers.Domain), by, term(m.Title)})
			}
			if err := tb.render(w, o.width(), false); err != nil {
				return err
			}
			_, err := fmt.Fprintf(w, "%d rules. 'medscan rules --format json' adds rationale, remediation and references.\n", len(cat))
			return err
		})
	})
	Catalog.register("json", func(Options) Writer[[]findings.RuleInfo] {
		return WriterFunc[[]findings.RuleInfo](func(w io.Writer, cat []findings.RuleInfo) error { return writeJSON(w, cat) })
	})
}
