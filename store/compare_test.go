package store

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// TestCoverageKinds: what a later scan's coverage (newSeen) makes of the certificates and
// the observation kinds Compare reads (coverageKinds) is what it makes of the scan loaded
// whole, on a scan that stores every kind: a kind newSeen reads that coverageKinds lacks
// would judge fixed what the whole scan judges not assessed.
func TestCoverageKinds(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	set := fullSet()
	// The kinds fullSet has not.
	set.AddARP(observe.ARPClaim{Addr: netip.MustParseAddr("10.0.0.1"), MAC: "00:11:22:33:44:66", Replies: 2, FirstSeen: t0})
	set.AddDHCPReply(observe.DHCPReply{Server: netip.MustParseAddr("10.0.0.2"), ClientMAC: "00:11:22:33:44:77",
		Type: "DHCPAck", Offered: netip.MustParseAddr("10.0.0.77"), Count: 1, FirstSeen: t0})
	set.AddGreeting(observe.StartTLSGreeting{Flow: observe.Flow{Client: ap("10.0.0.20:50010"), Server: ap("10.0.0.25:25")},
		Protocol: "smtp", Offered: true, Outcome: observe.StartTLSClear, Count: 1, FirstSeen: t0})
	set.AddUpdate(observe.UpdateImage{Name: "pump.bin", Dir: "/fw", Origin: "10.0.0.26", Size: 10, SHA256: "ab",
		Format: "elf"})
	set.AddProbe(observe.ProbeEndpoint{Server: ap("10.0.0.27:443"), Time: t0, Outcome: observe.ProbeTLS, Protocol: "tls",
		Connections: 1})
	set.AddTransfer(observe.FileTransfer{Flow: observe.Flow{Client: ap("10.0.0.20:50011"), Server: ap("10.0.0.28:69")},
		Protocol: "tftp", Path: "fw.bin", Bytes: 10, Kind: "elf", Count: 1, FirstSeen: t0})
	id := mustSave(t, s, testInfo(), set, testFindings())
	whole, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	some, err := s.loadWith(ctx, id, func(l *loader) ([]func(*findings.Report) error, error) {
		l.onlyKinds = coverageKinds
		return []func(*findings.Report) error{l.scanInfo, func(r *findings.Report) error {
			r.Flows = []findings.Flow{}
			return l.someLists(r, true, false)
		}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := newSeen(some), newSeen(whole); !reflect.DeepEqual(got, want) {
		t.Errorf("coverage of the kinds Compare reads:\n%+v\nwant that of the whole scan:\n%+v", got, want)
	}
	// The scan is not too thin to tell: it has every kind coverageKinds names.
	var stored []string
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT kind FROM observations WHERE scan_id = ?", id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, k)
	}
	for _, k := range coverageKinds {
		if !slices.Contains(stored, k) {
			t.Errorf("the test scan stores no %s observation", k)
		}
	}
	if len(whole.Certificates) == 0 {
		t.Error("the test scan has no certificate")
	}
}
