package dissect

import (
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

func TestServiceLog(t *testing.T) {
	set := observe.NewSet()
	ctx := &DatagramContext{Sink: set, Source: observe.SourcePassive}
	var l ServiceLog
	a := netip.MustParseAddrPort("10.0.0.2:53")
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	l.Seen(ctx, "dns", a, t0.Add(time.Second))
	l.Seen(ctx, "dns", a, t0)
	l.Seen(ctx, "dns", a, t0.Add(2*time.Second))
	if len(set.Services) != 0 {
		t.Fatal("services reached the sink before Flush")
	}
	l.Flush(ctx, "dns")
	if len(set.Services) != 1 {
		t.Fatalf("services %v", set.Services)
	}
	for _, s := range set.Services {
		if s.Transport != "udp" || s.Protocol != "dns" || s.Server != a || !s.FirstSeen.Equal(t0) || !s.LastSeen.Equal(t0.Add(2*time.Second)) {
			t.Errorf("service %+v", s)
		}
	}
	// Past the cap, servers go to the sink at once.
	for i := range MaxServices + 2 {
		l.Seen(ctx, "dns", netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 53), t0)
	}
	if len(set.Services) != 3 {
		t.Errorf("%d services in the sink before Flush, want the 2 over the cap and the first", len(set.Services))
	}
	l.Flush(ctx, "dns")
	if len(set.Services) != MaxServices+3 {
		t.Errorf("%d services after Flush", len(set.Services))
	}
}
