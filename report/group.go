package report

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
)

// A scan of a hospital raises thousands of findings, mostly the same few rules on many
// devices. One row each is a table nobody reads (and most of the time of rendering it):
// above Options.GroupAbove findings, the terminal table and the HTML page show one row
// per rule and severity, with how many findings and hosts, and the first few places,
// and say where every row is (JSON, CSV, -v). The store, the gate, suppressions and
// comparisons still see every finding: grouping is only how a person is shown them.

// DefaultGroupAbove is the number of findings above which the table and the HTML page
// group them when Options.GroupAbove is 0.
const DefaultGroupAbove = 200

// grouped reports whether n findings are shown grouped: above the threshold, unless the
// reader asked for every row (Verbose) or never to group (a negative GroupAbove).
func (o Options) grouped(n int) bool {
	limit := o.GroupAbove
	if limit == 0 {
		limit = DefaultGroupAbove
	}
	return !o.Verbose && limit > 0 && n > limit
}

// shownFindings is how many findings a scan's report shows: its list's, or, when they
// are streamed from the store, the store's count of them.
func shownFindings(r *findings.Report) int {
	if r.Stream != nil {
		return r.Summary.Total
	}
	return len(r.Findings)
}

// findingGroup is the findings of one rule at one severity.
type findingGroup struct {
	Rule     string
	Severity findings.Severity
	Count    int      // findings
	Hosts    int      // distinct places: hosts, or files for findings about files
	First    []string // the first places, in the findings' order (location)
	More     int      // places beyond First
}

// groupFindings groups fs (in the document's order: most severe first, then rule) by
// rule and severity, in the order each group first appears (findings.GroupFindings).
func groupFindings(fs []findings.Finding) []findingGroup { return placed(findings.GroupFindings(fs)) }

// placed is groups as the human outputs show them, each first place by its location.
func placed(gs []findings.FindingGroup) []findingGroup {
	out := make([]findingGroup, len(gs))
	for i, g := range gs {
		out[i] = findingGroup{Rule: g.Rule, Severity: g.Severity, Count: g.Count, Hosts: g.Hosts, More: g.More}
		for _, f := range g.First {
			out[i].First = append(out[i].First, location(f))
		}
	}
	return out
}

// groupedNote says that findings are grouped, why, and where every row is.
func groupedNote(n int) string {
	return fmt.Sprintf("%d findings, grouped by rule and severity; every finding, one row each: --format json or csv, or -v", n)
}

// The certificate, service and inventory sections of a hospital's table are as long as
// its findings (a certificate and four services per ward, thousands of assets): above
// the same threshold they are grouped too, one row per kind of entry with how many and
// the first few, and a line says where every entry is.

// rowGroup is the entries of a table section that share the columns a grouped section
// shows (key), by their indexes in the section's list, in its order.
type rowGroup struct {
	key []string
	idx []int
}

// groupRows groups n entries by key(i), largest group first, groups of a size in the
// order their first entry comes.
func groupRows(n int, key func(i int) []string) []rowGroup {
	at := map[string]int{}
	var out []rowGroup
	for i := range n {
		k := key(i)
		id := strings.Join(k, "\x00")
		g, ok := at[id]
		if !ok {
			g = len(out)
			at[id] = g
			out = append(out, rowGroup{key: k})
		}
		out[g].idx = append(out[g].idx, i)
	}
	slices.SortStableFunc(out, func(a, b rowGroup) int { return cmp.Compare(len(b.idx), len(a.idx)) })
	return out
}

// firstPlaces names the distinct places of a group's entries: the first groupPlaces,
// then how many more.
func firstPlaces(idx []int, place func(i int) string) string {
	seen := map[string]bool{}
	var first []string
	more := 0
	for _, i := range idx {
		p := place(i)
		if seen[p] {
			continue
		}
		seen[p] = true
		if len(first) < findings.GroupPlaces {
			first = append(first, p)
		} else {
			more++
		}
	}
	where := strings.Join(first, ", ")
	if more > 0 {
		where += fmt.Sprintf(" and %d more", more)
	}
	return where
}

// groupedSectionNote says that a section is grouped, by what, and where every entry is.
func groupedSectionNote(n int, what, by, where string) string {
	return fmt.Sprintf("%d %s, grouped by %s; every one, one row each: %s, or -v", n, what, by, where)
}

