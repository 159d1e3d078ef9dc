package report

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all" // the catalog, every rule
)

// tableWidths are the terminals every table writer is held to: a classic 80 columns, the
// default, and a wide one.
var tableWidths = []int{80, DefaultWidth, 160}

// squeeze is s without its white space: what wrapping may not change.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// CheckTables runs write, which renders one document at total columns, and holds what it
// wrote to the layout's promises: no line wider than total, and every table's cells all
// there, character for character, each column read back from the rendered rows (only
// the spaces wrapping breaks at may go). It returns the output.
func CheckTables(t *testing.T, total int, write func(io.Writer) error) []byte {
	t.Helper()
	type rendered struct {
		t   *table
		ws  []int
		out string
	}
	var tables []rendered
	renderHook = func(tb *table, ws []int, out []byte) { tables = append(tables, rendered{tb, ws, string(out)}) }
	defer func() { renderHook = nil }()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(b.String(), "\n") {
		if w := width(line); w > total {
			t.Errorf("width %d: line %d is %d columns: %q", total, i+1, w, line)
		}
	}
	for _, r := range tables {
		// The renderer narrows a column to its widest line, never widens one.
		ws := borderWidths(r.out)
		if len(ws) != len(r.ws) {
			t.Errorf("width %d: %d columns rendered, %d fitted:\n%s", total, len(ws), len(r.ws), r.out)
			continue
		}
		for i := range ws {
			if ws[i] > r.ws[i] {
				t.Errorf("width %d: column %d rendered %d wide, fitted %d", total, i+1, ws[i], r.ws[i])
			}
		}
		got, err := readColumns(r.out, ws)
		if err != nil {
			t.Errorf("width %d: %v in\n%s", total, err, r.out)
			continue
		}
		for i, c := range r.t.cols {
			want := []string{squeeze(c.header)}
			for _, row := range r.t.rows {
				want = append(want, squeeze(bound(row[i])))
			}
			if g, w := got[i], strings.Join(want, ""); g != w {
				t.Errorf("width %d: column %s lost or changed text:\n got %q\nwant %q\n%s", total, c.header, g, w, r.out)
			}
		}
	}
	return b.Bytes()
}

// borderWidths reads the column widths off a table's top border, "+----+--+".
func borderWidths(out string) []int {
	top, _, _ := strings.Cut(out, "\n")
	var ws []int
	for _, seg := range strings.Split(strings.Trim(top, "+"), "+") {
		ws = append(ws, len(seg)-2)
	}
	return ws
}

// Golden compares out with testdata/name, or rewrites it with -update: for the tests of
// package report_test.
func Golden(t *testing.T, name string, out []byte) { t.Helper(); golden(t, name, out) }

// readColumns reads a rendered ASCII table back: each column's text, top to bottom,
// white space removed. It checks the layout on the way: each line is "| cell | cell |",
// each cell exactly as wide as its column.
func readColumns(out string, ws []int) ([]string, error) {
	cols := make([]strings.Builder, len(ws))
	for n, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(line, "+") {
			continue
		}
		rest, ok := strings.CutPrefix(line, "| ")
		if !ok {
			return nil, fmt.Errorf("line %d does not start a row: %q", n+1, line)
		}
		for i, w := range ws {
			cell, used := 0, 0
			for used < w && cell < len(rest) {
				r, size := utf8.DecodeRuneInString(rest[cell:])
				used += runeWidth(r)
				cell += size
			}
			// Marks that take no column (a combining accent) belong to the cell they end.
			for cell < len(rest) {
				r, size := utf8.DecodeRuneInString(rest[cell:])
				if runeWidth(r) != 0 {
					break
				}
				cell += size
			}
			if used != w {
				return nil, fmt.Errorf("line %d: column %d is %d wide, fitted %d: %q", n+1, i+1, used, w, line)
			}
			cols[i].WriteString(squeeze(rest[:cell]))
			sep := " | "
			if i == len(ws)-1 {
				sep = " |"
			}
			if rest, ok = strings.CutPrefix(rest[cell:], sep); !ok {
				return nil, fmt.Errorf("line %d: no border after column %d: %q", n+1, i+1, line)
			}
		}
		if rest != "" {
			return nil, fmt.Errorf("line %d: text after the last column: %q", n+1, line)
		}
	}
	got := make([]string, len(ws))
	for i := range cols {
		got[i] = cols[i].String()
	}
	return got, nil
}

