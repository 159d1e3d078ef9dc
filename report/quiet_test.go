package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// TestQuietHosts checks that every format says the quiet hosts were seen: JSON and CSV
// list each with what it sent, the table and the HTML page count them (a sweep has too
// many to list), and the inventory document carries them when every kind is asked for.
func TestQuietHosts(t *testing.T) {
	r := empty()
	r.Assets = []findings.Asset{{Asset: observe.Asset{Addr: netip.MustParseAddr("10.0.0.5"), Kind: observe.KindClinicalServer,
		Reasons: []string{"DICOM SCP"}, FirstSeen: t0, LastSeen: t0}}}
	r.QuietHosts = []findings.QuietHost{
		{Addr: netip.MustParseAddr("172.16.0.1"), MACs: []string{"00:00:0c:07:ac:14"}, FirstSeen: t0, LastSeen: t0, Packets: 2, Bytes: 66},
		{Addr: netip.MustParseAddr("172.16.0.2"), FirstSeen: t0, LastSeen: t0},
	}
	r.Normalize()

	var doc struct {
		Quiet []map[string]any `json:"quiet_hosts"`
	}
	if err := json.Unmarshal(render(t, "json", Options{}, r), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Quiet) != 2 || doc.Quiet[0]["ip"] != "172.16.0.1" || doc.Quiet[0]["packets"] != 2.0 || doc.Quiet[0]["bytes"] != 66.0 ||
		doc.Quiet[1]["macs"] != nil {
		t.Errorf("JSON quiet_hosts = %v", doc.Quiet)
	}

	rows, err := csv.NewReader(bytes.NewReader(render(t, "csv-assets", Options{}, r))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var quiet []string
	for _, row := range rows[1:] {
		if row[len(row)-5] == quietKind {
			quiet = append(quiet, row[0]+" "+row[1]+" "+row[len(row)-1])
		}
	}
	want := []string{"172.16.0.1 00:00:0c:07:ac:14 a quiet host: sent 2 packets, 66 bytes; seen doing nothing else",
		"172.16.0.2  a quiet host: sent 0 packets, 0 bytes; seen doing nothing else"}
	if strings.Join(quiet, "\n") != strings.Join(want, "\n") {
		t.Errorf("CSV quiet rows = %q, want %q", quiet, want)
	}

	const line = "Quiet hosts: 2 more addresses seen doing nothing else"
	if out := string(render(t, "table", Options{}, r)); !strings.Contains(out, line) {
		t.Errorf("table lacks %q:\n%s", line, out)
	}
	if out := string(render(t, "html", Options{}, r)); !strings.Contains(out, "2 more addresses seen doing nothing else") {
		t.Errorf("HTML page does not count the quiet hosts")
	}
	inv := findings.NewInventory(r, "")
	if len(inv.QuietHosts) != 2 {
		t.Errorf("inventory of every kind has %d quiet hosts, want 2", len(inv.QuietHosts))
	}
	if inv := findings.NewInventory(r, observe.KindClinicalServer); len(inv.QuietHosts) != 0 {
		t.Errorf("inventory of one kind has %d quiet hosts, want none", len(inv.QuietHosts))
	}
	w, err := Inventory.New("table", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, inv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), line) {
		t.Errorf("inventory table lacks %q:\n%s", line, b.String())
	}
}
