package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
)

func init() { register("html", func(o Options) Writer { return htmlWriter{rules: o.Rules} }) }

// htmlFiles holds the page template and its stylesheet: the report is one file that
// opens offline, so both are compiled in rather than linked.
//
//go:embed html/report.html.tmpl html/style.css
var htmlFiles embed.FS

var (
	// htmlStyle is the stylesheet, inlined verbatim in one <style> element; htmlCSP
	// allows exactly that element by its hash, so that no other style (and no script,
	// image, font or connection at all) can take effect even if escaping ever failed.
	htmlStyle = mustRead("html/style.css")
	htmlCSP   = func() string {
		sum := sha256.Sum256([]byte(htmlStyle))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; base-uri 'none'; form-action 'none'"
	}()
	htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"stamp": htmlStamp,
		"date":  htmlDate,
	}).Parse(mustRead("html/report.html.tmpl")))
)

// The stylesheet is parsed as a template of its own (program text, not data), so that
// html/template copies it into the <style> element verbatim and the CSP hash holds.
func init() { template.Must(htmlTemplate.New("style.css").Parse(htmlStyle)) }

func mustRead(name string) string {
	b, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic("report: " + name + ": " + err.Error())
	}
	return string(b)
}

// htmlWriter renders a scan as one self-contained HTML page for people who do not run
// medscan: no script, no external asset, a print stylesheet, every string from the
// network escaped by html/template and stripped of control characters. Given the rule
// catalog (Options.Rules), it names each rule and says why it matters.
type htmlWriter struct{ rules []RuleInfo }

// Write renders r as an HTML document.
func (h htmlWriter) Write(w io.Writer, r *findings.Report) error {
	if r == nil {
		return fmt.Errorf("report: html: no report")
	}
	v := buildHTMLView(r, h.rules)
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, v); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// htmlView is what the template renders: every string in it has been through clean,
// and everything the writer derives (groups, chart geometry) is computed here, so the
// template only lays out.
type htmlView struct {
	Title, Version, Label, CSP string
	ScanID                     int64
	Sources                    []string
	Methods                    []string
	CaptureFirst, CaptureLast  time.Time
	CaptureSpan                string
	Started, Finished          time.Time
	Policy                     string
	Complete                   bool
	Problems                   []string
	Summary                    findings.Summary
	Chart                      sevChart
	Hosts                      int
	RuleRows                   []ruleRow
	Hidden                     hiddenCerts
	Groups                     []ruleGroup
	Assets                     assetTable
	Certs                      []certRow
	CertRef                    time.Time
	CertRefName                string
	Timeline                   *timeline
	SharedKeys                 []sharedKey
	SharedCreds                []sharedCred
	Services                   []serviceRow
	Sessions                   []sessionRow
	Probes                     []probeRow
	NotProbed                  []string
	HL7                        []findings.HL7Message
	DICOM                      []findings.DICOMAssociation
	HTTP                       []findings.HTTPRequest
	MQTT                       []findings.MQTTConnect
	Counters                   []findings.Counter
	Change                     *changeView
	Suppressed                 []suppressedRow
}

// changeView is the comparison with an earlier scan, when the Report carries one.
type changeView struct {
	PreviousScan    int64
	PreviousStarted time.Time
	Baseline        string
	Counts          findings.ChangeCounts
	Lists           []changeList // the non-empty ones of new, fixed, not assessed
}

type changeList struct {
	Name string
	Rows []changeRow
}

type changeRow struct {
	Severity, Rule, Target, Message, Reason string
	Suppressed                              bool
}

type suppressedRow struct {
	Severity, Rule, Target, Message, Reason, Expires, Source string
}

var htmlSevOrder = []findings.Severity{findings.Critical, findings.High, findings.Medium, findings.Low, findings.Info}

type sevChart struct {
	Bars   []sevBar
	Height int
}

type sevBar struct {
	Name        string
	Count       int
	Y, W, TextX int
}

type ruleRow struct {
	Rule, Anchor, Title string
	Severity            string
	Count, Hosts        int
}

type hiddenCerts struct {
	Handshakes int
	At         []string
}

type ruleGroup struct {
	Rule, Anchor, Severity string
	Title, Rationale       string
	Remediations           []string
	References             []string
	Findings               []findingView
}

