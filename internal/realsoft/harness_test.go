package realsoft

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
)

// This file is the harness the protocol tests share: the medscan binary, built once;
// finding the real tools; starting and stopping processes; capturing on loopback; and
// reading medscan's report of a capture.

// medscanBin is the binary TestMain built; "" when the build failed (buildErr says why).
var (
	medscanBin string
	buildErr   error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "medscan-realsoft")
	if err != nil {
		fmt.Fprintln(os.Stderr, "realsoft:", err)
		os.Exit(1)
	}
	medscanBin, buildErr = buildMedscan(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildMedscan builds ./cmd/medscan from the repository root into dir.
func buildMedscan(dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "medscan")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/medscan")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/medscan: %w\n%s", err, out)
	}
	return bin, nil
}

// repoRoot is the directory holding go.mod, found upwards from the test's directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// required reports whether CI demands that every real-software test run.
func required() bool { return os.Getenv("MEDSCAN_REQUIRE_REALSOFT") == "1" }

// requireTool finds a program on PATH, or skips the test saying which package provides
// it; under MEDSCAN_REQUIRE_REALSOFT=1 a missing tool fails the test instead.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	// Debian puts some servers (mosquitto, nginx) in sbin, which a user's PATH may lack.
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if required() {
		t.Fatalf("%s (Debian package %s) is required (MEDSCAN_REQUIRE_REALSOFT=1) but not installed", name, pkg)
	}
	t.Skipf("skipping: %s is not installed (Debian package %s)", name, pkg)
	return ""
}

// freePort asks the kernel for a loopback TCP port that is free now. A server that must
// bind the port itself takes it a moment later; another process taking it in between
// shows as the server failing to start, not as a wrong result.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// run runs a client program to its end, within limit, and fails the test with its
// output if it fails.
func run(t *testing.T, limit time.Duration, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v (limit %v)\n%s", filepath.Base(name), strings.Join(args, " "), err, limit, out)
	}
	return string(out)
}

// process is a started server or capture tool whose output is kept, and which is
// killed, with its process group, when the test ends if it is still running.
type process struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  map[string]*bytes.Buffer
	seen chan struct{} // signalled on each new output line
	done chan struct{}
}

func startProcess(t *testing.T, name string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(name, args...), out: map[string]*bytes.Buffer{"stdout": {}, "stderr": {}},
		seen: make(chan struct{}, 1), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Its own process group, so that nginx's workers die with their master and the
	// cleanup never signals anything the test did not start.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	var readers sync.WaitGroup
	for key, r := range map[string]io.Reader{"stdout": stdout, "stderr": stderr} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				p.mu.Lock()
				p.out[key].Write(sc.Bytes())
				p.out[key].WriteByte('\n')
				p.mu.Unlock()
				select {
				case p.seen <- struct{}{}:
				default:
				}
			}
			io.Copy(io.Discard, r)
		}()
	}
	go func() {
		readers.Wait()
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill ends the process group if the process is still running, and waits for it.
func (p *process) kill() {
	if !p.waitExit(0) {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.waitExit(10 * time.Second)
	}
}

// waitFor returns once the program has written a line containing s on stream, and
// fails the test if it exits first or takes longer than limit.
func (p *process) waitFor(t *testing.T, stream, s string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		if p.contains(stream, s) {
			return
		}
		select {
		case <-p.seen:
		case <-p.done:
			if p.contains(stream, s) {
				return
			}
			t.Fatalf("%s exited before saying %q: %s", filepath.Base(p.cmd.Path), s, p.output())
		case <-deadline:
			t.Fatalf("%s did not say %q within %v: %s", filepath.Base(p.cmd.Path), s, limit, p.output())
		}
	}
}

func (p *process) contains(stream, s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Contains(p.out[stream].String(), s)
}

// waitExit waits up to limit for the program to end and reports whether it has.
func (p *process) waitExit(limit time.Duration) bool {
	if limit <= 0 {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
	select {
	case <-p.done:
		return true
	case <-time.After(limit):
		return false
	}
}

// output is what the program has written so far, for failure messages.
func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%s %s\nstdout: %.3000s\nstderr: %.3000s", filepath.Base(p.cmd.Path),
		strings.Join(p.cmd.Args[1:], " "), p.out["stdout"].String(), p.out["stderr"].String())
}

// capture is tcpdump recording one TCP port on the loopback interface.
type capture struct {
	path string
	proc *process
}

// startCapture records TCP port port on lo, and returns once tcpdump says it is
// listening, so that no packet of the conversation that follows is missed.
func startCapture(t *testing.T, port int) *capture {
	t.Helper()
	tcpdump := requireTool(t, "tcpdump", "tcpdump")
	c := &capture{path: filepath.Join(t.TempDir(), "live.pcap")}
	// --immediate-mode: without it libpcap hands packets over in blocks, and those still
	// in the kernel when tcpdump is interrupted are counted as received but never written.
	args := []string{"-i", "lo", "-n", "-U", "--immediate-mode", "-w", c.path}
	if os.Geteuid() == 0 {
		args = append(args, "-Z", "root") // stay root: the temporary directory is root's alone
	}
	c.proc = startProcess(t, tcpdump, append(args, "tcp", "port", strconv.Itoa(port))...)
	deadline := time.After(15 * time.Second)
	for !c.proc.contains("stderr", "listening on") {
		select {
		case <-c.proc.seen:
		case <-c.proc.done:
			if c.proc.contains("stderr", "listening on") {
				continue
			}
			msg := strings.ToLower(c.proc.output())
			if !required() && (strings.Contains(msg, "permission") || strings.Contains(msg, "not permitted")) {
				t.Skipf("skipping: tcpdump may not capture here (needs root or CAP_NET_RAW): %s", c.proc.output())
			}
			t.Fatalf("tcpdump exited before listening: %s", c.proc.output())
		case <-deadline:
			t.Fatalf("tcpdump did not start listening within 15s: %s", c.proc.output())
		}
	}
	return c
}

