package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/protocols"
	"github.com/medscan/medscan/observe"
)

// replayFrame is one frame of a capture read back for replay through the live path.
type replayFrame struct {
	link uint32
	data []byte
	ts   time.Time
}

// readReplay reads a pcap or pcapng file with gopacket's reader, independent of the
// engine's own.
func readReplay(tb testing.TB, path string) []replayFrame {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []replayFrame
	if len(raw) >= 4 && binary.BigEndian.Uint32(raw) == 0x0a0d0d0a {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("%s: %v", path, err)
			}
			ifc, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				tb.Fatalf("%s: %v", path, err)
			}
			out = append(out, replayFrame{link: uint32(ifc.LinkType), data: data, ts: ci.Timestamp})
		}
		return out
	}
	r, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		out = append(out, replayFrame{link: uint32(r.LinkType()), data: data, ts: ci.Timestamp})
	}
	return out
}

// canonical renders a Set so that two Sets holding the same facts render alike,
// whatever order they were learned in.
func canonical(tb testing.TB, s *observe.Set) string {
	tb.Helper()
	var parts []string
	add := func(kind string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		parts = append(parts, kind+" "+string(b))
	}
	// A Set aggregates records by client address, keeping the client port (and a
	// certificate sighting's time) of the first record added: with several workers that
	// first one differs, though the facts are the same. Those two are left out.
	noPort := func(f observe.Flow) observe.Flow {
		f.Client = netip.AddrPortFrom(f.Client.Addr(), 0)
		return f
	}
	for _, t := range s.TLSSessions {
		c := *t
		c.Flow = noPort(c.Flow)
		c.Alerts = slices.Clone(c.Alerts)
		slices.SortFunc(c.Alerts, func(a, b observe.Alert) int { return strings.Compare(jsonOf(a), jsonOf(b)) })
		add("tls", c)
	}
	for _, c := range s.Certificates {
		cc := *c
		cc.Seen = slices.Clone(c.Seen)
		for i := range cc.Seen {
			cc.Seen[i].Time = time.Time{}
		}
		slices.SortFunc(cc.Seen, func(a, b observe.CertSighting) int { return strings.Compare(jsonOf(a), jsonOf(b)) })
		add("cert", cc)
	}
	for _, v := range s.HTTP {
		c := *v
		c.Flow = noPort(c.Flow)
		add("http", c)
	}
	for _, v := range s.Credentials {
		c := *v
		c.Flow = noPort(c.Flow)
		add("cred", c)
	}
	for _, v := range s.MQTT {
		c := *v
		c.Flow = noPort(c.Flow)
		add("mqtt", c)
	}
	for _, v := range s.HL7 {
		c := *v
		c.Flow = noPort(c.Flow)
		add("hl7", c)
	}
	for _, v := range s.DICOM {
		c := *v
		c.Flow = noPort(c.Flow)
		add("dicom", c)
	}
	for _, v := range s.Services {
		add("service", v)
	}
	for _, v := range s.Hosts {
		add("host", v)
	}
	for _, v := range s.Names {
		add("name", v)
	}
	for _, v := range s.DHCP {
		add("dhcp", v)
	}
	for _, v := range s.Transfers {
		add("transfer", v)
	}
	for _, v := range s.Problems {
		add("problem", v)
	}
	for _, v := range s.Counters {
		if v.Value != 0 {
			add("counter", v)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "\n")
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// testKey makes credential hashes comparable between the engines of a test.
var testKey = observe.NewSecretHasher(bytes.Repeat([]byte{7}, 32))

// replayFiles are the ward capture and the real-world corpus (when present).
func replayFiles(t *testing.T) []string {
	files := []string{filepath.Join("..", "fixtures", "ward.pcapng")}
	return append(files, corpusFiles(t)...)
}

// TestPoolMatchesEngine proves that sharding and checkpointing lose nothing: the merged
// deltas of Checkpoint calls made every few packets, plus Finish, hold exactly what one
// Engine learns from the same capture — sessions, certificates, HTTP, credentials,
// hosts, services and every counter.
func TestPoolMatchesEngine(t *testing.T) {
	for _, path := range replayFiles(t) {
		frames := readReplay(t, path)
		cfg := Config{Dissectors: protocols.All(), Datagrams: protocols.Datagrams(), Secrets: testKey}
		single := observe.NewSet()
		e := NewEngine(cfg, single)
		for _, f := range frames {
			e.Packet(f.link, f.data, f.ts)
		}
		e.Finish()
		// Merged once, as the pool's deltas are, so that both went through Set.Merge.
		merged := observe.NewSet()
		merged.Merge(single)
		want := canonical(t, merged)
		if len(single.Hosts) == 0 {
			t.Fatalf("%s: the single engine learned nothing", path)
		}
		for _, tc := range []struct {
			workers, every int
		}{{1, 0}, {1, 13}, {2, 0}, {2, 7}, {3, 29}, {4, 1}} {
			p := NewPool(cfg, tc.workers)
			union := observe.NewSet()
			deltas := 0
			for i, f := range frames {
				p.Packet(f.link, f.data, f.ts)
				if tc.every > 0 && i%tc.every == tc.every-1 {
					union.Merge(p.Checkpoint())
					deltas++
				}
			}
			union.Merge(p.Finish())
			if got := canonical(t, union); got != want {
				t.Errorf("%s, %d workers, checkpoint every %d packets (%d deltas): differs from one engine\n%s",
					filepath.Base(path), tc.workers, tc.every, deltas, diffLines(want, got))
			}
			if st := p.Stats(); st.Packets != uint64(len(frames)) || st.Dropped != 0 {
				t.Errorf("%s: stats %+v, want %d packets and no drops", path, st, len(frames))
			}
		}
	}
}

// diffLines lists the lines only one side has.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	clip := func(l string) string {
		if len(l) > 400 {
			return l[:400] + "…"
		}
		return l
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			l = clip(l)
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			l = clip(l)
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestPoolCheckpointKeepsFlows checks that a checkpoint in the middle of a stream ends
// nothing: the stream's bytes before and after it arrive in one Stream, which ends only
// at Finish, and each delta holds the counters of its own packets.
func TestPoolCheckpointKeepsFlows(t *testing.T) {
	rec := &recorder{}
	cfg := Config{Dissectors: []dissect.Dissector{rec.dissector("x", prefixDetect("HELLO", false))}}
	p := NewPool(cfg, 2)
	// The exchange without its FINs, which would end the stream before Finish.
	segs := conversation("10.0.0.1:40000", "10.0.0.2:80", "HELLO world", "reply")[:5]
	half := 4
	for i, s := range segs[:half] {
		p.Packet(LinkEthernet, eth(macA, macB, s.ip()), ms(i))
	}
	d1 := p.Checkpoint()
	if n := counterValue(d1, "packets"); n != uint64(half) {
		t.Errorf("first delta counts %d packets, want %d", n, half)
	}
	if len(d1.Hosts) != 2 {
		t.Errorf("first delta has %d hosts, want 2", len(d1.Hosts))
	}
	for i, s := range segs[half:] {
		p.Packet(LinkEthernet, eth(macA, macB, s.ip()), ms(half+i))
	}
	d2 := p.Checkpoint()
	if n := counterValue(d2, "packets"); n != uint64(len(segs)-half) {
		t.Errorf("second delta counts %d packets, want %d", n, len(segs)-half)
	}
	if len(rec.streams) != 1 {
		t.Fatalf("%d streams, want 1", len(rec.streams))
	}
	st := rec.streams[0]
	if strings.Contains(st.log(), "end") {
		t.Errorf("a checkpoint ended the stream: %s", st.log())
	}
	last := p.Finish()
	if !strings.HasSuffix(st.log(), "end") || !strings.Contains(st.log(), "HELLO world") || !strings.Contains(st.log(), "reply") {
		t.Errorf("stream after Finish: %s", st.log())
	}
	if n := counterValue(last, "flows"); n != 0 {
		t.Errorf("final delta recounts %d flows", n)
	}
	if n := counterValue(d1, "flows") + counterValue(d2, "flows"); n != 1 {
		t.Errorf("%d flows over the deltas, want 1", n)
	}
	// After Finish the pool is closed.
	p.Packet(LinkEthernet, eth(macA, macB, segs[0].ip()), ms(99))
	if s := p.Finish(); len(s.Hosts) != 0 || len(s.Counters) != 0 {
		t.Errorf("a finished pool still learns: %+v", s.Counters)
	}
}

// TestPoolDropWhenFull fills a worker that cannot run (its engine is blocked in a
// dissector) and checks that Packet drops and counts instead of waiting.
func TestPoolDropWhenFull(t *testing.T) {
	release := make(chan struct{})
	blocked := make(chan struct{}, 1)
	cfg := Config{Dissectors: []dissect.Dissector{{
		Name: "block",
		Detect: func(b []byte) dissect.Match {
			select {
			case blocked <- struct{}{}:
				<-release
			default:
			}
			return dissect.Match{}
		},
	}}}
	p := NewPool(cfg, 1)
	p.DropWhenFull = true
	first := seg{"10.0.0.1:1000", "10.0.0.2:80", 1, 0, psh, "data"}
	p.Packet(LinkEthernet, eth(macA, macB, first.ip()), ms(0))
	p.Flush()
	<-blocked // the worker now waits in Detect
	small := eth(macA, macB, seg{"10.0.0.3:1000", "10.0.0.4:80", 1, 0, tcpSYN, ""}.ip())
	total := (poolQueue + 3) * poolBatchPackets
	for i := range total {
		p.Packet(LinkEthernet, small, ms(1+i))
	}
	st := p.Stats()
	if st.Dropped == 0 || st.Dropped >= uint64(total) {
		t.Fatalf("dropped %d of %d frames with a stuck worker", st.Dropped, total)
	}
	close(release)
	set := p.Finish()
	if got := counterValue(set, DroppedCounter); got != st.Dropped {
		t.Errorf("counter %s = %d, stats say %d", DroppedCounter, got, st.Dropped)
	}
	if got := counterValue(set, "packets"); got+st.Dropped != uint64(total+1) {
		t.Errorf("engines saw %d packets and %d were dropped, want %d in all", got, st.Dropped, total+1)
	}
}

// TestShardHash checks that the dispatcher finds the same host pair in every
// encapsulation the engine decodes, that both directions agree, that fragments and the
// other connections of the same two hosts go with their flows, and that DHCP goes to
// worker 0.
func TestShardHash(t *testing.T) {
	a4, b4 := "10.1.2.3:5555", "10.9.8.7:443"
	a6, b6 := "[2001:db8::1]:5555", "[2001:db8::2]:443"
	tcp := func(src, dst string) []byte { return seg{src, dst, 1, 0, psh, "payload-bytes-x"}.ip() }
	udp := func(src, dst string) []byte {
		s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
		l4 := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, s.Port()), d.Port())
		l4 = append(l4, 0, 12, 0, 0, 'a', 'b', 'c', 'd')
		return ipPacket(s.Addr(), d.Addr(), 17, l4)
	}
	addrOnly := func(src, dst string) uint64 {
		s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
		return FlowHash(netip.AddrPortFrom(s.Addr(), 0), netip.AddrPortFrom(d.Addr(), 0))
	}
	sll := func(ip []byte) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[14:], etherTypeOf(ip))
		return append(h, ip...)
	}
	sll2 := func(ip []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h, etherTypeOf(ip))
		return append(h, ip...)
	}
	null := func(ip []byte) []byte { return append([]byte{2, 0, 0, 0}, ip...) }
	mpls := func(ip []byte) []byte {
		b := append([]byte{}, macB...)
		b = append(append(b, macA...), 0x88, 0x47, 0, 0x01, 0x00, 64, 0, 0x02, 0x01, 64)
		return append(b, ip...)
	}
	pppoe := func(ip []byte) []byte {
		b := append(append(append([]byte{}, macB...), macA...), 0x88, 0x64, 0x11, 0, 0, 1, 0, byte(len(ip)+2), 0, 0x21)
		return append(b, ip...)
	}
	hopByHop := func(src, dst string) []byte {
		p := tcp(src, dst)
		ext := []byte{p[6], 0, 1, 4, 0, 0, 0, 0}
		out := append(append(append([]byte{}, p[:40]...), ext...), p[40:]...)
		out[6] = 0
		binary.BigEndian.PutUint16(out[4:], uint16(len(out)-40))
		return out
	}
	want := addrOnly
	frag := tcp(a4, b4)
	big := seg{a4, b4, 1, 0, psh, strings.Repeat("z", 100)}.ip()
	f4 := fragments4(big, 48)
	big6 := seg{a6, b6, 1, 0, psh, strings.Repeat("z", 100)}.ip()
	f6 := fragments6(big6, 48, 9)
	for _, tc := range []struct {
		name     string
		link     uint32
		fwd, rev []byte
		want     uint64
	}{
		{"ethernet tcp4", LinkEthernet, eth(macA, macB, tcp(a4, b4)), eth(macB, macA, tcp(b4, a4)), want(a4, b4)},
		{"ethernet udp6", LinkEthernet, eth(macA, macB, udp(a6, b6)), eth(macB, macA, udp(b6, a6)), want(a6, b6)},
		{"qinq", LinkEthernet, eth(macA, macB, tcp(a4, b4), 0x88a8, 10, 0x8100, 20), eth(macB, macA, tcp(b4, a4), 0x8100, 20), want(a4, b4)},
		{"sll", LinkSLL, sll(tcp(a6, b6)), sll(tcp(b6, a6)), want(a6, b6)},
		{"sll2", LinkSLL2, sll2(tcp(a4, b4)), sll2(tcp(b4, a4)), want(a4, b4)},
		{"null", LinkNull, null(tcp(a4, b4)), null(tcp(b4, a4)), want(a4, b4)},
		{"raw", LinkRaw, tcp(a4, b4), tcp(b4, a4), want(a4, b4)},
		{"raw ipv6", LinkIPv6, tcp(a6, b6), tcp(b6, a6), want(a6, b6)},
		{"mpls", LinkEthernet, mpls(tcp(a4, b4)), eth(macB, macA, tcp(b4, a4)), want(a4, b4)},
		{"pppoe", LinkEthernet, pppoe(tcp(a4, b4)), pppoe(tcp(b4, a4)), want(a4, b4)},
		{"ipv6 hop-by-hop", LinkEthernet, eth(macA, macB, hopByHop(a6, b6)), eth(macB, macA, tcp(b6, a6)), want(a6, b6)},
		{"ipv4 first fragment", LinkRaw, f4[0], f4[1], addrOnly(a4, b4)},
		{"ipv4 last fragment", LinkRaw, f4[len(f4)-1], f4[0], addrOnly(a4, b4)},
		{"ipv6 fragments", LinkIPv6, f6[0], f6[1], addrOnly(a6, b6)},
		{"icmp", LinkRaw, ipPacket(netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("10.9.8.7"), 1, []byte{8, 0, 0, 0}),
			ipPacket(netip.MustParseAddr("10.9.8.7"), netip.MustParseAddr("10.1.2.3"), 1, []byte{0, 0, 0, 0}), addrOnly(a4, b4)},
		{"dhcp request", LinkEthernet, eth(macA, macB, udp("0.0.0.0:68", "255.255.255.255:67")), eth(macB, macA, udp("10.0.0.1:67", "10.0.0.9:68")), 0},
		{"dhcpv6", LinkIPv6, udp("[fe80::1]:546", "[ff02::1:2]:547"), udp("[fe80::2]:547", "[fe80::1]:546"), 0},
		{"ftp data beside its control", LinkRaw, tcp("10.1.2.3:50000", "10.9.8.7:54220"), tcp("10.9.8.7:21", "10.1.2.3:50306"), addrOnly(a4, b4)},
		{"arp", LinkEthernet, append(append(append([]byte{}, macB...), macA...), 0x08, 0x06, 0, 1), nil, 0},
		{"truncated", LinkEthernet, eth(macA, macB, frag)[:20], nil, 0},
		{"unknown link", 147, tcp(a4, b4), nil, 0},
	} {
		if got := shardHash(tc.link, tc.fwd); got != tc.want {
			t.Errorf("%s: hash %x, want %x", tc.name, got, tc.want)
		}
		if tc.rev != nil {
			if got := shardHash(tc.link, tc.rev); got != tc.want {
				t.Errorf("%s reversed: hash %x, want %x", tc.name, got, tc.want)
			}
		}
	}
}

