package testproc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Capturer is tcpdump or dumpcap recording packets into a file.
type Capturer struct {
	// Path is the capture file: pcap from tcpdump, pcapng from dumpcap.
	Path string
	proc *Process
}

// StartCapture records the packets on iface that match the BPF filter into path, with
// tool (the path of tcpdump or of dumpcap, told apart by its name), and returns once
// the tool says it is listening, so that no packet of the conversation that follows is
// missed. A tool the system forbids to capture skips the test, or fails it when the
// environment variable requireEnv is 1.
func StartCapture(t *testing.T, tool, iface, filter, path, requireEnv string) *Capturer {
	t.Helper()
	c := &Capturer{Path: path}
	ready := "listening on"
	if filepath.Base(tool) == "dumpcap" {
		ready = "Capturing on"
		c.proc = Start(t, tool, "-i", iface, "-f", filter, "-w", path, "-q")
	} else {
		// --immediate-mode: without it libpcap hands packets over in blocks, and those
		// still in the kernel when tcpdump is interrupted are counted as received but
		// never written.
		args := []string{"-i", iface, "-n", "-U", "--immediate-mode", "-w", path}
		if os.Geteuid() == 0 {
			args = append(args, "-Z", "root") // stay root: the temporary directory is root's alone
		}
		c.proc = Start(t, tool, append(args, filter)...)
	}
	switch err := c.proc.await(Stderr, ready, 15*time.Second); {
	case err == errExited:
		msg := strings.ToLower(c.proc.Output())
		if !Required(requireEnv) && (strings.Contains(msg, "permission") || strings.Contains(msg, "not permitted")) {
			t.Skipf("skipping: %s may not capture here (needs root or CAP_NET_RAW): %s", c.proc.name(), c.proc.Output())
		}
		t.Fatalf("%s exited before listening: %s", c.proc.name(), c.proc.Output())
	case err != nil:
		t.Fatalf("%s %v: %s", c.proc.name(), err, c.proc.Output())
	}
	return c
}

// Stop lets the last packets reach the tool, interrupts it so that it flushes and
// closes the file, and returns the file's bytes, failing the test when it holds no
// packets.
func (c *Capturer) Stop(t *testing.T) []byte {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	if err := c.proc.Interrupt(); err != nil {
		t.Fatalf("interrupting %s: %v", c.proc.name(), err)
	}
	if !c.proc.WaitExit(10 * time.Second) {
		t.Fatalf("%s did not stop within 10s: %s", c.proc.name(), c.proc.Output())
	}
	raw, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatalf("reading the capture: %v\n%s", err, c.proc.Output())
	}
	// Less than a pcap header and one small packet: the conversation was not recorded.
	if len(raw) < 200 {
		t.Fatalf("capture %s is empty (%d bytes): %s", c.Path, len(raw), c.proc.Output())
	}
	return raw
}
