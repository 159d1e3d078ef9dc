package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
)

// denseSites is how many sites dense holds: enough for more findings than the default
// threshold, so that the table and the page group them.
const denseSites = 6

// dense is a scan of denseSites sites of the ward's mix.
func dense() *findings.Report {
	r := densescan.Report(denseSites)
	r.Normalize()
	return r
}

// TestGroupedGolden holds the grouped table (wide and narrow) and page to their golden
// files.
func TestGroupedGolden(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		opts         Options
	}{
		{"table_grouped.golden", "table", Options{}},
		{"table_grouped_narrow.golden", "table", Options{Width: 60}},
		// Above a lower threshold the certificates, services and inventory group too.
		{"table_grouped_sections.golden", "table", Options{GroupAbove: 20}},
		{"report_grouped.html.golden", "html", Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, render(t, tc.format, tc.opts, dense())) })
	}
}

// TestGroupThreshold: findings are grouped above the threshold only, never with -v or a
// negative threshold, and a grouped output says where every row is; the JSON and CSV
// always have every finding.
func TestGroupThreshold(t *testing.T) {
	r := dense()
	n := len(r.Findings)
	if n != denseSites*densescan.FindingsPerSite || n <= DefaultGroupAbove {
		t.Fatalf("%d findings: the fixture does not exceed the default threshold", n)
	}
	note := groupedNote(n)
	for _, tc := range []struct {
		name    string
		opts    Options
		grouped bool
	}{
		{"default", Options{}, true},
		{"threshold at the count", Options{GroupAbove: n}, false},
		{"threshold below the count", Options{GroupAbove: n - 1}, true},
		{"never", Options{GroupAbove: -1}, false},
		{"verbose", Options{Verbose: true}, false},
	} {
		for _, format := range []string{"table", "html"} {
			out := string(render(t, format, tc.opts, dense()))
			if got := strings.Contains(out, note); got != tc.grouped {
				t.Errorf("%s %s: grouped = %v; want %v", tc.name, format, got, tc.grouped)
			}
			// One row per finding, or one per rule and severity.
			rows, want := strings.Count(out, "| high     | tls-weak-cipher "), 5*denseSites // five TLS servers a site
			if format == "html" {
				rows, want = strings.Count(out, `<tr class="finding">`), n
			}
			if tc.grouped {
				want = map[string]int{"table": 1, "html": 0}[format]
			}
			if rows != want {
				t.Errorf("%s %s: %d finding rows; want %d", tc.name, format, rows, want)
			}
		}
	}
	for _, format := range []string{"json", "csv"} {
		out := string(render(t, format, Options{}, dense()))
		for _, f := range r.Findings {
			if !strings.Contains(out, f.Fingerprint) {
				t.Fatalf("%s: finding %s missing", format, f.Fingerprint)
			}
		}
	}
}

