package report

import (
	"bytes"
	"fmt"
	"io"
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
	for _, line := range wrap(title, total, 0) {
		fmt.Fprintln(b, line)
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
	if r.Scan.Complete {
		field(b, total, "Status:", "complete")
		return false
	}
	// Painted after wrapping, so that escape codes do not count as columns.
	lines := wrap("INCOMPLETE: not all input was read; absent findings prove nothing", total-10, 0)
	lines[0] = strings.Replace(lines[0], "INCOMPLETE", t.paint("1;31", "INCOMPLETE"), 1)
	fieldLines(b, "Status:", lines)
	writeProblems(b, r.Scan.Problems, total)
	return true
}

// field writes a "Label:   value" header line, wrapping the value under itself.
func field(b *bytes.Buffer, total int, label, value string) {
	fieldLines(b, label, wrap(value, total-10, 0))
}

func fieldLines(b *bytes.Buffer, label string, lines []string) {
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
		for i, line := range wrap(problemLine(p), total-4, 0) {
			if i == 0 {
				fmt.Fprintf(b, "  - %s\n", line)
			} else {
				fmt.Fprintf(b, "    %s\n", line)
			}
		}
	}
}

func (t tableWriter) summary(b *bytes.Buffer, r *findings.Report, total int) error {
	fmt.Fprintln(b, "Findings by severity")
	tb := &table{cols: []column{{header: "CRITICAL"}, {header: "HIGH"}, {header: "MEDIUM"}, {header: "LOW"},
		{header: "INFO"}, {header: "TOTAL"}}}
	s := r.Summary
	tb.rows = [][]string{{strconv.Itoa(s.Critical), strconv.Itoa(s.High), strconv.Itoa(s.Medium), strconv.Itoa(s.Low),
		strconv.Itoa(s.Info), strconv.Itoa(s.Total)}}
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

// location renders where a finding is (findings.Finding.Location): its target, or the
// file and place that held it ("certs/chain.pem#2"), "-" when neither is known.
func location(f interface{ Location() string }) string {
	if l := f.Location(); l != "" {
		return term(l)
	}
	return "-"
}

func (t tableWriter) findings(b *bytes.Buffer, r *findings.Report, total int) error {
	if len(r.Findings) == 0 {
		fmt.Fprintln(b, "Findings: none")
		return nil
	}
	fmt.Fprintf(b, "Findings (%d)\n", len(r.Findings))
	tb := &table{cols: []column{
		{header: "SEVERITY"},
		{header: "RULE", min: 12, flex: true, maxLines: 2},
		{header: "TARGET", min: 15, flex: true, maxLines: 2},
		{header: "MESSAGE", min: 20, flex: true, maxLines: 10}, // messages quote DNs
	}}
	for _, f := range r.Findings {
		tb.rows = append(tb.rows, []string{f.Severity.String(), term(f.Rule), location(f), term(f.Message)})
		tb.paint = append(tb.paint, severityPaint[f.Severity])
	}
	return tb.render(b, total, t.opts.Color)
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
	} else {
		fmt.Fprintf(b, "Certificates (%d)\n", len(r.Certificates))
		tb := &table{cols: []column{
			{header: "SUBJECT", min: 16, flex: true, maxLines: 3},
			{header: "KEY", min: 7, flex: true, maxLines: 2},
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
		for _, line := range wrap(fmt.Sprintf("Not observable: certificates of %d TLS 1.3 handshake(s) travel encrypted (%s); "+
			"probe those services actively to examine them.", hidden, strings.Join(at, ", ")), total, 0) {
			fmt.Fprintln(b, line)
		}
	}
	return nil
}

func (t tableWriter) services(b *bytes.Buffer, r *findings.Report, total int) error {
	if len(r.Services) == 0 {
		fmt.Fprintln(b, "Services: none seen")
		return nil
	}
	fmt.Fprintf(b, "Services (%d)\n", len(r.Services))
	tb := &table{cols: []column{
		{header: "SERVICE", min: 15, flex: true, maxLines: 2},
		{header: "PROTOCOL", min: 8, flex: true, maxLines: 2},
		{header: "TLS"},
		{header: "CIPHER SUITE", min: 20, flex: true, maxLines: 3},
	}}
	for _, s := range r.Services {
		proto := term(s.Transport)
		if s.Protocol != "" {
			proto += "/" + term(s.Protocol)
		}
		ver, suite := term(s.TLSVersion), term(s.Cipher)
		if ver == "" {
			ver = "-"
		}
		if suite == "" {
			suite = "-"
		}
		tb.rows = append(tb.rows, []string{target(s.Host, s.Port), proto, ver, suite})
	}
	return tb.render(b, total, false)
}

// tail lists what the engine skipped or dropped and the problems with the input, so
// that nothing which weakens the report's conclusions goes unsaid.
func (t tableWriter) tail(b *bytes.Buffer, r *findings.Report, total int, problemsShown bool) error {
	tb := &table{cols: []column{{header: "COUNTER", min: 12, flex: true, maxLines: 2}, {header: "VALUE"}}}
	for _, c := range r.Scan.Counters {
		if c.Value != 0 {
			tb.rows = append(tb.rows, []string{term(c.Name), strconv.FormatUint(c.Value, 10)})
		}
	}
	if len(tb.rows) > 0 {
		fmt.Fprintln(b)
		// Every non-zero counter: which of them mean "skipped" or "dropped" is the
		// engine's vocabulary, and guessing from names could hide one.
		fmt.Fprintln(b, "Counters: what was read, skipped and dropped (non-zero)")
		if err := tb.render(b, total, false); err != nil {
			return err
		}
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
	s := rep.Summary
	parts := []string{}
	for _, sev := range findings.Severities {
		if n := s.Count(sev); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	line := fmt.Sprintf("%d findings", s.Total)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	if s.Suppressed > 0 {
		line += fmt.Sprintf(", %d suppressed", s.Suppressed)
	}
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
