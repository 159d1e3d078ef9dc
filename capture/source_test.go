package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// sampleFrames is one HTTP-like exchange as Ethernet frames, timestamped with
// sub-second parts every format can represent exactly (quarter seconds).
func sampleFrames(link uint32) []frame {
	var out []frame
	for i, s := range conversation("10.0.0.1:40000", "10.0.0.2:80", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n") {
		data := s.ip()
		if link == LinkEthernet {
			src, dst := macA, macB
			if strings.HasPrefix(s.src, "10.0.0.2") {
				src, dst = macB, macA
			}
			data = eth(src, dst, data)
		}
		out = append(out, frame{ts: t0.Add(time.Duration(i) * 250 * time.Millisecond), data: data})
	}
	return out
}

const wantSample = "C:GET / HTTP/1.1\r\n\r\n S:HTTP/1.1 200 OK\r\n\r\n end"

func TestReadFormats(t *testing.T) {
	eth := sampleFrames(LinkEthernet)
	raw := sampleFrames(LinkRaw)
	mixed := make([]frame, len(eth))
	for i := range eth {
		mixed[i] = eth[i]
		if i%2 == 1 {
			mixed[i] = raw[i]
			mixed[i].iface = 1
		}
	}
	firstHalf, secondHalf := eth[:3], eth[3:]
	plainPcap := pcapBytes(binary.LittleEndian, false, LinkEthernet, eth)
	tests := []struct {
		name    string
		in      []byte
		ts      bool // check timestamps (SPBs carry none)
		packets uint64
	}{
		{"pcap little-endian microseconds", plainPcap, true, 7},
		{"pcap big-endian microseconds", pcapBytes(binary.BigEndian, false, LinkEthernet, eth), true, 7},
		{"pcap little-endian nanoseconds", pcapBytes(binary.LittleEndian, true, LinkEthernet, eth), true, 7},
		{"pcap big-endian nanoseconds", pcapBytes(binary.BigEndian, true, LinkEthernet, eth), true, 7},
		{"modified pcap", modifiedPcap(binary.BigEndian, LinkEthernet, eth), true, 7},
		{"pcap raw IP", pcapBytes(binary.LittleEndian, false, LinkRaw, raw), true, 7},
		{"pcapng little-endian", pcapngBytes([]ngSection{{bo: binary.LittleEndian, ifaces: []ngIface{{link: 1}}, frames: eth}}), true, 7},
		{"pcapng big-endian", pcapngBytes([]ngSection{{bo: binary.BigEndian, ifaces: []ngIface{{link: 1}}, frames: eth}}), true, 7},
		{"pcapng two interfaces, two link types", pcapngBytes([]ngSection{{bo: binary.LittleEndian,
			ifaces: []ngIface{{link: 1}, {link: 101, tsresol: 9}}, frames: mixed}}), true, 7},
		{"pcapng two sections, both byte orders", pcapngBytes([]ngSection{
			{bo: binary.LittleEndian, ifaces: []ngIface{{link: 1}}, frames: firstHalf},
			{bo: binary.BigEndian, ifaces: []ngIface{{link: 1, tsresol: 3}}, frames: secondHalf}}), true, 7},
		{"pcapng tsresol nanoseconds", pcapngBytes([]ngSection{{bo: binary.LittleEndian, ifaces: []ngIface{{link: 1, tsresol: 9}}, frames: eth}}), true, 7},
		{"pcapng tsresol power of two", pcapngBytes([]ngSection{{bo: binary.BigEndian, ifaces: []ngIface{{link: 1, tsresol: 0x80 | 20}}, frames: eth}}), true, 7},
		{"pcapng tsoffset", pcapngBytes([]ngSection{{bo: binary.LittleEndian, ifaces: []ngIface{{link: 1, tsoffset: 1_700_000_000}}, frames: eth}}), true, 7},
		{"pcapng simple packet blocks", pcapngBytes([]ngSection{{bo: binary.LittleEndian, ifaces: []ngIface{{link: 1}}, frames: eth, simple: true}}), false, 7},
		{"pcapng unknown block skipped", pcapngBytes([]ngSection{{bo: binary.LittleEndian, ifaces: []ngIface{{link: 1}}, frames: eth, extra: []byte("custom block body")}}), true, 7},
		{"gzip pcap", gz(plainPcap), true, 7},
		{"gzip multistream", gz(plainPcap[:100], plainPcap[100:]), true, 7},
		{"gzip pcapng", gz(pcapngBytes([]ngSection{{bo: binary.BigEndian, ifaces: []ngIface{{link: 1}}, frames: eth}})), true, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("http", prefixDetect("GET ", false))}}, set)
			if err := e.Read("test", bytes.NewReader(tc.in)); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := e.Stats().Packets; got != tc.packets {
				t.Errorf("packets = %d, want %d", got, tc.packets)
			}
			e.Finish()
			if len(rec.streams) != 1 {
				t.Fatalf("streams = %d, want 1", len(rec.streams))
			}
			s := rec.streams[0]
			if got := s.log(); got != wantSample {
				t.Errorf("stream = %q, want %q", got, wantSample)
			}
			if tc.ts {
				if got, want := s.events[0].t, eth[3].ts; !got.Equal(want) {
					t.Errorf("request time = %v, want %v", got, want)
				}
				if got, want := s.events[1].t, eth[4].ts; !got.Equal(want) {
					t.Errorf("response time = %v, want %v", got, want)
				}
			}
			if len(set.Problems) != 0 {
				t.Errorf("problems: %v", set.Problems)
			}
			if got := s.ctx.Flow.String(); got != "10.0.0.1:40000 -> 10.0.0.2:80" {
				t.Errorf("flow = %s", got)
			}
		})
	}
}

