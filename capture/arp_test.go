package capture

import (
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// arpFrame builds an Ethernet ARP frame: op 1 (request) or 2 (reply), the sender's MAC
// and address, and the target address.
func arpFrame(op byte, mac [6]byte, sender, target string) []byte {
	b := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac[:]...)
	b = append(b, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, op)
	s, t := netip.MustParseAddr(sender).As4(), netip.MustParseAddr(target).As4()
	b = append(b, mac[:]...)
	b = append(b, s[:]...)
	b = append(b, make([]byte, 6)...)
	return append(b, t[:]...)
}

func TestARPClaims(t *testing.T) {
	real := [6]byte{2, 0, 0, 0, 0, 1}
	spoof := [6]byte{2, 0, 0, 0, 0, 0x66}
	set := observe.NewSet()
	e := NewEngine(Config{}, set)
	at := func(s int) time.Time { return time.Unix(1700000000+int64(s), 0) }
	e.Packet(LinkEthernet, arpFrame(1, real, "10.0.0.1", "10.0.0.7"), at(0))  // a request: the gateway asks
	e.Packet(LinkEthernet, arpFrame(2, spoof, "10.0.0.1", "10.0.0.7"), at(1)) // the spoofer's lie
	e.Checkpoint()                                                            // a takeover is counted once across checkpoints
	e.Packet(LinkEthernet, arpFrame(2, spoof, "10.0.0.1", "10.0.0.7"), at(2))
	e.Packet(LinkEthernet, arpFrame(2, real, "10.0.0.1", "10.0.0.7"), at(3))  // the owner answers again: a flip
	e.Packet(LinkEthernet, arpFrame(2, real, "10.0.0.1", "10.0.0.1"), at(4))  // an announcement
	e.Packet(LinkEthernet, arpFrame(1, spoof, "0.0.0.0", "10.0.0.1"), at(5))  // an ARP probe claims nothing
	e.Packet(LinkEthernet, arpFrame(3, spoof, "10.0.0.1", "10.0.0.7"), at(6)) // RARP-style op: not ARP's
	e.Finish()
	got := map[string]observe.ARPClaim{}
	for _, c := range set.ARP {
		got[c.Addr.String()+" "+c.MAC] = *c
	}
	if len(got) != 2 {
		t.Fatalf("claims = %v", got)
	}
	r, s := got["10.0.0.1 02:00:00:00:00:01"], got["10.0.0.1 02:00:00:00:00:66"]
	if r.Requests != 1 || r.Replies != 1 || r.Gratuitous != 1 || r.Takeovers != 1 || !r.FirstSeen.Equal(at(0)) || !r.LastSeen.Equal(at(4)) {
		t.Errorf("owner's claim = %+v", r)
	}
	if s.Replies != 2 || s.Takeovers != 1 || !s.FirstSeen.Equal(at(1)) || !s.LastSeen.Equal(at(2)) {
		t.Errorf("spoofer's claim = %+v", s)
	}
}

// TestARPCaps checks that the claim and binding tables stop at their caps and count
// what they leave out.
func TestARPCaps(t *testing.T) {
	set := observe.NewSet()
	e := NewEngine(Config{}, set)
	for i := range maxARPClaims + 5 {
		mac := [6]byte{2, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
		e.Packet(LinkEthernet, arpFrame(2, mac, a, a), time.Unix(1700000000, 0))
	}
	e.Finish()
	if len(set.ARP) != maxARPClaims {
		t.Errorf("claims kept = %d, want %d", len(set.ARP), maxARPClaims)
	}
	if c := counterValue(set, "arp_claims_not_tracked"); c != 5 {
		t.Errorf("arp_claims_not_tracked = %d, want 5", c)
	}
}

// FuzzParseARP checks that any bytes parse without panicking, and that what parses is
// what the bytes say.
func FuzzParseARP(f *testing.F) {
	f.Add(arpFrame(1, [6]byte{2, 0, 0, 0, 0, 1}, "10.0.0.1", "10.0.0.7")[14:])
	f.Add(arpFrame(2, [6]byte{2, 0, 0, 0, 0, 1}, "10.0.0.1", "10.0.0.1")[14:])
	f.Add([]byte{0, 1, 8, 0, 6, 4, 0, 1})
	f.Add(make([]byte, 28))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := parseARP(b)
		if !ok {
			return
		}
		if len(b) < 28 || (p.op != 1 && p.op != 2) {
			t.Fatalf("accepted %x as op %d", b, p.op)
		}
		if [6]byte(b[8:14]) != p.senderMAC || [4]byte(b[14:18]) != p.senderIP || [4]byte(b[24:28]) != p.targetIP ||
			p.gratuitous != (p.senderIP == p.targetIP) {
			t.Fatalf("parsed %x as %+v", b, p)
		}
	})
}
