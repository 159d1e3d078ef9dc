package livetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/store"
)

// envRequire is the variable CI sets to 1 so that a missing tool or privilege fails the
// test rather than skipping it.
const envRequire = "MEDSCAN_REQUIRE_REALSOFT"

// The secrets the clients send in clear: the capture holds them, medscan's output never.
const (
	httpUser     = "nurse"
	httpPassword = "S3cret-Live-Basic-7"
	mqttUser     = "pump-gw"
	mqttPassword = "S3cret-Live-MQTT-4"
)

// The addresses of the two ends of the veth pair.
const (
	serverIP = "10.204.7.1"
	clientIP = "10.204.7.2"
)

// medscanBin is the binary TestMain built; buildErr says why it is missing.
var (
	medscanBin string
	buildErr   error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "medscan-livetest")
	if err != nil {
		fmt.Fprintln(os.Stderr, "livetest:", err)
		os.Exit(1)
	}
	medscanBin = filepath.Join(dir, "medscan")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	build := exec.CommandContext(ctx, "go", "build", "-o", medscanBin, "github.com/medscan/medscan/cmd/medscan")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build ./cmd/medscan: %w\n%s", err, out)
	}
	cancel()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need finds a program, skipping (or, when required, failing) the test without it.
func need(t *testing.T, name, pkg string) string {
	t.Helper()
	return testproc.Need(t, envRequire, name, "Debian package "+pkg)
}

// run runs a program to its end within limit and returns its output, failing the test
// if it fails.
func run(t *testing.T, limit time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v (limit %v)\n%s", filepath.Base(name), strings.Join(args, " "), err, limit, out)
	}
	return string(out)
}

// netPair is two network namespaces joined by a veth pair.
type netPair struct {
	ip                 string // the ip program
	server, client     string // namespace names
	serverIf, clientIf string // the veth ends, one in each
}

// newNetPair creates the namespaces and the veth pair, with names unique to this run,
// and deletes them when the test ends. Without the privilege to do so it skips (or
// fails, when required).
func newNetPair(t *testing.T) *netPair {
	t.Helper()
	ipProg := need(t, "ip", "iproute2")
	if os.Geteuid() != 0 {
		if testproc.Required(envRequire) {
			t.Fatalf("the live-capture test needs root (%s=1)", envRequire)
		}
		t.Skip("skipping: network namespaces and packet sockets need root")
	}
	var b [3]byte
	rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	p := &netPair{ip: ipProg, server: "mslive-s-" + tag, client: "mslive-c-" + tag,
		serverIf: "msl" + tag + "s", clientIf: "msl" + tag + "c"}
	for _, ns := range []string{p.server, p.client} {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		out, err := exec.CommandContext(ctx, ipProg, "netns", "add", ns).CombinedOutput()
		cancel()
		if err != nil {
			if !testproc.Required(envRequire) {
				t.Skipf("skipping: cannot create a network namespace here: %v: %s", err, out)
			}
			t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if out, err := exec.CommandContext(ctx, ipProg, "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v: %s", ns, err, out)
			}
		})
	}
	// Deleting a namespace deletes the veth end in it, and with it the pair.
	run(t, 15*time.Second, ipProg, "link", "add", p.serverIf, "netns", p.server, "type", "veth",
		"peer", "name", p.clientIf, "netns", p.client)
	run(t, 15*time.Second, ipProg, "-n", p.server, "addr", "add", serverIP+"/24", "dev", p.serverIf)
	run(t, 15*time.Second, ipProg, "-n", p.client, "addr", "add", clientIP+"/24", "dev", p.clientIf)
	for _, c := range [][2]string{{p.server, p.serverIf}, {p.client, p.clientIf}, {p.server, "lo"}, {p.client, "lo"}} {
		run(t, 15*time.Second, ipProg, "-n", c[0], "link", "set", c[1], "up")
	}
	return p
}

// in is the command line that runs name with args in namespace ns.
func (p *netPair) in(ns, name string, args ...string) []string {
	return append([]string{p.ip, "netns", "exec", ns, name}, args...)
}

