package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// fuzzEngine is an engine whose dissectors claim some streams (by content, so the fuzzer
// reaches every path: claimed, refused, NeedMore, handed off) and record what they are
// given.
func fuzzEngine(rec *recorder) *Engine {
	rec.doneAfter = 5000
	return NewEngine(Config{
		Dissectors: []dissect.Dissector{
			{Name: "up", Detect: prefixDetect("UP", false), New: func(ctx *dissect.Context) dissect.Stream {
				s := &upgradeStream{fakeStream: fakeStream{ctx: ctx}, handoff: true}
				rec.streams = append(rec.streams, &s.fakeStream)
				return s
			}},
			rec.dissector("srv", prefixDetect("SRV", true)),
			rec.dissector("tls", tlsDetect),
			rec.dissector("any", func(b []byte) dissect.Match {
				switch {
				case len(b) < 2:
					return dissect.Match{Verdict: dissect.NeedMore}
				case b[0]&1 == 0:
					return dissect.Match{Verdict: dissect.Yes}
				}
				return dissect.Match{}
			}),
		},
		MaxStreamBuffer: 8192,
		MaxTotalBuffer:  64 << 10,
		MaxFlows:        64,
	}, observe.NewSet())
}

// checkInvariants fails when a finished engine holds buffers or a stream was not ended
// exactly once.
func checkInvariants(t *testing.T, e *Engine, rec *recorder) {
	t.Helper()
	if e.buffered != 0 || len(e.flows) != 0 || len(e.frag.m) != 0 {
		t.Fatalf("after Finish: buffered %d, flows %d, fragments %d", e.buffered, len(e.flows), len(e.frag.m))
	}
	for _, s := range rec.streams {
		if s.ends != 1 {
			t.Fatalf("stream %s ended %d times", s.ctx.Flow, s.ends)
		}
	}
}

// seedCaptures returns generated captures in every format.
func seedCaptures() [][]byte {
	eth := sampleFrames(LinkEthernet)
	raw := sampleFrames(LinkRaw)
	pc := pcapBytes(binary.LittleEndian, false, LinkEthernet, eth)
	return [][]byte{
		pc,
		pcapBytes(binary.BigEndian, true, LinkRaw, raw),
		pcapngBytes([]ngSection{{bo: binary.LittleEndian, ifaces: []ngIface{{link: 1}, {link: 101, tsresol: 0x80 | 10}},
			frames: append(append([]frame{}, eth...), frame{ts: t0, data: raw[3].data, iface: 1})}}),
		pcapngBytes([]ngSection{{bo: binary.BigEndian, ifaces: []ngIface{{link: 1}}, frames: eth, simple: true}}),
		gz(pc),
		pcapBytes(binary.LittleEndian, false, LinkRaw, upgradeFrames()),
	}
}

// upgradeFrames is a conversation that upgrades in place, then speaks TLS.
func upgradeFrames() []frame {
	segs := withHandshake(c2s(101, "UP\n"), s2c(901, "UPGRADE\n"), c2s(104, "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"),
		s2c(909, "\x16\x03\x03\x00\x02\x02\x00"), c2s(114, "UP\n"))
	out := make([]frame, len(segs))
	for i, s := range segs {
		out[i] = frame{ts: ms(i), data: s.ip()}
	}
	return out
}

func FuzzReadCapture(f *testing.F) {
	for _, b := range seedCaptures() {
		f.Add(b)
	}
	if dir := corpusDirIfPresent(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "pcap", "*"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var rec recorder
		e := fuzzEngine(&rec)
		err := e.Read("fuzz", bytes.NewReader(in))
		if err != nil {
			if bytes.ContainsRune([]byte(err.Error()), '\n') {
				t.Fatalf("multi-line error %q", err)
			}
		}
		e.Finish()
		checkInvariants(t, e, &rec)
	})
}

// corpusDirIfPresent is corpusDir without skipping: fuzz seeds are optional.
func corpusDirIfPresent() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	dir := filepath.Join(filepath.Dir(wd), "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "expected.json")); err != nil {
		return ""
	}
	return dir
}

var fuzzLinks = []uint32{LinkNull, LinkEthernet, LinkRawOld, LinkRawAlt, LinkRaw, LinkLoop, LinkSLL, LinkIPv4, LinkIPv6, LinkSLL2}

