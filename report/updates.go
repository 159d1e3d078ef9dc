package report

import (
	"bytes"
	"cmp"
	"fmt"
	"path"
	"strings"

	"github.com/medscan/medscan/findings"
)

// updateRow is one update image as the table and HTML show it: the facts of
// findings.UpdateImage in words, the same for both.
type updateRow struct {
	Image   string // name (and dir)
	Version string
	Size    int64
	SHA256  string
	Format  string
	Signer  string // who signed, with the trust judgement
	Verdict string // verified, invalid (why), unsigned, unknown (why)
	Origin  string
	Clients []string
	Weak    string
}

// updateRows words the report's update images, in the report's order.
func updateRows(r *findings.Report) []updateRow {
	var out []updateRow
	for _, u := range r.Updates {
		row := updateRow{Image: term(path.Join(u.Dir, u.Name)), Version: term(u.Version), Size: u.Size, SHA256: u.SHA256,
			Format: term(u.Format), Origin: term(u.Origin), Verdict: u.Verdict}
		for _, c := range u.Clients {
			row.Clients = append(row.Clients, term(c))
		}
		if u.Cut {
			row.Verdict = "unknown (cut at the size limit)"
		}
		for i, s := range u.Signatures {
			if i > 0 && !s.Verifies {
				continue
			}
			who := cmp.Or(term(s.Signer.Label()), "unknown signer")
			trust := map[string]string{"trusted": "trusted", "untrusted": "NOT trusted", "not-judged": "not judged"}[s.Trust]
			row.Signer = fmt.Sprintf("%s (%s, %s)", who, term(s.Kind), cmp.Or(trust, term(s.Trust)))
			if !s.Verifies && s.Reason != "" {
				row.Verdict = u.Verdict + ": " + term(s.Reason)
			}
			row.Weak = strings.Join(s.Weaknesses, ", ")
			if s.Verifies {
				break
			}
		}
		out = append(out, row)
	}
	return out
}

// updates is the table's section of update images; absent when there are none.
func (t tableWriter) updates(b *bytes.Buffer, r *findings.Report, total int) error {
	rows := updateRows(r)
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(b, "\nUpdate images (%d)\n", len(rows))
	tb := &table{cols: []column{
		{header: "IMAGE", min: 12, flex: true},
		{header: "VERSION"},
		{header: "SIZE"},
		{header: "SHA-256 (16)"},
		{header: "SIGNER", min: 16, flex: true, prose: true},
		{header: "VERDICT", min: 10, flex: true, prose: true},
		{header: "ORIGIN", min: 8, flex: true},
		{header: "FETCHED BY", min: 10, flex: true, prose: true},
	}}
	// On a narrow terminal the facts of an image go under one another in a single column.
	narrow := &table{cols: []column{
		{header: "IMAGE", min: 12, flex: true},
		{header: "VERDICT", min: 10, flex: true, prose: true},
		{header: "DETAIL", min: 16, flex: true, prose: true},
	}}
	for _, u := range rows {
		// The digest's first 16 digits tell images apart on screen (the header says it is
		// a prefix: tables never cut text with "…"); JSON and HTML have it whole.
		sum := u.SHA256
		if len(sum) > 16 {
			sum = sum[:16]
		}
		fetched := cmp.Or(strings.Join(u.Clients, ", "), "-")
		tb.rows = append(tb.rows, []string{u.Image, cmp.Or(u.Version, "-"), fmt.Sprint(u.Size), sum,
			cmp.Or(u.Signer, "-"), u.Verdict, u.Origin, fetched})
		detail := fmt.Sprintf("%d bytes, SHA-256 %s (first 16 digits)\nsigner: %s\nfrom: %s\nfetched by: %s", u.Size, sum, cmp.Or(u.Signer, "-"),
			u.Origin, fetched)
		if u.Version != "" {
			detail = "version " + u.Version + ", " + detail
		}
		narrow.rows = append(narrow.rows, []string{u.Image, u.Verdict, detail})
	}
	return layout(total, tb, narrow).render(b, total, false)
}