// start starts a long-running program in namespace ns.
func (p *netPair) start(t *testing.T, ns, name string, args ...string) *testproc.Process {
	t.Helper()
	cmd := p.in(ns, name, args...)
	return testproc.Start(t, cmd[0], cmd[1:]...)
}

// exec runs a client program in namespace ns to its end.
func (p *netPair) exec(t *testing.T, ns, name string, args ...string) string {
	t.Helper()
	cmd := p.in(ns, name, args...)
	return run(t, 20*time.Second, cmd[0], cmd[1:]...)
}

// waitListening waits (at most 15 s) until a TCP port listens in the server namespace.
func (p *netPair) waitListening(t *testing.T, port int) {
	t.Helper()
	ss := need(t, "ss", "iproute2")
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.TrimSpace(p.exec(t, p.server, ss, "-Hltn", fmt.Sprintf("sport = :%d", port))) != "" {
			return
		}
	}
	t.Fatalf("nothing listens on port %d in %s after 15s", port, p.server)
}

const nginxConf = `daemon off;
pid %[1]s/nginx.pid;
error_log stderr notice;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen %[2]s:8080;
    location / {
      default_type application/json;
      return 200 '{"ok":true}';
    }
  }
}
`

// startServers starts nginx (8080), mosquitto (1883, password required) and storescp
// (11112) in the server namespace, and returns once each listens.
func startServers(t *testing.T, p *netPair, dir string) {
	t.Helper()
	nginx := need(t, "nginx", "nginx-light")
	broker := need(t, "mosquitto", "mosquitto")
	passwd := need(t, "mosquitto_passwd", "mosquitto")
	storescp := need(t, "storescp", "dcmtk")

	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, serverIP), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := p.start(t, p.server, nginx, "-p", dir, "-c", conf)
	srv.WaitFor(t, testproc.Stderr, "start worker process", 15*time.Second)

	pwfile := filepath.Join(dir, "passwords")
	run(t, 15*time.Second, passwd, "-b", "-c", pwfile, mqttUser, mqttPassword)
	mconf := filepath.Join(dir, "mosquitto.conf")
	lines := []string{"listener 1883 " + serverIP, "allow_anonymous false", "password_file " + pwfile,
		"persistence false", "log_dest stderr", "log_type all", "user root"}
	if err := os.WriteFile(mconf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mq := p.start(t, p.server, broker, "-c", mconf)
	mq.WaitFor(t, testproc.Stderr, " running", 15*time.Second)

	// storescp listens on every address of its namespace: only the veth end and lo.
	stored := filepath.Join(dir, "stored")
	if err := os.Mkdir(stored, 0o700); err != nil {
		t.Fatal(err)
	}
	p.start(t, p.server, storescp, "-aet", "PACS", "+B", "-od", stored, "11112")
	p.waitListening(t, 11112)
}

// talk runs the clients in the client namespace: curl with Basic authentication and
// without, mosquitto_pub with a password, echoscu.
func talk(t *testing.T, p *netPair) {
	t.Helper()
	curl := need(t, "curl", "curl")
	pub := need(t, "mosquitto_pub", "mosquitto-clients")
	echoscu := need(t, "echoscu", "dcmtk")
	base := "http://" + serverIP + ":8080"
	for _, args := range [][]string{
		{"-u", httpUser + ":" + httpPassword, base + "/api/vitals"},
		{base + "/api/status"},
	} {
		out := p.exec(t, p.client, curl, append([]string{"-sS", "--fail", "--noproxy", "*", "--max-time", "10"}, args...)...)
		if out != `{"ok":true}` {
			t.Fatalf("curl %q: got %q from nginx", args, out)
		}
	}
	p.exec(t, p.client, pub, "-h", serverIP, "-p", "1883", "-i", "infusion-gw-1", "-u", mqttUser, "-P", mqttPassword,
		"-t", "ward7/pump/12/rate", "-m", "5.0")
	p.exec(t, p.client, echoscu, "-aet", "MODALITY", "-aec", "PACS", serverIP, "11112")
}

