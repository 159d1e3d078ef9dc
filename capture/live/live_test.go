//go:build linux

package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/bpf"
)

// needRoot skips a test that opens packet sockets when not run as root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
}

func TestOpenMissingInterface(t *testing.T) {
	_, err := Open("medscan-nope0", Options{})
	if err == nil || err.Error() != "live: medscan-nope0: no such interface" {
		t.Fatalf("error %v", err)
	}
}

// udpPair returns a listening UDP socket on loopback and a sender connected to it.
func udpPair(t *testing.T) (*net.UDPConn, *net.UDPConn) {
	t.Helper()
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	return rx, tx
}

// TestLoopback captures known datagrams on lo through a filter: each is seen exactly
// once (the outgoing copy is skipped), frames the filter rejects are not seen, and the
// kernel's counters are readable.
func TestLoopback(t *testing.T) {
	needRoot(t)
	rx, tx := udpPair(t)
	port := rx.LocalAddr().(*net.UDPAddr).Port
	_, other := udpPair(t) // traffic the filter must reject
	prog, err := bpf.Compile(fmt.Sprintf("udp and dst port %d", port), LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Open("lo", Options{Filter: prog, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.LinkType() != LinkEthernet {
		t.Errorf("link type %d on lo, want Ethernet", h.LinkType())
	}
	const n = 20
	start := time.Now()
	for i := range n {
		if _, err := tx.Write(fmt.Appendf(nil, "medscan-live-%02d", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Write([]byte("not-for-the-filter")); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, ci, err := h.ReadPacketInfo()
		if errors.Is(err, ErrTimeout) {
			if len(seen) == n {
				break // a quiet read after everything arrived: no duplicate is pending
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if ci.Timestamp.Before(start.Add(-time.Second)) || ci.Timestamp.After(time.Now().Add(time.Second)) {
			t.Errorf("timestamp %v outside the test", ci.Timestamp)
		}
		if ci.Length != len(data) {
			t.Errorf("wire length %d, captured %d", ci.Length, len(data))
		}
		if len(data) < 42 {
			t.Fatalf("short frame % x", data)
		}
		payload := string(data[42:])
		if !strings.HasPrefix(payload, "medscan-live-") {
			t.Errorf("the filter let through %q", payload)
		}
		seen[payload]++
	}
	if len(seen) != n {
		t.Errorf("captured %d distinct datagrams, want %d", len(seen), n)
	}
	for p, c := range seen {
		if c != 1 {
			t.Errorf("%s captured %d times", p, c)
		}
	}
	// The read path does not allocate.
	for range 11 {
		tx.Write([]byte("medscan-live-more"))
	}
	allocs := testing.AllocsPerRun(10, func() {
		if _, _, err := h.ReadPacket(); err != nil {
			t.Errorf("read: %v", err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadPacket allocates %.1f times per frame", allocs)
	}
	st, err := h.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// lo hands the filter each frame twice (outgoing and incoming).
	if st.Received < n || st.KernelDropped != 0 {
		t.Errorf("stats %+v, want at least %d received and none dropped", st, n)
	}
}

// TestKernelDrops fills a tiny socket buffer without reading and checks that the
// kernel's drop counter shows it.
func TestKernelDrops(t *testing.T) {
	needRoot(t)
	rx, tx := udpPair(t)
	prog, err := bpf.Compile(fmt.Sprintf("udp port %d", rx.LocalAddr().(*net.UDPAddr).Port), LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Open("lo", Options{Filter: prog, BufferSize: 4096, NoPromisc: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	payload := make([]byte, 1200)
	for range 300 {
		tx.Write(payload)
	}
	var st Stats
	for range 50 { // the datagrams cross lo asynchronously; give them a moment
		if st, err = h.Stats(); err != nil {
			t.Fatal(err)
		}
		if st.KernelDropped > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st.KernelDropped == 0 || st.Received < st.KernelDropped {
		t.Errorf("stats %+v after flooding a 4 KiB buffer", st)
	}
	if _, _, err := h.ReadPacket(); err != nil {
		t.Errorf("read after drops: %v", err)
	}
	h.Close()
	if _, _, err := h.ReadPacket(); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	after, err := h.Stats()
	if err != nil || after.KernelDropped < st.KernelDropped {
		t.Errorf("stats after Close %+v, %v", after, err)
	}
}

// TestNoPermission opens a capture as an unprivileged user, in a copy of this test
// binary, and checks the error says what is needed.
func TestNoPermission(t *testing.T) {
	if os.Getenv("MEDSCAN_LIVE_CHILD") == "1" {
		_, err := Open("lo", Options{})
		fmt.Println(err)
		return
	}
	needRoot(t)
	// The unprivileged child must reach its binary: t.TempDir's parent is private.
	dir, err := os.MkdirTemp("", "medscan-live-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	bin := filepath.Join(dir, "live.test")
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, self); err != nil {
		t.Fatal(err)
	}
	out.Close()
	cmd := exec.Command(bin, "-test.run=^TestNoPermission$")
	cmd.Env = append(os.Environ(), "MEDSCAN_LIVE_CHILD=1")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, msg)
	}
	if !strings.Contains(string(msg), "live: lo: capture needs root or CAP_NET_RAW") {
		t.Errorf("unprivileged Open said:\n%s", msg)
	}
}

// TestVethNamespace captures on one end of a veth pair whose other end lives in a fresh
// network namespace: frames this host sends (outgoing) and receives are both kept, each
// once, as the namespace test of a real deployment needs.
func TestVethNamespace(t *testing.T) {
	needRoot(t)
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("iproute2 (ip) not installed")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	pid := os.Getpid()
	ns := fmt.Sprintf("medscan-test-%d", pid)
	va, vb := fmt.Sprintf("msv%da", pid%100000), fmt.Sprintf("msv%db", pid%100000)
	sub := fmt.Sprintf("10.213.%d", pid%250)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipCmd, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() {
		exec.Command(ipCmd, "link", "del", va).Run()
		exec.Command(ipCmd, "netns", "del", ns).Run()
	})
	ip("link", "add", va, "type", "veth", "peer", "name", vb, "netns", ns)
	ip("addr", "add", sub+".1/30", "dev", va)
	ip("link", "set", va, "up")
	ip("-n", ns, "addr", "add", sub+".2/30", "dev", vb)
	ip("-n", ns, "link", "set", vb, "up")

	prog, err := bpf.Compile("udp port 47999", LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Open(va, Options{Filter: prog, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// Unconnected, so that the namespace's port-unreachable replies do not fail the
	// next send.
	out, err := net.ListenPacket("udp4", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	dst := &net.UDPAddr{IP: net.ParseIP(sub + ".2"), Port: 47999}
	deadline := time.Now().Add(5 * time.Second)
	for i := range 3 {
		if _, err := out.WriteTo(fmt.Appendf(nil, "to-ns-%d", i), dst); err != nil {
			t.Fatal(err)
		}
		// bash's /dev/udp sends one datagram from inside the namespace.
		cmd := exec.Command(ipCmd, "netns", "exec", ns, bash, "-c", fmt.Sprintf("printf from-ns-%d > /dev/udp/%s.1/47999", i, sub))
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("send from the namespace: %v\n%s", err, msg)
		}
	}
	seen := map[string]int{}
	outgoing := 0
	for time.Now().Before(deadline) {
		data, ci, err := h.ReadPacketInfo()
		if errors.Is(err, ErrTimeout) {
			if len(seen) == 6 {
				break
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 42 {
			continue
		}
		p := string(data[42:])
		seen[p]++
		if ci.Outgoing {
			outgoing++
			if !strings.HasPrefix(p, "to-ns-") {
				t.Errorf("%q marked outgoing", p)
			}
		}
	}
	if len(seen) != 6 || outgoing != 3 {
		t.Errorf("seen %v, %d outgoing; want 3 each way, once each", seen, outgoing)
	}
	for p, c := range seen {
		if c != 1 {
			t.Errorf("%s captured %d times", p, c)
		}
	}
}