func TestReadFileAndStdin(t *testing.T) {
	in := pcapBytes(binary.BigEndian, true, LinkEthernet, sampleFrames(LinkEthernet))
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := os.WriteFile(path, in, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, "-"} {
		var rec recorder
		e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("any", nil)}}, observe.NewSet())
		var err error
		if name == "-" {
			r, w, perr := os.Pipe()
			if perr != nil {
				t.Fatal(perr)
			}
			go func() { w.Write(in); w.Close() }()
			old := os.Stdin
			os.Stdin = r
			err = e.ReadFile("-")
			os.Stdin = old
			r.Close()
		} else {
			err = e.ReadFile(name)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e.Finish()
		if len(rec.streams) != 1 || rec.streams[0].log() != wantSample {
			t.Errorf("%s: streams %d", name, len(rec.streams))
		}
	}
	e := NewEngine(Config{}, observe.NewSet())
	err := e.ReadFile(filepath.Join(t.TempDir(), "missing.pcap"))
	if err == nil || !strings.Contains(err.Error(), "missing.pcap: cannot open: no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// corrupt builds bad inputs from a good pcap of sampleFrames.
func TestReadErrors(t *testing.T) {
	good := pcapBytes(binary.LittleEndian, false, LinkEthernet, sampleFrames(LinkEthernet))
	rec0 := 24                                                  // first record header
	rec1 := rec0 + 16 + len(sampleFrames(LinkEthernet)[0].data) // second record header
	withLink := func(link uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[20:], link)
		return b
	}
	absurd := bytes.Clone(good)
	binary.LittleEndian.PutUint32(absurd[rec1+8:], 0xfffffff0)
	ng := pcapngBytes([]ngSection{{bo: binary.LittleEndian, ifaces: []ngIface{{link: 1}}, frames: sampleFrames(LinkEthernet)}})
	badTrailer := bytes.Clone(ng)
	binary.LittleEndian.PutUint32(badTrailer[len(badTrailer)-4:], 999)
	badBlockLen := bytes.Clone(ng)
	binary.LittleEndian.PutUint32(badBlockLen[4:], 13)
	hugeBlock := bytes.Clone(ng)
	binary.LittleEndian.PutUint32(hugeBlock[28+4:], 0x7ffffff0) // the IDB after the 28-byte SHB
	badVersion := bytes.Clone(good)
	binary.LittleEndian.PutUint16(badVersion[4:], 7)

	tests := []struct {
		name    string
		in      []byte
		want    string // the whole error text
		is      error
		packets uint64 // packets decoded before the error
	}{
		{"empty", nil, "capture: f: offset 0: not a capture file (pcap or pcapng, optionally gzip-compressed): the file is empty", ErrNotCapture, 0},
		{"tiny", []byte{1, 2}, "capture: f: offset 0: not a capture file (pcap or pcapng, optionally gzip-compressed): the file is only 2 bytes (01 02)", ErrNotCapture, 0},
		{"html", []byte("<!DOCTYPE html><html>"), `capture: f: offset 0: not a capture file (pcap or pcapng, optionally gzip-compressed): starts with "<!DOCTYPE html><"`, ErrNotCapture, 0},
		{"truncated file header", good[:10], "capture: f: offset 0: truncated pcap file header: 10 of 24 bytes", ErrTruncated, 0},
		{"truncated first record header", good[:rec0+5], "capture: f: offset 24: truncated packet record header: 5 of 16 bytes", ErrTruncated, 0},
		{"truncated first record body", good[:rec0+20], "capture: f: offset 24: truncated packet record: 20 of 70 bytes", ErrTruncated, 0},
		{"truncated second record", good[:rec1+30], "capture: f: offset 94: truncated packet record: 30 of 70 bytes", ErrTruncated, 1},
		{"absurd record length", absurd, "capture: f: offset 102: absurd length: record length 4294967280 exceeds the 262144-byte limit", ErrAbsurdLength, 1},
		{"unsupported link type", withLink(147), "capture: f: offset 20: unsupported link type 147 (user-defined) in pcap header", ErrLinkType, 0},
		{"unknown link type", withLink(4000), "capture: f: offset 20: unsupported link type 4000 (unknown, LINKTYPE_4000) in pcap header", ErrLinkType, 0},
		{"bad pcap version", badVersion, "capture: f: offset 4: malformed: unsupported pcap version 7.4", ErrMalformed, 0},
		{"pcapng truncated block", ng[:len(ng)-10], "capture: f: offset 616: truncated block: 78 of 88 bytes", ErrTruncated, 6},
		{"pcapng trailer mismatch", badTrailer, "capture: f: offset 700: malformed: block trailer length 999 differs from header length 88", ErrMalformed, 6},
		{"pcapng bad block length", badBlockLen, "capture: f: offset 4: malformed: block length 13 is not a multiple of 4 of at least 12", ErrMalformed, 0},
		{"pcapng absurd block length", hugeBlock, "capture: f: offset 32: absurd length: block length 2147483632 of block type 0x00000001 exceeds the limit", ErrAbsurdLength, 0},
		{"gzip truncated", gz(good)[:60], "", ErrTruncated, 0},
		{"gzip garbage", append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{0xff}, 40)...), "capture: f: offset 0: decompressing: gzip: invalid header", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			var rec recorder
			e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("any", nil)}}, set)
			err := e.Read("f", bytes.NewReader(tc.in))
			var se *SourceError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *SourceError", err, err)
			}
			if tc.want != "" && err.Error() != tc.want {
				t.Errorf("error\n got %q\nwant %q", err.Error(), tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			if got := e.Stats().Packets; got != tc.packets {
				t.Errorf("packets before the error = %d, want %d", got, tc.packets)
			}
			if len(set.Problems) != 1 || !set.Problems[0].Fatal || set.Problems[0].Source != "f" || set.Problems[0].Offset != se.Offset {
				t.Errorf("problems = %+v", set.Problems)
			}
			// What was read before the error stays: the next source still works and Finish
			// delivers the streams of both.
			if err := e.Read("g", bytes.NewReader(good)); err != nil {
				t.Fatalf("second source: %v", err)
			}
			e.Finish()
			if n := len(rec.streams); n < 1 {
				t.Errorf("streams = %d", n)
			}
		})
	}
}

