package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"golang.org/x/net/bpf"

	"github.com/medscan/medscan/internal/testproc"
)

// ---- frames built by hand, to reach what the real captures lack ----

var (
	macA = []byte{0x02, 0, 0, 0, 0, 0xaa}
	macB = []byte{0x02, 0, 0, 0, 0, 0xbb}
)

func ether(et uint16, payload []byte, tags ...uint16) []byte {
	b := append(append([]byte{}, macB...), macA...)
	for i := 0; i+1 < len(tags); i += 2 {
		b = binary.BigEndian.AppendUint16(b, tags[i])
		b = binary.BigEndian.AppendUint16(b, tags[i+1])
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, payload...)
}

func ports(sp, dp uint16, n int) []byte {
	b := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, sp), dp)
	return append(b, make([]byte, n)...)
}

// ip4 builds an IPv4 header (with optWords words of options) around payload.
func ip4(src, dst string, proto byte, frag uint16, optWords int, payload []byte) []byte {
	ihl := 5 + optWords
	h := make([]byte, ihl*4)
	h[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8], h[9] = 64, proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	for i := 20; i < len(h); i++ {
		h[i] = 1 // NOP options
	}
	return append(h, payload...)
}

func ip6(src, dst string, nh byte, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6], h[7] = nh, 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, payload...)
}

func arpFrame(et uint16, spa, tpa string) []byte {
	b := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	b = append(append(b, macA...), netip.MustParseAddr(spa).AsSlice()...)
	b = append(append(b, make([]byte, 6)...), netip.MustParseAddr(tpa).AsSlice()...)
	return ether(et, b)
}

type namedFrame struct {
	name string
	data []byte
}

func syntheticFrames() []namedFrame {
	frag6 := append([]byte{17, 0, 0, 0, 0, 0, 0, 7}, ports(7000, 53, 8)...)
	hbh := append([]byte{6, 0, 1, 4, 0, 0, 0, 0}, ports(40000, 80, 16)...)
	return []namedFrame{
		{"tcp4-80", ether(0x0800, ip4("10.0.0.1", "10.0.0.2", 6, 0x4000, 0, ports(40000, 80, 16)))},
		{"tcp4-opts-443", ether(0x0800, ip4("10.0.0.1", "192.168.1.5", 6, 0, 2, ports(40001, 443, 16)))},
		{"udp4-53", ether(0x0800, ip4("10.0.0.3", "8.8.8.8", 17, 0, 0, ports(5353, 53, 4)))},
		{"udp4-frag-first", ether(0x0800, ip4("10.0.0.4", "10.0.0.5", 17, 0x2000, 0, ports(1000, 2000, 20)))},
		{"udp4-frag-later", ether(0x0800, ip4("10.0.0.4", "10.0.0.5", 17, 3, 0, ports(80, 80, 20)))},
		{"icmp4", ether(0x0800, ip4("10.0.0.1", "10.0.0.9", 1, 0, 0, []byte{8, 0, 0, 0, 0, 0, 0, 0}))},
		{"tcp6-22", ether(0x86dd, ip6("2001:db8::1", "2001:db8::2", 6, ports(5000, 22, 16)))},
		{"udp6-frag", ether(0x86dd, ip6("2001:db8::1", "2001:db8:1::9", 44, frag6))},
		{"tcp6-hbh", ether(0x86dd, ip6("2001:db8::3", "2001:db8::2", 0, hbh))},
		{"icmp6", ether(0x86dd, ip6("fe80::1", "ff02::1", 58, []byte{135, 0, 0, 0, 0, 0, 0, 0}))},
		{"arp", arpFrame(0x0806, "10.0.0.1", "10.0.0.2")},
		{"rarp", arpFrame(0x8035, "10.0.0.7", "10.0.0.8")},
		{"vlan10-tcp4", ether(0x0800, ip4("10.0.0.1", "10.0.0.2", 6, 0, 0, ports(40000, 80, 16)), 0x8100, 10)},
		{"vlan20-udp6", ether(0x86dd, ip6("2001:db8::1", "2001:db8::2", 17, ports(5353, 5353, 8)), 0x8100, 20)},
		{"qinq-tcp4", ether(0x0800, ip4("10.1.0.1", "10.1.0.2", 6, 0, 0, ports(1024, 8080, 16)), 0x88a8, 100, 0x8100, 10)},
		{"sctp4", ether(0x0800, ip4("10.0.0.1", "10.0.0.2", 132, 0, 0, ports(3868, 3868, 8)))},
		{"truncated", ether(0x0800, ip4("10.0.0.1", "10.0.0.2", 6, 0, 0, ports(40000, 80, 16)))[:30]},
		{"mapped-v6", ether(0x86dd, ip6("::ffff:10.0.0.1", "2001:db8::2", 6, ports(40000, 80, 16)))},
	}
}

