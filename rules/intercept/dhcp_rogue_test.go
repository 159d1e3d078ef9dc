package intercept

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func reply(server, client, typ, offered, router string, at time.Duration) observe.DHCPReply {
	r := observe.DHCPReply{Server: netip.MustParseAddr(server), ClientMAC: client, Type: typ, Count: 1,
		FirstSeen: rulestest.T0.Add(at), LastSeen: rulestest.T0.Add(at)}
	if offered != "" {
		r.Offered = netip.MustParseAddr(offered)
	}
	if router != "" {
		r.Router = netip.MustParseAddr(router)
	}
	return r
}

func TestDHCPRogue(t *testing.T) {
	const a, b, c = "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:0c"
	tests := []struct {
		name    string
		replies []observe.DHCPReply
		want    []string
	}{
		{"a second server answering the same client fires on it", []observe.DHCPReply{
			reply("10.0.0.2", a, observe.DHCPOffer, "10.0.0.50", "10.0.0.1", 0),
			reply("10.0.0.2", a, observe.DHCPAck, "10.0.0.50", "10.0.0.1", time.Second),
			reply("10.0.0.2", b, observe.DHCPAck, "10.0.0.51", "10.0.0.1", time.Second),
			reply("10.0.0.66", a, observe.DHCPOffer, "192.168.99.10", "10.0.0.66", 0),
		}, []string{"high 10.0.0.66:0"}},
		{"servers linked through different clients are one segment", []observe.DHCPReply{
			reply("10.0.0.2", a, observe.DHCPAck, "10.0.0.50", "", 0),
			reply("10.0.0.2", b, observe.DHCPAck, "10.0.0.51", "", 0),
			reply("10.0.0.3", b, observe.DHCPNak, "", "", 0),
			reply("10.0.0.3", c, observe.DHCPOffer, "10.0.0.52", "", 0),
			reply("10.0.0.4", c, observe.DHCPOffer, "10.0.0.53", "", 0),
		}, []string{"high 10.0.0.3:0", "high 10.0.0.4:0"}},
		{"one server per segment (a trunk of two VLANs) is quiet", []observe.DHCPReply{
			reply("10.0.0.2", a, observe.DHCPAck, "10.0.0.50", "10.0.0.1", 0),
			reply("10.1.0.2", b, observe.DHCPAck, "10.1.0.50", "10.1.0.1", 0),
		}, nil},
		{"one server is quiet", []observe.DHCPReply{
			reply("10.0.0.2", a, observe.DHCPOffer, "10.0.0.50", "10.0.0.1", 0),
			reply("10.0.0.2", a, observe.DHCPAck, "10.0.0.50", "10.0.0.1", time.Second),
		}, nil},
		{"no DHCP: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, r := range tc.replies {
				set.AddDHCPReply(r)
			}
			fs := rulestest.Run(t, dhcpRogue{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, fs)
			}
			for _, f := range fs {
				if f.Evidence["segment_server"] != "10.0.0.2" || len(f.Evidence["servers"].([]any)) < 2 {
					t.Errorf("evidence %v", f.Evidence)
				}
			}
			if len(fs) > 0 && tc.name[0] == 'a' && !strings.Contains(fs[0].Message, "gateway 10.0.0.66") {
				t.Errorf("message %q does not name the gateway handed out", fs[0].Message)
			}
		})
	}
}
