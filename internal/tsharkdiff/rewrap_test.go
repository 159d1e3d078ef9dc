package tsharkdiff

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
)

// This file covers every encapsulation medscan opens whatever the running kernel can
// make: real traffic (OpenSSL's TLS over IPv4, curl's HTTP Basic over IPv6) is captured
// in the clear on the underlay of two namespaces, and each captured frame is then put
// inside each tunnel's headers by the code below, the way a switch, a VTEP or a mobile
// gateway would, into one capture per encapsulation. tshark's facts on the clear
// capture are the oracle; tshark must also decode the same handshakes inside each
// rewrapped capture (so the headers made here are what the standards say), compared
// without addresses, which this package's tshark reader takes from the IPv6 layer
// when there is one, the outer layer of IPv4 inside IPv6.
// It covers what the kernel cannot make here or at all: ERSPAN type I, GTP-U (a
// daemon's, not a link's), Geneve with options, GRE with checksum and sequence number.

// rewrap is one encapsulation applied to captured frames.
type rewrap struct {
	name  string
	encap []string // the sensor paths' encapsulations medscan must report
	wrap  func(frame []byte, fromA bool) []byte
}

var (
	rwA4, rwB4 = netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
	rwA6, rwB6 = netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:1::2")
	rwMACA     = []byte{0x02, 0x42, 0, 0, 0, 0x01}
	rwMACB     = []byte{0x02, 0x42, 0, 0, 0, 0x02}
)

var rewraps = []rewrap{
	{"gre-checksum-key-seq", []string{"gre"}, func(f []byte, a bool) []byte {
		g := append(greHdr(0xb000, etherTypeOf(f), 5, 1), f[14:]...)
		binary.BigEndian.PutUint16(g[4:], checksum(g, 0)) // RFC 2784: over the GRE header and payload
		return outerIP(a, false, 47, g)
	}},
	{"gretap", []string{"gre"}, func(f []byte, a bool) []byte {
		return outerIP(a, false, 47, append(greHdr(0x2000, 0x6558, 6, 0), f...))
	}},
	{"erspan-i", []string{"erspan-i"}, func(f []byte, a bool) []byte {
		return outerIP(true, false, 47, append(greHdr(0, 0x88be, 0, 0), f...))
	}},
	{"erspan-ii", []string{"erspan-ii"}, func(f []byte, a bool) []byte {
		h := append(greHdr(0x1000, 0x88be, 0, 1), 0x10, 0x00, 0x00, 0x07, 0, 0, 0, 0) // session 7
		return outerIP(true, false, 47, append(h, f...))
	}},
	{"erspan-iii-subheader-over-ipv6", []string{"erspan-iii"}, func(f []byte, a bool) []byte {
		h := append(greHdr(0x1000, 0x22eb, 0, 1), 0x20, 0x00, 0x00, 0x09, 0, 0, 0, 1, 0, 0, 0, 1) // session 9, O set
		h = append(h, 3<<2, 0, 0, 0, 0, 0, 0, 0)                                                  // platform ID 3 subheader
		return outerIP(true, true, 47, append(h, f...))
	}},
	{"vxlan-over-ipv6", []string{"vxlan"}, func(f []byte, a bool) []byte {
		return outerIP(a, true, 17, udpHdr(a, true, 40001, 4789, append([]byte{0x08, 0, 0, 0, 0, 0, 100, 0}, f...)))
	}},
	{"geneve-options", []string{"geneve"}, func(f []byte, a bool) []byte {
		h := []byte{0x02, 0, 0x65, 0x58, 0, 0, 200, 0, 0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xdd} // one option, 2 words
		return outerIP(a, false, 17, udpHdr(a, false, 40002, 6081, append(h, f...)))
	}},
	{"gtp-u-extension", []string{"gtp-u"}, func(f []byte, a bool) []byte {
		p := f[14:]
		h := []byte{0x36, 0xff, 0, 0, 0, 0, 0x12, 0x34, 0, 7, 0, 0x85, 1, 0x10, 9, 0} // E and S, PDU session container
		binary.BigEndian.PutUint16(h[2:], uint16(8+len(p)))
		return outerIP(a, false, 17, udpHdr(a, false, 2152, 2152, append(h, p...)))
	}},
	{"ip-in-ipv4", []string{"ipip", "6in4"}, func(f []byte, a bool) []byte {
		proto := byte(4)
		if f[14]>>4 == 6 {
			proto = 41
		}
		return outerIP(a, false, proto, f[14:])
	}},
	{"ip-in-ipv6", []string{"4in6", "6in6"}, func(f []byte, a bool) []byte {
		proto := byte(4)
		if f[14]>>4 == 6 {
			proto = 41
		}
		return outerIP(a, true, proto, f[14:])
	}},
}

