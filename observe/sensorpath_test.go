package observe

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestSensorPaths checks the tunnel facts of a Set: paths per host bounded and sorted,
// endpoints marked, sensor paths merged by path (packets added, times widened) and the
// ERSPAN sessions counted once each, across Merge as within one Set.
func TestSensorPaths(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	inner, outer := netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("192.0.2.1")
	a, b := NewSet(), NewSet()
	a.AddHostVia(inner, "VXLAN VNI 1 192.0.2.1↔192.0.2.2", t0)
	b.AddHostVia(inner, "ERSPAN session 7 from 10.1.1.1 to 10.9.9.9", t0.Add(time.Minute))
	b.AddHostVia(inner, "VXLAN VNI 1 192.0.2.1↔192.0.2.2", t0)
	b.AddTunnelEndpoint(outer, t0)
	for i, s := range []*Set{a, b} {
		s.AddSensorPath(SensorPath{Path: "ERSPAN session 7 from 10.1.1.1 to 10.9.9.9", Encap: "erspan-ii", Session: 7,
			Packets: 2, FirstSeen: t0.Add(time.Duration(i) * time.Hour), LastSeen: t0.Add(time.Duration(i) * time.Hour)})
	}
	b.AddSensorPath(SensorPath{Path: "ERSPAN session 7 from 10.1.1.2 to 10.9.9.9", Encap: "erspan-ii", Session: 7, Packets: 1})
	b.AddSensorPath(SensorPath{Path: "ERSPAN type III session 9 from 10.1.1.2 to 10.9.9.9", Encap: "erspan-iii", Session: 9, Packets: 1})
	b.AddSensorPath(SensorPath{Path: "VXLAN VNI 1 192.0.2.1↔192.0.2.2", Encap: "vxlan", Session: -1, Packets: 4})
	a.Merge(b)

	h := a.Hosts[inner]
	if h == nil || !slices.Equal(h.SeenVia, []string{"ERSPAN session 7 from 10.1.1.1 to 10.9.9.9", "VXLAN VNI 1 192.0.2.1↔192.0.2.2"}) ||
		h.TunnelEndpoint || !h.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Errorf("inner host %+v", h)
	}
	if o := a.Hosts[outer]; o == nil || !o.TunnelEndpoint || len(o.SeenVia) != 0 {
		t.Errorf("outer host %+v", o)
	}
	p := a.SensorPaths["ERSPAN session 7 from 10.1.1.1 to 10.9.9.9"]
	if p == nil || p.Packets != 4 || !p.FirstSeen.Equal(t0) || !p.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Errorf("merged path %+v", p)
	}
	if n := a.ERSPANSessions(); n != 2 {
		t.Errorf("ERSPAN sessions = %d, want 2 (7 from two switches is one session ID, and 9)", n)
	}

	// Bounds: a host keeps MaxHostSensorPaths paths, the rest counted.
	c := NewSet()
	for i := range MaxHostSensorPaths + 3 {
		c.AddHostVia(inner, fmt.Sprintf("GRE key %d 192.0.2.1↔192.0.2.2", i), t0)
	}
	if got := len(c.Hosts[inner].SeenVia); got != MaxHostSensorPaths {
		t.Errorf("%d paths kept, want %d", got, MaxHostSensorPaths)
	}
	if got := counterOf(c, sensorPathsNotKept); got != 3 {
		t.Errorf("%s = %d, want 3", sensorPathsNotKept, got)
	}
}

func counterOf(s *Set, name string) uint64 {
	for _, c := range s.Counters {
		if c.Name == name {
			return c.Value
		}
	}
	return 0
}