// groupedCertificates is the certificate section of a large scan: one row per issuer,
// key and signature, with how many certificates, their expiry range and the first
// subjects.
func (t tableWriter) groupedCertificates(b *bytes.Buffer, certs []findings.Certificate, total int) error {
	fmt.Fprintf(b, "Certificates (%d), grouped\n", len(certs))
	tb := &table{cols: []column{
		{header: "ISSUER", min: 16, flex: true, prose: true},
		{header: "KEY", min: 7, flex: true},
		{header: "SIG"},
		{header: "CERTS"},
		{header: "NOT AFTER", min: 10, flex: true},
		{header: "SUBJECTS", min: 16, flex: true, prose: true},
	}}
	groups := groupRows(len(certs), func(i int) []string {
		c := certs[i]
		issuer := cmp.Or(term(c.Issuer), "-")
		if c.SelfSigned {
			issuer = "self-signed"
		}
		return []string{issuer, cmp.Or(keyText(c), "-"), cmp.Or(term(c.SignatureHash), "-")}
	})
	for _, g := range groups {
		var first, last time.Time
		for _, i := range g.idx {
			if na := certs[i].NotAfter; !na.IsZero() {
				if first.IsZero() || na.Before(first) {
					first = na
				}
				if na.After(last) {
					last = na
				}
			}
		}
		notAfter := "-"
		if !first.IsZero() {
			notAfter = first.UTC().Format(time.DateOnly)
			if l := last.UTC().Format(time.DateOnly); l != notAfter {
				notAfter += " to " + l
			}
		}
		subjects := firstPlaces(g.idx, func(i int) string {
			return cmp.Or(term(certs[i].Subject), "sha256:"+certs[i].SHA256[:min(16, len(certs[i].SHA256))])
		})
		tb.rows = append(tb.rows, []string{g.key[0], g.key[1], g.key[2], strconv.Itoa(len(g.idx)), notAfter, subjects})
	}
	if err := tb.render(b, total, false); err != nil {
		return err
	}
	writeWrapped(b, total, groupedSectionNote(len(certs), "certificates", "issuer, key and signature", "--format json"))
	return nil
}

// groupedServices is the service section of a large scan: one row per protocol, TLS
// version and suite, with how many services on how many hosts and the first of them.
func (t tableWriter) groupedServices(b *bytes.Buffer, rows [][]string, hosts []string, total int) error {
	fmt.Fprintf(b, "Services (%d), grouped\n", len(rows))
	tb := &table{cols: []column{
		{header: "PROTOCOL", min: 8, flex: true},
		{header: "TLS", min: 7, flex: true},
		{header: "CIPHER SUITE", min: 20, flex: true},
		{header: "SERVICES"},
		{header: "HOSTS"},
		{header: "WHERE", min: 20, flex: true, prose: true},
	}}
	for _, g := range groupRows(len(rows), func(i int) []string { return rows[i][1:] }) {
		distinct := map[string]bool{}
		for _, i := range g.idx {
			distinct[hosts[i]] = true
		}
		where := firstPlaces(g.idx, func(i int) string { return rows[i][0] })
		tb.rows = append(tb.rows, []string{g.key[0], g.key[1], g.key[2], strconv.Itoa(len(g.idx)),
			strconv.Itoa(len(distinct)), where})
	}
	if err := tb.render(b, total, false); err != nil {
		return err
	}
	writeWrapped(b, total, groupedSectionNote(len(rows), "services", "protocol, TLS version and suite",
		"--format json or csv-assets"))
	return nil
}

// groupedInventory is the inventory section of a large scan: one row per kind and
// maker, with how many assets and the first addresses.
func (t tableWriter) groupedInventory(b *bytes.Buffer, assets []findings.Asset, total int) error {
	fmt.Fprintf(b, "Inventory (%d), grouped\n", len(assets))
	tb := &table{cols: []column{
		{header: "KIND", min: 8, flex: true},
		{header: "MAKER", min: 8, flex: true, prose: true},
		{header: "ASSETS"},
		{header: "WHERE", min: 20, flex: true, prose: true},
	}}
	for _, g := range groupRows(len(assets), func(i int) []string {
		return []string{assetKind(assets[i]), cmp.Or(makerModel(assets[i]), "-")}
	}) {
		where := firstPlaces(g.idx, func(i int) string { return target(assets[i].IP(), 0) })
		tb.rows = append(tb.rows, []string{g.key[0], g.key[1], strconv.Itoa(len(g.idx)), where})
	}
	if err := tb.render(b, total, false); err != nil {
		return err
	}
	writeWrapped(b, total, groupedSectionNote(len(assets), "assets", "kind and maker", "--format json or csv-assets"))
	return nil
}
