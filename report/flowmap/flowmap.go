package flowmap

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/medscan/medscan/findings"
)

// DefaultMaxNodes is the most nodes drawn one by one; beyond it nodes are grouped.
const DefaultMaxNodes = 50

// Options tune the map.
type Options struct {
	// MaxNodes is the most nodes drawn one by one (DefaultMaxNodes when 0).
	MaxNodes int
	// Standalone writes an XML declaration before the svg element, for a .svg file; the
	// HTML report embeds the map without it.
	Standalone bool
	// Title is the map's heading ("Data flows" when empty).
	Title string
}

// Rect is a box on the map, in SVG user units.
type Rect struct{ X, Y, W, H float64 }

// Overlaps reports whether two boxes share any area.
func (r Rect) Overlaps(o Rect) bool {
	return r.X < o.X+o.W && o.X < r.X+r.W && r.Y < o.Y+o.H && o.Y < r.Y+r.H
}

// Node is one host, or one group of hosts, on the map.
type Node struct {
	ID      string   // the address, or the group's key
	Role    string   // findings.Role*
	Kind    string   // the inventory kind ("" when unknown)
	Lines   []string // the label, already truncated to fit the box
	Members int      // hosts in the node (1 unless grouped)
	Column  int      // 0 devices, 1 middleware and other hosts, 2 clinical servers
	Box     Rect
}

// Edge is every flow from one node to another, drawn as one curve.
type Edge struct {
	From, To   int    // indexes into Map.Nodes
	Protection string // the weakest of its flows'
	// Anchoring is, for an mtls edge, its flows' verdict against the site's trust
	// anchors (findings.FlowAnchoring): an unanchored flow's wins, then not-judged.
	Anchoring string
	Flows     int
	Protocols []string // "hl7-mllp/6661", sorted
	Findings  findings.FlowFindings
	Path      string // the curve's SVG path data
	Badge     Rect   // where the findings count sits, at the arrival
}

// Label is a text on the map and the box it may occupy.
type Label struct {
	Text string
	Box  Rect
}

// Map is a laid-out data-flow map: what SVG writes, and what tests measure.
type Map struct {
	Title         string
	Width, Height float64
	Grouped       bool
	Nodes         []Node
	Edges         []Edge
	Labels        []Label // every text but the badges', with its box
}

// Geometry, in SVG user units. Labels use a monospace font so that a text's width is
// known without a browser: charW per character at labelSize.
const (
	colX0      = 60.0
	colGap     = 420.0
	nodeW      = 230.0
	slotH      = 18.0
	nodePad    = 8.0
	nodeGap    = 14.0
	gutter     = 36.0 // a badge's slot beside a node
	badgeW     = 28.0
	badgeH     = 14.0
	labelSize  = 12.0
	smallSize  = 10.0
	charW      = 0.6 * labelSize
	smallCharW = 0.6 * smallSize
	topY       = 118.0
	lineH      = 15.0
)

// Colours by protection, and of the findings badges by worst severity.
var (
	protColour = map[string]string{
		findings.ProtectionClear:             "#c62828",
		findings.ProtectionTLS:               "#ef8f00",
		findings.ProtectionUnknownClientAuth: "#7e57c2",
		findings.ProtectionMTLS:              "#2e7d32",
	}
	protLegend = map[string]string{
		findings.ProtectionClear:             "clear: readable and changeable on the path",
		findings.ProtectionTLS:               "tls: only the server authenticated",
		findings.ProtectionUnknownClientAuth: "tls-unknown-client-auth: TLS 1.3, not probed",
		findings.ProtectionMTLS:              "mtls: both sides authenticated",
	}
	sevColour = map[findings.Severity]string{
		findings.Critical: "#7b1fa2", findings.High: "#c62828", findings.Medium: "#ef6c00",
		findings.Low: "#1565c0", findings.Info: "#546e7a",
	}
	columnTitle = []string{"Medical devices", "Middleware", "Clinical servers and EHR"}
)

// SVG writes the map of flows between assets to w (see the package documentation).
func SVG(w io.Writer, flows []findings.Flow, assets []findings.Asset, opts Options) error {
	return Layout(flows, assets, opts).WriteSVG(w, opts.Standalone)
}

