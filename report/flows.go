package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report/flowmap"
)

// Flows writes a scan's data flows (medscan flows): table, json, csv, dot, mermaid, svg.
var Flows = newRegistry[*findings.FlowMap]("flows")

func init() {
	Flows.register("table", func(o Options) Writer[*findings.FlowMap] {
		return flowWriter(func(w io.Writer, m *findings.FlowMap) error { return flowsTable(w, m, o.width()) })
	})
	// The JSON of the flows is their list, as the scan report's flows[].
	Flows.register("json", func(Options) Writer[*findings.FlowMap] {
		return flowWriter(func(w io.Writer, m *findings.FlowMap) error { return writeJSON(w, m.Flows) })
	})
	Flows.register("csv", func(Options) Writer[*findings.FlowMap] { return csvWriter(flowRows) })
	Flows.register("dot", func(Options) Writer[*findings.FlowMap] { return flowWriter(flowsDOT) })
	Flows.register("mermaid", func(Options) Writer[*findings.FlowMap] { return flowWriter(flowsMermaid) })
	Flows.register("svg", func(Options) Writer[*findings.FlowMap] { return flowWriter(flowSVG) })
	// A scan's report as svg is its data-flow map. Its flows' findings are counted
	// again from the report's (findings.NewFlowMap): of a stream (a stored scan), only
	// what they are counted by is kept of each, read from the findings' identities
	// (their evidence, most of the cost of reading a finding, is not decoded) when the
	// stream has them.
	Scan.register("svg", func(Options) Writer[*findings.Report] {
		return WriterFunc[*findings.Report](func(w io.Writer, r *findings.Report) error {
			if r == nil {
				return errors.New("report: svg: no document")
			}
			if r.Stream != nil {
				slim := *r
				slim.Findings, slim.Stream = []findings.Finding{}, nil
				places := r.Stream.Identities
				if places == nil {
					places = r.Stream.All
				}
				for f, err := range places {
					if err != nil {
						return fmt.Errorf("report: svg: %w", err)
					}
					if f.Host != "" && f.Port != 0 {
						slim.Findings = append(slim.Findings, findings.Finding{Rule: f.Rule, Severity: f.Severity, Host: f.Host, Port: f.Port})
					}
				}
				r = &slim
			}
			return flowSVG(w, findings.NewFlowMap(r))
		})
	})
}

// flowWriter refuses a nil document, as every writer does.
func flowWriter(fn func(io.Writer, *findings.FlowMap) error) Writer[*findings.FlowMap] {
	return WriterFunc[*findings.FlowMap](func(w io.Writer, m *findings.FlowMap) error {
		if m == nil {
			return errors.New("report: flows: no document")
		}
		return fn(w, m)
	})
}

// flowSVG writes the standalone map, titled with the scan.
func flowSVG(w io.Writer, m *findings.FlowMap) error {
	return flowmap.SVG(w, m.Flows, m.Assets, flowmap.Options{Standalone: true, Title: flowTitle(m.Scan)})
}

// flowTitle names the map: the scan, its label, and when it was taken.
func flowTitle(s findings.ScanInfo) string {
	t := "Data flows, scan " + strconv.FormatInt(s.ID, 10)
	if s.Label != "" {
		t += " (" + s.Label + ")"
	}
	if !s.Started.IsZero() {
		t += ", " + s.Started.UTC().Format("2006-01-02 15:04 UTC")
	}
	return t
}

// carries is what a flow carried, in a few words.
func carries(f findings.Flow) []string {
	var out []string
	add := func(what string, items []string) {
		if len(items) > 0 {
			out = append(out, what+" "+strings.Join(items, ", "))
		}
	}
	add("HL7", f.HL7Types)
	add("DICOM", f.DICOMClasses)
	if f.MQTTClients > 0 {
		out = append(out, fmt.Sprintf("MQTT %d client%s", f.MQTTClients, plural(f.MQTTClients)))
	}
	add("FHIR", f.FHIRResources)
	add("API", f.APITemplates)
	add("firmware", f.Firmware)
	add("credentials", f.Credentials)
	if f.ItemsNotKept > 0 {
		out = append(out, fmt.Sprintf("(%d more)", f.ItemsNotKept))
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// flowFindings is a flow's findings in a few words: "3 (1 high, 2 medium)".
func flowFindings(c findings.FlowFindings) string {
	if c.Total == 0 {
		return "0"
	}
	var parts []string
	for _, s := range findings.Severities {
		n := map[findings.Severity]int{findings.Critical: c.Critical, findings.High: c.High, findings.Medium: c.Medium,
			findings.Low: c.Low, findings.Info: c.Info}[s]
		if n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+s.String())
		}
	}
	return strconv.Itoa(c.Total) + " (" + strings.Join(parts, ", ") + ")"
}