// report reads a medscan JSON report.
func report(t *testing.T, path string) *findings.Report {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r findings.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s is not a JSON report: %v", path, err)
	}
	return &r
}

// findingKeys are a report's findings as rule host:port, sorted.
func findingKeys(r *findings.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s %s:%d", f.Rule, f.Host, f.Port))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// frames reads every frame of a pcap or pcapng file, as SHA-256 sums of their bytes.
func frames(t *testing.T, path string) map[[32]byte]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	f.Seek(0, io.SeekStart)
	out := map[[32]byte]int{}
	add := func(data []byte) { out[sha256.Sum256(data)]++ }
	if bytes.Equal(magic[:], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for {
			data, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			add(data)
		}
		return out
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		add(data)
	}
	return out
}

// TestLiveMatchesFileCapture is the real-world test of live capture (see the package
// documentation).
func TestLiveMatchesFileCapture(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	tcpdump := need(t, "tcpdump", "tcpdump")
	p := newNetPair(t)
	dir := t.TempDir()
	startServers(t, p, dir)

	// medscan first, then tcpdump: medscan's capture must hold all of tcpdump's.
	filter := "tcp or udp or arp"
	pcapDir := filepath.Join(dir, "kept")
	liveDB, liveJSON := filepath.Join(dir, "live.db"), filepath.Join(dir, "live.json")
	ms := p.start(t, p.server, medscanBin, "scan", "--iface", p.serverIf, "--bpf", filter, "--write-pcap", pcapDir,
		"--commit-interval", "1s", "--duration", "3m", "--db", liveDB, "--format", "json", "-o", liveJSON)
	ms.WaitFor(t, testproc.Stderr, "capturing on "+p.serverIf, 30*time.Second)
	// tcpdump runs through a wrapper that enters the server's namespace; StartCapture
	// tells tcpdump from dumpcap by the program's name.
	wrapper := filepath.Join(dir, "tcpdump")
	script := fmt.Sprintf("#!/bin/sh\nexec %s netns exec %s %s \"$@\"\n", p.ip, p.server, tcpdump)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	filePcap := filepath.Join(dir, "tcpdump.pcap")
	tcap := testproc.StartCapture(t, wrapper, p.serverIf, filter, filePcap, envRequire)

	talk(t, p)
	// A checkpoint falls while the capture runs: the store is readable meanwhile.
	ms.WaitFor(t, testproc.Stderr, "checkpoint 2:", 30*time.Second)
	ro, err := store.OpenReadOnly(liveDB)
	if err != nil {
		t.Fatalf("the live store cannot be read while medscan writes it: %v", err)
	}
	mid, err := ro.Load(context.Background(), 1)
	ro.Close()
	if err != nil || mid.Scan.Complete {
		t.Fatalf("reading the running scan: %v (complete %v)", err, mid != nil && mid.Scan.Complete)
	}
	raw := tcap.Stop(t)
	if err := ms.Interrupt(); err != nil {
		t.Fatal(err)
	}
	if !ms.WaitExit(60 * time.Second) {
		t.Fatalf("medscan did not stop within 60s of SIGINT: %s", ms.Output())
	}
	if !ms.Contains(testproc.Stderr, "medscan: scan 1 stored in") {
		t.Fatalf("medscan did not store its scan: %s", ms.Output())
	}

	live := report(t, liveJSON)
	fileJSON := filepath.Join(dir, "file.json")
	run(t, 2*time.Minute, medscanBin, "scan", "--pcap", filePcap, "--db", filepath.Join(dir, "file.db"),
		"--format", "json", "-o", fileJSON)
	file := report(t, fileJSON)

	if !live.Scan.Complete || !slices.Equal(live.Scan.Sources, []string{"iface:" + p.serverIf}) {
		t.Errorf("live scan: complete %v, sources %q, problems %+v", live.Scan.Complete, live.Scan.Sources, live.Scan.Problems)
	}
	counters := map[string]uint64{}
	for _, c := range live.Scan.Counters {
		counters[c.Name] = c.Value
	}
	if counters["packets_captured"] == 0 || counters["kernel_dropped"] != 0 || counters["dropped_by_medscan"] != 0 {
		t.Errorf("live scan counters: %v", counters)
	}
	lk, fk := findingKeys(live), findingKeys(file)
	t.Logf("live scan: %d packets, findings %q", counters["packets_captured"], lk)
	if !slices.Equal(lk, fk) {
		t.Errorf("live and file scans differ:\nlive: %q\nfile: %q", lk, fk)
	}
	for _, want := range []string{
		"cleartext-credentials " + serverIP + ":8080",
		"cleartext-credentials " + serverIP + ":1883",
		"cleartext-dicom " + serverIP + ":11112",
	} {
		if !slices.Contains(lk, want) {
			t.Errorf("the live scan lacks %s: %q", want, lk)
		}
	}

	// Every frame tcpdump kept is in medscan's --write-pcap files.
	kept, err := filepath.Glob(filepath.Join(pcapDir, "*"))
	if err != nil || len(kept) == 0 {
		t.Fatalf("--write-pcap wrote nothing in %s (%v)", pcapDir, err)
	}
	have := map[[32]byte]int{}
	for _, k := range kept {
		for h, n := range frames(t, k) {
			have[h] += n
		}
	}
	want := frames(t, filePcap)
	missing := 0
	for h, n := range want {
		if have[h] < n {
			missing += n - have[h]
		}
	}
	t.Logf("tcpdump kept %d distinct frames; medscan's %d --write-pcap file(s) %d", len(want), len(kept), len(have))
	if missing > 0 {
		t.Errorf("%d of tcpdump's frames are not in medscan's --write-pcap files (%d files)", missing, len(kept))
	}

	// The secrets crossed the wire (the capture holds them) and are written out nowhere.
	basic := base64.StdEncoding.EncodeToString([]byte(httpUser + ":" + httpPassword))
	for _, secret := range []string{mqttPassword, basic} {
		if !bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the capture lacks %q: the privacy check proves nothing", secret)
		}
	}
	out, _ := os.ReadFile(liveJSON)
	stores, _ := filepath.Glob(liveDB + "*")
	for _, s := range stores {
		b, _ := os.ReadFile(s)
		out = append(out, b...)
	}
	for _, secret := range []string{httpPassword, mqttPassword, basic} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("%q is written out in the live report or store", secret)
		}
	}
}