// crowded is a scan whose cells test the layout: long words and messages, wide runes,
// IPv6 targets, a long certificate subject, suppressed findings and a probed service.
func crowded() *findings.Report {
	r := fixture()
	r.Findings = append(r.Findings, findings.Finding{Rule: "tls-no-forward-secrecy", Severity: findings.Medium,
		Host: "2001:db8:1234:5678:9abc:def0:1234:5678", Port: 11112, Time: t0, Source: "active",
		Message: "2001:db8:1234:5678:9abc:def0:1234:5678:11112 negotiated TLS_RSA_WITH_AES_128_GCM_SHA256, whose RSA key " +
			"exchange gives no forward secrecy: a recorded session is readable by whoever later gets the server's key " +
			"(病院の輸液ポンプ, Zürich, " + strings.Repeat("x", 130) + ")"})
	r.Summary.Medium++
	r.Summary.Total++
	r.Certificates[1].Subject = "CN=Hospital Issuing CA for the Laboratory Information System and the Picture Archive," +
		"OU=Clinical Engineering,OU=Biomedical Devices,O=St. Example Hospital and Medical Center,L=Springfield,ST=Illinois,C=US"
	r.Assets[0].Names[0].Name = "hl7-engine.hospital.example.org"
	r.Suppressed = []findings.SuppressedFinding{{
		Finding: findings.Finding{Rule: "cleartext-credentials", Severity: findings.High, Host: "10.0.0.60", Port: 21},
		Suppression: findings.SuppressionRef{Reason: "vendor fix due in the spring release; the FTP server is isolated " +
			"on the biomedical VLAN", Expires: "2026-06-30", Source: ".medscanignore.yaml:3"}}}
	r.Summary.Suppressed = 1
	p := probed()
	r.Probes, r.ProbeHosts = p.Probes, p.ProbeHosts
	r.Services = append(r.Services, findings.Service{Host: "10.20.0.1", Port: 443, Service: observe.Service{Transport: "tcp",
		Protocol: "tls", Source: "active", FirstSeen: t0, LastSeen: t0}, TLSVersion: "TLSv1.0",
		Cipher: "TLS_RSA_WITH_AES_128_CBC_SHA"})
	return r
}

func comparison() *findings.Comparison {
	cf := func(rule string, sev findings.Severity, host string, port int, msg string) findings.ChangedFinding {
		return findings.ChangedFinding{Fingerprint: rule + host, Rule: rule, Severity: sev, Host: host, Port: port, Message: msg}
	}
	nf := cf("tls-no-forward-secrecy", findings.Medium, "10.20.0.10", 443, "10.20.0.10:443 negotiated "+
		"TLS_RSA_WITH_AES_128_GCM_SHA256, whose RSA key exchange gives no forward secrecy")
	sup := cf("cleartext-credentials", findings.High, "2001:db8::60", 21, "2001:db8::60:21 received a credential in clear "+
		"(ftp-password for user biomed) from 10.20.3.50")
	sup.Suppressed = true
	na := cf("tls-weak-cipher", findings.High, "10.20.0.11", 8443, "the server accepted TLS_RSA_WITH_3DES_EDE_CBC_SHA")
	na.Reason = "the later scan did not enumerate the suites of 10.20.0.11:8443 (inventory profile)"
	c := &findings.Change{PreviousScan: 1, PreviousStarted: t0,
		New: []findings.ChangedFinding{nf}, Fixed: []findings.ChangedFinding{cf("cert-expired", findings.High, "10.20.1.11",
			443, "10.20.1.11:443 served an expired leaf certificate CN=pump-0011")},
		NotAssessed: []findings.ChangedFinding{na}, Persisting: []findings.ChangedFinding{sup,
			cf("cleartext-hl7", findings.Critical, "10.20.0.10", 6661, "cleartext")}}
	c.Counts = findings.ChangeCounts{New: 1, Fixed: 1, NotAssessed: 1, Persisting: 2}
	prev := findings.ScanRef{ID: 1, Kind: findings.KindNetwork, Started: t0, Label: "4-west ward, night shift", Complete: true}
	return &findings.Comparison{SchemaVersion: findings.ComparisonSchemaVersion, Previous: &prev,
		Scan: findings.ScanRef{ID: 2, Kind: findings.KindNetwork, Started: t0.Add(24 * time.Hour), Label: prev.Label}, Change: c}
}