// flowsTable writes one row per flow: client, server, what it carried, its protection,
// and the findings on it.
func flowsTable(w io.Writer, m *findings.FlowMap, total int) error {
	if len(m.Flows) == 0 {
		_, err := fmt.Fprintf(w, "No flows in scan %d.\n", m.Scan.ID)
		return err
	}
	tb := &table{cols: []column{
		{header: "CLIENT", min: 15, flex: true},
		{header: "SERVER", min: 15, flex: true},
		{header: "PROTOCOL / CARRIES", min: 18, flex: true, prose: true},
		{header: "PROTECTION", min: 10, flex: true},
		{header: "FINDINGS", min: 8, flex: true, prose: true},
	}}
	compact := &table{cols: []column{
		{header: "CLIENT -> SERVER", min: 15, flex: true},
		{header: "PROTOCOL / CARRIES", min: 18, flex: true, prose: true},
		{header: "PROTECTION / FINDINGS", min: 12, flex: true, prose: true},
	}}
	for _, f := range m.Flows {
		client := target(f.Client, 0) + "\n" + f.ClientRole
		server := term(f.Server()) + "\n" + f.ServerRole
		if f.Via != "" {
			server += "\nvia " + term(f.Via)
		}
		what := append([]string{term(f.Protocol)}, termAll(carries(f))...)
		fs := flowFindings(f.Findings)
		if len(f.Findings.Rules) > 0 {
			fs += "\n" + term(strings.Join(f.Findings.Rules, ", "))
		}
		prot := f.Protection
		if f.Anchoring != nil {
			prot += "\n" + f.Anchoring.Verdict
		}
		tb.rows = append(tb.rows, []string{client, server, strings.Join(what, "\n"), prot, fs})
		compact.rows = append(compact.rows, []string{client + "\n-> " + server, strings.Join(what, "\n"), prot + "\n" + fs})
	}
	if err := layout(total, tb, compact).render(w, total, false); err != nil {
		return err
	}
	counts := map[string]int{}
	anchoring := map[string]int{}
	for _, f := range m.Flows {
		counts[f.Protection]++
		if f.Anchoring != nil {
			anchoring[f.Anchoring.Verdict]++
		}
	}
	var parts []string
	for _, p := range findings.FlowProtections {
		if counts[p] > 0 {
			part := fmt.Sprintf("%d %s", counts[p], p)
			if p == findings.ProtectionMTLS {
				// How many of the mutual hops the site's PKI vouches for.
				var as []string
				for _, v := range []string{findings.AnchoringVerified, findings.AnchoringClientUnanchored,
					findings.AnchoringServerUnanchored, findings.AnchoringBothUnanchored, findings.AnchoringNotJudged} {
					if anchoring[v] > 0 {
						as = append(as, fmt.Sprintf("%d %s", anchoring[v], v))
					}
				}
				part += " (" + strings.Join(as, ", ") + ")"
			}
			parts = append(parts, part)
		}
	}
	_, err := fmt.Fprintf(w, "\n%d flow%s: %s\n", len(m.Flows), plural(len(m.Flows)), strings.Join(parts, ", "))
	return err
}

func termAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = term(s)
	}
	return out
}

