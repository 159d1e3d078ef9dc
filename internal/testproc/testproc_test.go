package testproc

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProcessOutput(t *testing.T) {
	p := Start(t, "sh", "-c", "echo ready; echo oops >&2")
	p.WaitFor(t, Stdout, "ready", 10*time.Second)
	p.WaitFor(t, Stderr, "oops", 10*time.Second)
	if !p.WaitExit(10 * time.Second) {
		t.Fatal("sh did not exit")
	}
	if p.Contains(Stdout, "oops") || !p.Contains(Stderr, "oops") {
		t.Errorf("the streams are mixed up: %s", p.Output())
	}
	if out := p.Output(); !strings.Contains(out, "stdout: ready\n") || !strings.Contains(out, "stderr: oops\n") {
		t.Errorf("Output() = %q", out)
	}
}

func TestProcessStdin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(*testing.T, string, ...string) *Process
		ended bool // cat ends at once when its input is /dev/null
	}{
		{"dev-null", Start, true},
		{"held", StartHoldingStdin, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.start(t, "cat")
			if got := p.WaitExit(500 * time.Millisecond); got != tc.ended {
				t.Fatalf("cat ended: %v, want %v", got, tc.ended)
			}
			p.Kill()
			if !p.WaitExit(0) {
				t.Error("cat still runs after Kill")
			}
		})
	}
}

// TestKillGroup checks that Kill reaches a child the program started, not only the
// program: nginx's workers must not outlive the test.
func TestKillGroup(t *testing.T) {
	p := Start(t, "sh", "-c", "sleep 60 & echo $!; wait")
	p.WaitFor(t, Stdout, "\n", 10*time.Second)
	p.mu.Lock()
	first, _, _ := strings.Cut(p.out[Stdout].String(), "\n")
	p.mu.Unlock()
	pid, err := strconv.Atoi(first)
	if err != nil {
		t.Fatalf("no child pid: %v: %s", err, p.Output())
	}
	p.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		// Gone, or a zombie waiting for a parent that does not reap.
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child sleep %d survived Kill: %s", pid, stat)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFreePort(t *testing.T) {
	port := FreePort(t, "tcp4", "127.0.0.1")
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("port %d is not free: %v", port, err)
	}
	ln.Close()
}

func TestNeed(t *testing.T) {
	if p := Need(t, "TESTPROC_UNSET_VARIABLE", "sh", "test"); filepath.Base(p) != "sh" {
		t.Errorf("Need(sh) = %q", p)
	}
	var sub *testing.T
	reached := false
	t.Run("missing", func(t *testing.T) {
		sub = t
		Need(t, "TESTPROC_UNSET_VARIABLE", "no-such-tool-testproc", "nowhere")
		reached = true
	})
	if !sub.Skipped() || reached {
		t.Errorf("a missing tool did not skip: skipped %v, went on %v", sub.Skipped(), reached)
	}
}

func TestKeep(t *testing.T) {
	Keep(t, "", ".pcap", []byte("x")) // no directory: nothing to do, nothing to fail
	dir := filepath.Join(t.TempDir(), "kept")
	Keep(t, dir, ".pcap", []byte("packets"))
	raw, err := os.ReadFile(filepath.Join(dir, "TestKeep.pcap"))
	if err != nil || string(raw) != "packets" {
		t.Errorf("kept %q, %v", raw, err)
	}
}
