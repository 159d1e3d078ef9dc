package flowmap_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/report/flowmap"
)

// network makes a synthetic network of devices hosts talking to engines, which talk to
// servers, with a workstation talking to every device: the shapes the map must keep
// readable.
func network(devices, engines, servers int) ([]findings.Flow, []findings.Asset) {
	var flows []findings.Flow
	var assets []findings.Asset
	asset := func(ip, kind, maker, model, name string) {
		a := findings.Asset{Asset: observe.Asset{Addr: netip.MustParseAddr(ip), Kind: kind, Manufacturer: maker, Model: model}}
		if name != "" {
			a.Names = []observe.AssetName{{Name: name, Source: "dhcp"}}
		}
		assets = append(assets, a)
	}
	prots := findings.FlowProtections
	flow := func(c, ck, s, sk string, port int, i int) {
		flows = append(flows, findings.Flow{Client: c, Host: s, Port: port, ClientKind: ck, ServerKind: sk,
			ClientRole: findings.NodeRole(ck), ServerRole: findings.NodeRole(sk), Protocol: "hl7-mllp",
			Protection: prots[i%len(prots)], Findings: findings.FlowFindings{Total: i % 4, High: i % 4, Rules: []string{"cleartext-hl7"}}})
	}
	for e := range engines {
		asset(fmt.Sprintf("10.1.0.%d", e+1), observe.KindMiddleware, "", "", fmt.Sprintf("engine-%d.example", e))
	}
	for s := range servers {
		asset(fmt.Sprintf("10.2.0.%d", s+1), observe.KindClinicalServer, "", "", "")
		for e := range engines {
			flow(fmt.Sprintf("10.1.0.%d", e+1), observe.KindMiddleware, fmt.Sprintf("10.2.0.%d", s+1), observe.KindClinicalServer, 443, s+e)
		}
	}
	ws := "10.3.0.1"
	asset(ws, observe.KindWorkstation, "", "", "")
	for d := range devices {
		ip := fmt.Sprintf("10.%d.%d.%d", 10+d/500, d/250%2, d%250+1)
		asset(ip, observe.KindMedicalDevice, "Acme Medical Devices International", fmt.Sprintf("Infusion-Pump-Model-%d <b>&", d%3), "")
		flow(ip, observe.KindMedicalDevice, fmt.Sprintf("10.1.0.%d", d%max(engines, 1)+1), observe.KindMiddleware, 6661, d)
		flow(ws, observe.KindWorkstation, ip, observe.KindMedicalDevice, 443, d)
	}
	return flows, assets
}

// TestNoOverlapAt50 lays out a 50-node network and checks that no label, node or badge
// overlaps another, and that it is drawn host by host.
func TestNoOverlapAt50(t *testing.T) {
	for _, shape := range [][3]int{{40, 4, 5}, {10, 1, 1}, {1, 0, 0}, {45, 2, 2}} {
		flows, assets := network(shape[0], shape[1], shape[2])
		m := flowmap.Layout(flows, assets, flowmap.Options{})
		if m.Grouped {
			t.Errorf("%v: %d nodes grouped", shape, len(m.Nodes))
		}
		if o := m.Overlaps(); len(o) > 0 {
			t.Errorf("%v: %d overlaps, first: %s", shape, len(o), o[0])
		}
		for _, n := range m.Nodes {
			if n.Box.X < 0 || n.Box.Y < 0 || n.Box.X+n.Box.W > m.Width || n.Box.Y+n.Box.H > m.Height {
				t.Errorf("%v: node %s outside the map: %+v", shape, n.ID, n.Box)
			}
		}
		for _, e := range m.Edges {
			if e.Badge.X < 0 || e.Badge.X+e.Badge.W > m.Width {
				t.Errorf("%v: badge outside the map: %+v", shape, e.Badge)
			}
		}
	}
}

// TestGroupsBeyondMax checks that a large network is drawn as groups with counts, within
// the node limit and still without overlaps, and that every host is in one group.
func TestGroupsBeyondMax(t *testing.T) {
	flows, assets := network(600, 3, 4)
	m := flowmap.Layout(flows, assets, flowmap.Options{})
	if !m.Grouped || len(m.Nodes) > flowmap.DefaultMaxNodes {
		t.Fatalf("grouped %v, %d nodes", m.Grouped, len(m.Nodes))
	}
	members := 0
	for _, n := range m.Nodes {
		members += n.Members
	}
	if members != len(assets) {
		t.Errorf("groups hold %d hosts, want %d", members, len(assets))
	}
	if o := m.Overlaps(); len(o) > 0 {
		t.Errorf("%d overlaps, first: %s", len(o), o[0])
	}
	var b bytes.Buffer
	if err := flowmap.SVG(&b, flows, assets, flowmap.Options{}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`>\d+ × Acme Medical Devices`).Match(b.Bytes()) {
		t.Errorf("no group of devices with its count in the map")
	}
}

// TestSafeSVG checks the map is well-formed XML with nothing active or external in it,
// and that text from the wire is escaped.
func TestSafeSVG(t *testing.T) {
	flows, assets := network(5, 1, 1)
	assets[0].Names[0].Name = `<script>alert(1)</script>" onload="x`
	var b bytes.Buffer
	if err := flowmap.SVG(&b, flows, assets, flowmap.Options{Standalone: true}); err != nil {
		t.Fatal(err)
	}
	checkSafe(t, b.Bytes())
	if !strings.Contains(b.String(), "&lt;script&gt;") {
		t.Errorf("the hostile name is not escaped")
	}
}

// checkSafe parses an SVG and fails on any element or attribute that could run code,
// load something or carry a style the report's CSP would block.
func checkSafe(t *testing.T, svg []byte) {
	t.Helper()
	allowed := map[string]bool{"svg": true, "title": true, "rect": true, "text": true, "line": true, "path": true, "g": true}
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if !allowed[se.Name.Local] {
				t.Errorf("element %s", se.Name.Local)
			}
			for _, a := range se.Attr {
				n := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(n, "on") || n == "style" || n == "href" || strings.Contains(strings.ToLower(a.Value), "url(") {
					t.Errorf("attribute %s=%q on %s", a.Name.Local, a.Value, se.Name.Local)
				}
			}
		}
	}
}