func TestPcapngBadInterface(t *testing.T) {
	frames := sampleFrames(LinkEthernet)
	for i := range frames {
		frames[i].iface = 1
	}
	frames = append(frames, frame{ts: t0, data: []byte("junk on the bad interface"), iface: 0})
	in := pcapngBytes([]ngSection{{bo: binary.LittleEndian, ifaces: []ngIface{{link: 147}, {link: 1}}, frames: frames}})
	set := observe.NewSet()
	var rec recorder
	e := NewEngine(Config{Dissectors: []dissect.Dissector{rec.dissector("any", nil)}}, set)
	if err := e.Read("ng", bytes.NewReader(in)); err != nil {
		t.Fatalf("Read: %v", err)
	}
	e.Finish()
	if len(rec.streams) != 1 || rec.streams[0].log() != wantSample {
		t.Fatalf("good interface not read: %d streams", len(rec.streams))
	}
	if len(set.Problems) != 1 || set.Problems[0].Fatal ||
		set.Problems[0].Error() != "ng: offset 28: unsupported link type 147 (user-defined) in pcapng interface 0; its packets are skipped" {
		t.Errorf("problems = %+v", set.Problems)
	}
	if got := counterValue(set, "unsupported_link_type"); got != 1 {
		t.Errorf("unsupported_link_type = %d, want 1", got)
	}
	if got := counterValue(set, "packets"); got != 8 {
		t.Errorf("packets = %d, want 8", got)
	}
}