// TestGroupFindings counts findings, distinct places and the places beyond the first
// few, per rule and severity, in the document's order.
func TestGroupFindings(t *testing.T) {
	f := func(rule string, sev findings.Severity, host string, port int, file string) findings.Finding {
		return findings.Finding{Rule: rule, Severity: sev, Host: host, Port: port, File: file}
	}
	fs := []findings.Finding{
		f("a", findings.High, "10.0.0.1", 443, ""),
		f("a", findings.High, "10.0.0.1", 8443, ""), // the same host again
		f("a", findings.High, "10.0.0.2", 443, ""),
		f("a", findings.High, "10.0.0.3", 443, ""),
		f("a", findings.High, "10.0.0.4", 443, ""),
		f("a", findings.Medium, "10.0.0.5", 443, ""), // another severity: its own group
		f("b", findings.Medium, "", 0, "certs/a.pem#1"),
		f("b", findings.Medium, "", 0, "certs/a.pem#1"),
	}
	got := groupFindings(fs)
	want := []findingGroup{
		{Rule: "a", Severity: findings.High, Count: 5, Hosts: 4, First: []string{"10.0.0.1:443", "10.0.0.2:443", "10.0.0.3:443"}, More: 1},
		{Rule: "a", Severity: findings.Medium, Count: 1, Hosts: 1, First: []string{"10.0.0.5:443"}},
		{Rule: "b", Severity: findings.Medium, Count: 2, Hosts: 1, First: []string{"certs/a.pem#1"}},
	}
	if len(got) != len(want) {
		t.Fatalf("groups = %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Rule != w.Rule || g.Severity != w.Severity || g.Count != w.Count || g.Hosts != w.Hosts || g.More != w.More ||
			strings.Join(g.First, " ") != strings.Join(w.First, " ") {
			t.Errorf("group %d = %+v; want %+v", i, g, w)
		}
	}
}

// TestGroupedSections: the certificate, service and inventory sections of the table
// group above the threshold, each saying where every entry is, and list every entry
// at or below it and with -v.
func TestGroupedSections(t *testing.T) {
	r := dense()
	for _, sec := range []struct {
		what, where string
		n           int
	}{
		{"certificates", "--format json, or -v", len(r.Certificates)},
		{"services", "--format json or csv-assets, or -v", len(r.Services)},
		{"assets", "--format json or csv-assets, or -v", len(r.Assets)},
	} {
		if sec.n < 2 {
			t.Fatalf("%d %s: too few to group", sec.n, sec.what)
		}
		note := fmt.Sprintf("%d %s, grouped by", sec.n, sec.what)
		for _, tc := range []struct {
			name    string
			opts    Options
			grouped bool
		}{
			{"below", Options{GroupAbove: sec.n - 1, Width: 400}, true},
			{"at", Options{GroupAbove: sec.n, Width: 400}, false},
			{"verbose", Options{GroupAbove: sec.n - 1, Verbose: true, Width: 400}, false},
		} {
			out := string(render(t, "table", tc.opts, dense()))
			if got := strings.Contains(out, note) && strings.Contains(out, sec.where); got != tc.grouped {
				t.Errorf("%s %s: grouped %v, want %v", sec.what, tc.name, got, tc.grouped)
			}
		}
	}
}

// TestDiffGrouped: a comparison's status with more findings than the threshold is shown
// grouped by rule and severity (its suppressed findings apart), the others one row each;
// never with -v or a negative threshold; the grouped table is held to a golden file.
func TestDiffGrouped(t *testing.T) {
	doc := comparison()
	c := doc.Change
	r := dense()
	for i, f := range r.Findings {
		cf := findings.Changed(f)
		cf.Suppressed = i%50 == 0
		c.Persisting = append(c.Persisting, cf)
	}
	c.Counts.Persisting = len(c.Persisting)
	render := func(o Options) string {
		w, err := Comparison.New("table", o)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := w.Write(&b, doc); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	suppressed := 0
	for _, f := range c.Persisting {
		if f.Suppressed {
			suppressed++
		}
	}
	for _, tc := range []struct {
		name    string
		opts    Options
		grouped bool
	}{
		{"default", Options{}, true},
		{"threshold at the count", Options{GroupAbove: len(c.Persisting)}, false},
		{"never", Options{GroupAbove: -1}, false},
		{"verbose", Options{Verbose: true}, false},
	} {
		out := render(tc.opts)
		rows := strings.Count(out, "| persisting ")
		headings := strings.Contains(out, fmt.Sprintf("persisting (%d), grouped", len(c.Persisting)-suppressed)) &&
			strings.Contains(out, fmt.Sprintf("persisting (suppressed) (%d), grouped", suppressed))
		if want := map[bool]int{true: 0, false: len(c.Persisting)}[tc.grouped]; rows != want || headings != tc.grouped {
			t.Errorf("%s: %d persisting rows, grouped headings %v; want %d, %v", tc.name, rows, headings, want, tc.grouped)
		}
		// The statuses under the threshold keep their rows and details.
		for _, s := range []string{"| NEW ", "| FIXED ", "| NOT ASSESSED "} {
			if strings.Count(out, s) != 1 {
				t.Errorf("%s: want one %q row", tc.name, s)
			}
		}
	}
	golden(t, "diff_grouped.golden", []byte(render(Options{})))
}
