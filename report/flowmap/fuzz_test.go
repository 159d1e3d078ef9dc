package flowmap_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/report/flowmap"
)

// FuzzSVG feeds the map names, models, protocols and rule ids as they could come from
// the wire (a DHCP host name, a certificate subject) and requires well-formed XML with
// no element but the map's own, whatever the text.
func FuzzSVG(f *testing.F) {
	for _, s := range []string{"", "pump-01", `<script>alert(1)</script>`, "]]><x/>", "a\x00b\x1b[31m", "\xff\xfe", "&amp;&#0;", "×…é"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, name, model, proto string) {
		assets := []findings.Asset{
			{Asset: observe.Asset{Addr: netip.MustParseAddr("10.0.0.1"), Kind: observe.KindMedicalDevice, Model: model,
				Names: []observe.AssetName{{Name: name}}}},
			{Asset: observe.Asset{Addr: netip.MustParseAddr("10.0.0.2"), Kind: observe.KindMiddleware, Manufacturer: name}},
		}
		flows := []findings.Flow{{Client: "10.0.0.1", Host: "10.0.0.2", Port: 2575, ClientKind: observe.KindMedicalDevice,
			ServerKind: observe.KindMiddleware, Protocol: proto, Protection: findings.ProtectionClear,
			Findings: findings.FlowFindings{Total: 1, High: 1, Rules: []string{proto}}}}
		var b bytes.Buffer
		if err := flowmap.SVG(&b, flows, assets, flowmap.Options{Standalone: true, Title: name}); err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(&b)
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not well-formed: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok && !strings.Contains(" svg title rect text line path g ", " "+se.Name.Local+" ") {
				t.Fatalf("element %s", se.Name.Local)
			}
		}
	})
}