// stop lets the last packets reach tcpdump, interrupts it so that it flushes and closes
// the file, and returns the capture's bytes.
func (c *capture) stop(t *testing.T) []byte {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	if err := c.proc.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("interrupting tcpdump: %v", err)
	}
	if !c.proc.waitExit(10 * time.Second) {
		t.Fatalf("tcpdump did not stop within 10s: %s", c.proc.output())
	}
	raw, err := os.ReadFile(c.path)
	if err != nil {
		t.Fatalf("reading the capture: %v\n%s", err, c.proc.output())
	}
	if len(raw) < 200 {
		t.Fatalf("capture %s is empty (%d bytes): %s", c.path, len(raw), c.proc.output())
	}
	keep(t, filepath.Ext(c.path), raw)
	return raw
}

// keep copies a capture or report into MEDSCAN_REALSOFT_KEEP, when set, named after the
// test, so that a failure can be opened in Wireshark after the temporary files are gone.
func keep(t *testing.T, ext string, raw []byte) {
	t.Helper()
	dir := os.Getenv("MEDSCAN_REALSOFT_KEEP")
	if dir == "" {
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ext
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name), raw, 0o644)
	}
	if err != nil {
		t.Errorf("keeping %s in %s: %v", name, dir, err)
	}
}

// scanned is medscan's view of one capture: the report, the JSON it was read from, and
// the bytes of every file of the store it wrote.
type scanned struct {
	findings.Report
	json  []byte
	store []byte
}

// scan runs medscan over a capture into a fresh store, as a user runs it, and reads
// the JSON report. The scan must be complete: the capture is a whole, clean file.
func scan(t *testing.T, pcap string) *scanned {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("building medscan: %v", buildErr)
	}
	work := t.TempDir()
	db := filepath.Join(work, "x.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, medscanBin, "scan", "--pcap", pcap, "--format", "json", "--db", db)
	cmd.Dir = work // no .medscanignore.yaml applies
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("medscan scan %s: %v\n%s", pcap, err, errb.String())
	}
	s := &scanned{json: out.Bytes()}
	keep(t, ".json", s.json)
	if err := json.Unmarshal(s.json, &s.Report); err != nil {
		t.Fatalf("medscan's report is not JSON: %v\n%.2000s", err, s.json)
	}
	if s.SchemaVersion != 1 || !s.Scan.Complete {
		t.Fatalf("medscan's report: schema_version %d, complete %v, problems %+v", s.SchemaVersion, s.Scan.Complete, s.Scan.Problems)
	}
	// The store is the database and whatever SQLite left beside it (-wal, -shm,
	// -journal): a secret in any of them is written out.
	files, err := filepath.Glob(db + "*")
	if err != nil || len(files) == 0 {
		t.Fatalf("medscan wrote no store at %s (%v)", db, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s.store = append(s.store, raw...)
	}
	return s
}

// finding returns the finding of rule on host:port, failing the test when there is none.
func (s *scanned) finding(t *testing.T, rule, host string, port int) findings.Finding {
	t.Helper()
	i := slices.IndexFunc(s.Findings, func(f findings.Finding) bool { return f.Rule == rule && f.Host == host && f.Port == port })
	if i < 0 {
		t.Fatalf("medscan raised no %s on %s; it raised %s", rule, net.JoinHostPort(host, strconv.Itoa(port)), s.findingList())
	}
	return s.Findings[i]
}

// noFinding fails the test when rule was raised on host:port.
func (s *scanned) noFinding(t *testing.T, rule, host string, port int) {
	t.Helper()
	if slices.ContainsFunc(s.Findings, func(f findings.Finding) bool { return f.Rule == rule && f.Host == host && f.Port == port }) {
		t.Errorf("medscan raised %s on %s, which it must not; it raised %s", rule, net.JoinHostPort(host, strconv.Itoa(port)), s.findingList())
	}
}

func (s *scanned) findingList() string {
	var got []string
	for _, f := range s.Findings {
		got = append(got, fmt.Sprintf("%s/%s %s", f.Rule, f.Severity, net.JoinHostPort(f.Host, strconv.Itoa(f.Port))))
	}
	return fmt.Sprintf("%q", got)
}

// service returns the services[] entry of host:port, failing the test when there is none.
func (s *scanned) service(t *testing.T, host string, port int) findings.Service {
	t.Helper()
	i := slices.IndexFunc(s.Services, func(v findings.Service) bool { return v.Host == host && v.Port == port })
	if i < 0 {
		t.Fatalf("medscan lists no service on %s; services: %+v", net.JoinHostPort(host, strconv.Itoa(port)), s.Services)
	}
	return s.Services[i]
}

// private checks the privacy promise for values planted in the traffic: each must be
// in the capture (else its absence proves nothing) and in neither the JSON report nor
// the store's files, in any letter case.
func (s *scanned) private(t *testing.T, pcap []byte, planted ...string) {
	t.Helper()
	for _, v := range planted {
		if !bytes.Contains(pcap, []byte(v)) {
			t.Errorf("the capture does not hold %q: the conversation did not carry it, so the privacy check proves nothing", v)
		}
	}
	s.absent(t, planted...)
}

// absent requires that none of values appears, in any letter case, in the JSON report
// or the store's files.
func (s *scanned) absent(t *testing.T, values ...string) {
	t.Helper()
	for _, v := range values {
		for what, b := range map[string][]byte{"the JSON report": s.json, "the store": s.store} {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(v))) {
				t.Errorf("%q, planted in the traffic, is written out in %s", v, what)
			}
		}
	}
}
