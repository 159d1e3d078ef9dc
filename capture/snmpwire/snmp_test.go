package snmpwire

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func tlvb(tag byte, v []byte) []byte {
	switch n := len(v); {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, v...)
	default:
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, v...)
	}
}

// message is an SNMP message of version v with community and pdu tag, carrying one
// varbind for sysDescr.0.
func message(v byte, community string, pdu byte) []byte {
	vb := tlvb(0x30, tlvb(0x30, append(tlvb(0x06, []byte{0x2b, 6, 1, 2, 1, 1, 1, 0}), 0x05, 0)))
	body := append(append(append(tlvb(0x02, []byte{0x41, 0x00}), tlvb(0x02, []byte{0})...), tlvb(0x02, []byte{0})...), vb...)
	m := append(tlvb(0x02, []byte{v}), tlvb(0x04, []byte(community))...)
	return tlvb(0x30, append(m, tlvb(pdu, body)...))
}

func TestParse(t *testing.T) {
	long := message(1, strings.Repeat("c", 300), 0xa0)
	v3 := tlvb(0x30, append(tlvb(0x02, []byte{3}), tlvb(0x30, []byte{0x02, 0x01, 0x01})...))
	tests := []struct {
		name string
		b    []byte
		ok   bool
		ver  int
		comm string
		pdu  byte
	}{
		{"v2c get", message(1, "public", 0xa0), true, 1, "public", 0xa0},
		{"v1 trap", message(0, "traps", 0xa4), true, 0, "traps", 0xa4},
		{"long form lengths", long, true, 1, strings.Repeat("c", 300), 0xa0},
		{"v3", v3, true, 3, "", 0},
		{"unknown version", message(2, "public", 0xa0), false, 0, "", 0},
		{"not a PDU after the community", tlvb(0x30, append(tlvb(0x02, []byte{1}), tlvb(0x04, []byte("x"))...)), false, 0, "", 0},
		{"length past the end", message(1, "public", 0xa0)[:10], false, 0, "", 0},
		{"not a sequence", []byte("GET / HTTP/1.1\r\n"), false, 0, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := Parse(tc.b)
			if ok != tc.ok || (ok && (m.Version != tc.ver || string(m.Community) != tc.comm || m.PDU != tc.pdu)) {
				t.Errorf("Parse = %+v, %v", m, ok)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	set := observe.NewSet()
	secrets := observe.NewSecretHasher(make([]byte, 32))
	h := New(&dissect.DatagramContext{Sink: set, Secrets: secrets})
	nms := netip.MustParseAddrPort("10.20.0.60:50123")
	dg := []struct {
		src, dst netip.AddrPort
		b        []byte
		claimed  bool
	}{
		{nms, netip.MustParseAddrPort("10.20.1.11:161"), message(1, "w4rd-Monit0r-RW-2026", 0xa0), true},
		{netip.MustParseAddrPort("10.20.1.11:161"), nms, message(1, "w4rd-Monit0r-RW-2026", 0xa2), true},
		{nms, netip.MustParseAddrPort("10.20.1.12:161"), message(1, "w4rd-Monit0r-RW-2026", 0xa0), true},
		{netip.MustParseAddrPort("10.20.1.13:40000"), netip.MustParseAddrPort("10.20.0.60:162"), message(0, "traps", 0xa4), true},
		{nms, netip.MustParseAddrPort("10.20.1.11:8080"), message(1, "public", 0xa0), false},
	}
	for i, d := range dg {
		if got := h.Datagram(d.src, d.dst, nil, d.b, t0.Add(time.Duration(i)*time.Second)); got != d.claimed {
			t.Errorf("datagram %d claimed %v", i, got)
		}
	}
	if len(set.Credentials) != 0 {
		t.Fatal("credentials reached the sink before End")
	}
	h.End(t0)
	var got []string
	for _, c := range set.Credentials {
		got = append(got, c.Flow.String()+" "+c.Kind+" "+c.Where+" "+c.Preview)
		if c.Protocol != "snmp" || c.Hash == "" {
			t.Errorf("credential %+v", c)
		}
	}
	pw, _ := secrets.Hide([]byte("w4rd-Monit0r-RW-2026"))
	tp, _ := secrets.Hide([]byte("traps"))
	want := []string{
		"10.20.0.60:50123 -> 10.20.1.11:161 snmp-community community " + pw,
		"10.20.0.60:50123 -> 10.20.1.12:161 snmp-community community " + pw,
		"10.20.0.60:162 -> 10.20.1.13:40000 snmp-community community " + tp,
	}
	if !slices.Equal(got, want) {
		t.Errorf("credentials\n%v\nwant\n%v", got, want)
	}
	if set.Credentials[0].Count != 2 || !set.Credentials[0].LastSeen.Equal(t0.Add(time.Second)) {
		t.Errorf("first credential %+v", set.Credentials[0])
	}
	for _, c := range set.Credentials {
		if strings.Contains(c.Preview, "Monit0r") || strings.Contains(c.Hash, "Monit0r") {
			t.Errorf("community in clear: %+v", c)
		}
	}
	if len(set.Services) != 1 {
		t.Errorf("services %v", set.Services)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(message(1, "public", 0xa0))
	f.Add(message(0, "traps", 0xa4))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := Parse(b)
		if ok && len(m.Community) > 0 && !bytes.Contains(b, m.Community) {
			t.Fatal("community not from the datagram")
		}
		set := observe.NewSet()
		h := New(&dissect.DatagramContext{Sink: set, Secrets: observe.NewSecretHasher(make([]byte, 32))})
		h.Datagram(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:161"), nil, b, t0)
		h.End(t0)
	})
}