func FuzzPacket(f *testing.F) {
	s := seg{"10.0.0.1:40000", "10.0.0.2:443", 1, 0, psh, "SRV hello"}
	s6 := seg{"[fd00::1]:40000", "[fd00::2]:443", 1, 0, psh, "\x16\x03\x01\x00\x05\x01"}
	frags := fragments4(seg{"10.0.0.1:1", "10.0.0.2:2", 1, 0, psh, string(make([]byte, 64))}.ip(), 32)
	frags6 := fragments6(seg{"[fd00::1]:1", "[fd00::2]:2", 1, 0, psh, string(make([]byte, 64))}.ip(), 32, 9)
	for i, l := range fuzzLinks {
		var frame []byte
		switch l {
		case LinkEthernet:
			frame = eth(macA, macB, s.ip(), etherVLAN, 5)
		case LinkNull, LinkLoop:
			frame = null(2, binary.LittleEndian, s.ip())
		case LinkSLL:
			frame = sll(0, arphrdEther, macA, etherIPv4, frags[0])
		case LinkSLL2:
			frame = sll2(0, arphrdEther, macA, etherIPv6, frags6[0])
		case LinkIPv6, LinkRawAlt:
			frame = s6.ip()
		default:
			frame = s.ip()
		}
		f.Add(uint8(i), frame)
	}
	// PPPoE and MPLS, tagged and cooked, with their index in fuzzLinks.
	idx := func(l uint32) uint8 { return uint8(slices.Index(fuzzLinks, l)) }
	ethIdx, sllIdx, sll2Idx := idx(LinkEthernet), idx(LinkSLL), idx(LinkSLL2)
	f.Add(ethIdx, ethFrame(macA, macB, etherPPPoES, pppoeIP(s.ip(), 4)))
	f.Add(ethIdx, ethFrame(macA, macB, etherPPPoES, pppoeIP(s6.ip(), 0), etherQinQ, 1, etherVLAN, 2))
	f.Add(ethIdx, ethFrame(macA, macB, etherPPPoED, []byte{0x11, 0x09, 0, 0, 0, 0}))
	f.Add(ethIdx, ethFrame(macA, macB, etherMPLS, mplsStack(3, s.ip())))
	f.Add(ethIdx, ethFrame(macA, macB, etherMPLSMC, mplsStack(1, frags6[1]), etherVLAN, 9))
	f.Add(sllIdx, sll(0, arphrdEther, macA, etherMPLS, mplsStack(2, s6.ip())))
	f.Add(sll2Idx, sll2(0, arphrdEther, macA, etherPPPoES, pppoeIP(frags[1], 0)))
	f.Add(idx(LinkRaw), seg{"10.0.0.2:25", "10.0.0.1:40000", 1, 0, psh, "UPGRADE\n"}.ip())
	// Tunnels: GRE, gretap, ERSPAN, VXLAN, GTP-U and IP-in-IP around the same segment.
	f.Add(ethIdx, eth(macA, macB, ipPacket(outerA, outerB, protoGRE, append(greHeader(0x2000, etherIPv4, 1, 0), s.ip()...))))
	f.Add(ethIdx, eth(macA, macB, ipPacket(spanSwitch, spanSensor, protoGRE,
		append(append(greHeader(0x1000, greERSPAN, 0, 1), erspan2Header(7)...), innerFrame(s6.ip(), true)...))))
	f.Add(idx(LinkRaw), ipPacket(outerA6, outerB6, protoUDP, udpDatagram(1, portVXLAN, append(vxlanHeader(9), innerFrame(s.ip(), false)...))))
	f.Add(idx(LinkRaw), ipPacket(outerA, outerB, protoUDP, udpDatagram(portGTPU, portGTPU, append(gtpHeader(4, len(s6.ip()), true), s6.ip()...))))
	f.Add(idx(LinkIPv4), ipPacket(outerA, outerB, protoIPv6, s6.ip()))
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		var rec recorder
		e := fuzzEngine(&rec)
		l := fuzzLinks[int(link)%len(fuzzLinks)]
		// The same frame twice (a retransmission), then the frame with its last byte
		// changed, a little later.
		e.Packet(l, data, t0)
		e.Packet(l, data, t0)
		if len(data) > 0 {
			d := bytes.Clone(data)
			d[len(d)-1]++
			e.Packet(l, d, t0.Add(time.Second))
		}
		if e.tun.cur.n != 0 {
			t.Fatalf("tunnel stack not unwound: %d levels", e.tun.cur.n)
		}
		e.Finish()
		checkInvariants(t, e, &rec)
	})
}

// FuzzSniff checks that the check made before a scan is recorded never refuses what the
// engine would read a packet from, consumes nothing, and fails in one clean line.
func FuzzSniff(f *testing.F) {
	for _, b := range seedCaptures() {
		f.Add(b)
		f.Add(b[:min(len(b), 30)])
	}
	f.Add([]byte("hello\x1b[31m"))
	f.Add(gz([]byte("text")))
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), SniffWindow)
		err := Sniff("fuzz", br)
		if err != nil && (strings.ContainsAny(err.Error(), "\n\x1b") || !errors.As(err, new(*SourceError))) {
			t.Fatalf("error %q (%T): not one clean line, or not a *SourceError", err, err)
		}
		if rest, _ := io.ReadAll(br); !bytes.Equal(rest, in) {
			t.Fatalf("sniffing consumed %d bytes", len(in)-len(rest))
		}
		if err == nil {
			return
		}
		var rec recorder
		e := fuzzEngine(&rec)
		_ = e.Read("fuzz", bytes.NewReader(in))
		e.Finish()
		if n := e.Stats().Packets; n > 0 {
			t.Fatalf("refused (%v), yet the engine read %d packets", err, n)
		}
	})
}