func etherTypeOf(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return etherIPv6
	}
	return etherIPv4
}

// TestPoolSpreads checks that many flows are spread over the workers, not piled on one.
func TestPoolSpreads(t *testing.T) {
	const workers, flows = 4, 4000
	counts := make([]int, workers)
	for i := range flows {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(30000+i%1000))
		h := shardHash(LinkRaw, seg{src.String(), "10.255.0.1:443", 1, 0, tcpSYN, ""}.ip())
		counts[mix64(h)%workers]++
	}
	for i, c := range counts {
		if c < flows/workers*8/10 || c > flows/workers*12/10 {
			t.Errorf("worker %d got %d of %d flows: %v", i, c, flows, counts)
		}
	}
}

// BenchmarkPool replays the ward capture through the live path (Pool.Packet) with one
// and two workers; the packets/s of the two runs show how throughput scales with cores.
// Each replay pass rewrites the IPv4 addresses (10.x.y.z → 10.x^pass.y.z), so the
// benchmark sees 32 wards' worth of distinct flows rather than one ward's few.
func BenchmarkPool(b *testing.B) {
	frames := readReplay(b, filepath.Join("..", "fixtures", "ward.pcapng"))
	var all []replayFrame
	const copies = 32
	for c := range copies {
		for _, f := range frames {
			d := bytes.Clone(f.data)
			if len(d) >= 34 && binary.BigEndian.Uint16(d[12:]) == etherIPv4 && d[26] == 10 && d[30] == 10 {
				d[27] ^= byte(c)
				d[31] ^= byte(c)
			}
			all = append(all, replayFrame{link: f.link, data: d, ts: f.ts})
		}
	}
	cfg := Config{Dissectors: protocols.All(), Datagrams: protocols.Datagrams(), Secrets: testKey}
	// The baseline: one Engine on the calling goroutine, no Pool. A one-worker Pool
	// already runs on two goroutines (the dispatcher and the worker), so on two cores the
	// step from it to two workers understates what a second core gives over this.
	b.Run("engine", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			e := NewEngine(cfg, observe.NewSet())
			for _, f := range all {
				e.Packet(f.link, f.data, f.ts)
			}
			e.Finish()
		}
		b.ReportMetric(float64(b.N*len(all))/b.Elapsed().Seconds(), "packets/s")
	})
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var bytesPerPass int64
			for _, f := range all {
				bytesPerPass += int64(len(f.data))
			}
			b.SetBytes(bytesPerPass)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p := NewPool(cfg, workers)
				for _, f := range all {
					p.Packet(f.link, f.data, f.ts)
				}
				p.Finish()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*len(all))/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// FuzzShardHash feeds arbitrary frames to the dispatcher's parser under every link type
// the engine decodes: it must not panic, and must hash a frame the same way twice.
func FuzzShardHash(f *testing.F) {
	f.Add(uint8(1), eth(macA, macB, seg{"10.0.0.1:1", "10.0.0.2:2", 1, 0, psh, "x"}.ip(), 0x8100, 5))
	f.Add(uint8(101), seg{"[2001:db8::1]:1", "[2001:db8::2]:2", 1, 0, psh, "x"}.ip())
	f.Add(uint8(113), make([]byte, 16))
	links := []uint32{LinkNull, LinkEthernet, LinkRawOld, LinkRawAlt, LinkRaw, LinkLoop, LinkSLL, LinkIPv4, LinkIPv6, LinkSLL2}
	f.Fuzz(func(t *testing.T, l uint8, data []byte) {
		link := links[int(l)%len(links)]
		if shardHash(link, data) != shardHash(link, data) {
			t.Fatal("hash not deterministic")
		}
	})
}