func TestRewrappedTunnelsAgainstTshark(t *testing.T) {
	tools, u, m := newTunnelBench(t)
	dir := t.TempDir()
	clearPath := filepath.Join(dir, "clear.pcap")
	captureClear(t, tools, u, m, dir, clearPath)
	tsClear := runTshark(t, tools.tshark, clearPath, true)
	if len(tsClear.Handshakes) == 0 || len(tsClear.Auth) == 0 {
		t.Fatalf("tshark saw %d handshakes and %d authorizations in the clear capture", len(tsClear.Handshakes), len(tsClear.Auth))
	}
	frames, err := readPcap(clearPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, rw := range rewraps {
		t.Run(rw.name, func(t *testing.T) {
			path := filepath.Join(dir, rw.name+".pcap")
			var out []pcapFrame
			for _, f := range frames {
				if len(f.data) < 34 || binary.BigEndian.Uint16(f.data[12:]) != 0x0800 && binary.BigEndian.Uint16(f.data[12:]) != 0x86dd {
					continue // ARP, neighbour discovery in its own EtherType: not IP
				}
				out = append(out, pcapFrame{ts: f.ts, data: rw.wrap(f.data, fromA(f.data))})
			}
			if err := os.WriteFile(path, writePcap(out), 0o600); err != nil {
				t.Fatal(err)
			}
			testproc.Keep(t, os.Getenv("MEDSCAN_DIFF_KEEP"), ".pcap", writePcap(out))
			ts := runTshark(t, tools.tshark, path, true)
			for _, h := range tsClear.Handshakes {
				if !slices.ContainsFunc(ts.Handshakes, func(o tsHandshake) bool { return hostless(o) == hostless(h) }) {
					t.Errorf("tshark does not read the handshake %+v inside %s: %+v", h, rw.name, ts.Handshakes)
				}
			}
			if len(ts.Auth) != len(tsClear.Auth) {
				t.Errorf("tshark reads %d authorizations inside %s, %d in the clear", len(ts.Auth), rw.name, len(tsClear.Auth))
			}
			ms := diffLive(t, path, tsClear)
			for _, enc := range rw.encap {
				if !slices.ContainsFunc(ms.SensorPaths, func(p msSensorPath) bool { return p.Encap == enc && p.Packets > 0 }) {
					t.Errorf("no %s sensor path: %+v", enc, ms.SensorPaths)
				}
			}
			wantFindings(t, ms, "192.0.2.2", 4433, []string{"tls-no-forward-secrecy", "cert-self-signed"})
			wantFindings(t, ms, "2001:db8::2", 8080, []string{"cleartext-credentials"})
		})
	}
}

// captureClear records, on the underlay, a TLS 1.2 session without forward secrecy
// over IPv4 and an HTTP request with Basic credentials over IPv6, in the clear.
func captureClear(t *testing.T, tools tunnelTools, u *underlay, m *material, dir, path string) {
	t.Helper()
	wrapper := filepath.Join(dir, "tcpdump")
	script := "#!/bin/sh\nexec " + tools.ip + " netns exec " + u.b + " " + tools.tcpdump + ` "$@"` + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	file := &liveCapture{path: path}
	file.c = testproc.StartCapture(t, wrapper, "under0", "tcp", path, envRequire)
	hp := net.JoinHostPort("192.0.2.2", "4433")
	srv := testproc.StartHoldingStdin(t, tools.ip, "netns", "exec", u.b, tools.openssl, "s_server", "-accept", hp,
		"-cert", filepath.Join(m.dir, "rsa2048.crt"), "-key", filepath.Join(m.dir, "rsa2048.key"),
		"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0", "-naccept", "1")
	srv.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)
	inNS(t, tools.ip, u.a, tools.openssl, "s_client", "-connect", hp, "-servername", "name.example",
		"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0")
	srv.WaitExit(5 * time.Second)
	web := testproc.Start(t, tools.ip, "netns", "exec", u.b, tools.python, "-u", "-m", "http.server", "8080",
		"--bind", "2001:db8::2", "--directory", dir)
	web.WaitFor(t, "stdout", "Serving HTTP", 15*time.Second)
	inNS(t, tools.ip, u.a, tools.curl, "-sS", "--max-time", "8", "--noproxy", "*", "-o", "/dev/null",
		"-u", "nurse:Winter2024!", "http://[2001:db8::2]:8080/api/v1/patients")
	web.Kill()
	file.stop(t)
}