func TestIfaceTime(t *testing.T) {
	tests := []struct {
		f     iface
		units uint64
		want  time.Time
	}{
		{iface{res: 6}, 1_500_000, time.Unix(1, 500_000_000)},
		{iface{res: 9}, 1_000_000_001, time.Unix(1, 1)},
		{iface{res: 0}, 42, time.Unix(42, 0)},
		{iface{res: 12}, 2_000_000_000_007, time.Unix(2, 0)},
		{iface{res: 19}, 10_000_000_000_000_000_000, time.Unix(1, 0)},
		{iface{pow2: true, res: 1}, 3, time.Unix(1, 500_000_000)},
		{iface{pow2: true, res: 20}, 1<<20 + 1<<18, time.Unix(1, 250_000_000)},
		{iface{pow2: true, res: 63}, 1<<63 | 1<<62, time.Unix(1, 500_000_000)},
		{iface{pow2: true, res: 0}, 7, time.Unix(7, 0)},
		{iface{res: 6, offset: 100}, 1, time.Unix(100, 1000)},
	}
	for _, tc := range tests {
		if got := tc.f.time(tc.units); !got.Equal(tc.want) {
			t.Errorf("%+v.time(%d) = %v, want %v", tc.f, tc.units, got, tc.want)
		}
	}
}

// TestSniff checks the test every named input passes before a scan is recorded: inputs
// that hold no capture at all fail with one clean line naming what they are, captures
// pass however damaged their later bytes, and nothing is consumed.
func TestSniff(t *testing.T) {
	good := pcapBytes(binary.LittleEndian, false, LinkEthernet, sampleFrames(LinkEthernet))
	ng := pcapngBytes([]ngSection{{bo: binary.BigEndian, ifaces: []ngIface{{link: 1}}, frames: sampleFrames(LinkEthernet)}})
	const prefix = "capture: f: not a capture file (pcap or pcapng, optionally gzip-compressed): "
	gzGood := gz(good)
	tests := []struct {
		name string
		in   []byte
		want string // "" when the input passes; else the whole error text after prefix
	}{
		{"pcap", good, ""},
		{"pcap big-endian", pcapBytes(binary.BigEndian, true, LinkEthernet, sampleFrames(LinkEthernet)), ""},
		{"pcapng", ng, ""},
		{"pcap header only", good[:24], ""},
		{"pcap truncated in a record", good[:50], ""},
		{"pcap magic alone", good[:4], ""},
		{"gzip pcap", gzGood, ""},
		{"gzip pcapng", gz(ng), ""},
		{"gzip pcap cut short", gzGood[:len(gzGood)-12], ""},
		{"empty", nil, "the file is empty"},
		{"three bytes", good[:3], "the file is only 3 bytes (d4 c3 b2)"},
		{"text", []byte("hello, world\nthis is a note about the ward\n"), `starts with "hello, world\x0athi"`},
		{"terminal escapes", []byte("\x1b[2J\x1b]0;owned\x07 and more"), `starts with "\x1b[2J\x1b]0;owned\x07 a"`},
		{"utf-8 text", []byte("Größe: 12 Stück\n"), `starts with "Größe: 12 Stü"`},
		{"gzip of text", gz([]byte("hello, world\nthis is a note\n")), `the gzip stream starts with "hello, world\x0athi"`},
		{"gzip of nothing", gz(nil), "the gzip stream is empty"},
		{"gzip of two bytes", gz([]byte("hi")), "the gzip stream holds 2 bytes"},
		{"gzip of one byte", gz([]byte("h")), "the gzip stream holds 1 byte"},
		{"gzip garbage", append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{0xff}, 40)...), "the gzip header is damaged"},
		{"gzip cut in its header", gzGood[:6], "the gzip stream ends in its header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(bytes.NewReader(tc.in), SniffWindow)
			err := Sniff("f", br)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("accepted")
				}
				if got := err.Error(); got != prefix+tc.want {
					t.Errorf("error\n got %q\nwant %q", got, prefix+tc.want)
				}
				if !errors.Is(err, ErrNotCapture) || strings.ContainsAny(err.Error(), "\n\x1b\x07") {
					t.Errorf("error %q: not ErrNotCapture, or not one clean line", err)
				}
			}
			if all, _ := io.ReadAll(br); !bytes.Equal(all, tc.in) {
				t.Errorf("sniffing consumed the input: %d of %d bytes left", len(all), len(tc.in))
			}
		})
	}
}

// TestSniffPipe checks that sniffing a pipe waits for the bytes it needs and no more: a
// live capture piped in (tcpdump -w -) sends its header and then packets as they come.
func TestSniffPipe(t *testing.T) {
	good := pcapBytes(binary.LittleEndian, false, LinkEthernet, sampleFrames(LinkEthernet))
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(good[:24])
	zw.Flush()
	for name, head := range map[string][]byte{"pcap": good[:24], "gzip": zipped.Bytes()} {
		t.Run(name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			go pw.Write(head) // and then nothing: the capture goes on
			done := make(chan error, 1)
			go func() { done <- Sniff("-", bufio.NewReaderSize(pr, SniffWindow)) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Sniff waits for more than the header")
			}
		})
	}
}