type findingView struct {
	Severity, Target, Subject, Message, Source, Fingerprint string
	Time, FirstSeen, LastSeen                               time.Time
	Evidence                                                evNode
}

// evNode is one evidence value, rendered recursively: a scalar, a list or a map.
type evNode struct {
	Text           string
	IsList, IsMap  bool
	Flat           bool // a list of scalars, rendered inline
	Items          []evNode
	Fields         []evField
	Empty, Deepest bool
}

type evField struct {
	Key string
	Val evNode
}

type assetTable struct {
	Rows                                         []assetRow
	HasMAC, HasVendor, HasOtherMACs, HasServices bool
	HasKind, HasNames, HasMaker                  bool // the inventory columns, shown when any asset has them
}

type assetRow struct {
	IP, MAC, Vendor     string
	OtherMACs, Services []string
	Findings            int
	Worst               string
	FirstSeen, LastSeen time.Time
	// The inventory: kind, roles, names with their sources, maker and model, reasons.
	Kind, Maker           string
	Roles, Names, Reasons []string
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

type sharedKey struct {
	SPKI  string
	Certs []string
	Hosts []string
}

type sharedCred struct {
	Kind, Protocol, User, Preview, Where, Hash string
	Clients, Servers                           []string
	Count                                      int
}

type serviceRow struct {
	Target, Protocol, TLS, Cipher, Source string
	FirstSeen, LastSeen                   time.Time
}

type sessionRow struct {
	Client, Server, SNI, Version, Cipher, KeyExchange, ALPN, Certs string
	Count                                                          int
	Resumed, MutualTLS                                             bool
}

func buildHTMLView(r *findings.Report, catalog []RuleInfo) htmlView {
	v := htmlView{
		Version:  clean(r.Tool.Version),
		Label:    clean(r.Scan.Label),
		CSP:      htmlCSP,
		ScanID:   r.Scan.ID,
		Started:  r.Scan.Started,
		Finished: r.Scan.Finished,
		Policy:   clean(r.Scan.Policy),
		Complete: r.Scan.Complete,
		Summary:  r.Summary,
		Counters: htmlCounters(r.Scan.Counters),
	}
	v.Title = fmt.Sprintf("medscan report: scan %d", r.Scan.ID)
	if v.Label != "" {
		v.Title += " (" + v.Label + ")"
	}
	for _, s := range r.Scan.Sources {
		v.Sources = append(v.Sources, clean(s))
	}
	for _, p := range r.Scan.Problems {
		v.Problems = append(v.Problems, problemLine(p))
	}
	v.CaptureFirst, v.CaptureLast = captureSpan(r)
	if !v.CaptureFirst.IsZero() {
		v.CaptureSpan = v.CaptureLast.Sub(v.CaptureFirst).Round(time.Second).String()
	}
	v.Methods = htmlMethods(r)
	v.Chart = htmlSeverityChart(r.Summary)
	v.RuleRows, v.Groups, v.Hosts = htmlGroupFindings(r.Findings, catalog)
	v.Hidden = htmlHiddenCerts(r.TLSSessions)
	v.Assets = htmlAssets(r)
	// Certificates are judged at the time the traffic shows, as the rules judge them:
	// a capture replayed a year later must not call everything in it expired.
	v.CertRef, v.CertRefName = v.CaptureLast, "the end of the capture"
	if v.CertRef.IsZero() {
		v.CertRef, v.CertRefName = r.Scan.Started, "the time of the scan"
	}
	v.Certs = htmlCertRows(r.Certificates, v.CertRef)
	v.Timeline = htmlTimeline(r.Certificates, v.CertRef, v.CertRefName, r.Scan.Started)
	v.SharedKeys = htmlSharedKeys(r.Certificates)
	v.SharedCreds = htmlSharedCreds(r.Credentials)
	v.Services = htmlServices(r.Services)
	v.Sessions = htmlSessions(r.TLSSessions)
	v.Probes, v.NotProbed = htmlProbes(r)
	v.HL7 = htmlCleanStructs(r.HL7)
	v.DICOM = htmlCleanStructs(r.DICOM)
	v.HTTP = htmlCleanStructs(r.HTTP)
	v.MQTT = htmlCleanStructs(r.MQTT)
	v.Change = htmlChange(r.Change)
	for _, sf := range r.Suppressed {
		v.Suppressed = append(v.Suppressed, suppressedRow{Severity: sf.Severity.String(), Rule: clean(sf.Rule),
			Target: target(sf.Host, sf.Port), Message: clean(sf.Message), Reason: clean(sf.Suppression.Reason),
			Expires: clean(sf.Suppression.Expires), Source: clean(sf.Suppression.Source)})
	}
	return v
}

// htmlChange lists what is new, fixed and not assessed since the earlier scan; the
// persisting findings are counted only, since the findings section shows them.
func htmlChange(c *findings.Change) *changeView {
	if c == nil {
		return nil
	}
	rows := func(fs []findings.ChangedFinding) []changeRow {
		var out []changeRow
		for _, f := range fs {
			out = append(out, changeRow{Severity: f.Severity.String(), Rule: clean(f.Rule), Target: target(f.Host, f.Port),
				Message: clean(f.Message), Reason: clean(f.Reason), Suppressed: f.Suppressed})
		}
		return out
	}
	v := &changeView{PreviousScan: c.PreviousScan, PreviousStarted: c.PreviousStarted, Baseline: clean(c.Baseline),
		Counts: c.Counts}
	for _, l := range []changeList{{"New", rows(c.New)}, {"Fixed", rows(c.Fixed)}, {"Not assessed again", rows(c.NotAssessed)}} {
		if len(l.Rows) > 0 {
			v.Lists = append(v.Lists, l)
		}
	}
	return v
}

// htmlCleanStructs returns a copy of rows with every string field, and every string in a
// []string field, passed through clean: these application facts are the most direct
// copy of what a device put on the wire.
func htmlCleanStructs[T any](rows []T) []T {
	out := slices.Clone(rows)
	for i := range out {
		rv := reflect.ValueOf(&out[i]).Elem()
		for j := 0; j < rv.NumField(); j++ {
			f := rv.Field(j)
			switch {
			case f.Kind() == reflect.String:
				f.SetString(clean(f.String()))
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
				c := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				for k := 0; k < f.Len(); k++ {
					c.Index(k).SetString(clean(f.Index(k).String()))
				}
				f.Set(c)
			}
		}
	}
	return out
}

func htmlCounters(cs []findings.Counter) []findings.Counter {
	var out []findings.Counter
	for _, c := range cs {
		if c.Value != 0 {
			out = append(out, findings.Counter{Name: clean(c.Name), Value: c.Value})
		}
	}
	return out
}

// htmlMethods names how the scan's facts were obtained (passive, active, file), from the
// sources its findings, services, sessions and certificate sightings carry.
func htmlMethods(r *findings.Report) []string {
	seen := map[string]bool{}
	add := func(s string) {
		if s = clean(s); s != "" {
			seen[s] = true
		}
	}
	for _, f := range r.Findings {
		add(f.Source)
	}
	for _, s := range r.Services {
		add(s.Source)
	}
	for _, s := range r.TLSSessions {
		add(s.Source)
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// htmlSeverityChart lays out one horizontal bar per severity, scaled to the largest count.
func htmlSeverityChart(s findings.Summary) sevChart {
	const barMax, rowH = 420, 28
	most := 0
	for _, sev := range htmlSevOrder {
		most = max(most, s.Count(sev))
	}
	c := sevChart{Height: len(htmlSevOrder)*rowH + 4}
	for i, sev := range htmlSevOrder {
		n := s.Count(sev)
		w := 0
		if most > 0 {
			w = int(math.Round(float64(n) / float64(most) * barMax))
		}
		if n > 0 {
			w = max(w, 3) // a single finding among hundreds still shows
		}
		c.Bars = append(c.Bars, sevBar{Name: sev.String(), Count: n, Y: i*rowH + 2, W: w, TextX: 100 + w + 8})
	}
	return c
}

// htmlAnchor makes an element id from a rule ID: rule IDs are lowercase and hyphenated, but
// the store could hold anything.
func htmlAnchor(prefix, s string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// htmlGroupFindings groups findings by rule, the most severe rule first, and counts the
// hosts with at least one finding. The catalog, when given, adds each rule's title and
// rationale, and its remediation and references where the findings carry none.
func htmlGroupFindings(fs []findings.Finding, catalog []RuleInfo) ([]ruleRow, []ruleGroup, int) {
	info := map[string]RuleInfo{}
	for _, ri := range catalog {
		info[ri.ID] = ri
	}
	type acc struct {
		worst findings.Severity
		fs    []findings.Finding
		hosts map[string]bool
	}
	byRule := map[string]*acc{}
	allHosts := map[string]bool{}
	for _, f := range fs {
		a := byRule[f.Rule]
		if a == nil {
			a = &acc{worst: f.Severity, hosts: map[string]bool{}}
			byRule[f.Rule] = a
		}
		a.worst = max(a.worst, f.Severity)
		a.fs = append(a.fs, f)
		a.hosts[f.Host] = true
		allHosts[f.Host] = true
	}
	rules := make([]string, 0, len(byRule))
	for r := range byRule {
		rules = append(rules, r)
	}
	slices.SortFunc(rules, func(x, y string) int {
		if c := byRule[y].worst - byRule[x].worst; c != 0 {
			return int(c)
		}
		return strings.Compare(x, y)
	})
	var rows []ruleRow
	var groups []ruleGroup
	for _, rule := range rules {
		a := byRule[rule]
		id := htmlAnchor("rule-", rule)
		ri := info[rule]
		rows = append(rows, ruleRow{Rule: clean(rule), Anchor: id, Title: clean(ri.Title), Severity: a.worst.String(),
			Count: len(a.fs), Hosts: len(a.hosts)})
		g := ruleGroup{Rule: clean(rule), Anchor: id, Severity: a.worst.String(), Title: clean(ri.Title), Rationale: clean(ri.Rationale)}
		slices.SortStableFunc(a.fs, func(x, y findings.Finding) int { return int(y.Severity - x.Severity) })
		for _, f := range a.fs {
			g.Remediations = appendUnique(g.Remediations, clean(f.Remediation))
			for _, ref := range f.References {
				g.References = appendUnique(g.References, clean(ref))
			}
			g.Findings = append(g.Findings, findingView{
				Severity: f.Severity.String(), Target: target(f.Host, f.Port), Subject: clean(f.Subject),
				Message: clean(f.Message), Source: clean(f.Source), Fingerprint: clean(f.Fingerprint),
				Time: f.Time, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen,
				Evidence: htmlEvidence(reflect.ValueOf(f.Evidence), 0),
			})
		}
		if len(g.Remediations) == 0 {
			g.Remediations = appendUnique(nil, clean(ri.Remediation))
		}
		if len(g.References) == 0 {
			for _, ref := range ri.References {
				g.References = appendUnique(g.References, clean(ref))
			}
		}
		groups = append(groups, g)
	}
	return rows, groups, len(allHosts)
}

func appendUnique(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// maxEvidenceDepth bounds the nesting rendered: evidence is medscan's own, but a store
// is a file anyone could have edited.
const maxEvidenceDepth = 8

// htmlEvidence converts an evidence value (decoded JSON or the Go values a rule put in)
// into a tree the template renders, with map keys sorted and every string cleaned.
func htmlEvidence(v reflect.Value, depth int) evNode {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			return evNode{Text: "none"}
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return evNode{Text: "none"}
	}
	if depth >= maxEvidenceDepth {
		return evNode{Text: "…", Deepest: true}
	}
	if tm, ok := v.Interface().(time.Time); ok {
		return evNode{Text: htmlStamp(tm)}
	}
	if n, ok := v.Interface().(json.Number); ok {
		return evNode{Text: clean(n.String())}
	}
	switch v.Kind() {
	case reflect.Map:
		keys := v.MapKeys()
		n := evNode{IsMap: true, Empty: len(keys) == 0}
		type kv struct {
			k string
			v reflect.Value
		}
		kvs := make([]kv, 0, len(keys))
		for _, k := range keys {
			kvs = append(kvs, kv{fmt.Sprint(k.Interface()), v.MapIndex(k)})
		}
		slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
		for _, e := range kvs {
			n.Fields = append(n.Fields, evField{Key: clean(e.k), Val: htmlEvidence(e.v, depth+1)})
		}
		return n
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return evNode{Text: fmt.Sprintf("%x", v.Bytes())}
		}
		n := evNode{IsList: true, Flat: true, Empty: v.Len() == 0}
		for i := 0; i < v.Len(); i++ {
			item := htmlEvidence(v.Index(i), depth+1)
			if item.IsList || item.IsMap {
				n.Flat = false
			}
			n.Items = append(n.Items, item)
		}
		return n
	case reflect.String:
		return evNode{Text: clean(v.String())}
	case reflect.Bool:
		if v.Bool() {
			return evNode{Text: "yes"}
		}
		return evNode{Text: "no"}
	case reflect.Float32, reflect.Float64:
		return evNode{Text: strconv.FormatFloat(v.Float(), 'f', -1, 64)}
	}
	return evNode{Text: clean(fmt.Sprint(v.Interface()))}
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

func htmlAssets(r *findings.Report) assetTable {
	svc := map[string][]string{}
	for _, s := range r.Services {
		name := strconv.Itoa(s.Port) + "/" + clean(s.Transport)
		if s.Protocol != "" {
			name += " " + clean(s.Protocol)
		}
		svc[s.Host] = append(svc[s.Host], name)
	}
	count := map[string]int{}
	worst := map[string]findings.Severity{}
	for _, f := range r.Findings {
		count[f.Host]++
		if s, ok := worst[f.Host]; !ok || f.Severity > s {
			worst[f.Host] = f.Severity
		}
	}
	var t assetTable
	for _, a := range r.Assets {
		row := assetRow{IP: clean(a.IP), MAC: clean(a.MAC), Vendor: clean(a.Vendor), Services: svc[a.IP], Findings: count[a.IP],
			FirstSeen: a.FirstSeen, LastSeen: a.LastSeen}
		if row.Findings > 0 {
			row.Worst = worst[a.IP].String()
		}
		for _, m := range a.MACs {
			if m != a.MAC {
				row.OtherMACs = append(row.OtherMACs, clean(m))
			}
		}
		htmlInventory(&row, a)
		t.HasKind = t.HasKind || row.Kind != ""
		t.HasNames = t.HasNames || len(row.Names) > 0
		t.HasMaker = t.HasMaker || row.Maker != ""
		t.HasMAC = t.HasMAC || row.MAC != ""
		t.HasVendor = t.HasVendor || row.Vendor != ""
		t.HasOtherMACs = t.HasOtherMACs || len(row.OtherMACs) > 0
		t.HasServices = t.HasServices || len(row.Services) > 0
		t.Rows = append(t.Rows, row)
	}
	return t
}

// htmlCertName is how a certificate is named in the report: its subject, or what is known
// when the subject is empty or the certificate could not be parsed.
func htmlCertName(c findings.Certificate) string {
	short := c.SHA256[:min(16, len(c.SHA256))]
	subject := clean(c.Subject)
	switch {
	case c.ParseError != "" && subject == "":
		return "unparsable (" + clean(c.ParseError) + ") sha256:" + short
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

func htmlCertRows(cs []findings.Certificate, at time.Time) []certRow {
	var rows []certRow
	for _, c := range cs {
		row := certRow{Name: htmlCertName(c), Issuer: clean(c.Issuer), Key: keyText(c), Sig: clean(c.SignatureAlgorithm),
			Serial: clean(c.Serial), SHA256: clean(c.SHA256), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
			Days: c.ValidityDays}
		for _, n := range c.DNSNames {
			row.DNSNames = append(row.DNSNames, clean(n))
		}
		for _, n := range c.IPAddresses {
			row.DNSNames = append(row.DNSNames, clean(n))
		}
		row.Status, row.StatusClass = htmlCertStatus(c, at)
		if c.IsCA {
			row.Flags = append(row.Flags, "CA")
		}
		if c.SelfSigned {
			row.Flags = append(row.Flags, "self-signed")
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
func htmlTimeline(cs []findings.Certificate, ref time.Time, refName string, scanned time.Time) *timeline {
	var dated []findings.Certificate
	t := &timeline{Width: tlWidth, Left: tlLeft, Right: tlWidth - tlRight, Years: timelineYears, Ref: ref, RefName: refName}
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
		_, class := htmlCertStatus(c, ref)
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
	subject := clean(c.Subject)
	switch {
	case dnAttr(subject, "CN=") != "":
		name = dnAttr(subject, "CN=")
	case len(c.DNSNames) > 0:
		name = clean(c.DNSNames[0])
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

// htmlSharedKeys finds public keys presented as the leaf by more than one host: one private
// key copied onto many devices falls with any one of them.
func htmlSharedKeys(cs []findings.Certificate) []sharedKey {
	type acc struct {
		certs, hosts []string
	}
	bySPKI := map[string]*acc{}
	var order []string
	for _, c := range cs {
		if c.SPKISHA256 == "" {
			continue
		}
		for _, s := range c.SeenOn {
			if s.Position != 0 || s.Host == "" {
				continue
			}
			a := bySPKI[c.SPKISHA256]
			if a == nil {
				a = &acc{}
				bySPKI[c.SPKISHA256] = a
				order = append(order, c.SPKISHA256)
			}
			a.certs = appendUnique(a.certs, htmlCertName(c))
			a.hosts = appendUnique(a.hosts, clean(s.Host))
		}
	}
	var out []sharedKey
	for _, k := range order {
		if a := bySPKI[k]; len(a.hosts) > 1 {
			out = append(out, sharedKey{SPKI: clean(k), Certs: a.certs, Hosts: a.hosts})
		}
	}
	slices.SortStableFunc(out, func(a, b sharedKey) int { return len(b.Hosts) - len(a.Hosts) })
	return out
}

// htmlSharedCreds groups the credentials seen in clear by their keyed hash: the same
// secret used by several clients, or accepted by several servers, is one secret to change
// in many places.
func htmlSharedCreds(cs []findings.Credential) []sharedCred {
	byHash := map[string]*sharedCred{}
	var order []string
	for _, c := range cs {
		if c.Hash == "" {
			continue
		}
		g := byHash[c.Hash]
		if g == nil {
			g = &sharedCred{Kind: clean(c.Kind), Protocol: clean(c.Protocol), User: clean(c.User),
				Preview: clean(c.Preview), Where: clean(c.Where), Hash: clean(c.Hash)}
			byHash[c.Hash] = g
			order = append(order, c.Hash)
		}
		g.Clients = appendUnique(g.Clients, clean(c.Client))
		g.Servers = appendUnique(g.Servers, target(c.Host, c.Port))
		g.Count += c.Count
	}
	var out []sharedCred
	for _, h := range order {
		if g := byHash[h]; len(g.Clients) > 1 || len(g.Servers) > 1 {
			out = append(out, *g)
		}
	}
	return out
}

func htmlServices(ss []findings.Service) []serviceRow {
	var rows []serviceRow
	for _, s := range ss {
		proto := clean(s.Transport)
		if s.Protocol != "" {
			proto += "/" + clean(s.Protocol)
		}
		rows = append(rows, serviceRow{Target: target(s.Host, s.Port), Protocol: proto, TLS: clean(s.TLSVersion),
			Cipher: clean(s.Cipher), Source: clean(s.Source), FirstSeen: s.FirstSeen, LastSeen: s.LastSeen})
	}
	return rows
}

func htmlSessions(ss []findings.TLSSession) []sessionRow {
	var rows []sessionRow
	for _, s := range ss {
		row := sessionRow{Client: clean(s.Client), Server: target(s.Host, s.Port), SNI: clean(s.SNI),
			Version: clean(s.Version), Cipher: clean(s.Cipher), ALPN: clean(s.ALPN), Count: s.Count,
			Resumed: s.Resumed, MutualTLS: len(s.ClientCerts) > 0}
		switch {
		case s.ECDHCurve != "":
			row.KeyExchange = clean(s.ECDHCurve)
		case s.DHBits > 0:
			row.KeyExchange = "DH " + strconv.Itoa(s.DHBits)
		}
		switch {
		case !s.CertsObservable:
			row.Certs = "not observable (encrypted)"
		case len(s.ServerCerts) > 0:
			row.Certs = strconv.Itoa(len(s.ServerCerts)) + " in chain"
		}
		rows = append(rows, row)
	}
	return rows
}

func htmlStamp(tm time.Time) string {
	if tm.IsZero() {
		return "unknown"
	}
	return tm.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func htmlDate(tm time.Time) string {
	if tm.IsZero() {
		return "unknown"
	}
	return tm.UTC().Format(time.DateOnly)
}
