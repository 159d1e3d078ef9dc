package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

func init() {
	Scan.register("table", func(o Options) Writer[*findings.Report] { return tableWriter{opts: o} })
}

// tableWriter renders a scan for a person at a terminal: what was scanned and whether
// all of it was read, the findings most severe first, the certificates and services
// seen, and what the engine skipped or dropped.
type tableWriter struct{ opts Options }

// The ANSI SGR codes of the severities, used only with Options.Color.
var severityPaint = map[findings.Severity]string{
	findings.Critical: "1;31",
	findings.High:     "31",
	findings.Medium:   "33",
	findings.Low:      "36",
	findings.Info:     "2",
}

// maxSeenOn caps the places listed for one certificate; the rest are counted.
const maxSeenOn = 4

// Write renders r as text tables fitted to Options.Width columns.
func (t tableWriter) Write(w io.Writer, r *findings.Report) error {
	if r == nil {
		return fmt.Errorf("report: table: no report")
	}
	total := t.opts.width()
	var b bytes.Buffer
	headerProblems := t.header(&b, r, total)
	steps := []func(*bytes.Buffer, *findings.Report, int) error{t.summary, t.findings, t.certificates, t.services, t.inventory}
	for _, step := range steps {
		b.WriteByte('\n')
		if err := step(&b, r, total); err != nil {
			return fmt.Errorf("report: table: %w", err)
		}
	}
	if err := t.probes(&b, r, total); err != nil {
		return fmt.Errorf("report: table: %w", err)
	}
	if err := t.updates(&b, r, total); err != nil {
		return fmt.Errorf("report: table: %w", err)
	}
	if err := t.tail(&b, r, total, headerProblems); err != nil {
		return fmt.Errorf("report: table: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("report: table: %w", err)
	}
	return nil
}

func (t tableWriter) paint(code, s string) string {
	if !t.opts.Color || code == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func stamp(tm time.Time) string {
	if tm.IsZero() {
		return "unknown"
	}
	return tm.UTC().Format(time.RFC3339)
}

// captureSpan is the first and last instant any observation of the scan carries: the
// time range of the traffic itself, which for a capture file is not when it was read.
func captureSpan(r *findings.Report) (first, last time.Time) {
	add := func(ts ...time.Time) { observe.Widen(&first, &last, ts...) }
	for _, s := range r.TLSSessions {
		add(s.FirstSeen, s.LastSeen)
	}
	for _, s := range r.Services {
		add(s.FirstSeen, s.LastSeen)
	}
	for _, a := range r.Assets {
		add(a.FirstSeen, a.LastSeen)
	}
	for _, c := range r.Credentials {
		add(c.FirstSeen, c.LastSeen)
	}
	for _, h := range r.HTTP {
		add(h.FirstSeen, h.LastSeen)
	}
	for _, m := range r.MQTT {
		add(m.FirstSeen, m.LastSeen)
	}
	for _, m := range r.HL7 {
		add(m.FirstSeen, m.LastSeen)
	}
	for _, d := range r.DICOM {
		add(d.FirstSeen, d.LastSeen)
	}
	for _, f := range r.Findings {
		add(f.Time)
	}
	if r.Stream != nil {
		add(r.Stream.Span())
	}
	return first, last
}

func problemLine(p findings.Problem) string {
	s := term(p.Source)
	if p.Offset >= 0 {
		s += ": offset " + strconv.FormatInt(p.Offset, 10)
	}
	s += ": " + term(p.Message)
	if p.Fatal {
		s += " (reading stopped here)"
	}
	return s
}

// header writes what was scanned and whether all of it was read. It reports whether it
// listed the problems (it does when the scan is incomplete).
func (t tableWriter) header(b *bytes.Buffer, r *findings.Report, total int) bool {
	title := "medscan"
	if r.Tool.Version != "" {
		title += " " + term(r.Tool.Version)
	}
	title += fmt.Sprintf(" report: scan %d", r.Scan.ID)
	if r.Scan.Label != "" {
		title += " " + strconv.Quote(r.Scan.Label)
	}
	writeWrapped(b, total, title)
	if r.Scan.Site != "" {
		field(b, total, "Site:", term(r.Scan.Site))
	}
	sources := "none"
	if len(r.Scan.Sources) > 0 {
		cs := make([]string, len(r.Scan.Sources))
		for i, s := range r.Scan.Sources {
			cs[i] = term(s)
		}
		sources = strings.Join(cs, ", ")
	}
	field(b, total, "Sources:", sources)
	if first, last := captureSpan(r); !first.IsZero() {
		field(b, total, "Capture:", fmt.Sprintf("%s to %s (%s)", stamp(first), stamp(last), last.Sub(first).Round(time.Second)))
	} else {
		field(b, total, "Capture:", "no timed observation")
	}
	field(b, total, "Scanned:", stamp(r.Scan.Started)+" to "+stamp(r.Scan.Finished))
	if r.Scan.Policy != "" {
		field(b, total, "Policy:", term(r.Scan.Policy))
	}
	if len(r.SeverityFilter) > 0 {
		field(b, total, "Shown:", showing(r.SeverityFilter))
	}
	if r.Scan.Complete {
		field(b, total, "Status:", "complete")
		return false
	}
	// Painted after wrapping, so that escape codes do not count as columns.
	lines := wrap("INCOMPLETE: not all input was read or probed; absent findings prove nothing", total-10)
	lines[0] = strings.Replace(lines[0], "INCOMPLETE", t.paint("1;31", "INCOMPLETE"), 1)
	fieldLines(b, "Status:", lines)
	writeProblems(b, r.Scan.Problems, total)
	return true
}

// showing says that -s narrowed the document, so that no reader takes its counts for
// the whole scan's.
func showing(sevs []string) string {
	return "only " + strings.Join(sevs, ", ") + " findings (-s); the counts below are of those, the stored scan has all"
}

// field writes a "Label:   value" header line, wrapping the value under itself.
func field(b *bytes.Buffer, total int, label, value string) {
	fieldLines(b, label, wrap(value, total-10))
}

func fieldLines(b io.Writer, label string, lines []string) {
	for i, line := range lines {
		if i == 0 {
			fmt.Fprintf(b, "%-9s %s\n", label, line)
		} else {
			fmt.Fprintf(b, "%-9s %s\n", "", line)
		}
	}
}

// writeProblems lists problems as an indented, wrapped list.
func writeProblems(b *bytes.Buffer, ps []findings.Problem, total int) {
	for _, p := range ps {
		for i, line := range wrap(problemLine(p), total-4) {
			if i == 0 {
				fmt.Fprintf(b, "  - %s\n", line)
			} else {
				fmt.Fprintf(b, "    %s\n", line)
			}
		}
	}
}

// summary counts the findings by severity. The suppressed ones are in none of the
// counts, and a column says how many there are, so that a total never hides one.
func (t tableWriter) summary(b *bytes.Buffer, r *findings.Report, total int) error {
	fmt.Fprintln(b, "Findings by severity")
	tb := &table{cols: []column{{header: "CRITICAL"}, {header: "HIGH"}, {header: "MEDIUM"}, {header: "LOW"},
		{header: "INFO"}, {header: "TOTAL"}, {header: "SUPPRESSED"}}}
	s := r.Summary
	tb.rows = [][]string{{strconv.Itoa(s.Critical), strconv.Itoa(s.High), strconv.Itoa(s.Medium), strconv.Itoa(s.Low),
		strconv.Itoa(s.Info), strconv.Itoa(s.Total), strconv.Itoa(s.Suppressed)}}
	return tb.render(b, total, false)
}

// target renders a host and port the way one types them ("[::1]:443" for IPv6), "-"
// without a host.
func target(host string, port int) string {
	if host == "" {
		return "-"
	}
	return term(findings.Target(host, port))
}

// proxied renders a server reached through a proxy's tunnel (observe.Flow): "host:port
// via proxy P", or for a target the client named by host name "name:port via proxy P";
// a direct one as target does.
func proxied(host string, port int, via, name string) string {
	switch {
	case name != "":
		return term(name + " via proxy " + via)
	case via != "":
		return target(host, port) + term(" via proxy "+via)
	}
	return target(host, port)
}

// location renders where a finding is (findings.Finding.Location): its target, or the
// file and place that held it ("certs/chain.pem#2"), "-" when neither is known.
func location(f interface{ Location() string }) string {
	if l := f.Location(); l != "" {
		return term(l)
	}
	return "-"
}

func (t tableWriter) findings(b *bytes.Buffer, r *findings.Report, total int) error {
	n := shownFindings(r)
	if n == 0 {
		fmt.Fprintln(b, "Findings: none")
	} else if t.opts.grouped(n) {
		var groups []findingGroup
		if r.Stream != nil {
			gs, err := r.Stream.Groups()
			if err != nil {
				return err
			}
			groups = placed(gs)
		} else {
			groups = groupFindings(r.Findings)
		}
		if err := t.groupedFindings(b, groups, n, total); err != nil {
			return err
		}
	} else {
		if r.Stream != nil {
			// Few enough to list, or every row asked for (-v): one row each.
			fs, err := r.Stream.Collect()
			if err != nil {
				return err
			}
			r.Findings, r.Stream = fs, nil
		}
		fmt.Fprintf(b, "Findings (%d)\n", len(r.Findings))
		tb := &table{cols: []column{
			{header: "SEVERITY"},
			{header: "RULE", min: 12, flex: true},
			{header: "TARGET", min: 15, flex: true},
			{header: "MESSAGE", min: 20, flex: true, prose: true},
		}}
		// On a narrow terminal the rule and target head the message, in one column.
		compact := &table{cols: []column{{header: "SEVERITY"}, {header: "FINDING", min: 20, flex: true, prose: true}}}
		for _, f := range r.Findings {
			rule, at, msg := term(f.Rule), location(f), term(f.Message)
			tb.rows = append(tb.rows, []string{f.Severity.String(), rule, at, msg})
			compact.rows = append(compact.rows, []string{f.Severity.String(), headed(rule+" "+at, msg)})
			tb.paint = append(tb.paint, severityPaint[f.Severity])
		}
		compact.paint = tb.paint
		if err := layout(total, tb, compact).render(b, total, t.opts.Color); err != nil {
			return err
		}
	}
	return t.suppressed(b, r, total)
}

// groupedFindings is the findings section of a large scan: one row per rule and
// severity (groupFindings), with the count of findings and hosts and the first places.
func (t tableWriter) groupedFindings(b *bytes.Buffer, groups []findingGroup, n, total int) error {
	fmt.Fprintf(b, "Findings (%d), grouped\n", n)
	if err := groupTable(b, groups, total, t.opts.Color); err != nil {
		return err
	}
	fmt.Fprintln(b, groupedNote(n))
	return nil
}

// groupTable renders finding groups one row each: severity, rule, how many findings on
// how many hosts, and the first places (a scan's grouped findings, a comparison's).
func groupTable(w io.Writer, groups []findingGroup, total int, color bool) error {
	tb := &table{cols: []column{
		{header: "SEVERITY"},
		{header: "RULE", min: 12, flex: true},
		{header: "FINDINGS"},
		{header: "HOSTS"},
		{header: "WHERE", min: 20, flex: true, prose: true},
	}}
	compact := &table{cols: []column{{header: "SEVERITY"}, {header: "FINDINGS", min: 20, flex: true, prose: true}}}
	for _, g := range groups {
		where := strings.Join(g.First, ", ")
		if g.More > 0 {
			where += fmt.Sprintf(" and %d more", g.More)
		}
		rule := term(g.Rule)
		tb.rows = append(tb.rows, []string{g.Severity.String(), rule, strconv.Itoa(g.Count), strconv.Itoa(g.Hosts), where})
		compact.rows = append(compact.rows, []string{g.Severity.String(),
			headed(fmt.Sprintf("%s: %d on %d hosts", rule, g.Count, g.Hosts), where)})
		tb.paint = append(tb.paint, severityPaint[g.Severity])
	}
	compact.paint = tb.paint
	return layout(total, tb, compact).render(w, total, color)
}

// suppressed lists the findings suppressions set aside, with the reason each was
// accepted and until when: they count in no total, and a reader must still see them.
// Without suppressed findings it writes nothing.
func (t tableWriter) suppressed(b *bytes.Buffer, r *findings.Report, total int) error {
	if len(r.Suppressed) == 0 {
		return nil
	}
	fmt.Fprintf(b, "\nSuppressed (%d): accepted risks, in no total above\n", len(r.Suppressed))
	tb := &table{cols: []column{
		{header: "SEVERITY"},
		{header: "RULE", min: 12, flex: true},
		{header: "TARGET", min: 12, flex: true},
		{header: "REASON", min: 16, flex: true, prose: true},
		{header: "EXPIRES"},
	}}
	for _, f := range r.Suppressed {
		reason := term(f.Suppression.Reason)
		if f.Suppression.Source != "" {
			reason += " (" + term(f.Suppression.Source) + ")"
		}
		tb.rows = append(tb.rows, []string{f.Severity.String(), term(f.Rule), location(f), reason,
			cmp.Or(term(f.Suppression.Expires), "-")})
	}
	return tb.render(b, total, false)
}

// keyText is "rsa 2048", "ec 384 P-384" or "" when the key was not examined.
func keyText(c findings.Certificate) string {
	parts := []string{}
	if c.KeyType != "" {
		parts = append(parts, term(c.KeyType))
	}
	if c.KeyBits > 0 {
		parts = append(parts, strconv.Itoa(c.KeyBits))
	}
	if c.Curve != "" {
		parts = append(parts, term(c.Curve))
	}
	return strings.Join(parts, " ")
}

func sightingText(s findings.Sighting) string {
	if s.Host == "" && s.File != "" {
		return term(findings.FileRef(s.File, s.Position))
	}
	role := s.Role
	if s.Position == 0 {
		role += " leaf"
	} else {
		role += " #" + strconv.Itoa(s.Position)
	}
	if s.Host == "" {
		return term(strings.TrimSpace(string(s.Source) + " " + role))
	}
	return target(s.Host, s.Port) + " " + term(role)
}

func (t tableWriter) certificates(b *bytes.Buffer, r *findings.Report, total int) error {
	hidden, hiddenAt := 0, map[string]bool{}
	var at []string
	for _, s := range r.TLSSessions {
		if !s.CertsObservable {
			hidden += s.Count
			if k := target(s.Host, s.Port); !hiddenAt[k] {
				hiddenAt[k] = true
				at = append(at, k)
			}
		}
	}
	if len(r.Certificates) == 0 {
		fmt.Fprintln(b, "Certificates: none seen")
	} else if t.opts.grouped(len(r.Certificates)) {
		if err := t.groupedCertificates(b, r.Certificates, total); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(b, "Certificates (%d)\n", len(r.Certificates))
		tb := &table{cols: []column{
			{header: "SUBJECT", min: 16, flex: true, prose: true},
			{header: "KEY", min: 7, flex: true},
			{header: "SIG"},
			{header: "NOT AFTER"},
			{header: "SEEN ON", min: 16, flex: true}, // already capped at maxSeenOn places
		}}
		for _, c := range r.Certificates {
			subject := term(c.Subject)
			switch {
			case c.ParseError != "" && subject == "":
				subject = "unparsable (" + term(c.ParseError) + ") sha256:" + c.SHA256[:min(16, len(c.SHA256))]
			case subject == "" && c.KeyType == "":
				subject = "not examined, sha256:" + c.SHA256[:min(16, len(c.SHA256))]
			case subject == "":
				subject = "(empty subject) sha256:" + c.SHA256[:min(16, len(c.SHA256))]
			}
			notAfter := "-"
			if !c.NotAfter.IsZero() {
				notAfter = c.NotAfter.UTC().Format(time.DateOnly)
			}
			sig := term(c.SignatureHash)
			if sig == "" {
				sig = "-"
			}
			var seen []string
			for i, s := range c.SeenOn {
				if i == maxSeenOn {
					seen = append(seen, fmt.Sprintf("(+%d more)", len(c.SeenOn)-maxSeenOn))
					break
				}
				seen = append(seen, sightingText(s))
			}
			if len(seen) == 0 {
				seen = []string{"-"}
			}
			tb.rows = append(tb.rows, []string{subject, keyText(c), sig, notAfter, strings.Join(seen, "\n")})
		}
		if err := tb.render(b, total, false); err != nil {
			return err
		}
	}
	if hidden > 0 {
		// Not seeing a certificate is not the same as seeing a good one.
		writeWrapped(b, total, fmt.Sprintf("Not observable: certificates of %d TLS 1.3 handshake(s) travel encrypted (%s); "+
			"probe those services actively to examine them.", hidden, strings.Join(at, ", ")))
	}
	return nil
}

// services lists the services seen. A service seen in traffic shows the version and
// suite its latest handshake negotiated; one the prober enumerated shows every version
// it accepted and how many suites, since its handshakes were tries, none of them the
// one a client would get.
func (t tableWriter) services(b *bytes.Buffer, r *findings.Report, total int) error {
	if len(r.Services) == 0 {
		fmt.Fprintln(b, "Services: none seen")
		return nil
	}
	probed := map[string]*findings.ProbeTLSProfile{}
	for _, p := range r.Probes {
		if p.TLS != nil && len(p.TLS.Versions) > 0 {
			probed[findings.Target(p.Host, p.Port)] = p.TLS
		}
	}
	var rows [][]string
	hosts := make([]string, 0, len(r.Services))
	for _, s := range r.Services {
		proto := term(s.Transport)
		if s.Protocol != "" {
			proto += "/" + term(s.Protocol)
		}
		ver, suite := term(s.TLSVersion), term(s.Cipher)
		if p := probed[findings.Target(s.Host, s.Port)]; p != nil {
			ver, suite = versionsText(p.Versions), acceptedSuites(p)
		}
		rows = append(rows, []string{proxied(s.Host, s.Port, s.Via, s.Target), proto, cmp.Or(ver, "-"), cmp.Or(suite, "-")})
		hosts = append(hosts, s.Host)
	}
	if t.opts.grouped(len(rows)) {
		return t.groupedServices(b, rows, hosts, total)
	}
	fmt.Fprintf(b, "Services (%d)\n", len(r.Services))
	tb := &table{cols: []column{
		{header: "SERVICE", min: 15, flex: true},
		{header: "PROTOCOL", min: 8, flex: true},
		{header: "TLS", min: 7, flex: true},
		{header: "CIPHER SUITE", min: 20, flex: true},
	}, rows: rows}
	return tb.render(b, total, false)
}

// tlsVersionOrder is the protocol versions by age, as observe names them.
var tlsVersionOrder = []string{"SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// versionsText condenses accepted versions, oldest first: consecutive ones as a range
// ("TLSv1.0-1.2", "SSLv3-TLSv1.0"), the others listed ("TLSv1.0, TLSv1.2").
func versionsText(versions []string) string {
	idx := func(v string) int { return slices.Index(tlsVersionOrder, v) }
	var parts []string
	for i := 0; i < len(versions); {
		j := i
		for j+1 < len(versions) && idx(versions[j]) >= 0 && idx(versions[j+1]) == idx(versions[j])+1 {
			j++
		}
		first, last := term(versions[i]), term(versions[j])
		switch {
		case i == j:
			parts = append(parts, first)
		case strings.HasPrefix(first, "TLSv") && strings.HasPrefix(last, "TLSv"):
			parts = append(parts, first+"-"+strings.TrimPrefix(last, "TLSv"))
		default:
			parts = append(parts, first+"-"+last)
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// acceptedSuites counts the suites a probed service accepted, over all its versions:
// "14 suites accepted", or the one suite by name.
func acceptedSuites(p *findings.ProbeTLSProfile) string {
	var all []string
	for _, v := range p.Suites {
		for _, s := range v.Suites {
			if !slices.Contains(all, s) {
				all = append(all, s)
			}
		}
	}
	switch len(all) {
	case 0:
		return "" // the inventory profile lists no suites
	case 1:
		return term(all[0]) + " (the only one accepted)"
	}
	return fmt.Sprintf("%d suites accepted", len(all))
}

// tail lists what the engine skipped or dropped and the problems with the input, so
// that nothing which weakens the report's conclusions goes unsaid.
func (t tableWriter) tail(b *bytes.Buffer, r *findings.Report, total int, problemsShown bool) error {
	tb := &table{cols: []column{{header: "COUNTER", min: 12, flex: true}, {header: "VALUE"}}}
	for _, c := range r.Scan.Counters {
		if c.Value != 0 {
			tb.rows = append(tb.rows, []string{term(c.Name), strconv.FormatUint(c.Value, 10)})
		}
	}
	// The counters are the engine's vocabulary (streams_done_early, expectations):
	// shown when asked for, and said to exist otherwise.
	switch {
	case len(tb.rows) > 0 && t.opts.Verbose:
		fmt.Fprintln(b)
		fmt.Fprintln(b, "Counters: what was read, skipped and dropped (non-zero)")
		if err := tb.render(b, total, false); err != nil {
			return err
		}
	case len(tb.rows) > 0:
		fmt.Fprintln(b)
		writeWrapped(b, total, fmt.Sprintf("Engine counters (%d non-zero): with -v, or in the JSON and HTML reports.", len(tb.rows)))
	}
	if len(r.Scan.Problems) > 0 && !problemsShown {
		fmt.Fprintln(b)
		fmt.Fprintf(b, "Problems with the input (%d)\n", len(r.Scan.Problems))
		writeProblems(b, r.Scan.Problems, total)
	}
	return nil
}

// SummaryLine is a scan's counts in one line, for a status message: "34 findings (2
// critical, 20 high, ...), 1 suppressed; since scan 3: 2 new, 1 fixed, ...".
func SummaryLine(rep *findings.Report) string {
	line := countsText(rep.Summary)
	if c := rep.Change; c != nil {
		since := fmt.Sprintf("since scan %d", c.PreviousScan)
		if c.Baseline != "" {
			since = "since the baseline " + term(c.Baseline)
		}
		line += fmt.Sprintf("; %s: %d new, %d fixed, %d persisting, %d not assessed",
			since, c.Counts.New, c.Counts.Fixed, c.Counts.Persisting, c.Counts.NotAssessed)
	}
	return line
}

// countsText is a summary in words: "34 findings (1 critical, 24 high, 9 medium), 1
// suppressed"; the suppressed findings are in none of the other counts.
func countsText(s findings.Summary) string {
	parts := []string{}
	for _, sev := range findings.Severities {
		if n := s.Count(sev); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	line := fmt.Sprintf("%d findings", s.Total)
	if s.Total == 1 {
		line = "1 finding"
	}
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	if s.Suppressed > 0 {
		line += fmt.Sprintf(", %d suppressed", s.Suppressed)
	}
	return line
}
