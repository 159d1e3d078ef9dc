package testproc

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Required reports whether the environment variable env is "1": CI's demand that the
// tests needing outside tools run rather than skip.
func Required(env string) bool { return os.Getenv(env) == "1" }

// Need returns the path of the program name, or skips the test saying what provides
// it (what, such as "Debian package tcpdump"); when the environment variable
// requireEnv is 1 a missing program fails the test instead.
func Need(t *testing.T, requireEnv, name, what string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	// Debian puts some servers (mosquitto, nginx) in sbin, which a user's PATH may lack.
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if Required(requireEnv) {
		t.Fatalf("%s (%s) is required (%s=1) but not installed: %v", name, what, requireEnv, err)
	}
	t.Skipf("skipping: %s is not installed (%s)", name, what)
	return ""
}

// FreePort asks the kernel for a TCP port on host that is free now. A server that
// must bind the port itself takes it a moment later; another process taking it in
// between shows as the server failing to start, not as a wrong result. On a host with
// no IPv6 loopback, a tcp6 port skips the test.
func FreePort(t *testing.T, network, host string) int {
	t.Helper()
	ln, err := net.Listen(network, net.JoinHostPort(host, "0"))
	if err != nil {
		if network == "tcp6" {
			t.Skipf("skipping: no IPv6 loopback: %v", err)
		}
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Keep copies raw into the directory dir, when dir is not empty, named after the test
// with extension ext, so that a failure can be opened in Wireshark or read after the
// test's temporary files are gone.
func Keep(t *testing.T, dir, ext string, raw []byte) {
	t.Helper()
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

// RepoRoot is the directory holding go.mod, found upwards from the test's working
// directory: the place fixtures, the corpus beside it and ./cmd/medscan are reached from.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}
