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
			total := o.width()
			tb := &table{cols: []column{{header: "ID"}, {header: "DEFAULT"}, {header: "DOMAIN"},
				{header: "ASSESSED BY", min: 14, flex: true, prose: true}, {header: "TITLE", min: 20, flex: true, prose: true}}}
			// On a narrow terminal what assesses a rule goes under its title: IDs, which
			// people copy into policies, are never wrapped.
			narrow := &table{cols: []column{{header: "ID"}, {header: "DEFAULT"}, {header: "DOMAIN", min: 8, flex: true},
				{header: "TITLE / ASSESSED BY", min: 20, flex: true, prose: true}}}
			for _, m := range cat {
				needs := make([]string, len(m.Covers.Needs))
				for i, n := range m.Covers.Needs {
					needs[i] = string(n)
				}
				by := strings.Join(needs, ", ")
				if m.Covers.Profile != "" {
					by += " (probe: " + m.Covers.Profile + ")"
				}
				id, sev, domain, title := term(m.ID), m.Default.String(), term(string(m.Covers.Domain)), term(m.Title)
				tb.rows = append(tb.rows, []string{id, sev, domain, term(by), title})
				narrow.rows = append(narrow.rows, []string{id, sev, domain, title + "\nby: " + term(by)})
			}
			if err := layout(total, tb, narrow).render(w, total, false); err != nil {
				return err
			}
			return writeWrapped(w, total, fmt.Sprintf("%d rules. 'medscan rules --format json' adds rationale, remediation and references.", len(cat)))
		})
	})
	Catalog.register("json", func(Options) Writer[[]findings.RuleInfo] {
		return WriterFunc[[]findings.RuleInfo](func(w io.Writer, cat []findings.RuleInfo) error { return writeJSON(w, cat) })
	})
}
