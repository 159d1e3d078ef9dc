package store

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// TestLoadNamesVendors checks that Load names each asset's manufacturer from its first
// MAC, with the ward fixture's real vendor prefixes.
func TestLoadNamesVendors(t *testing.T) {
	s, _ := openTemp(t)
	set := observe.NewSet()
	hosts := []struct{ ip, mac, vendor string }{
		{"10.20.0.1", "00:00:0c:07:ac:14", "Cisco Systems, Inc"},
		{"10.20.0.10", "00:50:56:8a:10:10", "VMware, Inc."},
		{"10.20.1.11", "58:42:e4:3a:7c:11", "Baxter International Inc"},
		{"10.20.1.21", "00:09:fb:5d:a2:21", "Philips Patient Monitoring"},
		{"10.20.2.5", "44:4b:5d:12:c0:05", "GE Healthcare"},
		{"10.20.3.99", "02:42:0a:14:03:63", "(locally administered)"},
		{"10.20.3.100", "", ""},
	}
	for _, h := range hosts {
		set.AddHost(netip.MustParseAddr(h.ip), h.mac, t0)
	}
	// A second interface on the pump's address: the vendor is MAC's, the first of MACs.
	set.AddHost(netip.MustParseAddr("10.20.1.11"), "f8:bc:12:6a:03:10", t0.Add(time.Second))
	id, err := save(context.Background(), s, testInfo(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]findings.Asset{}
	for _, a := range r.Assets {
		got[a.IP()] = a
	}
	for _, h := range hosts {
		a, ok := got[h.ip]
		if !ok {
			t.Errorf("no asset %s", h.ip)
			continue
		}
		if a.Vendor != h.vendor {
			t.Errorf("asset %s (MAC %q): vendor %q, want %q", h.ip, a.MAC, a.Vendor, h.vendor)
		}
	}
	if a := got["10.20.1.11"]; len(a.MACs) != 2 || a.MAC != "58:42:e4:3a:7c:11" {
		t.Errorf("pump asset MACs %q, first %q: the test no longer checks the first MAC's vendor", a.MACs, a.MAC)
	}
	// The vendor is derived at load, from the registry this medscan carries, not kept:
	// a vendor written into the store is replaced by the registry's.
	stale := `UPDATE scan_assets SET data = json_set(data, '$.vendor', 'Stale Vendor Ltd') WHERE scan_id = ?`
	if onPostgres() {
		stale = `UPDATE scan_assets SET data = jsonb_set(data::jsonb, '{vendor}', '"Stale Vendor Ltd"')::text WHERE scan_id = ?`
	}
	if _, err := s.db.Exec(stale, id); err != nil {
		t.Fatal(err)
	}
	r, err = s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range r.Assets {
		if a.Vendor == "Stale Vendor Ltd" {
			t.Errorf("asset %s keeps the stored vendor", a.IP())
		}
	}
}
