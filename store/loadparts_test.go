package store_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/store"
)

// TestLoadPartsAsLoad: each list LoadParts reads is what Load gives (derived fields
// included: a service's TLS version comes from the sessions read with it), the lists it
// was not asked for are empty, and a scan stored without flows has them computed from
// the whole scan, as Load does.
func TestLoadPartsAsLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a capture")
	}
	ctx := context.Background()
	s, err := store.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := scan.Run(ctx, s, scan.Options{Pcaps: []string{filepath.Join("..", "fixtures", "ward.pcapng")},
		Label: "4-west", ToolVersion: "test", Clock: func() time.Time { return densescan.T0 }})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := s.Load(ctx, res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if len(whole.Services) == 0 || len(whole.Flows) == 0 || len(whole.Assets) == 0 || len(whole.Findings) == 0 {
		t.Fatalf("the ward scan has %d services, %d flows, %d assets, %d findings", len(whole.Services),
			len(whole.Flows), len(whole.Assets), len(whole.Findings))
	}
	withTLS := 0
	for _, sv := range whole.Services {
		if sv.TLSVersion != "" {
			withTLS++
		}
	}
	if withTLS == 0 {
		t.Fatal("no service of the ward scan has a TLS version: the derived field is not tested")
	}
	// An older store's scan: no flows were recorded with it.
	old := *whole
	old.Flows = nil
	old.Scan.UID, old.Scan.ID = "", 0 // another scan, not the same one stored again
	oldID, err := s.Save(ctx, &old)
	if err != nil {
		t.Fatal(err)
	}

	// What PartFindingPlaces reads of a finding: what a flow counts.
	type place struct {
		Rule     string
		Severity findings.Severity
		Host     string
		Port     int
	}
	lists := func(r *findings.Report) map[store.Part]any {
		places := []place{}
		for _, f := range r.Findings {
			places = append(places, place{f.Rule, f.Severity, f.Host, f.Port})
		}
		return map[store.Part]any{
			store.PartFindings: r.Findings, store.PartCertificates: r.Certificates, store.PartAssets: r.Assets,
			store.PartServices: r.Services, store.PartQuietHosts: r.QuietHosts, store.PartFlows: r.Flows,
			store.PartFindingPlaces: places,
		}
	}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name  string
		id    int64
		parts []store.Part
	}{
		{"inventory", res.ScanID, []store.Part{store.PartAssets, store.PartServices, store.PartQuietHosts}},
		{"flow map", res.ScanID, []store.Part{store.PartFlows, store.PartFindings, store.PartAssets}},
		{"certificates", res.ScanID, []store.Part{store.PartCertificates}},
		{"flow map of a scan stored without flows", oldID, []store.Part{store.PartFlows, store.PartFindings, store.PartAssets}},
		{"flow map by the findings' places", res.ScanID, []store.Part{store.PartFlows, store.PartFindingPlaces, store.PartAssets}},
		{"flow map by the findings' places, stored without flows", oldID,
			[]store.Part{store.PartFlows, store.PartFindingPlaces, store.PartAssets}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			part, err := s.LoadParts(ctx, tc.id, tc.parts...)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.Load(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if js(part.Scan) != js(want.Scan) {
				t.Errorf("scan %+v, want %+v", part.Scan, want.Scan)
			}
			got, all := lists(part), lists(want)
			asked := map[store.Part]bool{}
			for _, p := range tc.parts {
				asked[p] = true
				if js(got[p]) != js(all[p]) {
					t.Errorf("part %d differs from Load's:\n got %.300s\nwant %.300s", p, js(got[p]), js(all[p]))
				}
			}
			// The places are the findings', compared as places above.
			if asked[store.PartFindingPlaces] {
				asked[store.PartFindings] = true
			}
			if asked[store.PartFindings] {
				asked[store.PartFindingPlaces] = true
			}
			if asked[store.PartFlows] {
				if m, w := findings.NewFlowMap(part), findings.NewFlowMap(want); js(m) != js(w) {
					t.Errorf("flow map differs from Load's:\n got %.300s\nwant %.300s", js(m), js(w))
				}
			}
			for p, v := range got {
				if !asked[p] && tc.id != oldID && js(v) != "[]" && js(v) != "null" {
					t.Errorf("part %d not asked for, read: %.200s", p, js(v))
				}
			}
			if len(part.HTTP) != 0 && tc.id != oldID {
				t.Errorf("HTTP requests read, not asked for")
			}
		})
	}
}
