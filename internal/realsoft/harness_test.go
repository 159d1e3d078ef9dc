package realsoft

import (
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
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
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

// envRequire is the variable CI sets to 1 so that a missing tool or a forbidden capture
// fails the tests rather than skipping them.
const envRequire = "MEDSCAN_REQUIRE_REALSOFT"

// requireTool finds a program, or skips the test saying which Debian package provides
// it; under MEDSCAN_REQUIRE_REALSOFT=1 a missing tool fails the test instead.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	return testproc.Need(t, envRequire, name, "Debian package "+pkg)
}

// freePort asks the kernel for a loopback TCP port that is free now.
func freePort(t *testing.T) int {
	t.Helper()
	return testproc.FreePort(t, "tcp4", "127.0.0.1")
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

// capture is tcpdump recording one TCP port on the loopback interface.
type capture struct {
	path string
	c    *testproc.Capturer
}

// startCapture records TCP port port on lo, and returns once tcpdump is listening.
func startCapture(t *testing.T, port int) *capture {
	t.Helper()
	tcpdump := requireTool(t, "tcpdump", "tcpdump")
	path := filepath.Join(t.TempDir(), "live.pcap")
	return &capture{path: path, c: testproc.StartCapture(t, tcpdump, "lo", "tcp port "+strconv.Itoa(port), path, envRequire)}
}

// stop ends the capture and returns its bytes, kept as keep says.
func (c *capture) stop(t *testing.T) []byte {
	t.Helper()
	raw := c.c.Stop(t)
	keep(t, filepath.Ext(c.path), raw)
	return raw
}

// keep copies a capture or report into MEDSCAN_REALSOFT_KEEP, when set, named after the
// test, so that a failure can be opened in Wireshark after the temporary files are gone.
func keep(t *testing.T, ext string, raw []byte) {
	t.Helper()
	testproc.Keep(t, os.Getenv("MEDSCAN_REALSOFT_KEEP"), ext, raw)
}

// scanned is medscan's view of one capture: the report, the JSON it was read from, and
// the bytes of every file of the store it wrote.
type scanned struct {
	findings.Report
	json  []byte
	store []byte
	db    string // the store's path, for rendering the scan again
}

// scan runs medscan over a capture into a fresh store, as a user runs it (with the
// extra flags given), and reads the JSON report. The scan must be complete: the capture
// is a whole, clean file.
func scan(t *testing.T, pcap string, extra ...string) *scanned {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("building medscan: %v", buildErr)
	}
	work := t.TempDir()
	db := filepath.Join(work, "x.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, medscanBin, append([]string{"scan", "--pcap", pcap, "--format", "json", "--db", db}, extra...)...)
	cmd.Dir = work // no .medscanignore.yaml applies
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("medscan scan %s: %v\n%s", pcap, err, errb.String())
	}
	s := &scanned{json: out.Bytes(), db: db}
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

// render renders the stored scan again in every format, as a user would, and returns
// each output by format.
func (s *scanned) render(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, format := range []string{"table", "json", "html", "csv", "csv-assets", "sarif"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, medscanBin, "report", "--format", format, "--db", s.db)
		cmd.Dir = filepath.Dir(s.db)
		cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("medscan report --format %s: %v\n%s", format, err, stderr.String())
		}
		out[format] = stdout.Bytes()
	}
	return out
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
