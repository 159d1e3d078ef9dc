package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
)

// This file renders the HTML report's certificates: the inventory table and the validity
// timeline, judged at the time the traffic shows.

type hiddenCerts struct {
	Handshakes int
	At         []string
}

type certRow struct {
	Name, Issuer, Key, Sig, Serial, SHA256 string
	DNSNames                               []string
	NotBefore, NotAfter                    time.Time
	Days                                   int
	Status, StatusClass                    string
	Flags                                  []string
	SeenOn                                 []string
}

func htmlHiddenCerts(ss []findings.TLSSession) hiddenCerts {
	var h hiddenCerts
	for _, s := range ss {
		if !s.CertsObservable {
			h.Handshakes += s.Count
			h.At = appendUnique(h.At, target(s.Host, s.Port))
		}
	}
	return h
}

// htmlCertName is how a certificate is named in the report: its subject, or what is known
// when the subject is empty or the certificate could not be parsed.
func htmlCertName(c findings.Certificate) string {
	short := c.SHA256[:min(16, len(c.SHA256))]
	subject := term(c.Subject)
	switch {
	case c.ParseError != "" && subject == "":
		return "unparsable (" + term(c.ParseError) + ") sha256:" + short
	case subject == "" && c.KeyType == "":
		return "not examined, sha256:" + short
	case subject == "":
		return "(empty subject) sha256:" + short
	}
	return subject
}

// htmlCertStatus judges a certificate's validity at a time.
func htmlCertStatus(c findings.Certificate, at time.Time) (string, string) {
	switch {
	case c.NotAfter.IsZero() || at.IsZero():
		return "unknown", "unknown"
	case at.After(c.NotAfter):
		return "expired", "expired"
	case at.Before(c.NotBefore):
		return "not yet valid", "future"
	case c.NotAfter.Sub(at) < 30*24*time.Hour:
		return "expires within 30 days", "soon"
	}
	return "valid", "valid"
}

// The certificate rules whose findings colour the timeline and flag the table: a
// certificate's posture is what the rules said of it, matched by the evidence's
// cert_sha256, so the page and the findings never disagree.
var (
	weakCertRules = map[string]bool{"key-weak": true, "key-factorable": true, "cert-weak-signature": true}
	longCertRules = map[string]bool{"cert-long-lived": true}
)

// certPosture is what the findings say of one certificate.
type certPosture struct{ Weak, Long bool }

// timelineClass is the colour of a certificate's bar: what is most wrong with it at the
// reference time. A weak key or signature outranks everything (the certificate proves
// nothing, valid or not), then expiry, then a validity longer than the policy allows;
// only a certificate with none of these is drawn as fine.
func timelineClass(c findings.Certificate, at time.Time, p certPosture) string {
	_, status := htmlCertStatus(c, at)
	switch {
	case p.Weak:
		return "weak"
	case status == "expired":
		return "expired"
	case p.Long:
		return "long"
	}
	return status
}

func htmlCertRows(cs []findings.Certificate, at time.Time, posture map[string]certPosture) []certRow {
	var rows []certRow
	for _, c := range cs {
		row := certRow{Name: htmlCertName(c), Issuer: term(c.Issuer), Key: keyText(c), Sig: term(c.SignatureAlgorithm),
			Serial: term(c.SerialHex), SHA256: term(c.SHA256), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
			Days: c.ValidityDays}
		for _, n := range c.DNSNames {
			row.DNSNames = append(row.DNSNames, term(n))
		}
		for _, n := range c.IPAddresses {
			row.DNSNames = append(row.DNSNames, term(n))
		}
		row.Status, row.StatusClass = htmlCertStatus(c, at)
		if c.IsCA {
			row.Flags = append(row.Flags, "CA")
		}
		if c.SelfSigned {
			row.Flags = append(row.Flags, "self-signed")
		}
		if p := posture[c.SHA256]; p.Weak {
			row.Flags = append(row.Flags, "weak key or signature")
		}
		if p := posture[c.SHA256]; p.Long {
			row.Flags = append(row.Flags, "valid too long")
		}
		for i, s := range c.SeenOn {
			if i == maxSeenOn {
				row.SeenOn = append(row.SeenOn, fmt.Sprintf("(+%d more)", len(c.SeenOn)-maxSeenOn))
				break
			}
			row.SeenOn = append(row.SeenOn, sightingText(s))
		}
		rows = append(rows, row)
	}
	return rows
}

// timeline is the certificate expiry chart: one bar per dated certificate on a time
// axis, with the scan (and the capture, when it was long before) marked.
type timeline struct {
	Width, Height, Left, Right int
	Rows                       []tlRow
	Ticks                      []tlTick
	Marks                      []tlMark
	Omitted, Undated           int
	Clipped                    bool
	Years                      int
	Ref                        time.Time
	RefName                    string
	Classes                    map[string]int // bars drawn in each class, for the legend
}

type tlRow struct {
	Label, Title, Class string
	Y, X, W, TextY      int
	ClipLeft, ClipRight bool
}

type tlTick struct {
	X     int
	Label string
}

type tlMark struct {
	X      int
	Label  string
	Anchor string // text-anchor, so labels near the right edge stay inside
}

// The timeline's layout, in SVG user units, and its limits: rows beyond maxTimelineRows
// are left to the table (the soonest expiring are drawn), and the axis never spans more
// than timelineYears either side of the scan, so a certificate valid until 9999 cannot
// squash every other bar into a line.
const (
	tlWidth, tlLeft, tlRight, tlRowH, tlTop = 1000, 270, 20, 20, 34
	maxTimelineRows                         = 60
	timelineYears                           = 30
)

