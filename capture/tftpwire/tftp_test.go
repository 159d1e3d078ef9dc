package tftpwire

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func rrq(op byte, file, mode string, opts ...string) []byte {
	b := append([]byte{0, op}, file...)
	b = append(append(b, 0), mode...)
	b = append(b, 0)
	for _, o := range opts {
		b = append(append(b, o...), 0)
	}
	return b
}

func dataPkt(blk uint16, p []byte) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{0, opDATA}, blk), p...)
}

func ackPkt(blk uint16) []byte { return binary.BigEndian.AppendUint16([]byte{0, opACK}, blk) }

func elfImage(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	copy(b, "\x7fELF\x02\x01\x01")
	return b
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		ok   bool
		want Request
	}{
		{"read", rrq(opRRQ, "fw/pump.img", "octet"), true, Request{Filename: "fw/pump.img", Mode: "octet"}},
		{"write with blksize", rrq(opWRQ, "cfg.bin", "OCTET", "blksize", "1428", "tsize", "0"), true,
			Request{Write: true, Filename: "cfg.bin", Mode: "octet", BlkSize: 1428}},
		{"absurd blksize ignored", rrq(opRRQ, "a", "netascii", "blksize", "99999999"), true, Request{Filename: "a", Mode: "netascii"}},
		{"unknown mode", rrq(opRRQ, "a", "binary"), false, Request{}},
		{"no terminator", []byte{0, 1, 'a', 'b'}, false, Request{}},
		{"empty name", rrq(opRRQ, "", "octet"), false, Request{}},
		{"data is not a request", dataPkt(1, []byte("x")), false, Request{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := ParseRequest(tc.b)
			if ok != tc.ok || r != tc.want {
				t.Errorf("ParseRequest = %+v, %v", r, ok)
			}
		})
	}
}

type dg struct {
	src, dst netip.AddrPort
	b        []byte
}

var (
	pump   = netip.MustParseAddrPort("10.20.1.11:50001")
	srv69  = netip.MustParseAddrPort("10.20.0.60:69")
	srvTID = netip.MustParseAddrPort("10.20.0.60:60002")
)