func inventoryDoc() *findings.Inventory {
	r := crowded()
	r.Assets = append(r.Assets, findings.Asset{Asset: observe.Asset{Addr: netip.MustParseAddr("2001:db8:1234:5678:9abc:def0:1234:5678"),
		Kind: "clinical-server", Manufacturer: "Philips", Model: "IntelliBridge Enterprise",
		Names:   []observe.AssetName{{Name: "hl7-engine.hospital.example.org", Source: "dns"}},
		Reasons: []string{"serves HL7 to 12 hosts", "answers DICOM C-ECHO"}}})
	return findings.NewInventory(r, "")
}

func scanList() *findings.ScanList {
	full := crowded().Summary
	return &findings.ScanList{Scans: []findings.ScanEntry{
		{ID: 1, Kind: findings.KindNetwork, Started: t0, Label: "4-west", Sources: []string{"/captures/ward-4-west-2024-03-05.pcapng"},
			Complete: true, Summary: full},
		{ID: 12, Kind: findings.KindLint, Started: t0.Add(time.Hour), Label: "device PKI of the infusion pumps, spring release",
			Sources: []string{"/pki/pumps/", "/pki/monitors/bundle.p7b", "/pki/ca.pem"}, Complete: false,
			Summary: findings.Summary{Total: 1, Low: 1}},
	}}
}

// TestTablesFitAndKeepText renders every table writer at 80, 100 and 160 columns: no
// line may be wider, and no cell may lose a character (issue 12, defect 5).
func TestTablesFitAndKeepText(t *testing.T) {
	writers := map[string]func(Options) func(io.Writer) error{
		"scan fixture": func(o Options) func(io.Writer) error { return docWriter(t, Scan, o, fixture()) },
		"scan hostile": func(o Options) func(io.Writer) error { return docWriter(t, Scan, o, crowded()) },
		"scan verbose": func(o Options) func(io.Writer) error {
			o.Verbose = true
			return docWriter(t, Scan, o, crowded())
		},
		"scan probed": func(o Options) func(io.Writer) error { return docWriter(t, Scan, o, probed()) },
		"scan empty":  func(o Options) func(io.Writer) error { return docWriter(t, Scan, o, empty()) },
		"diff":        func(o Options) func(io.Writer) error { return docWriter(t, Comparison, o, comparison()) },
		"inventory":   func(o Options) func(io.Writer) error { return docWriter(t, Inventory, o, inventoryDoc()) },
		"scans":       func(o Options) func(io.Writer) error { return docWriter(t, ScanList, o, scanList()) },
		"rules":       func(o Options) func(io.Writer) error { return docWriter(t, Catalog, o, rules.Catalog()) },
	}
	// The documents other than a scan's have golden files at both ends of the range.
	goldens := map[string]bool{"diff": true, "inventory": true, "scans": true, "rules": true}
	for name, w := range writers {
		for _, total := range tableWidths {
			t.Run(fmt.Sprintf("%s/%d", name, total), func(t *testing.T) {
				out := CheckTables(t, total, w(Options{Width: total}))
				if !bytes.Contains(out, []byte("+--")) && name != "scan empty" {
					t.Errorf("no table:\n%s", out)
				}
				if goldens[name] && total != DefaultWidth {
					golden(t, fmt.Sprintf("%s_%d.golden", name, total), out)
				}
			})
		}
	}
}

func docWriter[D any](t *testing.T, reg *Registry[D], o Options, doc D) func(io.Writer) error {
	wr, err := reg.New("table", o)
	if err != nil {
		t.Fatal(err)
	}
	return func(w io.Writer) error { return wr.Write(w, doc) }
}

// TestTablesUseTheWidth checks that a wide terminal is used: the findings of the hostile
// scan fill 160 columns, where they wrapped in 100.
func TestTablesUseTheWidth(t *testing.T) {
	for _, total := range []int{160, 200} {
		out := string(render(t, "table", Options{Width: total}, crowded()))
		widest := 0
		for _, line := range strings.Split(out, "\n") {
			widest = max(widest, width(line))
		}
		if widest != total {
			t.Errorf("width %d: the widest line is %d columns", total, widest)
		}
	}
	inv := CheckTables(t, 160, docWriter(t, Inventory, Options{Width: 160}, inventoryDoc()))
	if !strings.Contains(string(inv), "hl7-engine.hospital.example.org") {
		t.Errorf("a name was cut in a wide inventory:\n%s", inv)
	}
}