// htmlTimeline draws the certificates against ref, the time they are judged at, and
// marks the scan too when it ran long after the capture.
func htmlTimeline(cs []findings.Certificate, ref time.Time, refName string, scanned time.Time, posture map[string]certPosture) *timeline {
	var dated []findings.Certificate
	t := &timeline{Classes: map[string]int{}, Width: tlWidth, Left: tlLeft, Right: tlWidth - tlRight, Years: timelineYears, Ref: ref, RefName: refName}
	for _, c := range cs {
		if c.NotBefore.IsZero() || c.NotAfter.IsZero() || c.NotAfter.Before(c.NotBefore) {
			t.Undated++
			continue
		}
		dated = append(dated, c)
	}
	if len(dated) == 0 {
		return nil
	}
	slices.SortStableFunc(dated, func(a, b findings.Certificate) int { return a.NotAfter.Compare(b.NotAfter) })
	if len(dated) > maxTimelineRows {
		t.Omitted = len(dated) - maxTimelineRows
		dated = dated[:maxTimelineRows]
	}
	if ref.IsZero() {
		ref = dated[0].NotAfter
	}
	lo, hi := ref, ref
	for _, c := range dated {
		lo = earlier(lo, c.NotBefore)
		hi = later(hi, c.NotAfter)
	}
	if !scanned.IsZero() {
		lo, hi = earlier(lo, scanned), later(hi, scanned)
	}
	lo = later(lo, ref.AddDate(-timelineYears, 0, 0))
	hi = earlier(hi, ref.AddDate(timelineYears, 0, 0))
	// Whole years, so the ticks fall on the axis ends.
	y0, y1 := lo.UTC().Year(), hi.UTC().Year()+1
	step := 1
	for _, s := range []int{1, 2, 5, 10, 20} {
		step = s
		if (y1-y0)/s <= 10 {
			break
		}
	}
	y0 -= y0 % step
	if r := y1 % step; r != 0 {
		y1 += step - r
	}
	start := time.Date(y0, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(y1, 1, 1, 0, 0, 0, 0, time.UTC)
	span := float64(end.Sub(start))
	x := func(tm time.Time) int {
		f := float64(tm.Sub(start)) / span
		f = min(max(f, 0), 1)
		return t.Left + int(math.Round(f*float64(t.Right-t.Left)))
	}
	for y := y0; y <= y1; y += step {
		tm := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		t.Ticks = append(t.Ticks, tlTick{X: x(tm), Label: strconv.Itoa(y)})
	}
	for i, c := range dated {
		class := timelineClass(c, ref, posture[c.SHA256])
		t.Classes[class]++
		row := tlRow{Label: htmlShortName(c), Class: class, Y: tlTop + i*tlRowH + 4, TextY: tlTop + i*tlRowH + 15,
			X: x(c.NotBefore), ClipLeft: c.NotBefore.Before(start), ClipRight: c.NotAfter.After(end)}
		row.W = max(x(c.NotAfter)-row.X, 2)
		t.Clipped = t.Clipped || row.ClipLeft || row.ClipRight
		row.Title = htmlCertName(c) + ": " + htmlDate(c.NotBefore) + " to " + htmlDate(c.NotAfter)
		t.Rows = append(t.Rows, row)
	}
	t.Height = tlTop + len(t.Rows)*tlRowH + 8
	if !t.Ref.IsZero() {
		name := "capture"
		if t.Ref.Equal(scanned) {
			name = "scan"
		}
		t.Marks = append(t.Marks, tlMark{X: x(t.Ref), Label: name + " " + htmlDate(t.Ref)})
	}
	if !scanned.IsZero() && !t.Ref.IsZero() && scanned.Sub(t.Ref).Abs() > 7*24*time.Hour {
		t.Marks = append(t.Marks, tlMark{X: x(scanned), Label: "scan " + htmlDate(scanned)})
	}
	// Labels are placed left or right of their line so that two marks close together
	// and marks near the right edge stay readable.
	slices.SortFunc(t.Marks, func(a, b tlMark) int { return a.X - b.X })
	for i := range t.Marks {
		t.Marks[i].Anchor = "start"
		if i == 0 && len(t.Marks) > 1 || t.Marks[i].X > t.Right-150 {
			t.Marks[i].Anchor = "end"
		}
	}
	return t
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// htmlShortName is the label of a certificate's timeline row: its common name, else its
// first DNS name, else its organisation, cut to fit the label column.
func htmlShortName(c findings.Certificate) string {
	name := htmlCertName(c)
	subject := term(c.Subject)
	switch {
	case dnAttr(subject, "CN=") != "":
		name = dnAttr(subject, "CN=")
	case len(c.DNSNames) > 0:
		name = term(c.DNSNames[0])
	case dnAttr(subject, "OU=") != "":
		name = dnAttr(subject, "OU=")
	case dnAttr(subject, "O=") != "":
		name = dnAttr(subject, "O=")
	}
	if r := []rune(name); len(r) > 34 {
		name = string(r[:33]) + "…"
	}
	return name
}

// dnAttr is the value of the first attribute of a DN with the given "XX=" prefix, "" when
// it has none; a comma inside a value cuts it short, which a label can bear.
func dnAttr(dn, prefix string) string {
	for _, part := range strings.Split(dn, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), prefix); ok && v != "" {
			return v
		}
	}
	return ""
}
