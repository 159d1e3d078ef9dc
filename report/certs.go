package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
)

// The certificate inventory (medscan certs): every certificate seen in any stored scan,
// grouped by issuer so the site's hierarchy shows; an expiry calendar of the next twelve
// months; and each server endpoint that presented more than one certificate, oldest
// first, with keys kept across renewals marked.
func init() {
	Certs.register("table", func(o Options) Writer[*findings.CertInventory] {
		return WriterFunc[*findings.CertInventory](func(w io.Writer, inv *findings.CertInventory) error {
			return certsTable(w, inv, o.width())
		})
	})
	Certs.register("json", func(Options) Writer[*findings.CertInventory] {
		return WriterFunc[*findings.CertInventory](func(w io.Writer, inv *findings.CertInventory) error { return writeJSON(w, inv) })
	})
	Certs.register("csv", func(Options) Writer[*findings.CertInventory] { return csvWriter(certRows) })
}

// certKey is a certificate's key in words: "RSA 1024", "ECDSA P-256".
func certKey(c findings.CertEntry) string {
	k := strings.ToUpper(c.KeyType)
	switch {
	case c.Curve != "":
		return k + " " + c.Curve
	case c.KeyBits > 0:
		return k + " " + strconv.Itoa(c.KeyBits)
	}
	return k
}

// certExpiry is the end of validity with the days left: "2055-01-01 (10,000 d)".
func certExpiry(c findings.CertEntry) string {
	if c.NotAfter.IsZero() {
		return "-"
	}
	if c.Days < 0 {
		return c.NotAfter.UTC().Format("2006-01-02") + " (EXPIRED)"
	}
	return fmt.Sprintf("%s (%d d)", c.NotAfter.UTC().Format("2006-01-02"), c.Days)
}

// certWorst is the highest verdict and how many there are: "high (3)", or "none".
func certWorst(c findings.CertEntry) string {
	if len(c.Verdicts) == 0 {
		return "none"
	}
	return fmt.Sprintf("%s (%d)", c.Verdicts[0].Severity, len(c.Verdicts))
}

// certPlaces are where a certificate was seen, in one cell.
func certPlaces(c findings.CertEntry) string {
	ws := make([]string, len(c.Places))
	for i, p := range c.Places {
		ws[i] = p.Where
	}
	return strings.Join(ws, ", ")
}

func certChain(c findings.CertEntry) string {
	s := c.ChainEnd
	if len(c.Chain) > 0 {
		s = strings.Join(c.Chain, " < ") + " (" + c.ChainEnd + ")"
	}
	if strings.HasPrefix(c.Revocation, "revoked") {
		s = "REVOKED: " + c.Revocation + "; " + s
	}
	return s
}

func certsTable(w io.Writer, inv *findings.CertInventory, total int) error {
	if len(inv.Certificates) == 0 {
		_, err := fmt.Fprintln(w, "No certificates.")
		return err
	}
	// The list is sorted by issuer: each run of one issuer is a table.
	certs := inv.Certificates
	for i := 0; i < len(certs); {
		j := i + 1
		for j < len(certs) && certs[j].Group == certs[i].Group {
			j++
		}
		head := "Issued by " + term(certs[i].Group)
		switch certs[i].Group {
		case findings.SelfSignedGroup:
			head = "Self-signed: each certificate signed by its own key"
		case "":
			head = "Issuer unreadable"
		}
		if _, err := fmt.Fprintf(w, "\n%s\n", head); err != nil {
			return err
		}
		tb := &table{cols: []column{{header: "SUBJECT", min: 16, flex: true, prose: true}, {header: "ROLE", min: 6, flex: true},
			{header: "KEY"}, {header: "NOT AFTER", min: 10, flex: true, prose: true}, {header: "CHAIN", min: 10, flex: true, prose: true},
			{header: "SEEN AT", min: 12, flex: true, prose: true}, {header: "FINDINGS"}, {header: "SHA-256"}}}
		for _, d := range certs[i:j] {
			tb.rows = append(tb.rows, []string{term(d.Subject), term(d.Role), term(certKey(d)), certExpiry(d), term(certChain(d)),
				term(certPlaces(d)), certWorst(d), shortHash(d.SHA256)})
		}
		if err := layout(total, tb).render(w, total, false); err != nil {
			return err
		}
		i = j
	}
	if err := expiryCalendar(w, inv, total); err != nil {
		return err
	}
	if err := rotationTable(w, inv, total); err != nil {
		return err
	}
	return identityTable(w, inv, total)
}

