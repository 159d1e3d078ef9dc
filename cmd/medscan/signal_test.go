//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pcapHeader is a classic pcap file header (little-endian, microseconds, Ethernet), after
// which zero bytes read as empty records at the epoch: a capture that never ends.
var pcapHeader = []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}

// signalled is a medscan process started for a signal test.
type signalled struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// startScan starts medscan in dir with stdin fed by feed (nil: none) and stdout to out.
func startScan(t *testing.T, dir string, feed func(io.WriteCloser), out io.Writer, args ...string) *signalled {
	t.Helper()
	p := &signalled{cmd: exec.Command(binPath, args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
	p.cmd.Stdout, p.cmd.Stderr = out, &p.stderr
	var stdin io.WriteCloser
	if feed != nil {
		var err error
		if stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if feed != nil {
		go feed(stdin)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// endlessCapture writes a pcap header then zeros until the process stops reading (its
// stdin pipe breaks) or a bound of 64 GiB.
func endlessCapture(w io.WriteCloser) {
	defer w.Close()
	if _, err := w.Write(pcapHeader); err != nil {
		return
	}
	zeros := make([]byte, 1<<20)
	for range 64 << 10 {
		if _, err := w.Write(zeros); err != nil {
			return
		}
	}
}

// signal sends sig to the process.
func (p *signalled) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v: %v", sig, err)
	}
}

// exit waits up to limit for the process to end, and returns its exit code.
func (p *signalled) exit(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("still running %v after the signal; stderr: %s", limit, p.stderr.String())
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// checkInterrupted checks the JSON report of an interrupted scan, and that the store
// holds the same scan marked incomplete.
func checkInterrupted(t *testing.T, dir, report, sigName string) {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal([]byte(report), &rep); err != nil {
		t.Fatalf("the report is not JSON (%v): %.300q", err, report)
	}
	said := false
	for _, p := range rep.Scan.Problems {
		said = said || strings.Contains(p.Message, "interrupted ("+sigName+" received)")
	}
	if rep.Scan.Complete || !said {
		t.Errorf("report: complete %v, problems %+v; want incomplete, interrupted by %s", rep.Scan.Complete, rep.Scan.Problems, sigName)
	}
	res := medscan(t, dir, nil, "report", "-f", "json")
	var stored jsonReport
	if err := json.Unmarshal([]byte(res.stdout), &stored); err != nil {
		t.Fatalf("medscan report: exit %d, %v: %s", res.code, err, res.stderr)
	}
	if stored.Scan.ID != rep.Scan.ID || stored.Scan.Complete {
		t.Errorf("stored scan %d complete %v; want scan %d, incomplete", stored.Scan.ID, stored.Scan.Complete, rep.Scan.ID)
	}
}

// TestSignalEndsEndlessCapture checks that SIGINT and SIGTERM end a scan of a capture
// that never ends, on standard input, within a second: what was read is stored and
// reported, marked incomplete with the signal named, and the exit code is 1.
func TestSignalEndsEndlessCapture(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGINT, "SIGINT"}, {syscall.SIGTERM, "SIGTERM"}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			p := startScan(t, dir, endlessCapture, &out, "scan", "--pcap", "-", "-f", "json")
			time.Sleep(time.Second)
			p.signal(t, c.sig)
			sent := time.Now()
			code := p.exit(t, 2*time.Second)
			if took := time.Since(sent); took > time.Second {
				t.Errorf("exited %v after %s; want within a second", took, c.name)
			}
			if code != exitError {
				t.Errorf("exit %d; want %d; stderr: %s", code, exitError, p.stderr.String())
			}
			if want := "the scan was interrupted (" + c.name + " received)"; !strings.Contains(p.stderr.String(), want) {
				t.Errorf("stderr %q; want %q", p.stderr.String(), want)
			}
			checkInterrupted(t, dir, out.String(), c.name)
		})
	}
}

// TestSignalStalledInput checks that a signal ends a scan whose standard input sends
// nothing more (a capture pipe gone quiet), before and after the capture's header.
func TestSignalStalledInput(t *testing.T) {
	for _, c := range []struct {
		name string
		head []byte
	}{{"nothing sent", nil}, {"header sent", pcapHeader}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			feed := func(w io.WriteCloser) {
				w.Write(c.head)
				<-release
				w.Close()
			}
			p := startScan(t, dir, feed, io.Discard, "scan", "--pcap", "-", "-q")
			time.Sleep(500 * time.Millisecond)
			p.signal(t, syscall.SIGTERM)
			if code := p.exit(t, 2*time.Second); code != exitError {
				t.Errorf("exit %d; want %d; stderr: %s", code, exitError, p.stderr.String())
			}
			if !strings.Contains(p.stderr.String(), "interrupted (SIGTERM received)") {
				t.Errorf("stderr %q; want the interruption named", p.stderr.String())
			}
		})
	}
}

// TestSecondSignalExitsAtOnce checks that a second signal ends the process at once, with
// 128 plus the signal's number, while the first is still being honoured: here the
// report cannot be written, standard output being a full pipe no one reads.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			// Fill the pipe, so the report's first write blocks.
			w.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			w.Write(make([]byte, 1<<22))
			w.SetWriteDeadline(time.Time{})
			p := startScan(t, dir, endlessCapture, w, "scan", "--pcap", "-")
			w.Close()
			time.Sleep(500 * time.Millisecond)
			p.signal(t, c.sig)
			select {
			case <-p.done:
				t.Fatalf("exited on the first signal; the test needs it to block on its output; stderr: %s", p.stderr.String())
			case <-time.After(time.Second):
			}
			p.signal(t, c.sig)
			sent := time.Now()
			if code := p.exit(t, time.Second); code != c.code {
				t.Errorf("exit %d after the second %v; want %d", code, c.sig, c.code)
			}
			if took := time.Since(sent); took > 500*time.Millisecond {
				t.Errorf("exited %v after the second signal; want at once", took)
			}
		})
	}
}

// TestSignalLargeCapture checks that SIGTERM stops the reading of a large capture file
// (the ward capture 300 times over: 100 MB of real traffic) part-way.
func TestSignalLargeCapture(t *testing.T) {
	if _, err := os.Stat("/proc/self/io"); err != nil {
		t.Skip("skipping: no /proc/PID/io to tell how far the scan has read")
	}
	ward, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "ward.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	big := filepath.Join(dir, "big.pcapng")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	const copies = 300
	for range copies {
		f.Write(ward)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := startScan(t, dir, nil, &out, "scan", "--pcap", big, "-f", "json")
	// Signal once the scan has read a tenth of the file: started, and far from done.
	procIO := filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "io")
	for deadline := time.Now().Add(10 * time.Second); readChars(procIO) < copies*int64(len(ward))/10; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the scan read less than a tenth of the file in 10 s")
		}
	}
	p.signal(t, syscall.SIGTERM)
	sent := time.Now()
	if code := p.exit(t, 2*time.Second); code != exitError {
		t.Errorf("exit %d; want %d; stderr: %s", code, exitError, p.stderr.String())
	}
	if took := time.Since(sent); took > time.Second {
		t.Errorf("exited %v after SIGTERM; want within a second", took)
	}
	checkInterrupted(t, dir, out.String(), "SIGTERM")
}

// readChars is rchar of /proc/PID/io: the bytes the process has read, or 0.
func readChars(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