// host is one address of the flows, with what the inventory says of it.
type host struct {
	addr       string
	role, kind string
	maker      string
	model      string
	name       string
}

// Layout places the nodes and edges of the flows' map.
func Layout(flows []findings.Flow, assets []findings.Asset, opts Options) *Map {
	maxNodes := cmp.Or(opts.MaxNodes, DefaultMaxNodes)
	m := &Map{Title: cmp.Or(opts.Title, "Data flows")}
	byIP := map[string]*findings.Asset{}
	for i := range assets {
		byIP[assets[i].IP()] = &assets[i]
	}
	hosts := map[string]*host{}
	addHost := func(addr, kind string) {
		if hosts[addr] != nil {
			return
		}
		h := &host{addr: addr, kind: kind}
		if a := byIP[addr]; a != nil {
			h.kind = cmp.Or(a.Kind, kind)
			h.maker, h.model = a.Manufacturer, a.Model
			if len(a.Names) > 0 {
				h.name = a.Names[0].Name
			}
		}
		h.role = findings.NodeRole(h.kind)
		hosts[addr] = h
	}
	for _, f := range flows {
		addHost(f.Client, f.ClientKind)
		addHost(f.Host, f.ServerKind)
	}
	// Group when there are too many nodes, at the finest level that fits.
	level := 0
	for level < 3 && countKeys(hosts, level) > maxNodes {
		level++
	}
	m.Grouped = level > 0
	nodeOf := map[string]int{}
	type group struct {
		key     string
		members []*host
	}
	groups := map[string]*group{}
	for _, h := range hosts {
		k := groupKey(h, level)
		g := groups[k]
		if g == nil {
			g = &group{key: k}
			groups[k] = g
		}
		g.members = append(g.members, h)
	}
	glist := make([]*group, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g.members, func(a, b *host) int { return findings.CompareHosts(a.addr, b.addr) })
		glist = append(glist, g)
	}
	// Within a column: by role (middleware before other hosts), then by first address.
	slices.SortFunc(glist, func(a, b *group) int {
		return cmp.Or(cmp.Compare(roleOrder(a.members[0].role), roleOrder(b.members[0].role)),
			findings.CompareHosts(a.members[0].addr, b.members[0].addr), cmp.Compare(a.key, b.key))
	})
	for _, g := range glist {
		h := g.members[0]
		n := Node{ID: g.key, Role: h.role, Kind: h.kind, Members: len(g.members), Column: column(h.role)}
		if level == 0 {
			n.Lines = []string{fit(cmp.Or(h.name, h.addr), nodeW-2*nodePad, charW),
				fit(nodeDetail(h), nodeW-2*nodePad, smallCharW)}
		} else {
			n.Lines = []string{fit(groupTitle(g.members, level), nodeW-2*nodePad, charW),
				fit(groupDetail(g.members, level), nodeW-2*nodePad, smallCharW)}
		}
		for _, mh := range g.members {
			nodeOf[mh.addr] = len(m.Nodes)
		}
		m.Nodes = append(m.Nodes, n)
	}
	// Edges: every flow between two nodes is one edge.
	edgeOf := map[[2]int]int{}
	for _, f := range flows {
		k := [2]int{nodeOf[f.Client], nodeOf[f.Host]}
		i, ok := edgeOf[k]
		if !ok {
			i = len(m.Edges)
			edgeOf[k] = i
			m.Edges = append(m.Edges, Edge{From: k[0], To: k[1], Protection: f.Protection,
				Findings: findings.FlowFindings{Rules: []string{}}})
		}
		e := &m.Edges[i]
		e.Flows++
		if f.Anchoring != nil && anchoringRank(f.Anchoring.Verdict) > anchoringRank(e.Anchoring) {
			e.Anchoring = f.Anchoring.Verdict
		}
		if findings.FlowProtectionRank(f.Protection) < findings.FlowProtectionRank(e.Protection) {
			e.Protection = f.Protection
		}
		p := f.Protocol + "/" + strconv.Itoa(f.Port)
		if !slices.Contains(e.Protocols, p) {
			e.Protocols = append(e.Protocols, p)
		}
		addFindings(&e.Findings, f.Findings)
	}
	for i := range m.Edges {
		slices.Sort(m.Edges[i].Protocols)
		slices.Sort(m.Edges[i].Findings.Rules)
	}
	m.place()
	return m
}

