package store

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
	"github.com/medscan/medscan/observe"
)

// TestSaveAsStoredIsLoad holds SaveAsStored to its promise: the document it leaves is,
// byte for byte in JSON and in every field a writer reads, what Load reads back, in the
// cases where the store holds more than the document: findings widened by an earlier
// scan, a fingerprint reported twice (the most severe kept), a certificate whose facts
// only an earlier scan had, times in another zone, an IPv4-mapped peer, evidence of Go
// types that JSON does not keep (a struct, a []string, a uint64), and an asset without
// an address.
func TestSaveAsStoredIsLoad(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		build func(t *testing.T, s *Store) *findings.Report
	}{
		{"every observation", func(t *testing.T, s *Store) *findings.Report {
			info := testInfo()
			info.Rules = []string{"tls-weak-cipher", "cleartext-hl7", "tls-weak-cipher"}
			return findings.NewReport(info, everySet(), testFindings())
		}},
		{"what the store adds", func(t *testing.T, s *Store) *findings.Report {
			// An earlier scan saw the same findings earlier and later, and examined a
			// certificate this one did not.
			early := testFindings()
			for i := range early {
				early[i].Time = t0.Add(-48 * time.Hour)
			}
			mustSave(t, s, testInfo(), fullSet(), early)
			late := testFindings()
			for i := range late {
				late[i].Time = t0.Add(48 * time.Hour)
			}
			mustSave(t, s, testInfo(), fullSet(), late)
			set := fullSet()
			set.Certificates[certRef(leafDER)].Facts = nil
			zone := time.FixedZone("CET", 3600)
			set.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ap("[::ffff:10.0.0.30]:5000"), Server: ap("10.0.0.31:443")},
				FirstSeen: t0.In(zone), Source: observe.SourcePassive, SawServerHello: true, Version: 0x0303},
				[][]byte{[]byte("another certificate")}, nil)
			fs := testFindings()
			dup := fs[0]
			dup.Severity, dup.Message = findings.Critical, "RC4 and worse"
			fs = append(fs, dup, fs[1]) // the most severe of a repeat wins; a tie keeps the first
			fs[2].Time = fs[2].Time.In(zone)
			fs[3].Evidence = map[string]any{"hosts": []string{"10.0.0.1", "10.0.0.2"}, "n": uint64(1) << 62,
				"pair": struct {
					B string `json:"b"`
					A int    `json:"a"`
				}{"x", 1}}
			info := testInfo()
			info.Started = info.Started.In(zone)
			r := findings.NewReport(info, set, fs)
			r.Assets = append(r.Assets, findings.Asset{}) // no address: never stored
			return r
		}},
		{"dense", func(t *testing.T, s *Store) *findings.Report { return densescan.Report(4) }},
		{"quiet hosts over several rows", func(t *testing.T, s *Store) *findings.Report {
			set := fullSet()
			for a, h := range set.Hosts {
				set.Assets = append(set.Assets, &observe.Asset{Addr: a, MACs: h.MACs, FirstSeen: h.FirstSeen,
					LastSeen: h.LastSeen, Kind: observe.KindUnknown})
			}
			zone := time.FixedZone("CET", 3600)
			n := 2*quietHostsPerRow + 3
			for i := range n {
				a := netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)})
				set.AddHost(a, "00:00:0c:07:ac:14", t0.Add(time.Duration(i)*time.Millisecond).In(zone))
				set.AddHostTraffic(a, 1, 33, t0)
			}
			set.AddHost(netip.MustParseAddr("fd00::1"), "", t0) // only sent to: no MAC, nothing sent
			r := findings.NewReport(testInfo(), set, testFindings())
			if len(r.QuietHosts) != n+1 {
				t.Fatalf("%d quiet hosts, want %d", len(r.QuietHosts), n+1)
			}
			return r
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTemp(t)
			r := tc.build(t, s)
			id, err := s.SaveAsStored(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := s.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Scan.ID != id || len(r.Findings) == 0 {
				t.Fatalf("scan %d with %d findings; want scan %d", r.Scan.ID, len(r.Findings), id)
			}
			g, _ := json.Marshal(r)
			w, _ := json.Marshal(loaded)
			if string(g) != string(w) {
				t.Errorf("SaveAsStored left\n%s\nLoad read\n%s", g, w)
			}
			// What JSON leaves out but a writer may read.
			for i := range loaded.Certificates {
				gc, wc := r.Certificates[i], loaded.Certificates[i]
				if gc.DER != nil {
					t.Errorf("certificate %s keeps its DER", gc.SHA256)
				}
				for j := range wc.SeenOn {
					if gs, ws := gc.SeenOn[j], wc.SeenOn[j]; gs.Endpoint != ws.Endpoint || gs.Time != ws.Time {
						t.Errorf("certificate %s sighting %d: %v at %v; Load: %v at %v", gc.SHA256, j, gs.Endpoint, gs.Time,
							ws.Endpoint, ws.Time)
					}
				}
			}
			for i := range loaded.Findings {
				gf, wf := r.Findings[i], loaded.Findings[i]
				if gf.Time != wf.Time || gf.FirstSeen != wf.FirstSeen || gf.LastSeen != wf.LastSeen {
					t.Errorf("finding %s times differ: %v %v %v; Load: %v %v %v", gf.Fingerprint, gf.Time, gf.FirstSeen,
						gf.LastSeen, wf.Time, wf.FirstSeen, wf.LastSeen)
				}
			}
			if r.Scan.Started != loaded.Scan.Started || r.Scan.ToolVersion != loaded.Scan.ToolVersion {
				t.Errorf("scan %v %q; Load: %v %q", r.Scan.Started, r.Scan.ToolVersion, loaded.Scan.Started, loaded.Scan.ToolVersion)
			}
		})
	}
}

// TestSaveAsStoredFailureLeavesDocument: a save that fails stores nothing and leaves the
// document as given, for the caller to render from memory.
func TestSaveAsStoredFailureLeavesDocument(t *testing.T) {
	s, _ := openTemp(t)
	r := findings.NewReport(testInfo(), fullSet(), testFindings())
	before, _ := json.Marshal(r)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.SaveAsStored(ctx, r); err == nil {
		t.Fatal("a save under a cancelled context succeeded")
	}
	after, _ := json.Marshal(r)
	if string(before) != string(after) {
		t.Errorf("a failed save changed the document")
	}
	if scans, err := s.Scans(context.Background()); err != nil || len(scans) != 0 {
		t.Errorf("scans after a failed save: %v, %v", scans, err)
	}
}
