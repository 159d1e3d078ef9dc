package dhcpwire

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

var pumpMAC = [6]byte{0x58, 0x42, 0xe4, 0x3a, 0x7c, 0x11}

// msg builds a BOOTP message with the given options (code, value pairs, End appended).
func msg(op byte, mac [6]byte, ciaddr, yiaddr string, opts ...[]byte) []byte {
	b := make([]byte, 240)
	b[0], b[1], b[2] = op, 1, 6
	binary.BigEndian.PutUint32(b[4:], 0x3903f326)
	if ciaddr != "" {
		a := netip.MustParseAddr(ciaddr).As4()
		copy(b[12:], a[:])
	}
	if yiaddr != "" {
		a := netip.MustParseAddr(yiaddr).As4()
		copy(b[16:], a[:])
	}
	copy(b[28:], mac[:])
	binary.BigEndian.PutUint32(b[236:], cookie)
	for _, o := range opts {
		b = append(b, o...)
	}
	return append(b, optEnd)
}

func opt(code byte, v ...byte) []byte { return append([]byte{code, byte(len(v))}, v...) }
func optS(code byte, s string) []byte { return opt(code, []byte(s)...) }
func ip4(s string) []byte             { a := netip.MustParseAddr(s).As4(); return a[:] }

func TestParse(t *testing.T) {
	overload := msg(1, pumpMAC, "", "", opt(optMsgType, Request), opt(optOverload, 3))
	copy(overload[108:], append(optS(optHostname, "PUMP-ICU-02"), optEnd))
	copy(overload[44:], append(optS(optVendor, "WardMed"), optEnd))
	tests := []struct {
		name string
		b    []byte
		ok   bool
		want Message
	}{
		{"request", msg(1, pumpMAC, "", "", opt(optMsgType, Request), opt(optReqAddr, ip4("10.20.1.11")...),
			opt(optServerID, ip4("10.20.0.2")...), optS(optHostname, "PUMP-ICU-01\x00"), optS(optVendor, "WardMed Infusion IP-7000"),
			opt(optParams, 1, 3, 6, 15, 42)), true,
			Message{Op: 1, Type: Request, MAC: pumpMAC, HasMAC: true, RequestedIP: netip.MustParseAddr("10.20.1.11"),
				ServerID: netip.MustParseAddr("10.20.0.2"), Hostname: "PUMP-ICU-01", VendorClass: "WardMed Infusion IP-7000",
				ParamRequest: "1,3,6,15,42"}},
		{"ack with padding", msg(2, pumpMAC, "", "10.20.1.11", []byte{0, 0, 0}, opt(optMsgType, Ack), opt(optLease, 0, 0, 0x70, 0x80)), true,
			Message{Op: 2, Type: Ack, MAC: pumpMAC, HasMAC: true, YIAddr: netip.MustParseAddr("10.20.1.11"), LeaseSeconds: 28800}},
		{"overloaded file and sname", overload, true,
			Message{Op: 1, Type: Request, MAC: pumpMAC, HasMAC: true, Hostname: "PUMP-ICU-02", VendorClass: "WardMed"}},
		{"lying option length keeps what came before", append(msg(1, pumpMAC, "", "", opt(optMsgType, Discover))[:243], 12, 200, 'x'), true,
			Message{Op: 1, Type: Discover, MAC: pumpMAC, HasMAC: true}},
		{"wrong cookie", func() []byte { b := msg(1, pumpMAC, "", ""); b[236] = 0; return b }(), false, Message{}},
		{"short", make([]byte, 100), false, Message{}},
		{"bad op", func() []byte { b := msg(1, pumpMAC, "", ""); b[0] = 7; return b }(), false, Message{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := Parse(tc.b)
			if ok != tc.ok || (ok && m != tc.want) {
				t.Errorf("Parse = %+v, %v\nwant  %+v, %v", m, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	set := observe.NewSet()
	h := New(&dissect.DatagramContext{Sink: set})
	client := netip.MustParseAddrPort("0.0.0.0:68")
	bcast := netip.MustParseAddrPort("255.255.255.255:67")
	server := netip.MustParseAddrPort("10.20.0.2:67")
	pump := netip.MustParseAddrPort("10.20.1.11:68")
	req := msg(1, pumpMAC, "", "", opt(optMsgType, Request), opt(optReqAddr, ip4("10.20.1.11")...),
		optS(optHostname, "PUMP-ICU-01"), optS(optVendor, "WardMed Infusion IP-7000"), opt(optParams, 1, 3, 6))
	ack := msg(2, pumpMAC, "", "10.20.1.11", opt(optMsgType, Ack), opt(optServerID, ip4("10.20.0.2")...), opt(optLease, 0, 0, 0x0e, 0x10))
	if h.Datagram(netip.MustParseAddrPort("10.20.1.11:5353"), netip.MustParseAddrPort("224.0.0.251:5353"), nil, req, t0) {
		t.Error("claimed a datagram on another port")
	}
	if !h.Datagram(client, bcast, nil, req, t0) || !h.Datagram(server, pump, nil, ack, t0.Add(time.Millisecond)) {
		t.Fatal("DHCP not claimed")
	}
	h.End(t0.Add(time.Second))
	if len(set.DHCP) != 1 {
		t.Fatalf("leases %+v", set.DHCP)
	}
	l := set.DHCP[0]
	want := observe.DHCPLease{MAC: "58:42:e4:3a:7c:11", Addr: netip.MustParseAddr("10.20.1.11"), Server: netip.MustParseAddr("10.20.0.2"),
		Hostname: "PUMP-ICU-01", VendorClass: "WardMed Infusion IP-7000", ParamRequest: "1,3,6", Acked: true, LeaseSeconds: 3600,
		FirstSeen: t0, LastSeen: t0.Add(time.Millisecond), Count: 2}
	if *l != want {
		t.Errorf("lease %+v\nwant  %+v", *l, want)
	}
	if len(set.Names) != 1 || set.Names[0].Name != "PUMP-ICU-01" || set.Names[0].Source != "dhcp" || set.Names[0].MAC != l.MAC ||
		set.Names[0].Count != 2 {
		t.Errorf("names %+v", set.Names)
	}
	if len(set.Services) != 1 {
		t.Errorf("services %v", set.Services)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(msg(1, pumpMAC, "", "", opt(optMsgType, Request), optS(optHostname, "PUMP"), opt(optOverload, 3)))
	f.Add(msg(2, pumpMAC, "10.0.0.1", "10.0.0.2", opt(optMsgType, Ack), opt(optParams, 1, 2)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := Parse(b)
		if !ok {
			return
		}
		if len(m.Hostname) > maxText || len(m.VendorClass) > maxText {
			t.Fatalf("text option longer than the cap: %d %d", len(m.Hostname), len(m.VendorClass))
		}
		set := observe.NewSet()
		h := New(&dissect.DatagramContext{Sink: set})
		h.Datagram(netip.MustParseAddrPort("10.0.0.2:67"), netip.MustParseAddrPort("10.0.0.3:68"), nil, b, t0)
		h.End(t0)
	})
}

// TestTextCap checks the cap on kept text options when invalid bytes are replaced: each
// replacement takes three bytes where the byte took one (found by FuzzParse).
func TestTextCap(t *testing.T) {
	for _, in := range [][]byte{bytes.Repeat([]byte{0xb7}, 255), append(bytes.Repeat([]byte("a"), 254), 0xed, 0x9d),
		append(bytes.Repeat([]byte{0xff}, 300), 0, 0)} {
		got := text(in)
		if len(got) > maxText || !utf8.ValidString(got) {
			t.Errorf("text(%d bytes) kept %d bytes, valid UTF-8 %v", len(in), len(got), utf8.ValidString(got))
		}
	}
	if got := text([]byte("PUMP-ICU-01\x00")); got != "PUMP-ICU-01" {
		t.Errorf("text = %q", got)
	}
}

// TestReplies checks the server replies recorded for dhcp-rogue: who answered which
// client, with which address, gateway and DNS server; requests record none.
func TestReplies(t *testing.T) {
	set := observe.NewSet()
	h := New(&dissect.DatagramContext{Sink: set})
	bcast := netip.MustParseAddrPort("255.255.255.255:68")
	req := msg(1, pumpMAC, "", "", opt(optMsgType, Discover))
	offer := msg(2, pumpMAC, "", "10.20.1.11", opt(optMsgType, Offer), opt(optServerID, ip4("10.20.0.2")...),
		opt(optRouter, append(ip4("10.20.0.1"), ip4("10.20.0.254")...)...), opt(optDNS, ip4("10.20.0.3")...))
	rogue := msg(2, pumpMAC, "", "192.168.99.10", opt(optMsgType, Offer), opt(optRouter, ip4("192.168.99.1")...),
		opt(optDNS, 1, 2, 3)) // no server identifier: the source address; a DNS option of bad length is ignored
	nak := msg(2, pumpMAC, "", "", opt(optMsgType, Nak), opt(optServerID, ip4("10.20.0.2")...))
	h.Datagram(netip.MustParseAddrPort("0.0.0.0:68"), netip.MustParseAddrPort("255.255.255.255:67"), nil, req, t0)
	h.Datagram(netip.MustParseAddrPort("10.20.0.2:67"), bcast, nil, offer, t0)
	h.Datagram(netip.MustParseAddrPort("192.168.99.1:67"), bcast, nil, rogue, t0.Add(time.Millisecond))
	h.Datagram(netip.MustParseAddrPort("10.20.0.2:67"), bcast, nil, nak, t0.Add(2*time.Millisecond))
	h.End(t0)
	want := []string{
		"10.20.0.2 58:42:e4:3a:7c:11 offer 10.20.1.11 10.20.0.1 10.20.0.3",
		"192.168.99.1 58:42:e4:3a:7c:11 offer 192.168.99.10 192.168.99.1 invalid IP",
		"10.20.0.2 58:42:e4:3a:7c:11 nak invalid IP invalid IP invalid IP",
	}
	if len(set.DHCPReplies) != len(want) {
		t.Fatalf("replies = %d, want %d", len(set.DHCPReplies), len(want))
	}
	for i, r := range set.DHCPReplies {
		got := strings.Join([]string{r.Server.String(), r.ClientMAC, r.Type, r.Offered.String(), r.Router.String(), r.DNS.String()}, " ")
		if got != want[i] {
			t.Errorf("reply %d = %q, want %q", i, got, want[i])
		}
	}
}