// TestSuppressedShown checks defect 6 of issue 12: a suppressed finding is counted in the
// summary and listed with its reason and expiry, never in the total.
func TestSuppressedShown(t *testing.T) {
	r := crowded()
	out := string(render(t, "table", Options{Width: 200}, r))
	for _, want := range []string{"| SUPPRESSED |", "| 5     | 1          |", "Suppressed (1): accepted risks, in no total above",
		"vendor fix due in the spring release; the FTP server is isolated on the biomedical VLAN (.medscanignore.yaml:3)",
		"2026-06-30", "10.0.0.60:21"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if got := SummaryLine(r); !strings.HasPrefix(got, "5 findings (1 critical, 2 high, 1 medium, 1 low), 1 suppressed") {
		t.Errorf("SummaryLine = %q", got)
	}
	if out := string(render(t, "table", Options{}, fixture())); strings.Contains(out, "Suppressed (") {
		t.Error("a report without suppressions lists them")
	}
}

// TestCountersVerbose checks defect 13 of issue 12: the engine's counters are in the
// table only with Options.Verbose; without, one line says where they are.
func TestCountersVerbose(t *testing.T) {
	plain := string(render(t, "table", Options{}, fixture()))
	if strings.Contains(plain, "tcp_gap_bytes") || !strings.Contains(plain, "Engine counters (3 non-zero): with -v") {
		t.Errorf("counters without Verbose:\n%s", plain)
	}
	verbose := string(render(t, "table", Options{Verbose: true}, fixture()))
	if !strings.Contains(verbose, "| tcp_gap_bytes        | 512   |") || strings.Contains(verbose, "Engine counters (") {
		t.Errorf("counters with Verbose:\n%s", verbose)
	}
	if json := string(render(t, "json", Options{}, fixture())); !strings.Contains(json, `"tcp_gap_bytes"`) {
		t.Error("the JSON lost the counters")
	}
}

// TestOneTableStyle checks that every table is plain ASCII (defect 13: the rules table
// drew Unicode boxes), the catalog's included.
func TestOneTableStyle(t *testing.T) {
	var b bytes.Buffer
	if err := docWriter(t, Catalog, Options{}, rules.Catalog())(&b); err != nil {
		t.Fatal(err)
	}
	b.Write(render(t, "table", Options{}, crowded()))
	for _, r := range b.String() {
		if r >= 0x2500 && r <= 0x257f {
			t.Fatalf("box drawing %U in a table", r)
		}
	}
}

// TestProbedServices checks the table part of defect 10 of issue 12: a probed service
// shows the versions and the number of suites it accepted, not the suite and version
// of whichever enumeration handshake came last.
func TestProbedServices(t *testing.T) {
	out := string(render(t, "table", Options{Width: 200}, crowded()))
	if !regexp.MustCompile(`\| 10\.20\.0\.1:443 +\| tcp/tls +\| TLSv1\.0, TLSv1\.2 +\| 3 suites accepted +\|`).MatchString(out) {
		t.Errorf("the probed service:\n%s", out)
	}
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"TLSv1.0", "TLSv1.1", "TLSv1.2"}, "TLSv1.0-1.2"},
		{[]string{"TLSv1.2", "TLSv1.3"}, "TLSv1.2-1.3"},
		{[]string{"SSLv3", "TLSv1.0", "TLSv1.2"}, "SSLv3-TLSv1.0, TLSv1.2"},
		{[]string{"TLSv1.2"}, "TLSv1.2"},
		{[]string{"SSLv2", "TLSv1.3"}, "SSLv2, TLSv1.3"},
		{[]string{"weird", "TLSv1.0"}, "weird, TLSv1.0"},
		{nil, ""},
	} {
		if got := versionsText(tc.in); got != tc.want {
			t.Errorf("versionsText(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzTable renders a table of text from the wire (through the one sanitizer, as every
// writer does) at any width from 60 (its columns' minimums and borders: 59) to 220 and
// holds it to CheckTables.
func FuzzTable(f *testing.F) {
	f.Add("TLS_RSA_WITH_AES_128_GCM_SHA256, whose RSA key", "[2001:db8::1]:443", "CN=a,O=b c", 80)
	f.Add("病院の輸液ポンプ Zürich", "x", "\x1b[2J\u202e", 60)
	f.Fuzz(func(t *testing.T, a, b, c string, total int) {
		total = 60 + int(uint(total)%161)
		tb := &table{cols: []column{{header: "SEVERITY"}, {header: "RULE", min: 10, flex: true},
			{header: "TARGET", min: 12, flex: true}, {header: "MESSAGE", min: 16, flex: true, prose: true}},
			rows: [][]string{{"high", term(a), term(b), term(c)}, {"low", term(c), term(a), term(b) + "\n" + term(a)}}}
		CheckTables(t, total, func(w io.Writer) error { return tb.render(w, total, false) })
	})
}