// anchoringRank orders an edge's anchoring verdicts: none, verified, not judged, then a
// side unanchored, which is what an impostor needs.
func anchoringRank(v string) int {
	switch v {
	case "":
		return 0
	case findings.AnchoringVerified:
		return 1
	case findings.AnchoringNotJudged:
		return 2
	}
	return 3
}

// unanchored reports whether an edge is mtls with a side outside the site's PKI; the map
// draws it apart (unanchoredColour, dotted) from mtls the site's anchors vouch for.
func (e Edge) unanchored() bool {
	return e.Protection == findings.ProtectionMTLS && anchoringRank(e.Anchoring) == 3
}

// unanchoredColour and unanchoredDash draw an unanchored mtls edge, and its legend.
const (
	unanchoredColour = "#9e9d24"
	unanchoredDash   = ` stroke-dasharray="2 3"`
	unanchoredLegend = "mtls: a certificate outside the site PKI"
)

// countKeys is how many nodes grouping at level makes.
func countKeys(hosts map[string]*host, level int) int {
	keys := map[string]bool{}
	for _, h := range hosts {
		keys[groupKey(h, level)] = true
	}
	return len(keys)
}

// groupKey is a host's node at a grouping level: 0 the host itself; 1 kind, maker and
// model (devices) and subnet; 2 kind, maker and model; 3 the kind alone.
func groupKey(h *host, level int) string {
	switch level {
	case 0:
		return h.addr
	case 1:
		if h.role == findings.RoleDevice {
			return h.kind + "|" + h.maker + "|" + h.model + "|" + subnet(h.addr)
		}
		return h.kind + "|" + subnet(h.addr)
	case 2:
		return h.kind + "|" + h.maker + "|" + h.model
	}
	return h.kind
}

