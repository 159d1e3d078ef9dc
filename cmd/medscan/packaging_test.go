package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
)

// The deployment files in packaging/ are held to what they claim: the commands they run
// parse against this CLI, the units carry the hardening docs/integrations.md and the
// README promise (a live sensor holds CAP_NET_RAW and nothing else), systemd itself
// accepts them, and the binary the container copies is static.

// unit is a systemd unit file's keys by section; a key given several times keeps every
// value, in order.
type unit map[string]map[string][]string

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// get is the last value of a key ("" when absent), as systemd reads a setting given twice.
func (u unit) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func packagingDir(t *testing.T) string {
	return filepath.Join(testproc.RepoRoot(t), "packaging")
}

func unitFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(packagingDir(t), "systemd", "*"))
	if err != nil || len(files) < 5 {
		t.Fatalf("packaging/systemd holds %d files (%v)", len(files), err)
	}
	return files
}

// execWords splits an Exec line as systemd does: words, a single-quoted string one word,
// the specifiers %i (the instance) and %% resolved, $$ a dollar sign. Only what the
// units use is read; anything else (double quotes, backslashes, $VAR) fails the test.
func execWords(t *testing.T, line, instance string) []string {
	t.Helper()
	line = strings.TrimLeft(line, "-@+!:")
	if strings.ContainsAny(line, `"\`) || strings.Contains(strings.ReplaceAll(line, "$$", ""), "$") {
		t.Fatalf("Exec line %q quotes, escapes or expands what this test does not read as systemd does", line)
	}
	var words []string
	for i, part := range strings.Split(line, "'") {
		unescape := func(w string) string {
			w = strings.ReplaceAll(w, "%%", "\x00")
			w = strings.ReplaceAll(w, "%i", instance)
			w = strings.ReplaceAll(w, "\x00", "%")
			return strings.ReplaceAll(w, "$$", "$")
		}
		if i%2 == 1 {
			words = append(words, unescape(part))
		} else {
			for _, w := range strings.Fields(part) {
				words = append(words, unescape(w))
			}
		}
	}
	return words
}

// shellTime stands for the $(date ...) of an export's file name.
var shellTime = regexp.MustCompile(`\$\(date [^)]*\)`)

// execArgs is the medscan command an ExecStart line runs: the line itself, or the
// command a /bin/sh -c script execs, with the time its file name takes written in.
func execArgs(t *testing.T, line, instance string) []string {
	t.Helper()
	words := execWords(t, line, instance)
	if len(words) == 3 && words[0] == "/bin/sh" && words[1] == "-c" {
		script := strings.TrimPrefix(words[2], "exec ")
		return strings.Fields(shellTime.ReplaceAllString(script, "20261207T000000Z"))
	}
	return words
}

func TestPackagingCommandsParse(t *testing.T) {
	n := 0
	for _, path := range unitFiles(t) {
		if !strings.HasSuffix(path, ".service") {
			continue
		}
		for _, line := range readUnit(t, path)["Service"]["ExecStart"] {
			args := execArgs(t, line, "eth1")
			if args[0] != "/usr/local/bin/medscan" {
				t.Errorf("%s: ExecStart runs %s, not /usr/local/bin/medscan", filepath.Base(path), args[0])
				continue
			}
			n++
			if err := commandParses(args[1:]); err != nil {
				t.Errorf("%s: %q: %v", filepath.Base(path), line, err)
			}
		}
	}
	// The container's example commands, after the image name.
	data, err := os.ReadFile(filepath.Join(packagingDir(t), "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		_, cmd, ok := strings.Cut(line, " medscan scan ")
		if !ok {
			_, cmd, ok = strings.Cut(line, " medscan report ")
			cmd = "report " + cmd
		} else {
			cmd = "scan " + cmd
		}
		if !ok {
			continue
		}
		n++
		if err := commandParses(strings.Fields(cmd)); err != nil {
			t.Errorf("Containerfile: %q: %v", cmd, err)
		}
	}
	if n < 6 {
		t.Errorf("found %d medscan commands in packaging/; the reading of the files is broken", n)
	}
}

// TestPackagingHardening holds each unit to the confinement it is documented with.
func TestPackagingHardening(t *testing.T) {
	common := map[string]string{
		"User": "medscan", "Group": "medscan", "StateDirectory": "medscan", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
		"RestrictSUIDSGID": "yes", "ProtectKernelModules": "yes", "SystemCallArchitectures": "native",
		"MemoryDenyWriteExecute": "yes", "LockPersonality": "yes",
	}
	tests := []struct {
		file     string
		want     map[string]string
		families []string // RestrictAddressFamilies, exactly
	}{
		{"medscan-sensor@.service", map[string]string{"AmbientCapabilities": "CAP_NET_RAW", "CapabilityBoundingSet": "CAP_NET_RAW"},
			[]string{"AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_UNIX"}},
		{"medscan-scan.service", map[string]string{"AmbientCapabilities": "", "CapabilityBoundingSet": "", "SuccessExitStatus": "3"},
			[]string{"AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"}},
		{"medscan-export@.service", map[string]string{"AmbientCapabilities": "", "CapabilityBoundingSet": "", "PrivateNetwork": "yes"},
			[]string{"AF_UNIX"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			u := readUnit(t, filepath.Join(packagingDir(t), "systemd", tc.file))
			for k, v := range common {
				if got := u.get("Service", k); got != v {
					t.Errorf("%s=%q, want %q", k, got, v)
				}
			}
			for k, v := range tc.want {
				if _, ok := u["Service"][k]; !ok {
					t.Errorf("%s is not set (want %q)", k, v)
				} else if got := u.get("Service", k); got != v {
					t.Errorf("%s=%q, want %q", k, got, v)
				}
			}
			fams := strings.Fields(u.get("Service", "RestrictAddressFamilies"))
			slices.Sort(fams)
			if !slices.Equal(fams, tc.families) {
				t.Errorf("RestrictAddressFamilies %v, want %v", fams, tc.families)
			}
		})
	}
	// Every service's timer names an existing service.
	for _, path := range unitFiles(t) {
		if strings.HasSuffix(path, ".timer") {
			if _, err := os.Stat(strings.TrimSuffix(path, ".timer") + ".service"); err != nil {
				t.Errorf("%s has no service beside it", filepath.Base(path))
			}
		}
	}
}

// TestPackagingSystemdVerify runs systemd's own checks on the units (with the test's
// binary in ExecStart, which systemd-analyze requires to exist): any complaint fails,
// and so does an exposure score above 3.0 in systemd-analyze security.
func TestPackagingSystemdVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("MEDSCAN_REQUIRE_REALSOFT") == "1" {
			t.Fatal("MEDSCAN_REQUIRE_REALSOFT=1 but systemd-analyze is not installed (Debian: systemd)")
		}
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	var services, all []string
	for _, path := range unitFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.Replace(filepath.Base(path), "@.", "@eth1.", 1)
		text := strings.ReplaceAll(string(data), "/usr/local/bin/medscan", binPath)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		all = append(all, name)
		if strings.HasSuffix(name, ".service") {
			services = append(services, name)
		}
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(sa, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze %v: %v\n%s", args, err, out)
		}
		if args[0] == "verify" && len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify complains:\n%s", out)
		}
	}
	run(append([]string{"verify", "--man=no"}, prefixed(all)...)...)
	for _, s := range services {
		run("security", "--offline=true", "--threshold=30", "--no-pager", "./"+s)
	}
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "./" + n
	}
	return out
}

// TestBinaryIsStatic checks that the binary CGO_ENABLED=0 builds (the one the container
// FROM scratch copies) needs no dynamic loader and no shared library.
func TestBinaryIsStatic(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the container holds a Linux binary")
	}
	f, err := elf.Open(binPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary names an ELF interpreter (PT_INTERP): it is dynamically linked and cannot run FROM scratch")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}
}

// TestSensorNeedsOnlyNetRaw runs a live capture the way medscan-sensor@.service does
// (promiscuous, its default), as an unprivileged user holding CAP_NET_RAW alone
// (ambient, bounding set of one, no_new_privs), on the loopback interface, while the test makes traffic there. The same
// command without the capability must fail: the test proves the one capability is both
// enough and needed.
func TestSensorNeedsOnlyNetRaw(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("live capture is Linux-only")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		if os.Getenv("MEDSCAN_REQUIRE_REALSOFT") == "1" {
			t.Fatalf("MEDSCAN_REQUIRE_REALSOFT=1 but setpriv (util-linux) is missing or the test is not root (%v)", err)
		}
		t.Skip("needs root and setpriv to drop to one capability")
	}
	// A folder the unprivileged user can reach and write, with a copy of the binary.
	dir, err := os.MkdirTemp("/tmp", "medscan-netraw-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "medscan")
	data, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	// Traffic on lo while the capture runs: connections to a listener of the test's.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
					c.Close()
				}
			}
		}
	}()
	run := func(caps string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args := []string{"--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs",
			"--inh-caps=-all" + caps, "--ambient-caps=-all" + caps, "--bounding-set=-all" + caps,
			bin, "scan", "--iface", "lo", "--packets", "20", "--duration", "20s",
			"--db", filepath.Join(dir, "sensor.db"), "--secret-key-file", filepath.Join(dir, "secret.key"),
			"-q", "--format", "json", "-o", filepath.Join(dir, "report.json")}
		cmd := exec.CommandContext(ctx, setpriv, args...)
		cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(",+net_raw"); err != nil {
		t.Fatalf("with CAP_NET_RAW alone the live capture failed: %v\n%s", err, out)
	}
	var rep jsonReport
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "report.json")), &rep); err != nil || rep.Scan.ID == 0 {
		t.Fatalf("no stored scan in the report: %v", err)
	}
	if out, err := run(""); err == nil || !strings.Contains(out, "not permitted") {
		t.Fatalf("without CAP_NET_RAW the live capture did not fail as it should: %v\n%s", err, out)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPackagingExportRuns runs medscan-export@.service's commands as systemd would
// (paths moved into a temporary folder): the export writes a file named by its time
// holding OCSF events, and the cleanup removes empty files and leaves the others.
func TestPackagingExportRuns(t *testing.T) {
	if _, err := exec.LookPath("find"); err != nil {
		t.Skip("no find")
	}
	dir := t.TempDir()
	lib, spool := filepath.Join(dir, "lib"), filepath.Join(dir, "spool")
	for _, d := range []string{lib, spool} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if r := medscan(t, dir, nil, "scan", "-q", "--pcap", wardCapture(t), "--db", filepath.Join(lib, "scan.db"),
		"-o", filepath.Join(dir, "r.json")); r.code != 0 {
		t.Fatalf("scan: %s", r.stderr)
	}
	u := readUnit(t, filepath.Join(packagingDir(t), "systemd", "medscan-export@.service"))
	move := strings.NewReplacer("/var/lib/medscan", lib, "/var/spool/medscan", spool, "/usr/local/bin/medscan", binPath)
	run := func(key string) {
		t.Helper()
		for _, line := range u["Service"][key] {
			words := execWords(t, move.Replace(line), "scan")
			// find and sh are where Debian has them; take them from PATH here.
			words[0] = filepath.Base(words[0])
			cmd := exec.Command(words[0], words[1:]...)
			cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s %q: %v\n%s", key, line, err, out)
			}
		}
	}
	empty := filepath.Join(spool, "scan-20200101T000000Z.ocsf.jsonl")
	other := filepath.Join(spool, "notes.txt")
	for _, f := range []string{empty, other} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("ExecStart")
	run("ExecStartPost")
	files, _ := filepath.Glob(filepath.Join(spool, "scan-*.ocsf.jsonl"))
	if len(files) != 1 || !regexp.MustCompile(`/scan-\d{8}T\d{6}Z\.ocsf\.jsonl$`).MatchString(files[0]) {
		t.Fatalf("spool holds %v, want one export named by its time (the empty one removed)", files)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the cleanup removed a file that is not an export: %v", err)
	}
	lines := strings.Count(string(readFile(t, files[0])), "\n")
	if lines == 0 {
		t.Fatal("the export of a scan just made holds no event")
	}
}