// flowRows are the CSV's rows: a header, then one row per flow.
func flowRows(m *findings.FlowMap) [][]string {
	rows := [][]string{{"client", "client_role", "client_kind", "server", "port", "server_role", "server_kind", "via_proxy",
		"target", "protocol", "protection", "protection_why", "mtls_anchoring", "mtls_anchoring_why", "tls_versions", "server_certs", "client_certs", "carries",
		"sessions", "connections", "packets", "bytes", "first_seen", "last_seen", "sources", "findings", "critical", "high", "medium", "low", "info", "rules"}}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, f := range m.Flows {
		c := f.Findings
		var anchoring, anchoringWhy string
		if f.Anchoring != nil {
			anchoring, anchoringWhy = f.Anchoring.Verdict, f.Anchoring.Why
		}
		rows = append(rows, []string{f.Client, f.ClientRole, f.ClientKind, f.Host, strconv.Itoa(f.Port), f.ServerRole,
			f.ServerKind, f.Via, f.Target, f.Protocol, f.Protection, f.ProtectionWhy, anchoring, anchoringWhy, strings.Join(f.TLSVersions, "; "),
			strings.Join(f.ServerCerts, "; "), strings.Join(f.ClientCerts, "; "), strings.Join(carries(f), "; "),
			strconv.Itoa(f.Sessions), strconv.Itoa(f.Connections), strconv.FormatUint(f.Packets, 10),
			strconv.FormatUint(f.Bytes, 10), ts(f.FirstSeen), ts(f.LastSeen),
			strings.Join(f.Sources, "; "), strconv.Itoa(c.Total), strconv.Itoa(c.Critical), strconv.Itoa(c.High),
			strconv.Itoa(c.Medium), strconv.Itoa(c.Low), strconv.Itoa(c.Info), strings.Join(c.Rules, "; ")})
	}
	return rows
}

// The colours of the protections in dot and mermaid, the map's.
var flowColour = map[string]string{
	findings.ProtectionClear:             "#c62828",
	findings.ProtectionTLS:               "#ef8f00",
	findings.ProtectionUnknownClientAuth: "#7e57c2",
	findings.ProtectionMTLS:              "#2e7d32",
}

// unanchoredColour is an mtls edge whose certificates the site's PKI does not vouch for
// (a side unanchored): still mutual, but with a certificate anyone could have made.
const unanchoredColour = "#9e9d24"

// edgeColour is a flow's colour in dot and mermaid: its protection's, or the colour of an
// unanchored mtls hop.
func edgeColour(f findings.Flow) string {
	if f.Anchoring.Unanchored() {
		return unanchoredColour
	}
	return flowColour[f.Protection]
}

// flowNodes are the flows' hosts in order, each with a label and a role.
type flowNode struct {
	id, addr, role, label string
}

func flowNodeList(m *findings.FlowMap) []flowNode {
	assets := map[string]findings.Asset{}
	for _, a := range m.Assets {
		assets[a.IP()] = a
	}
	seen := map[string]bool{}
	var out []flowNode
	add := func(addr, role string) {
		if seen[addr] {
			return
		}
		seen[addr] = true
		parts := []string{term(addr)}
		if a, ok := assets[addr]; ok {
			if len(a.Names) > 0 {
				parts = append(parts, term(a.Names[0].Name))
			}
			if mm := makerModel(a); mm != "" {
				parts = append(parts, mm)
			}
		}
		// Each part is cleaned (no control character); the newlines between them are
		// the format's line breaks.
		out = append(out, flowNode{id: "n" + strconv.Itoa(len(out)), addr: addr, role: role, label: strings.Join(parts, "\n")})
	}
	for _, f := range m.Flows {
		add(f.Client, f.ClientRole)
		add(f.Host, f.ServerRole)
	}
	return out
}

func hasRole(nodes []flowNode, role string) bool {
	for _, n := range nodes {
		if n.role == role {
			return true
		}
	}
	return false
}

// roleTitle is how dot and mermaid name a role's cluster.
var roleTitle = map[string]string{findings.RoleDevice: "Medical devices", findings.RoleMiddleware: "Middleware",
	findings.RoleClinical: "Clinical servers and EHR", findings.RoleOther: "Other hosts"}

var roles = []string{findings.RoleDevice, findings.RoleMiddleware, findings.RoleClinical, findings.RoleOther}

