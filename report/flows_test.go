//go:debug cryptocustomrand=1

package report_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/fixtures/ward"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/report/flowmap"
	"github.com/medscan/medscan/store"
)

// flowFormats are the flows command's formats and their golden files' extensions.
var flowFormats = map[string]string{"table": "txt", "json": "json", "csv": "csv", "dot": "dot", "mermaid": "mmd", "svg": "svg"}

// scanCapture scans a capture into a fresh store at a fixed clock, as the CLI does, and
// reads the scan back.
func scanCapture(t *testing.T, pcap, label string) *findings.Report {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fixed := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	res, err := scan.Run(context.Background(), st, scan.Options{Pcaps: []string{pcap}, Label: label, ToolVersion: "test",
		Clock: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	rep.Scan.Sources = []string{filepath.Base(pcap)}
	return rep
}

// hospitalReport is a generated network of 11 sites with the ward's mix (209 hosts).
func hospitalReport(t *testing.T) *findings.Report {
	t.Helper()
	if testing.Short() {
		t.Skip("scans a capture")
	}
	path := filepath.Join(t.TempDir(), "hospitals.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ward.Generate(f, ward.Options{Sites: 11}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return scanCapture(t, path, "11-sites")
}

// TestFlowsGolden renders the flows of the ward and of a generated 200-host network in
// every format against golden files, and checks each format's own validity: the JSON
// against the report schema's flow, the dot with Graphviz (when installed), the mermaid
// by its structure, the SVG as safe XML whose geometry has no overlap.
func TestFlowsGolden(t *testing.T) {
	for name, load := range map[string]func(*testing.T) *findings.Report{"ward": wardReport, "hospitals": hospitalReport} {
		t.Run(name, func(t *testing.T) {
			rep := load(t)
			doc := findings.NewFlowMap(rep)
			if len(doc.Flows) == 0 {
				t.Fatal("no flows")
			}
			for format, ext := range flowFormats {
				w, err := report.Flows.New(format, report.Options{Width: 120})
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := w.Write(&b, findings.NewFlowMap(rep)); err != nil {
					t.Fatal(err)
				}
				report.Golden(t, "flows_"+name+"."+ext, b.Bytes())
				switch format {
				case "dot":
					checkDOT(t, b.Bytes())
				case "mermaid":
					checkMermaid(t, b.Bytes(), len(doc.Flows))
				case "svg":
					checkSVG(t, b.Bytes())
				}
			}
			m := flowmap.Layout(doc.Flows, doc.Assets, flowmap.Options{})
			if o := m.Overlaps(); len(o) > 0 {
				t.Errorf("%d overlaps on the map, first: %s", len(o), o[0])
			}
			if name == "hospitals" && (!m.Grouped || len(m.Nodes) > flowmap.DefaultMaxNodes) {
				t.Errorf("200 hosts drawn as %d nodes, grouped %v", len(m.Nodes), m.Grouped)
			}
			// The report's own svg is the same map.
			w, _ := report.Scan.New("svg", report.Options{})
			var a, b bytes.Buffer
			if err := w.Write(&a, rep); err != nil {
				t.Fatal(err)
			}
			fw, _ := report.Flows.New("svg", report.Options{})
			if err := fw.Write(&b, findings.NewFlowMap(rep)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("report -f svg differs from flows -f svg")
			}
		})
	}
}

// TestWardFlowsProtection holds the ward's flows to what its scenario has: pumps to the
// engine HL7 in clear, the analyser's mutual TLS, the engine to the EHR server-only TLS,
// and the workstation's TLS 1.3 to the EHR not decidable passively.
func TestWardFlowsProtection(t *testing.T) {
	rep := wardReport(t)
	want := map[string]string{
		"10.20.1.11 -> 10.20.0.10:6661|": findings.ProtectionClear,
		"10.20.1.31 -> 10.20.0.10:6662|": findings.ProtectionMTLS,
		"10.20.0.10 -> 10.20.0.20:443|":  findings.ProtectionTLS,
		"10.20.3.10 -> 10.20.0.20:443|":  findings.ProtectionUnknownClientAuth,
		"10.20.2.5 -> 10.20.0.30:104|":   findings.ProtectionClear,
	}
	got := map[string]findings.Flow{}
	for _, f := range rep.Flows {
		got[f.Key()] = f
	}
	for k, p := range want {
		if f, ok := got[k]; !ok || f.Protection != p {
			t.Errorf("%s: protection %q; want %q", k, f.Protection, p)
		}
	}
	pump := got["10.20.1.11 -> 10.20.0.10:6661|"]
	if pump.ClientRole != findings.RoleDevice || pump.ServerRole != findings.RoleMiddleware || pump.Findings.Critical == 0 ||
		len(pump.HL7Types) == 0 {
		t.Errorf("pump flow %+v", pump)
	}
}

// checkDOT runs Graphviz over the dot when it is installed (required in CI).
func checkDOT(t *testing.T, dot []byte) {
	t.Helper()
	path, err := exec.LookPath("dot")
	if err != nil {
		if os.Getenv("MEDSCAN_REQUIRE_GRAPHVIZ") != "" {
			t.Fatal("dot (graphviz) not found and MEDSCAN_REQUIRE_GRAPHVIZ is set")
		}
		t.Log("dot (graphviz) not installed: the dot output is not rendered")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("dot -Tsvg: %v\n%s", err, stderr.String())
	}
	if !bytes.Contains(out, []byte("<svg")) {
		t.Fatal("dot -Tsvg wrote no svg")
	}
}

var (
	// A label: no character Mermaid reads as markup, but the <br/> of a line break.
	mermaidLabel = `"(?:[^"\[\]{}|<>` + "`" + `]|<br/>)*"`
	mermaidNode  = regexp.MustCompile(`^    (n\d+)\[` + mermaidLabel + `\]$`)
	mermaidEdge  = regexp.MustCompile(`^  (n\d+) (-->|-\.->)\|` + mermaidLabel + `\| (n\d+)$`)
	mermaidSub   = regexp.MustCompile(`^  subgraph r\d\["[A-Za-z ]+"\]$`)
	mermaidLink  = regexp.MustCompile(`^  linkStyle (\d+) stroke:#[0-9a-f]{6},stroke-width:2px$`)
)

// checkMermaid checks the flowchart's structure line by line: a front matter title, the
// header, subgraphs closed, every node declared once and quoted without a character
// Mermaid reads as markup, every edge between declared nodes, one linkStyle per edge.
func checkMermaid(t *testing.T, mmd []byte, flows int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(mmd), "\n"), "\n")
	if len(lines) < 5 || lines[0] != "---" || !strings.HasPrefix(lines[1], `title: "`) || lines[2] != "---" || lines[3] != "flowchart LR" {
		t.Fatalf("mermaid header: %q", lines[:min(4, len(lines))])
	}
	nodes := map[string]bool{}
	open, edges, links := false, 0, 0
	for i, l := range lines[4:] {
		switch {
		case mermaidSub.MatchString(l):
			if open {
				t.Errorf("line %d: subgraph inside a subgraph", i+5)
			}
			open = true
		case l == "  end":
			if !open {
				t.Errorf("line %d: end without subgraph", i+5)
			}
			open = false
		case mermaidNode.MatchString(l):
			id := mermaidNode.FindStringSubmatch(l)[1]
			if !open || nodes[id] {
				t.Errorf("line %d: node %s outside a subgraph or declared twice", i+5, id)
			}
			nodes[id] = true
		case mermaidEdge.MatchString(l):
			m := mermaidEdge.FindStringSubmatch(l)
			if !nodes[m[1]] || !nodes[m[3]] {
				t.Errorf("line %d: edge between undeclared nodes: %q", i+5, l)
			}
			if links > 0 {
				t.Errorf("line %d: edge after linkStyle", i+5)
			}
			edges++
		case mermaidLink.MatchString(l):
			if m := mermaidLink.FindStringSubmatch(l); m[1] != strconv.Itoa(links) {
				t.Errorf("line %d: linkStyle %s out of order", i+5, m[1])
			}
			links++
		default:
			t.Errorf("line %d: not mermaid this writer makes: %q", i+5, l)
		}
	}
	if open || edges != flows || links != flows {
		t.Errorf("subgraph open %v, %d edges, %d link styles; want %d of each", open, edges, links, flows)
	}
}

// checkSVG checks the map is well-formed XML with only the elements and attributes a
// static picture needs.
func checkSVG(t *testing.T, svg []byte) {
	t.Helper()
	allowed := map[string]bool{"svg": true, "title": true, "rect": true, "text": true, "line": true, "path": true, "g": true}
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("svg is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if !allowed[se.Name.Local] {
				t.Errorf("svg element %s", se.Name.Local)
			}
			for _, a := range se.Attr {
				n := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(n, "on") || n == "style" || n == "href" || strings.Contains(a.Value, "url(") {
					t.Errorf("svg attribute %s=%q", a.Name.Local, a.Value)
				}
			}
		}
	}
}
