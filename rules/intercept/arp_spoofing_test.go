package intercept

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

// claim is one MAC's ARP claims to an address over a span, as the capture engine
// aggregates them.
func claim(addr, mac string, from, to time.Duration, replies, gratuitous, takeovers int) observe.ARPClaim {
	return observe.ARPClaim{Addr: netip.MustParseAddr(addr), MAC: mac, Replies: replies, Gratuitous: gratuitous,
		Takeovers: takeovers, FirstSeen: rulestest.T0.Add(from), LastSeen: rulestest.T0.Add(to)}
}

func TestARPSpoofing(t *testing.T) {
	const (
		real    = "00:16:3e:00:00:01"
		spoofer = "00:16:3e:00:00:66"
		victimM = "00:16:3e:00:00:02"
	)
	tests := []struct {
		name   string
		claims []observe.ARPClaim
		assets []*observe.Asset
		want   []string
		mac    string
	}{
		{"flip-flop while both claim fires on the later MAC", []observe.ARPClaim{
			claim("10.0.0.1", real, 0, 60*time.Second, 5, 0, 1),
			claim("10.0.0.1", spoofer, 10*time.Second, 50*time.Second, 20, 0, 2),
		}, nil, []string{"high 10.0.0.1:0"}, spoofer},
		{"a MAC claiming the middleware and another host is critical, even when seen first", []observe.ARPClaim{
			claim("10.0.0.5", spoofer, 0, 30*time.Second, 15, 0, 1),
			claim("10.0.0.5", real, 5*time.Second, 6*time.Second, 1, 0, 1),
			claim("10.0.0.7", spoofer, 0, 30*time.Second, 15, 0, 1),
			claim("10.0.0.7", victimM, 40*time.Second, 41*time.Second, 1, 0, 1),
		}, []*observe.Asset{{Addr: netip.MustParseAddr("10.0.0.5"), Kind: observe.KindMiddleware}},
			[]string{"critical 10.0.0.5:0", "high 10.0.0.7:0"}, spoofer},
		{"an address taken over for good is quiet (a replaced device)", []observe.ARPClaim{
			claim("10.0.0.9", real, 0, 10*time.Second, 3, 2, 0),
			claim("10.0.0.9", spoofer, 20*time.Second, 60*time.Second, 3, 3, 1),
		}, nil, nil, ""},
		{"one MAC per address is quiet", []observe.ARPClaim{
			claim("10.0.0.1", real, 0, 60*time.Second, 5, 3, 0),
			claim("10.0.0.2", victimM, 0, 60*time.Second, 5, 0, 0),
		}, nil, nil, ""},
		{"a router answering for several addresses no one else claims is quiet", []observe.ARPClaim{
			claim("10.0.0.1", real, 0, 60*time.Second, 5, 0, 0),
			claim("10.0.0.2", real, 0, 60*time.Second, 5, 0, 0),
			claim("10.0.0.3", real, 0, 60*time.Second, 5, 0, 0),
		}, nil, nil, ""},
		{"no ARP: not applicable", nil, nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, c := range tc.claims {
				set.AddARP(c)
			}
			set.Assets = tc.assets
			fs := rulestest.Run(t, arpSpoofing{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
			for _, f := range fs {
				if f.Subject != tc.mac || f.Evidence["suspect_mac"] != tc.mac || len(f.Evidence["macs"].([]any)) != 2 {
					t.Errorf("subject %q, evidence %v", f.Subject, f.Evidence)
				}
			}
		})
	}
}