// subnet is an address's /24 (IPv4) or /64 (IPv6), or the text itself.
func subnet(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

func roleOrder(role string) int {
	return slices.Index([]string{findings.RoleDevice, findings.RoleMiddleware, findings.RoleClinical, findings.RoleOther}, role)
}

// column is where a role's nodes stand: other hosts (workstations, infrastructure,
// unclassified) share the middle column, below the middleware.
func column(role string) int {
	switch role {
	case findings.RoleDevice:
		return 0
	case findings.RoleClinical:
		return 2
	}
	return 1
}

func nodeDetail(h *host) string {
	parts := []string{}
	if h.name != "" {
		parts = append(parts, h.addr)
	}
	if d := strings.TrimSpace(h.maker + " " + h.model); d != "" {
		parts = append(parts, d)
	} else {
		parts = append(parts, cmp.Or(h.kind, "unclassified"))
	}
	return strings.Join(parts, " · ")
}

func groupTitle(ms []*host, level int) string {
	h := ms[0]
	what := strings.TrimSpace(h.maker + " " + h.model)
	if level == 3 || what == "" || h.role != findings.RoleDevice {
		what = cmp.Or(h.kind, "unclassified")
	}
	return strconv.Itoa(len(ms)) + " × " + what
}

func groupDetail(ms []*host, level int) string {
	if level == 1 {
		return cmp.Or(ms[0].kind, "unclassified") + " · " + subnet(ms[0].addr)
	}
	nets := map[string]bool{}
	for _, h := range ms {
		nets[subnet(h.addr)] = true
	}
	return cmp.Or(ms[0].kind, "unclassified") + " · " + strconv.Itoa(len(nets)) + " subnet" + plural(len(nets))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func addFindings(to *findings.FlowFindings, f findings.FlowFindings) {
	to.Total += f.Total
	to.Critical += f.Critical
	to.High += f.High
	to.Medium += f.Medium
	to.Low += f.Low
	to.Info += f.Info
	for _, r := range f.Rules {
		if !slices.Contains(to.Rules, r) {
			to.Rules = append(to.Rules, r)
		}
	}
}

// fit truncates s to the characters a width holds at a character width, with an ellipsis.
func fit(s string, width, cw float64) string {
	n := int(width / cw)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// side is where on a node an edge leaves or arrives.
type side int

const (
	left side = iota
	right
)

// ends decides the sides an edge leaves and arrives by: towards the right when its
// target's column is right of its source's or the same, else towards the left.
func (m *Map) ends(e Edge) (out, in side) {
	a, b := m.Nodes[e.From].Column, m.Nodes[e.To].Column
	switch {
	case b > a:
		return right, left
	case b < a:
		return left, right
	}
	return right, right
}

// place sizes each node for its slots, stacks the columns, and draws each edge from a
// slot of its source to a slot of its target, where its badge sits.
func (m *Map) place() {
	type slotList struct{ out, in [2][]int }
	slots := make([]slotList, len(m.Nodes))
	for i, e := range m.Edges {
		o, in := m.ends(e)
		slots[e.From].out[o] = append(slots[e.From].out[o], i)
		slots[e.To].in[in] = append(slots[e.To].in[in], i)
	}
	var colY [3]float64
	for c := range colY {
		colY[c] = topY
	}
	otherStarted := false
	m.Width = colX0 + 2*colGap + nodeW + colX0
	for c, t := range columnTitle {
		x := colX0 + float64(c)*colGap
		m.Labels = append(m.Labels, Label{Text: t, Box: Rect{x, topY - 28, float64(utf8.RuneCountInString(t)) * charW, labelSize + 2}})
	}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		s := slots[i]
		most := max(len(s.out[left]), len(s.out[right]), len(s.in[left]), len(s.in[right]), 1)
		h := max(2*nodePad+lineH+smallSize+4, 2*nodePad+float64(most)*slotH)
		c := n.Column
		if n.Role == findings.RoleOther && !otherStarted {
			otherStarted = true
			if colY[1] > topY {
				colY[1] += nodeGap
			}
			t := "Other hosts"
			m.Labels = append(m.Labels, Label{Text: t, Box: Rect{colX0 + colGap, colY[1], float64(len(t)) * charW, labelSize + 2}})
			colY[1] += labelSize + 2 + 10
		}
		n.Box = Rect{colX0 + float64(c)*colGap, colY[c], nodeW, h}
		colY[c] += h + nodeGap
		for j, l := range n.Lines {
			size, cw := labelSize, charW
			if j > 0 {
				size, cw = smallSize, smallCharW
			}
			y := n.Box.Y + nodePad + float64(j)*lineH
			m.Labels = append(m.Labels, Label{Text: l, Box: Rect{n.Box.X + nodePad, y, float64(utf8.RuneCountInString(l)) * cw, size + 2}})
		}
	}
	m.Height = max(colY[0], colY[1], colY[2]) + 20
	// Order each side's slots by the other end's height, so that edges cross less.
	centre := func(n int) float64 { return m.Nodes[n].Box.Y + m.Nodes[n].Box.H/2 }
	slotY := func(n int, k int) float64 { return m.Nodes[n].Box.Y + nodePad + slotH*float64(k) + slotH/2 }
	outY := map[int]float64{}
	inY := map[int]float64{}
	for i := range m.Nodes {
		for sd := range 2 {
			outs := slots[i].out[sd]
			slices.SortStableFunc(outs, func(a, b int) int {
				return cmp.Or(cmp.Compare(centre(m.Edges[a].To), centre(m.Edges[b].To)), cmp.Compare(a, b))
			})
			for k, e := range outs {
				outY[e] = slotY(i, k)
			}
			ins := slots[i].in[sd]
			slices.SortStableFunc(ins, func(a, b int) int {
				return cmp.Or(cmp.Compare(centre(m.Edges[a].From), centre(m.Edges[b].From)), cmp.Compare(a, b))
			})
			for k, e := range ins {
				inY[e] = slotY(i, k)
			}
		}
	}
	for i := range m.Edges {
		e := &m.Edges[i]
		o, in := m.ends(*e)
		from, to := m.Nodes[e.From].Box, m.Nodes[e.To].Box
		x1 := from.X + from.W
		if o == left {
			x1 = from.X
		}
		// The edge ends at the outer side of its badge's slot.
		bx := to.X - gutter + (gutter-badgeW)/2
		x2 := to.X - gutter
		if in == right {
			bx = to.X + to.W + (gutter-badgeW)/2
			x2 = to.X + to.W + gutter
		}
		y1, y2 := outY[i], inY[i]
		e.Badge = Rect{bx, y2 - badgeH/2, badgeW, badgeH}
		dx := math.Max(60, math.Abs(x2-x1)/2)
		c1, c2 := x1+dx, x2-dx
		if o == left {
			c1 = x1 - dx
		}
		if in == right {
			c2 = x2 + dx
		}
		e.Path = fmt.Sprintf("M%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1f", x1, y1, c1, y1, c2, y2, x2, y2)
	}
}

// Overlaps lists the pairs of texts, badges or nodes that overlap; a readable map has none.
func (m *Map) Overlaps() []string {
	type item struct {
		what string
		box  Rect
		node int // the node a label belongs in, -1 for none
	}
	var items []item
	for i, n := range m.Nodes {
		items = append(items, item{"node " + n.ID, n.Box, i})
	}
	for _, l := range m.Labels {
		owner := -1
		for i, n := range m.Nodes {
			if inside(l.Box, n.Box) {
				owner = i
			}
		}
		items = append(items, item{"label " + strconv.Quote(l.Text), l.Box, owner})
	}
	for _, e := range m.Edges {
		items = append(items, item{"badge " + m.Nodes[e.From].ID + "->" + m.Nodes[e.To].ID, e.Badge, -1})
	}
	var out []string
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			a, b := items[i], items[j]
			// A label inside its own node is where it belongs.
			if a.box.Overlaps(b.box) && !(strings.HasPrefix(a.what, "node ") && b.node >= 0 && m.Nodes[b.node].ID == a.what[5:]) {
				out = append(out, a.what+" overlaps "+b.what)
			}
		}
	}
	return out
}

