package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// fuzzEngine is an engine whose dissectors claim some streams (by content, so the fuzzer
// reaches every path: claimed, refused, NeedMore) and record what they are given.
func fuzzEngine(rec *recorder) *Engine {
	rec.doneAfter = 5000
	return NewEngine(Config{
		Dissectors: []dissect.Dissector{
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
	}
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
		e.Finish()
		checkInvariants(t, e, &rec)
	})
}