// run executes a program on a frame with x/net/bpf's VM.
func run(t testing.TB, prog []bpf.RawInstruction, frame []byte) bool {
	t.Helper()
	ins := make([]bpf.Instruction, len(prog))
	for i, r := range prog {
		ins[i] = r.Disassemble()
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("VM refuses the program: %v", err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	return n > 0
}

// TestSynthetic checks verdicts worked out by hand, without tcpdump.
func TestSynthetic(t *testing.T) {
	frames := syntheticFrames()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		// A frame cut after the protocol byte is still TCP, as in tcpdump.
		{"tcp", []string{"tcp4-80", "tcp4-opts-443", "tcp6-22", "truncated", "mapped-v6"}},
		{"udp", []string{"udp4-53", "udp4-frag-first", "udp4-frag-later", "udp6-frag"}},
		{"port 80", []string{"tcp4-80", "mapped-v6"}},
		{"tcp port 443", []string{"tcp4-opts-443"}},
		{"udp port 53", []string{"udp4-53"}},
		{"port 2000", []string{"udp4-frag-first"}},
		{"portrange 3000-4000", []string{"sctp4"}},
		{"src port 40000 or dst port 22", []string{"tcp4-80", "tcp6-22", "mapped-v6"}},
		{"host 10.0.0.2", []string{"tcp4-80", "arp", "sctp4"}},
		{"src host 10.0.0.7", []string{"rarp"}},
		{"dst 2001:db8::2", []string{"tcp6-22", "tcp6-hbh", "mapped-v6"}},
		{"net 2001:db8::/48", []string{"tcp6-22", "udp6-frag", "tcp6-hbh", "mapped-v6"}},
		{"net 192.168.0.0/16", []string{"tcp4-opts-443"}},
		{"10.0.0.4/31 and not udp", nil},
		{"icmp or icmp6", []string{"icmp4", "icmp6"}},
		{"arp", []string{"arp"}},
		{"ip6 and not tcp", []string{"udp6-frag", "tcp6-hbh", "icmp6"}},
		{"vlan", []string{"vlan10-tcp4", "vlan20-udp6", "qinq-tcp4"}},
		{"vlan 10 and tcp", []string{"vlan10-tcp4"}},
		{"vlan 100 and vlan 10 and port 8080", []string{"qinq-tcp4"}},
		{"ip proto 132", []string{"sctp4"}},
		{"!(ip or ip6)", []string{"arp", "rarp", "vlan10-tcp4", "vlan20-udp6", "qinq-tcp4"}},
		{"", names(frames)},
	} {
		prog, err := Compile(tc.expr, LinkEthernet, 0)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		var got []string
		for _, f := range frames {
			if run(t, prog, f.data) {
				got = append(got, f.name)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q matches %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func names(fs []namedFrame) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.name)
	}
	return out
}

// TestRawLink checks the raw-IP layouts: the version nibble or the link type decides.
func TestRawLink(t *testing.T) {
	v4 := ip4("10.0.0.1", "10.0.0.2", 6, 0, 0, ports(1, 80, 16))
	v6 := ip6("2001:db8::1", "2001:db8::2", 17, ports(1, 53, 8))
	for _, tc := range []struct {
		link uint32
		expr string
		v4   bool
		v6   bool
	}{
		{LinkRaw, "ip", true, false},
		{LinkRaw, "ip6", false, true},
		{LinkRaw, "port 80 or port 53", true, true},
		{LinkRaw, "arp", false, false},
		{LinkIPv4, "tcp port 80", true, false},
		{LinkIPv6, "udp port 53", false, true},
	} {
		prog, err := Compile(tc.expr, tc.link, 96)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		if got := run(t, prog, v4); got != tc.v4 && (tc.link != LinkIPv6) {
			t.Errorf("link %d %q on IPv4: %v", tc.link, tc.expr, got)
		}
		if got := run(t, prog, v6); got != tc.v6 && (tc.link != LinkIPv4) {
			t.Errorf("link %d %q on IPv6: %v", tc.link, tc.expr, got)
		}
	}
	prog, _ := Compile("tcp", LinkSLL, 96)
	sll := append(make([]byte, 14), 0x08, 0x00)
	if !run(t, prog, append(sll, v4...)) {
		t.Error("tcp on Linux cooked does not match")
	}
	// The snapshot length is the accepting return value.
	ins := prog[len(prog)-2].Disassemble()
	if r, ok := ins.(bpf.RetConstant); !ok || r.Val != 96 {
		t.Errorf("accepting return %v, want ret #96", ins)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"tcp and prot 80", `bpf: position 9: unknown primitive "prot"`},
		{"port", "bpf: position 5: expected a port number (0-65535), found end of expression"},
		{"port 70000", `bpf: position 6: expected a port number (0-65535), found "70000"`},
		{"port http", `service names are not accepted`},
		{"host example.org", `position 6: expected an IPv4 or IPv6 address, found "example.org" (host names are not accepted)`},
		{"net 10.0.0.1/8", `network "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)`},
		{"(tcp", `position 5: expected ")", found end of expression`},
		{"tcp)", `position 4: unbalanced ")"`},
		{"tcp udp", `position 5: expected and, or or the end, found "udp"`},
		{"tcp &", `position 5: unexpected "&" (use "&&")`},
		{"tcp and", `position 8: expected a primitive, found end of expression`},
		{"src foo", `position 5: expected host, net, port or portrange, found "foo"`},
		{"portrange 80", `expected a port range A-B, found "80"`},
		{"vlan 5000", `expected a VLAN ID (0-4095)`},
		{"ip[9] = 6", `position 3: unexpected character "["`},
		{"host fe80::1%eth0", `position 13: unexpected character "%"`},
		{strings.Repeat("(", 100) + "tcp" + strings.Repeat(")", 100), "nested more than 64 deep"},
		{strings.Repeat("host 10.0.0.1 or ", 400) + "tcp", "more than 4096 instructions"},
	} {
		_, err := Compile(tc.expr, LinkEthernet, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: error %v, want %q", tc.expr, err, tc.want)
		}
	}
	if _, err := Compile("tcp", 0, 0); err == nil || !strings.Contains(err.Error(), "link type 0 not supported") {
		t.Errorf("NULL link: %v", err)
	}
}

// TestLongJumps checks a program longer than a conditional jump reaches: its far
// targets go through unconditional jumps, and it still decides right.
func TestLongJumps(t *testing.T) {
	var terms []string
	for i := range 60 {
		terms = append(terms, "host 10.9."+strconv.Itoa(i)+".1")
	}
	expr := "(" + strings.Join(terms, " or ") + ") and tcp"
	prog, err := Compile(expr, LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 300 {
		t.Fatalf("program of %d instructions is too short to test long jumps", len(prog))
	}
	hit := ether(0x0800, ip4("10.9.59.1", "10.0.0.1", 6, 0, 0, ports(1, 2, 16)))
	miss := ether(0x0800, ip4("10.9.60.1", "10.0.0.1", 6, 0, 0, ports(1, 2, 16)))
	udp := ether(0x0800, ip4("10.9.0.1", "10.0.0.1", 17, 0, 0, ports(1, 2, 16)))
	if !run(t, prog, hit) || run(t, prog, miss) || run(t, prog, udp) {
		t.Error("long program decides wrongly")
	}
}

// ---- the comparison with tcpdump ----

// comparedExpressions are compiled by this package and by tcpdump, and must select the
// same frames of every capture.
var comparedExpressions = []string{
	"tcp", "udp", "icmp", "icmp6", "ip", "ip6", "arp", "vlan",
	"not tcp", "tcp or udp", "!(tcp || udp)",
	"port 443", "tcp port 443", "udp port 67", "src port 443", "dst port 443",
	"portrange 1-1024", "tcp portrange 440-450", "udp and not port 53",
	"host 10.20.0.10", "src host 10.20.1.23", "dst host 10.20.0.2",
	"net 10.20.0.0/24", "src net 10.20.1.0/24 and tcp", "net 192.168.0.0/16",
	"host 2001:db8::1", "net fe80::/10", "ip6 and port 1883",
	"tcp and (port 80 or port 8000) and not host 10.20.0.99",
	"vlan 10 and tcp", "ip proto 17", "ip6 proto 6",
	"(tcp port 443 or udp port 53) and src net 10.0.0.0/8",
	"port 2000 or port 80", "portrange 3000-4000", "arp or icmp",
}

// tcpdumpPath returns tcpdump, skipping the test when it is missing unless
// MEDSCAN_REQUIRE_REALSOFT=1.
func tcpdumpPath(t *testing.T) string {
	p, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("MEDSCAN_REQUIRE_REALSOFT") == "1" {
			t.Fatal("tcpdump not installed (MEDSCAN_REQUIRE_REALSOFT=1)")
		}
		t.Skip("tcpdump not installed: apt-get install tcpdump")
	}
	return p
}

type capFrame struct {
	ts   time.Time
	data []byte
}

func readCapture(t *testing.T, path string) (uint32, []capFrame) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []capFrame
	var link uint32
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	if binary.BigEndian.Uint32(raw) == 0x0a0d0d0a {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		link, src = uint32(r.LinkType()), r
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		link, src = uint32(r.LinkType()), r
	}
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return link, out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, capFrame{ci.Timestamp, data})
	}
}