// edgeLabel is a flow's label in dot and mermaid: port, protocol, protection, findings.
func edgeLabel(f findings.Flow) string {
	return fmt.Sprintf("%d %s %s, %d finding%s", f.Port, term(f.Protocol), f.ProtectionLabel(), f.Findings.Total, plural(f.Findings.Total))
}

// dotQuote quotes a string for Graphviz: backslashes and quotes escaped, newlines as \n.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

// flowsDOT writes the flows as a Graphviz digraph, devices left to clinical servers right.
func flowsDOT(w io.Writer, m *findings.FlowMap) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "digraph flows {\n  label=%s;\n  labelloc=t;\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fillcolor=\"#eceff1\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
		dotQuote(flowTitle(m.Scan)))
	nodes := flowNodeList(m)
	ids := map[string]string{}
	fill := map[string]string{findings.RoleDevice: "#e3f2fd", findings.RoleMiddleware: "#fff8e1", findings.RoleClinical: "#e8f5e9",
		findings.RoleOther: "#eceff1"}
	for i, role := range roles {
		if !hasRole(nodes, role) {
			continue
		}
		fmt.Fprintf(bw, "  subgraph cluster_%d {\n    label=%s;\n    rank=same;\n", i, dotQuote(roleTitle[role]))
		for _, n := range nodes {
			if n.role == role {
				ids[n.addr] = n.id
				fmt.Fprintf(bw, "    %s [label=%s, fillcolor=%s];\n", n.id, dotQuote(n.label), dotQuote(fill[role]))
			}
		}
		fmt.Fprintf(bw, "  }\n")
	}
	for _, f := range m.Flows {
		style := "solid"
		switch {
		case f.Protection == findings.ProtectionUnknownClientAuth:
			style = "dashed"
		case f.Anchoring.Unanchored():
			style = "dotted"
		}
		fmt.Fprintf(bw, "  %s -> %s [label=%s, color=%s, fontcolor=%s, style=%s];\n", ids[f.Client], ids[f.Host],
			dotQuote(edgeLabel(f)), dotQuote(edgeColour(f)), dotQuote(edgeColour(f)), style)
	}
	fmt.Fprintf(bw, "}\n")
	return bw.Flush()
}

// mermaidText escapes a label for a quoted Mermaid string: quotes and the characters
// Mermaid reads as markup become its entity codes, newlines <br/>.
func mermaidText(s string) string {
	r := strings.NewReplacer("#", "#35;", `"`, "#quot;", "<", "#lt;", ">", "#gt;", "&", "#amp;", "`", "#96;",
		"|", "#124;", "[", "#91;", "]", "#93;", "{", "#123;", "}", "#125;", "\r", "")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = r.Replace(l)
	}
	return strings.Join(lines, "<br/>")
}

// flowsMermaid writes the flows as a Mermaid flowchart, one subgraph per role, each
// edge coloured by its protection (linkStyle, by the edge's index).
func flowsMermaid(w io.Writer, m *findings.FlowMap) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "---\ntitle: \"%s\"\n---\nflowchart LR\n", mermaidText(flowTitle(m.Scan)))
	nodes := flowNodeList(m)
	ids := map[string]string{}
	for i, role := range roles {
		if !hasRole(nodes, role) {
			continue
		}
		fmt.Fprintf(bw, "  subgraph r%d[\"%s\"]\n", i, mermaidText(roleTitle[role]))
		for _, n := range nodes {
			if n.role == role {
				ids[n.addr] = n.id
				fmt.Fprintf(bw, "    %s[\"%s\"]\n", n.id, mermaidText(n.label))
			}
		}
		fmt.Fprintf(bw, "  end\n")
	}
	for _, f := range m.Flows {
		arrow := "-->"
		if f.Protection == findings.ProtectionUnknownClientAuth || f.Anchoring.Unanchored() {
			arrow = "-.->"
		}
		fmt.Fprintf(bw, "  %s %s|\"%s\"| %s\n", ids[f.Client], arrow, mermaidText(edgeLabel(f)), ids[f.Host])
	}
	for i, f := range m.Flows {
		fmt.Fprintf(bw, "  linkStyle %d stroke:%s,stroke-width:2px\n", i, edgeColour(f))
	}
	return bw.Flush()
}