// inside reports whether a lies wholly within b.
func inside(a, b Rect) bool {
	return a.X >= b.X && a.Y >= b.Y && a.X+a.W <= b.X+b.W && a.Y+a.H <= b.Y+b.H
}

// WriteSVG writes the map; standalone adds the XML declaration a .svg file carries.
func (m *Map) WriteSVG(w io.Writer, standalone bool) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	if standalone {
		p("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	}
	p(`<svg xmlns="http://www.w3.org/2000/svg" class="flowmap" role="img" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">`+"\n",
		m.Width, m.Height, m.Width, m.Height)
	p("<title>%s</title>\n", esc(m.Title))
	p(`<rect x="0" y="0" width="%.0f" height="%.0f" fill="#ffffff"/>`+"\n", m.Width, m.Height)
	// Legend.
	p(`<text x="%.0f" y="24" font-size="16" font-weight="bold" fill="#212121">%s</text>`+"\n", colX0, esc(m.Title))
	for i, prot := range findings.FlowProtections {
		x := colX0 + float64(i%2)*colGap*1.1
		y := 44.0 + float64(i/2)*18
		dash := ""
		if prot == findings.ProtectionUnknownClientAuth {
			dash = ` stroke-dasharray="6 3"`
		}
		p(`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="3"%s/>`, x, y-4, x+28, y-4, protColour[prot], dash)
		p(`<text x="%.0f" y="%.0f" font-size="%.0f" fill="#212121">%s</text>`+"\n", x+36, y, smallSize, esc(protLegend[prot]))
	}
	// The unanchored mtls line joins the legend only on a map that has such an edge.
	if slices.ContainsFunc(m.Edges, Edge.unanchored) {
		// Right of the mtls line, the row it qualifies; the text ends inside the map.
		x, y := 800.0, 62.0
		p(`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="3"%s/>`, x, y-4, x+28, y-4, unanchoredColour, unanchoredDash)
		p(`<text x="%.0f" y="%.0f" font-size="%.0f" fill="#212121">%s</text>`+"\n", x+36, y, smallSize, esc(unanchoredLegend))
	}
	note := "badge: findings on the server port, coloured by the worst"
	if m.Grouped {
		note += "; hosts grouped by kind, model and subnet"
	}
	p(`<text x="%.0f" y="80" font-size="%.0f" fill="#616161">%s</text>`+"\n", colX0, smallSize, esc(note))
	for c, t := range columnTitle {
		p(`<text x="%.0f" y="%.0f" font-size="%.0f" font-weight="bold" fill="#37474f">%s</text>`+"\n", colX0+float64(c)*colGap, topY-16, labelSize, esc(t))
	}
	// Edges below nodes, so that a curve never hides a label.
	for _, e := range m.Edges {
		dash, colour := "", protColour[e.Protection]
		switch {
		case e.Protection == findings.ProtectionUnknownClientAuth:
			dash = ` stroke-dasharray="6 3"`
		case e.unanchored():
			dash, colour = unanchoredDash, unanchoredColour
		}
		width := 1.5 + math.Min(3, math.Log2(float64(e.Flows)))
		p(`<g><title>%s</title><path d="%s" fill="none" stroke="%s" stroke-width="%.1f" stroke-opacity="0.85"%s/></g>`+"\n",
			esc(m.edgeTitle(e)), e.Path, colour, width, dash)
	}
	for _, l := range m.Labels {
		if l.Text == "Other hosts" {
			p(`<text x="%.1f" y="%.1f" font-size="%.0f" font-weight="bold" fill="#37474f">%s</text>`+"\n", l.Box.X, l.Box.Y+labelSize, labelSize, esc(l.Text))
		}
	}
	for _, n := range m.Nodes {
		fill, stroke := "#eceff1", "#607d8b"
		switch n.Role {
		case findings.RoleDevice:
			fill, stroke = "#e3f2fd", "#1565c0"
		case findings.RoleMiddleware:
			fill, stroke = "#fff8e1", "#f9a825"
		case findings.RoleClinical:
			fill, stroke = "#e8f5e9", "#2e7d32"
		}
		p(`<g><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="%s" stroke="%s"/>`,
			esc(n.ID+" ("+cmp.Or(n.Kind, "unclassified")+")"), n.Box.X, n.Box.Y, n.Box.W, n.Box.H, fill, stroke)
		for j, l := range n.Lines {
			size, weight, colour := labelSize, ` font-weight="bold"`, "#212121"
			if j > 0 {
				size, weight, colour = smallSize, "", "#455a64"
			}
			p(`<text x="%.1f" y="%.1f" font-size="%.0f"%s fill="%s">%s</text>`, n.Box.X+nodePad, n.Box.Y+nodePad+float64(j)*lineH+size, size, weight, colour, esc(l))
		}
		p("</g>\n")
	}
	for _, e := range m.Edges {
		colour := "#9e9e9e"
		if s, ok := e.Findings.Worst(); ok && e.Findings.Total > 0 {
			colour = sevColour[s]
		}
		count := strconv.Itoa(e.Findings.Total)
		if e.Findings.Total > 999 {
			count = "999+"
		}
		b := e.Badge
		p(`<g><title>%s</title><rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="7" fill="%s"/><text x="%.1f" y="%.1f" font-size="%.0f" text-anchor="middle" fill="#ffffff">%s</text></g>`+"\n",
			esc(m.edgeTitle(e)), b.X, b.Y, b.W, b.H, colour, b.X+b.W/2, b.Y+b.H-3.5, smallSize, esc(count))
	}
	p("</svg>\n")
	return bw.Flush()
}

// edgeTitle is an edge's tooltip: its ends, protocols, protection, flows and findings.
func (m *Map) edgeTitle(e Edge) string {
	prot := e.Protection
	if e.Protection == findings.ProtectionMTLS && e.Anchoring != "" {
		prot += " " + e.Anchoring
	}
	s := fmt.Sprintf("%s → %s: %s, %s, %d flow%s, %d finding%s", m.Nodes[e.From].ID, m.Nodes[e.To].ID,
		strings.Join(e.Protocols, " "), prot, e.Flows, plural(e.Flows), e.Findings.Total, plural(e.Findings.Total))
	if len(e.Findings.Rules) > 0 {
		s += " (" + strings.Join(e.Findings.Rules, ", ") + ")"
	}
	return s
}

// esc escapes a text for XML; characters XML cannot hold become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
