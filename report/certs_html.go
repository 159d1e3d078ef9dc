package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
)

// certsHTMLTemplate is the certificate inventory's page (medscan certs -f html). It
// shares the scan report's stylesheet, Content-Security-Policy and print header, so it
// reads and prints like the report: no script, no external asset, every string from the
// store escaped by html/template after the one sanitizer (term).
//
//go:embed html/certs.html.tmpl
var certsHTMLText string

var certsHTMLTemplate = func() *template.Template {
	t := template.Must(template.New("certs.html.tmpl").Funcs(template.FuncMap{"stamp": htmlStamp, "date": htmlDate}).
		Parse(certsHTMLText))
	template.Must(t.New("style.css").Parse(htmlStyle))
	return t
}()

func init() {
	Certs.register("html", func(o Options) Writer[*findings.CertInventory] {
		return WriterFunc[*findings.CertInventory](func(w io.Writer, inv *findings.CertInventory) error {
			if inv == nil {
				return fmt.Errorf("report: certs: html: no inventory")
			}
			var b strings.Builder
			if err := certsHTMLTemplate.Execute(&b, certsHTMLViewOf(inv)); err != nil {
				return fmt.Errorf("report: certs: html: %w", err)
			}
			_, err := io.WriteString(w, b.String())
			return err
		})
	})
}

// certsHTMLView is what the page renders; everything is computed here, so that the
// template only lays out.
type certsHTMLView struct {
	Title, CSP       string
	PageHeader       template.CSS
	Generated        time.Time
	Anchors          []string
	Total            int
	Groups           []certGroupView
	Calendar         calendarView
	Revocation       revocationView
	Endpoints        []endpointView
	Rotated, KeyKept int
	WithoutIdentity  []identityView
}

// certGroupView is the certificates one CA issued (or the self-signed ones), with the
// chain above that CA: the site's hierarchy, one group at a time.
type certGroupView struct {
	ID, Title string
	// Standing is where the group stands against the site's PKI, in words, with a class:
	// "site PKI" (ok), "not anchored" (bad), "self-signed" (bad), "not judged".
	Standing, StandingClass string
	Path                    []string // the issuers above the group's certificates, nearest first
	End                     string   // how that chain ends
	Rows                    []certHTMLRow
}

type certHTMLRow struct {
	Subject, Role, Key, NotAfter, Status, StatusClass, Revocation, RevocationClass string
	Places                                                                         []string
	Worst                                                                          string
	Verdicts                                                                       int
	Rules                                                                          []string
	SHA256                                                                         string
	Scans                                                                          int
}

// calendarView is the expiry calendar as bars: the expired first, then each month.
type calendarView struct {
	Width, Height int
	Expired       int
	Bars          []calendarBar
	Next12        int // expiring within the twelve months
}

type calendarBar struct {
	Label, Class   string
	Count          int
	X, Y, W, H     int
	TextX, CountY  int // the count, above the bar
	LabelX, LabelY int // the month, below the plot
	Title          string
}

type revocationView struct {
	Revoked, Good, Unknown int
	RevokedRows            []certHTMLRow
}

type endpointView struct {
	Endpoint string
	KeyKept  bool
	Rows     []endpointRow
}

type endpointRow struct {
	From, To, Subject, SPKI, NotAfter, Note string
	Kept                                    bool
}

type identityView struct {
	Host, Kind, Reason, Detail string
}

// The calendar's geometry, in SVG user units.
const (
	calBarW   = 44
	calGap    = 12
	calLeft   = 16
	calTop    = 22
	calPlot   = 120 // the tallest bar
	calBottom = 40  // room for the month labels
)

func certsHTMLViewOf(inv *findings.CertInventory) certsHTMLView {
	v := certsHTMLView{Title: "Certificate inventory", Generated: inv.Generated,
		Total: len(inv.Certificates)}
	v.PageHeader = pageHeaderCSS(v.Title)
	v.CSP = htmlCSPFor(v.PageHeader)
	for _, a := range inv.Anchors {
		v.Anchors = append(v.Anchors, term(a))
	}
	certs := inv.Certificates
	for i := 0; i < len(certs); {
		j := i + 1
		for j < len(certs) && certs[j].Group == certs[i].Group {
			j++
		}
		v.Groups = append(v.Groups, certGroup(len(v.Groups)+1, certs[i:j], len(inv.Anchors) > 0))
		i = j
	}
	for _, g := range v.Groups {
		for _, r := range g.Rows {
			switch r.RevocationClass {
			case "bad":
				v.Revocation.Revoked++
				v.Revocation.RevokedRows = append(v.Revocation.RevokedRows, r)
			case "ok":
				v.Revocation.Good++
			default:
				v.Revocation.Unknown++
			}
		}
	}
	v.Calendar = certCalendar(inv)
	for _, h := range inv.Endpoints {
		e := endpointView{Endpoint: term(h.Endpoint), KeyKept: h.KeyKept}
		keys := map[string]bool{}
		for _, p := range h.Presented {
			r := endpointRow{From: htmlDate(p.FirstSeen), To: htmlDate(p.LastSeen), Subject: term(p.Subject),
				SPKI: shortHash(term(p.SPKISHA256)), NotAfter: htmlDate(p.NotAfter)}
			if p.SPKISHA256 != "" && keys[p.SPKISHA256] {
				r.Kept, r.Note = true, "same key as before: renewed, not rotated"
			}
			keys[p.SPKISHA256] = true
			e.Rows = append(e.Rows, r)
		}
		if len(e.Rows) > 1 {
			v.Rotated++
		}
		if h.KeyKept {
			v.KeyKept++
		}
		v.Endpoints = append(v.Endpoints, e)
	}
	for _, d := range inv.WithoutIdentity {
		iv := identityView{Host: term(d.Host), Kind: term(d.Kind), Reason: term(d.Reason)}
		switch d.Reason {
		case "shared key":
			iv.Detail = "the same key on " + term(strings.Join(d.SharedWith, ", "))
		case "self-signed only":
			iv.Detail = fmt.Sprintf("%d self-signed certificate%s", len(d.Certificates), plural(len(d.Certificates)))
		}
		v.WithoutIdentity = append(v.WithoutIdentity, iv)
	}
	return v
}