// identityTable lists the hosts without an identity of their own.
func identityTable(w io.Writer, inv *findings.CertInventory, total int) error {
	if len(inv.WithoutIdentity) == 0 {
		_, err := fmt.Fprintln(w, "\nEvery medical device, middleware and clinical server seen has an identity of its own.")
		return err
	}
	if _, err := fmt.Fprintf(w, "\nWithout an identity of their own (%d): devices and servers whose peers cannot tell them from an impostor\n",
		len(inv.WithoutIdentity)); err != nil {
		return err
	}
	tb := &table{cols: []column{{header: "HOST"}, {header: "KIND", min: 8, flex: true}, {header: "WHY", min: 10, flex: true},
		{header: "DETAIL", min: 12, flex: true, prose: true}}}
	for _, d := range inv.WithoutIdentity {
		detail := ""
		switch d.Reason {
		case "shared key":
			detail = "the same key on " + strings.Join(d.SharedWith, ", ")
		case "self-signed only":
			detail = fmt.Sprintf("%d self-signed certificate(s)", len(d.Certificates))
		}
		tb.rows = append(tb.rows, []string{term(d.Host), term(d.Kind), d.Reason, term(detail)})
	}
	return layout(total, tb).render(w, total, false)
}

// expiryMonths counts the certificates that expire in each of the twelve months from
// the listing's own month, and those already expired: the calendar of the table and
// of the HTML page.
func expiryMonths(inv *findings.CertInventory) (start time.Time, counts []int, expired int) {
	start = time.Date(inv.Generated.Year(), inv.Generated.Month(), 1, 0, 0, 0, 0, time.UTC)
	counts = make([]int, 12)
	for _, c := range inv.Certificates {
		if c.NotAfter.IsZero() {
			continue
		}
		if c.NotAfter.Before(inv.Generated) {
			expired++
			continue
		}
		m := (c.NotAfter.Year()-start.Year())*12 + int(c.NotAfter.Month()-start.Month())
		if m >= 0 && m < 12 {
			counts[m]++
		}
	}
	return start, counts, expired
}

// expiryCalendar writes the certificates that expire in each of the next twelve months,
// and those already expired.
func expiryCalendar(w io.Writer, inv *findings.CertInventory, total int) error {
	start, counts, expired := expiryMonths(inv)
	if _, err := fmt.Fprintf(w, "\nExpiry calendar (from %s): %d already expired\n", inv.Generated.Format("2006-01-02"), expired); err != nil {
		return err
	}
	tb := &table{cols: []column{{header: "MONTH"}, {header: "EXPIRING"}}}
	for i, n := range counts {
		tb.rows = append(tb.rows, []string{start.AddDate(0, i, 0).Format("2006-01"), strconv.Itoa(n)})
	}
	return layout(total, tb).render(w, total, false)
}

// rotationTable lists the endpoints that presented more than one certificate.
func rotationTable(w io.Writer, inv *findings.CertInventory, total int) error {
	tb := &table{cols: []column{{header: "ENDPOINT", min: 10, flex: true}, {header: "FROM"}, {header: "TO"},
		{header: "SUBJECT", min: 12, flex: true, prose: true}, {header: "KEY (SPKI)"}, {header: "NOTE", min: 8, flex: true, prose: true}}}
	for _, h := range inv.Endpoints {
		if len(h.Presented) < 2 {
			continue
		}
		keys := map[string]bool{}
		for _, p := range h.Presented {
			note := ""
			if keys[p.SPKISHA256] {
				note = "same key as before: renewed, not rotated"
			}
			keys[p.SPKISHA256] = true
			tb.rows = append(tb.rows, []string{term(h.Endpoint), p.FirstSeen.UTC().Format("2006-01-02"), p.LastSeen.UTC().Format("2006-01-02"),
				term(p.Subject), shortHash(p.SPKISHA256), note})
		}
	}
	if len(tb.rows) == 0 {
		_, err := fmt.Fprintln(w, "\nRotation: no endpoint presented more than one certificate.")
		return err
	}
	if _, err := fmt.Fprintln(w, "\nRotation: the certificates each endpoint presented, oldest first"); err != nil {
		return err
	}
	return layout(total, tb).render(w, total, false)
}

// certRows is the inventory as CSV, one row per certificate.
func certRows(inv *findings.CertInventory) [][]string {
	rows := [][]string{{"sha256", "subject", "issuer", "serial", "role", "key", "spki_sha256", "not_before", "not_after",
		"days_left", "self_signed", "is_ca", "chain", "chain_end", "revocation", "seen_at", "first_seen", "last_seen", "scans", "findings", "worst"}}
	for _, c := range inv.Certificates {
		worst := ""
		if len(c.Verdicts) > 0 {
			worst = c.Verdicts[0].Severity.String()
		}
		rows = append(rows, []string{c.SHA256, c.Subject, c.Issuer, c.SerialHex, c.Role, certKey(c), c.SPKISHA256,
			csvTime(c.NotBefore), csvTime(c.NotAfter), strconv.Itoa(c.Days), strconv.FormatBool(c.SelfSigned),
			strconv.FormatBool(c.IsCA), strings.Join(c.Chain, " < "), c.ChainEnd, c.Revocation, certPlaces(c), csvTime(c.FirstSeen),
			csvTime(c.LastSeen), strconv.Itoa(len(c.ScanIDs)), strconv.Itoa(len(c.Verdicts)), worst})
	}
	return rows
}