// TestLiveKilled kills the live scan with SIGKILL after two checkpoints, as a power cut
// or the OOM killer would: the store must open and hold what the checkpoints committed,
// marked incomplete and saying it was still running.
func TestLiveKilled(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	p := newNetPair(t)
	dir := t.TempDir()
	startServers(t, p, dir)
	db := filepath.Join(dir, "killed.db")
	ms := p.start(t, p.server, medscanBin, "scan", "--iface", p.serverIf, "--commit-interval", "1s", "--duration", "3m",
		"--db", db)
	ms.WaitFor(t, testproc.Stderr, "capturing on "+p.serverIf, 30*time.Second)
	talk(t, p)
	ms.WaitFor(t, testproc.Stderr, "checkpoint 2:", 30*time.Second)
	ms.Kill() // SIGKILL to its process group
	if ms.Contains(testproc.Stderr, "stored in") {
		t.Fatalf("medscan ended on its own before the kill: %s", ms.Output())
	}
	st, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatalf("the store of a killed live scan does not open: %v", err)
	}
	defer st.Close()
	rep, err := st.Load(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	keys := findingKeys(rep)
	if rep.Scan.Complete || len(rep.Scan.Problems) != 1 || !strings.Contains(rep.Scan.Problems[0].Message, "live capture running") {
		t.Errorf("killed scan: complete %v, problems %+v; want incomplete, still running", rep.Scan.Complete, rep.Scan.Problems)
	}
	for _, want := range []string{"cleartext-credentials " + serverIP + ":8080", "cleartext-credentials " + serverIP + ":1883"} {
		if !slices.Contains(keys, want) {
			t.Errorf("the killed scan's store lacks %s: %q", want, keys)
		}
	}
}