// certGroup lays out one issuer's certificates.
func certGroup(n int, entries []findings.CertEntry, anchored bool) certGroupView {
	first := entries[0]
	g := certGroupView{ID: "issuer-" + strconv.Itoa(n), Title: "Issued by " + term(first.Group)}
	switch {
	case first.Group == findings.SelfSignedGroup:
		g.Title = "Self-signed: each certificate signed by its own key"
		g.Standing, g.StandingClass = "self-signed: nothing vouches for them", "bad"
	case first.Group == "":
		g.Title = "Issuer unreadable"
		g.Standing, g.StandingClass = "not judged", "none"
	default:
		// The issuers above the group's certificates, as the first of them found them.
		for _, c := range first.Chain {
			g.Path = append(g.Path, term(c))
		}
		g.End = term(first.ChainEnd)
		switch {
		case first.ChainEnd == "anchor":
			g.Standing, g.StandingClass = "site PKI: leads to a trust anchor", "ok"
		case !anchored:
			g.Standing, g.StandingClass = "not judged: no trust anchors given (--policy)", "none"
		case first.ChainEnd == "self-signed":
			g.Standing, g.StandingClass = "outside the site PKI: a root the site does not anchor", "bad"
		default:
			g.Standing, g.StandingClass = "outside the site PKI: "+term(first.ChainEnd), "bad"
		}
	}
	for _, c := range entries {
		g.Rows = append(g.Rows, inventoryCertRow(c))
	}
	return g
}

func inventoryCertRow(c findings.CertEntry) certHTMLRow {
	r := certHTMLRow{Subject: term(c.Subject), Role: term(c.Role), Key: term(certKey(c)), SHA256: term(c.SHA256),
		Verdicts: len(c.Verdicts), Scans: len(c.ScanIDs)}
	if r.Subject == "" {
		r.Subject = "(no subject)"
	}
	switch {
	case c.NotAfter.IsZero():
		r.NotAfter, r.Status, r.StatusClass = "unknown", "unknown", "st-unknown"
	case c.Days < 0:
		r.NotAfter, r.Status, r.StatusClass = htmlDate(c.NotAfter), "expired", "st-expired"
	case c.Days <= 90:
		r.NotAfter, r.Status, r.StatusClass = htmlDate(c.NotAfter), strconv.Itoa(c.Days)+" d left", "st-soon"
	default:
		r.NotAfter, r.Status, r.StatusClass = htmlDate(c.NotAfter), strconv.Itoa(c.Days)+" d left", "st-valid"
	}
	switch {
	case strings.HasPrefix(c.Revocation, "revoked"):
		r.Revocation, r.RevocationClass = term(c.Revocation), "bad"
	case c.Revocation != "":
		r.Revocation, r.RevocationClass = term(c.Revocation), "ok"
	default:
		r.Revocation, r.RevocationClass = "no list of its issuer", "none"
	}
	for _, p := range c.Places {
		where := term(p.Where)
		if p.Role != "" && !strings.HasPrefix(p.Where, p.Role) {
			where += " (" + term(p.Role) + ")"
		}
		r.Places = append(r.Places, where)
	}
	if len(c.Verdicts) > 0 {
		r.Worst = c.Verdicts[0].Severity.String()
	}
	for _, vd := range c.Verdicts {
		r.Rules = append(r.Rules, term(vd.Rule))
	}
	return r
}

// certCalendar lays the expiry calendar out as bars: the already expired first (red),
// then the twelve months from the listing's own, the first three (within about 90
// days) amber.
func certCalendar(inv *findings.CertInventory) calendarView {
	start, counts, expired := expiryMonths(inv)
	most := expired
	for _, n := range counts {
		most = max(most, n)
	}
	c := calendarView{Expired: expired, Width: calLeft*2 + 13*(calBarW+calGap), Height: calTop + calPlot + calBottom}
	bar := func(i int, label, class, title string, n int) {
		h := 0
		if most > 0 {
			h = n * calPlot / most
		}
		if n > 0 {
			h = max(h, 3)
		}
		x := calLeft + i*(calBarW+calGap)
		b := calendarBar{Label: label, Class: class, Count: n, X: x, Y: calTop + calPlot - h, W: calBarW, H: h,
			TextX: x + calBarW/2, CountY: calTop + calPlot - h - 5, LabelX: x + calBarW/2, LabelY: calTop + calPlot + 16, Title: title}
		c.Bars = append(c.Bars, b)
	}
	bar(0, "expired", "cert-expired", fmt.Sprintf("%d already expired", expired), expired)
	for i, n := range counts {
		m := start.AddDate(0, i, 0)
		class := "cert-valid"
		if i < 3 {
			class = "cert-soon"
		}
		label := m.Format("Jan")
		if i == 0 || m.Month() == time.January {
			label = m.Format("Jan 06")
		}
		bar(i+1, label, class, fmt.Sprintf("%s: %d expiring", m.Format("January 2006"), n), n)
		c.Next12 += n
	}
	return c
}
