package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Stores that cannot be written, and stores shared between Unix users (issue 13, items 3
// and 4). Root ignores file modes, so these tests run the binary as other users
// (setpriv) and mount file systems: they need root, which CI has.

// needRoot skips a test that needs root, unless MEDSCAN_REQUIRE_REALSOFT=1 (CI) says it
// must run.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err != nil {
			t.Fatal("setpriv (util-linux) is needed to run medscan as another user")
		}
		return
	}
	if os.Getenv("MEDSCAN_REQUIRE_REALSOFT") == "1" {
		t.Fatal("this test needs root (MEDSCAN_REQUIRE_REALSOFT=1)")
	}
	t.Skip("needs root: runs medscan as other Unix users and mounts a tmpfs")
}

// uids of the users the tests run medscan as: nobody, and an owner with no account
// (setpriv takes a bare number).
const (
	uidNobody = 65534
	uidOwner  = 4242
)

// shared is a directory every user may enter, holding a copy of the binary and of the
// ward capture that every user may run and read (the test binary's own directory is
// private to root).
type shared struct {
	dir, bin, capture string
}

func newShared(t *testing.T) shared {
	t.Helper()
	dir, err := os.MkdirTemp("", "medscan-users")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sh := shared{dir: dir, bin: filepath.Join(dir, "medscan"), capture: filepath.Join(dir, "ward.pcapng")}
	copyFile(t, binPath, sh.bin, 0o755)
	copyFile(t, wardCapture(t), sh.capture, 0o644)
	return sh
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// run runs medscan in dir as uid (-1: as the test's own user).
func (sh shared) run(t *testing.T, uid int, dir string, args ...string) result {
	t.Helper()
	argv := append([]string{sh.bin}, args...)
	if uid >= 0 {
		id := strconv.Itoa(uid)
		argv = append([]string{"setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1", "HOME=/nonexistent",
		"XDG_CONFIG_HOME="+configHome(t, uid))
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running medscan %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// configHome is a configuration directory uid owns, outside the shared directory (a
// scan creates its credential-hash key there), so each user has its own as in life.
func configHome(t *testing.T, uid int) string {
	t.Helper()
	base, err := os.MkdirTemp("", "medscan-config")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(base, "config")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := os.Chown(home, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// listing names every entry of dir with its owner, for messages and checks.
func listing(t *testing.T, dir string) map[string]int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = int(fi.Sys().(*syscall.Stat_t).Uid)
	}
	return out
}

// A store in a directory its reader cannot write, itself read-only: every command that
// only reads works, as another user, and creates nothing; one that stores is refused
// before it reads a packet, naming the store and why.
func TestReadOnlyStoreAsAnotherUser(t *testing.T) {
	needRoot(t)
	sh := newShared(t)
	st := filepath.Join(sh.dir, "store")
	if err := os.Mkdir(st, 0o755); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := sh.run(t, -1, st, "scan", "--pcap", sh.capture, "--label", "ward", "-q", "-f", "json"); r.code != 0 {
			t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
		}
	}
	if err := os.Chmod(filepath.Join(st, "medscan.db"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(st, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"report"}, {"scans"}, {"inventory"}, {"diff"}, {"report", "-f", "json"}} {
		r := sh.run(t, uidNobody, st, args...)
		if r.code != 0 || r.stdout == "" {
			t.Errorf("%v as nobody on a read-only store: exit %d, %d bytes out: %s", args, r.code, len(r.stdout), r.stderr)
		}
	}
	if got := listing(t, st); len(got) != 1 {
		t.Errorf("reading a read-only store created files: %v", got)
	}
	r := sh.run(t, uidNobody, st, "scan", "--pcap", sh.capture, "-f", "json")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "medscan.db: cannot be written") ||
		!strings.Contains(r.stderr, "permission denied") {
		t.Errorf("scan as nobody into a read-only store: exit %d, stdout %d bytes, stderr %q; want exit 1, nothing out, the store named and why",
			r.code, len(r.stdout), r.stderr)
	}
}

// Another user listing the scans of a store in a directory everyone may write leaves no
// file of theirs beside it, so the owner's next scan is stored as usual.
func TestAnotherUsersReadLeavesOwnerWriting(t *testing.T) {
	needRoot(t)
	sh := newShared(t)
	st := filepath.Join(sh.dir, "store")
	if err := os.Mkdir(st, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(st, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	scan := func() {
		t.Helper()
		if r := sh.run(t, uidOwner, st, "scan", "--pcap", sh.capture, "-q", "-f", "json"); r.code != 0 {
			t.Fatalf("scan as the owner: exit %d: %s (files: %v)", r.code, r.stderr, listing(t, st))
		}
	}
	scan()
	for _, args := range [][]string{{"scans"}, {"report"}} {
		if r := sh.run(t, uidNobody, st, args...); r.code != 0 {
			t.Errorf("%v as nobody: exit %d: %s", args, r.code, r.stderr)
		}
	}
	for name, uid := range listing(t, st) {
		if uid != uidOwner {
			t.Errorf("%s is owned by uid %d after another user's read, want the store's owner %d", name, uid, uidOwner)
		}
	}
	scan()
	if r := sh.run(t, uidOwner, st, "scans", "-f", "json"); r.code != 0 || strings.Count(r.stdout, `"id"`) != 2 {
		t.Errorf("scans as the owner: exit %d, %s %s; want two scans", r.code, r.stdout, r.stderr)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted at the end.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill leaves about free bytes on the file system of dir, with a file it returns.
func fill(t *testing.T, dir string, free int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	if err := f.Truncate(max(0, n-free)); err != nil {
		t.Fatal(err)
	}
	return path
}

// A disk that fills while a scan is saved: the report is still written, from memory, the
// error names the store and why, the exit is 1, and the store holds nothing of that scan.
func TestScanOnFullDiskStillReports(t *testing.T) {
	needRoot(t)
	sh := newShared(t)
	disk := mountTmpfs(t, 4<<20)
	if r := sh.run(t, -1, disk, "scan", "--pcap", sh.capture, "-q", "-f", "json"); r.code != 0 {
		t.Fatalf("first scan: exit %d: %s", r.code, r.stderr)
	}
	filler := fill(t, disk, 96<<10)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"stdout", []string{"-f", "json"}},
		{"-o", []string{"-o", filepath.Join(sh.dir, "ward.json")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sh.run(t, -1, disk, append([]string{"scan", "--pcap", sh.capture}, tc.args...)...)
			out := r.stdout
			if tc.name == "-o" {
				b, err := os.ReadFile(tc.args[1])
				if err != nil {
					t.Fatalf("no report written to -o: %v", err)
				}
				out = string(b)
			}
			if r.code != 1 {
				t.Errorf("exit %d, want 1: %s", r.code, r.stderr)
			}
			rep := parseReport(t, out)
			if len(rep.Findings) == 0 || len(rep.Certificates) == 0 {
				t.Errorf("report from memory has %d findings, %d certificates; want the scan's", len(rep.Findings), len(rep.Certificates))
			}
			said := false
			for _, p := range rep.Scan.Problems {
				said = said || p.Source == "medscan.db" && strings.Contains(p.Message, "not stored")
			}
			if !said {
				t.Errorf("the report's problems %+v do not say the scan was not stored", rep.Scan.Problems)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "medscan: store: medscan.db: ") || !strings.Contains(last, "full") ||
				!strings.Contains(last, "from memory and the scan was not stored") {
				t.Errorf("last line of stderr %q: want one line naming the store, the disk full, and that the report is from memory", last)
			}
		})
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	r := sh.run(t, -1, disk, "scans", "-f", "json")
	if r.code != 0 || strings.Count(r.stdout, `"id"`) != 1 {
		t.Errorf("scans after the failed saves: exit %d, %s; want only the first scan", r.code, r.stdout)
	}
	for name := range listing(t, disk) {
		if strings.HasSuffix(name, "-journal") {
			t.Errorf("%s left behind", name)
		}
	}
	if r := sh.run(t, -1, disk, "scan", "--pcap", sh.capture, "-q", "-f", "json"); r.code != 0 {
		t.Errorf("scan once there is room again: exit %d: %s", r.code, r.stderr)
	}
}

// A store on a read-only mount: reading it works (root included, whom only the mount
// stops) and creates nothing; a scan is refused up front, before any packet is read.
func TestStoreOnReadOnlyMount(t *testing.T) {
	needRoot(t)
	sh := newShared(t)
	disk := mountTmpfs(t, 4<<20)
	if r := sh.run(t, -1, disk, "scan", "--pcap", sh.capture, "-q", "-f", "json"); r.code != 0 {
		t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", disk).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v: %s", err, out)
	}
	for _, args := range [][]string{{"scans"}, {"report"}, {"inventory"}} {
		if r := sh.run(t, -1, disk, args...); r.code != 0 || r.stdout == "" {
			t.Errorf("%v on a read-only mount: exit %d: %s", args, r.code, r.stderr)
		}
	}
	r := sh.run(t, -1, disk, "scan", "--pcap", sh.capture, "-f", "json")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "medscan.db: cannot be written") ||
		!strings.Contains(r.stderr, "read-only file system") {
		t.Errorf("scan into a read-only mount: exit %d, stdout %d bytes, stderr %q; want exit 1 up front naming the store and why",
			r.code, len(r.stdout), r.stderr)
	}
	if got := listing(t, disk); len(got) != 1 {
		t.Errorf("files on the read-only mount: %v", got)
	}
}
