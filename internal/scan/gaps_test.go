package scan

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/probe"
)

// TestGapProblems checks the problem each cause of an unassessed target gives.
func TestGapProblems(t *testing.T) {
	h := netip.MustParseAddr("127.0.0.1")
	cfg := probe.Config{Profile: probe.ProfileThorough, MaxConnsPerHost: 30}
	cases := []struct {
		name string
		st   probe.Stats
		want []string
	}{
		{"complete", probe.Stats{Planned: 1, Probed: 1, Reached: 1}, nil},
		{"all excluded", probe.Stats{}, []string{"probe: all targets excluded: nothing was probed"}},
		{"none answered", probe.Stats{Planned: 2, Probed: 2},
			[]string{"probe: no target answered (2 host(s) probed, every connection failed): nothing was assessed"}},
		{"backed off", probe.Stats{Planned: 1, Probed: 1, Reached: 1, Gaps: []probe.Gap{{Addr: h, Ports: []uint16{443, 8443},
			Cause: probe.ErrBackedOff, Failures: 3, FailureKinds: map[string]int{observe.FailureTimeout: 2, observe.FailureSilent: 1}}}},
			[]string{"127.0.0.1: backed off after 3 failure(s) (2 timeouts, 1 silent port): ports 443, 8443 not assessed"}},
		{"capped", probe.Stats{Planned: 1, Probed: 1, Reached: 1, Gaps: []probe.Gap{{Addr: h, Name: "pacs.example", Ports: []uint16{2762},
			Cause: probe.ErrConnCap}}},
			[]string{"pacs.example (127.0.0.1): reached its connection cap (--max-conns-per-host 30): port 2762 not assessed"}},
		{"checks cut", probe.Stats{Planned: 1, Probed: 1, Reached: 1, Gaps: []probe.Gap{{Addr: h, Port: 443,
			Checks: []string{"renegotiation", "tickets"}, Cause: probe.ErrConnCap}}, GapsNotKept: 4},
			[]string{"127.0.0.1:443: the thorough checks were cut by --max-conns-per-host 30 (renegotiation, tickets not assessed)",
				"probe: 4 more host(s) or port(s) not fully assessed"}},
	}
	for _, c := range cases {
		var got []string
		for _, p := range gapProblems(c.st, cfg) {
			if p.Fatal || p.Offset != -1 {
				t.Errorf("%s: problem %+v: want not fatal, no offset", c.name, p)
			}
			got = append(got, fmt.Sprint(p.Error()))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}
