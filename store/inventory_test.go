package store

import (
	"context"
	"net/netip"
	"reflect"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/inventory"
	"github.com/medscan/medscan/observe"
)

// inventorySet is a small ward: two pumps sending HL7 to an engine that forwards to an
// EHR, one pump's DHCP lease and name, and a firmware image fetched over TFTP.
func inventorySet() *observe.Set {
	s := observe.NewSet()
	ip := netip.MustParseAddr
	s.AddHost(ip("10.0.1.5"), "58:42:e4:3a:7c:11", t0)
	s.AddHost(ip("10.0.1.6"), "58:42:e4:3a:7c:52", t0)
	s.AddHost(ip("10.0.0.10"), "00:50:56:8a:10:10", t0)
	for _, c := range []string{"10.0.1.5:40000", "10.0.1.6:40000"} {
		s.AddHL7(observe.HL7Message{Flow: observe.Flow{Client: ap(c), Server: ap("10.0.0.10:6661")}, FirstSeen: t0,
			SendingApp: "PUMP", SendingFacility: "4WEST", MessageType: "ORU", TriggerEvent: "R01"})
	}
	s.AddHL7(observe.HL7Message{Flow: observe.Flow{Client: ap("10.0.0.10:50000"), Server: ap("10.0.0.20:2575")}, FirstSeen: t0,
		SendingApp: "ENGINE", MessageType: "ORU", TriggerEvent: "R01"})
	s.AddDHCP(observe.DHCPLease{MAC: "58:42:e4:3a:7c:11", Addr: ip("10.0.1.5"), Server: ip("10.0.0.2"), Hostname: "pump-0011",
		VendorClass: "Baxter Sigma Spectrum", ParamRequest: "1,3,6", Acked: true, LeaseSeconds: 28800, FirstSeen: t0})
	s.AddName(observe.HostName{Addr: ip("10.0.1.5"), MAC: "58:42:e4:3a:7c:11", Name: "pump-0011", Source: "dns", FirstSeen: t0})
	s.AddTransfer(observe.FileTransfer{Flow: observe.Flow{Client: ap("10.0.1.6:1069"), Server: ap("10.0.0.40:69")},
		FirstSeen: t0, Protocol: "tftp", Path: "fw.bin", URL: "tftp://10.0.0.40/fw.bin", Bytes: 70000,
		SHA256: "ab", Kind: "ext:.bin"})
	inventory.Classify(s, inventory.Options{})
	return s
}

func TestInventoryRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	set := inventorySet()
	id, err := save(ctx, s, testInfo(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Assets) != len(set.Assets) {
		t.Fatalf("%d assets loaded, %d classified", len(r.Assets), len(set.Assets))
	}
	for i, a := range r.Assets {
		w := set.Assets[i]
		if a.IP() != w.Addr.String() || a.Kind != w.Kind || !reflect.DeepEqual(a.Reasons, nonNil(w.Reasons)) ||
			!reflect.DeepEqual(a.Roles, nonNil(w.Roles)) || a.Manufacturer != w.Manufacturer || a.Model != w.Model {
			t.Errorf("asset %d: loaded %+v, classified %+v", i, a, w)
		}
		if a.Vendor != w.Vendor {
			t.Errorf("%s: vendor %q at load, %q classified", a.IP(), a.Vendor, w.Vendor)
		}
	}
	byIP := map[string]findings.Asset{}
	for _, a := range r.Assets {
		byIP[a.IP()] = a
	}
	pump := byIP["10.0.1.5"]
	if pump.Kind != observe.KindMedicalDevice || pump.Manufacturer != "Baxter" || pump.Model != "Baxter Sigma Spectrum" {
		t.Errorf("pump %+v", pump)
	}
	if !reflect.DeepEqual(pump.Names, []observe.AssetName{{Name: "pump-0011", Source: "dhcp"}, {Name: "pump-0011", Source: "dns"}}) {
		t.Errorf("pump names %+v", pump.Names)
	}
	if !reflect.DeepEqual(pump.DHCPVendorClass, []string{"Baxter Sigma Spectrum"}) || !reflect.DeepEqual(pump.HL7Apps, []string{"PUMP^4WEST"}) {
		t.Errorf("pump evidence %q %q", pump.DHCPVendorClass, pump.HL7Apps)
	}
	if e := byIP["10.0.0.10"]; e.Kind != observe.KindMiddleware {
		t.Errorf("engine %+v", e)
	}
	// Addresses known only from the inventory get asset rows too (the DHCP server).
	if d := byIP["10.0.0.2"]; d.Kind != observe.KindInfrastructure || !reflect.DeepEqual(d.Roles, []string{"dhcp-server"}) {
		t.Errorf("DHCP server %+v", d)
	}
	if r.Assets[0].UserAgents == nil || r.Assets[0].LeasedAddrs == nil || r.Assets[0].Names == nil {
		t.Errorf("nil lists after Load: %+v", r.Assets[0])
	}
	ip := netip.MustParseAddr
	wantNames := []findings.HostName{{Addr: ip("10.0.1.5"), MAC: "58:42:e4:3a:7c:11", Name: "pump-0011", Source: "dns",
		Count: 1, FirstSeen: t0, LastSeen: t0}}
	if !reflect.DeepEqual(r.HostNames, wantNames) {
		t.Errorf("host names %+v", r.HostNames)
	}
	wantDHCP := []findings.DHCPLease{{MAC: "58:42:e4:3a:7c:11", Addr: ip("10.0.1.5"), Server: ip("10.0.0.2"),
		Hostname: "pump-0011", VendorClass: "Baxter Sigma Spectrum", ParamRequest: "1,3,6", Acked: true,
		LeaseSeconds: 28800, Count: 1, FirstSeen: t0, LastSeen: t0}}
	if !reflect.DeepEqual(r.DHCPLeases, wantDHCP) {
		t.Errorf("dhcp %+v", r.DHCPLeases)
	}
	wantXfer := []findings.FileTransfer{{Conversation: findings.Conversation{Client: "10.0.1.6", Host: "10.0.0.40", Port: 69},
		FileTransfer: observe.FileTransfer{Protocol: "tftp", Path: "fw.bin", URL: "tftp://10.0.0.40/fw.bin", Bytes: 70000,
			SHA256: "ab", Kind: "ext:.bin", Count: 1, FirstSeen: t0, LastSeen: t0}}}
	if !reflect.DeepEqual(r.Transfers, wantXfer) {
		t.Errorf("transfers %+v", r.Transfers)
	}
}

// TestUnclassifiedScanStoresNoKind checks that a set saved without an inventory keeps
// its assets, with an empty kind and empty lists.
func TestUnclassifiedScanStoresNoKind(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	set := observe.NewSet()
	set.AddHost(netip.MustParseAddr("10.0.0.9"), "00:50:56:8a:10:10", t0)
	id, err := save(ctx, s, testInfo(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Assets) != 1 || r.Assets[0].Kind != "" || r.Assets[0].Reasons == nil || len(r.Assets[0].Reasons) != 0 {
		t.Fatalf("assets %+v", r.Assets)
	}
	if kinds, err := s.AssetKinds(ctx); err != nil || len(kinds) != 0 {
		t.Fatalf("kinds %v, %v", kinds, err)
	}
}

// TestAssetKinds checks that the latest known kind wins, and that "unknown" in a later
// scan does not erase an earlier kind.
func TestAssetKinds(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	saveKinds := func(kinds map[string]string) {
		t.Helper()
		set := observe.NewSet()
		for ip, k := range kinds {
			a := netip.MustParseAddr(ip)
			set.AddHost(a, "", t0)
			set.Assets = append(set.Assets, &observe.Asset{Addr: a, Kind: k})
		}
		if _, err := save(ctx, s, testInfo(), set, nil); err != nil {
			t.Fatal(err)
		}
	}
	saveKinds(map[string]string{"10.0.0.1": observe.KindWorkstation, "10.0.0.2": observe.KindMedicalDevice, "10.0.0.3": observe.KindUnknown})
	saveKinds(map[string]string{"10.0.0.1": observe.KindMedicalDevice, "10.0.0.2": observe.KindUnknown})
	got, err := s.AssetKinds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Addr]string{
		netip.MustParseAddr("10.0.0.1"): observe.KindMedicalDevice,
		netip.MustParseAddr("10.0.0.2"): observe.KindMedicalDevice,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kinds %v, want %v", got, want)
	}
}