// TestAgainstTcpdump compiles every compared expression for every capture — the
// hand-built frames, the ward capture and the real-world corpus — and checks that the
// program, run in x/net/bpf's VM, keeps exactly the frames tcpdump keeps.
func TestAgainstTcpdump(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	root := testproc.RepoRoot(t)
	dir := t.TempDir()
	synth := filepath.Join(dir, "synthetic.pcap")
	f, err := os.Create(synth)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	for i, fr := range syntheticFrames() {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(fr.data), Length: len(fr.data)}, fr.data)
	}
	f.Close()
	files := []string{synth, filepath.Join(root, "fixtures", "ward.pcapng")}
	corpus, _ := filepath.Glob(filepath.Join(root, "..", "shared", "corpus", "pcap", "*"))
	if len(corpus) == 0 && os.Getenv("CI") == "true" {
		t.Fatal("corpus missing (CI=true)")
	}
	files = append(files, corpus...)
	checked := 0
	for _, path := range files {
		link, frames := readCapture(t, path)
		if _, err := newLayout(link); err != nil {
			continue // a link type this package does not compile for (BSD NULL)
		}
		for _, expr := range comparedExpressions {
			out := filepath.Join(dir, "out.pcap")
			cmd := exec.Command(tcpdump, "-r", path, "-w", out, expr)
			msg, tdErr := cmd.CombinedOutput()
			prog, err := Compile(expr, link, 0)
			if err != nil {
				if tdErr == nil {
					t.Errorf("%s: %q: %v, but tcpdump accepts it", filepath.Base(path), expr, err)
				}
				continue
			}
			var mine []capFrame
			for _, fr := range frames {
				if run(t, prog, fr.data) {
					mine = append(mine, fr)
				}
			}
			var theirs []capFrame
			switch err := tdErr; {
			case err != nil && bytes.Contains(msg, []byte("expression rejects all packets")):
				// tcpdump refuses a filter that cannot match this link type: no frames.
			case err != nil:
				t.Fatalf("tcpdump %q on %s: %v\n%s", expr, path, err, msg)
			default:
				_, theirs = readCapture(t, out)
			}
			if !sameFrames(mine, theirs) {
				t.Errorf("%s: %q keeps %d frames, tcpdump %d", filepath.Base(path), expr, len(mine), len(theirs))
			}
			checked++
		}
	}
	t.Logf("%d expression/capture pairs agree with tcpdump", checked)
}

func sameFrames(a, b []capFrame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].ts.Equal(b[i].ts) || !bytes.Equal(a[i].data, b[i].data) {
			return false
		}
	}
	return true
}

// FuzzCompile checks that no expression panics the compiler, that programs stay within
// the kernel's limit, and that every program the compiler returns is valid and runs.
func FuzzCompile(f *testing.F) {
	for _, e := range comparedExpressions {
		f.Add(e)
	}
	f.Add("((not vlan 1 and src 10.0.0.0/8) || dst portrange 9-1)")
	f.Add("tcp and prot 80")
	frames := syntheticFrames()
	f.Fuzz(func(t *testing.T, expr string) {
		prog, err := Compile(expr, LinkEthernet, 0)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bpf: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if len(prog) == 0 || len(prog) > MaxInstructions {
			t.Fatalf("program of %d instructions", len(prog))
		}
		for _, fr := range frames[:4] {
			run(t, prog, fr.data)
		}
	})
}