// fetch is a read of data in blocks of size bs, every block acknowledged; dup repeats a
// block, skip leaves one out.
func fetch(data []byte, bs int, dup, skip int, opts ...string) []dg {
	out := []dg{{pump, srv69, rrq(opRRQ, "fw/pump-fw", "octet", opts...)}}
	if bs != 512 {
		out = append(out, dg{srvTID, pump, append([]byte{0, opOACK}, "blksize\x00"+itoa(bs)+"\x00"...)}, dg{pump, srvTID, ackPkt(0)})
	}
	for blk := 1; ; blk++ {
		n := min(bs, len(data)-(blk-1)*bs)
		p := dataPkt(uint16(blk), data[(blk-1)*bs:(blk-1)*bs+n])
		if blk != skip {
			out = append(out, dg{srvTID, pump, p})
		}
		if blk == dup {
			out = append(out, dg{srvTID, pump, p})
		}
		out = append(out, dg{pump, srvTID, ackPkt(uint16(blk))})
		if n < bs {
			return out
		}
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func run(dgs []dg) *observe.Set {
	set := observe.NewSet()
	h := New(&dissect.DatagramContext{Sink: set})
	for i, d := range dgs {
		h.Datagram(d.src, d.dst, nil, d.b, t0.Add(time.Duration(i)*time.Millisecond))
	}
	h.End(t0.Add(time.Hour))
	return set
}

func TestTransfer(t *testing.T) {
	img := elfImage(70000)
	sum := sha256.Sum256(img)
	digest := hex.EncodeToString(sum[:])
	tests := []struct {
		name    string
		dgs     []dg
		sha     string
		bytes   int64
		partial bool
	}{
		{"in order", fetch(img, 512, 0, 0), digest, 70000, false},
		{"a retransmitted block is hashed once", fetch(img, 512, 9, 0), digest, 70000, false},
		{"negotiated block size", fetch(img, 1428, 0, 0, "blksize", "1428"), digest, 70000, false},
		{"a lost block makes it partial", fetch(img, 512, 0, 30), "", 70000 - 512, true},
		{"cut short: partial at End", fetch(img, 512, 0, 0)[:40], "", 20 * 512, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := run(tc.dgs)
			if len(set.Transfers) != 1 {
				t.Fatalf("transfers %+v", set.Transfers)
			}
			x := set.Transfers[0]
			if x.SHA256 != tc.sha || x.Bytes != tc.bytes || x.Partial != tc.partial || x.Kind != "elf" ||
				x.URL != "tftp://10.20.0.60/fw/pump-fw" || x.Protocol != "tftp" || x.Upload || x.Flow.Client != pump ||
				x.Flow.Server != srv69 {
				t.Errorf("transfer %+v", x)
			}
			if len(set.Services) != 1 {
				t.Errorf("services %v", set.Services)
			}
		})
	}
}

func TestWriteAndStrangers(t *testing.T) {
	cfg := []byte("not an image, a config file of some length")
	dgs := []dg{
		{pump, srv69, rrq(opWRQ, "pump.cfg", "octet")},
		{srvTID, pump, ackPkt(0)},
		{pump, srvTID, dataPkt(1, cfg)},
		{srvTID, pump, ackPkt(1)},
		// A DATA from a host that was asked nothing is not TFTP.
		{netip.MustParseAddrPort("10.9.9.9:4000"), netip.MustParseAddrPort("10.9.9.8:4001"), dataPkt(1, []byte("x"))},
	}
	set := observe.NewSet()
	h := New(&dissect.DatagramContext{Sink: set})
	for i, d := range dgs {
		if got := h.Datagram(d.src, d.dst, nil, d.b, t0.Add(time.Duration(i)*time.Millisecond)); got != (i < 4) {
			t.Errorf("datagram %d claimed %v", i, got)
		}
	}
	h.End(t0)
	sum := sha256.Sum256(cfg)
	if len(set.Transfers) != 1 || !set.Transfers[0].Upload || set.Transfers[0].Kind != "" ||
		set.Transfers[0].SHA256 != hex.EncodeToString(sum[:]) || set.Transfers[0].Bytes != int64(len(cfg)) {
		t.Errorf("transfers %+v", set.Transfers)
	}
}

func TestBounded(t *testing.T) {
	set := observe.NewSet()
	h := New(&dissect.DatagramContext{Sink: set}).(*handler)
	for i := range MaxRequests + 50 {
		c := netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), uint16(1000+i))
		h.Datagram(c, srv69, nil, rrq(opRRQ, "f", "octet"), t0)
	}
	if len(h.reqs) != MaxRequests {
		t.Errorf("%d requests held", len(h.reqs))
	}
	// Unanswered requests expire on the capture clock.
	h.Datagram(pump, srv69, nil, rrq(opRRQ, "f", "octet"), t0.Add(IdleTimeout+2*time.Second))
	if len(h.reqs) != 1 {
		t.Errorf("%d requests after expiry", len(h.reqs))
	}
}

func FuzzDatagram(f *testing.F) {
	f.Add(rrq(opRRQ, "fw.bin", "octet", "blksize", "1024"), dataPkt(1, []byte("abc")), []byte{0, opOACK, 'b', 0})
	f.Fuzz(func(t *testing.T, req, a, b []byte) {
		ParseRequest(req)
		set := observe.NewSet()
		h := New(&dissect.DatagramContext{Sink: set})
		h.Datagram(pump, srv69, nil, req, t0)
		h.Datagram(srvTID, pump, nil, a, t0)
		h.Datagram(pump, srvTID, nil, b, t0)
		h.Datagram(srvTID, pump, nil, b, t0)
		h.End(t0)
	})
}