// hostless is a handshake's key without its addresses: where an IPv6 outer header
// carries IPv4, this package's tshark reader takes the IPv6 addresses for the packet's
// (it prefers ipv6.src to ip.src), so the rewrapped reading is compared on the rest.
func hostless(h tsHandshake) string {
	h.Client, h.Host = "", ""
	return h.key()
}

// fromA reports whether a captured frame was sent by namespace a (192.0.2.1, 2001:db8::1).
func fromA(f []byte) bool {
	if f[14]>>4 == 4 {
		return f[14+15] == 1
	}
	return f[14+8+15] == 1
}

func etherTypeOf(f []byte) uint16 { return binary.BigEndian.Uint16(f[12:]) }

// greHdr is a GRE header: flags (checksum 0x8000, key 0x2000, sequence 0x1000) and
// protocol, with the fields they announce.
func greHdr(flags, proto uint16, key, seq uint32) []byte {
	b := binary.BigEndian.AppendUint16(nil, flags)
	b = binary.BigEndian.AppendUint16(b, proto)
	if flags&0x8000 != 0 {
		b = append(b, 0, 0, 0, 0) // checksum (filled in by the caller, over the payload too) and reserved
	}
	if flags&0x2000 != 0 {
		b = binary.BigEndian.AppendUint32(b, key)
	}
	if flags&0x1000 != 0 {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	return b
}

// udpHdr is a UDP header with its checksum over the outer addresses.
func udpHdr(fromA, v6 bool, sp, dp uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(append(b, 0, 0), payload...)
	src, dst := outerPair(fromA, v6)
	var sum uint32
	for _, a := range [][]byte{src.AsSlice(), dst.AsSlice()} {
		for i := 0; i < len(a); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(a[i:]))
		}
	}
	sum += 17 + uint32(len(b))
	c := checksum(b, sum)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func outerPair(fromA, v6 bool) (netip.Addr, netip.Addr) {
	a, b := rwA4, rwB4
	if v6 {
		a, b = rwA6, rwB6
	}
	if fromA {
		return a, b
	}
	return b, a
}

// outerIP puts payload in an outer IPv4 or IPv6 header and Ethernet.
func outerIP(fromA, v6 bool, proto byte, payload []byte) []byte {
	src, dst := outerPair(fromA, v6)
	macS, macD := rwMACA, rwMACB
	if !fromA {
		macS, macD = macD, macS
	}
	b := append(append([]byte{}, macD...), macS...)
	if v6 {
		b = append(b, 0x86, 0xdd, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
		b = append(b, proto, 64)
		b = append(append(b, src.AsSlice()...), dst.AsSlice()...)
		return append(b, payload...)
	}
	h := []byte{0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0}
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	h = append(append(h, src.AsSlice()...), dst.AsSlice()...)
	binary.BigEndian.PutUint16(h[10:], checksum(h, 0))
	b = append(b, 0x08, 0x00)
	return append(append(b, h...), payload...)
}

// pcapFrame is one record of a classic pcap file.
type pcapFrame struct {
	ts   time.Time
	data []byte
}

// readPcap reads tcpdump's classic pcap (little-endian, microseconds, Ethernet).
func readPcap(path string) ([]pcapFrame, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 24 || binary.LittleEndian.Uint32(raw) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(raw[20:]) != 1 {
		return nil, fmt.Errorf("%s: not a little-endian microsecond Ethernet pcap", path)
	}
	var out []pcapFrame
	for p := raw[24:]; len(p) > 0; {
		if len(p) < 16 {
			return nil, fmt.Errorf("%s: truncated record header", path)
		}
		n := int(binary.LittleEndian.Uint32(p[8:]))
		if len(p) < 16+n || n != int(binary.LittleEndian.Uint32(p[12:])) {
			return nil, fmt.Errorf("%s: truncated or cut record", path)
		}
		ts := time.Unix(int64(binary.LittleEndian.Uint32(p)), int64(binary.LittleEndian.Uint32(p[4:]))*1000)
		out = append(out, pcapFrame{ts: ts, data: p[16 : 16+n]})
		p = p[16+n:]
	}
	return out, nil
}

// writePcap writes frames as a classic pcap of Ethernet frames.
func writePcap(frames []pcapFrame) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, 262144)
	b = binary.LittleEndian.AppendUint32(b, 1)
	for _, f := range frames {
		b = binary.LittleEndian.AppendUint32(b, uint32(f.ts.Unix()))
		b = binary.LittleEndian.AppendUint32(b, uint32(f.ts.Nanosecond()/1000))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f.data)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f.data)))
		b = append(b, f.data...)
	}
	return b
}
