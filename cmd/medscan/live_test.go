package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"100MB", 100e6}, {"2GB", 2e9}, {"2gb", 2e9}, {"512MiB", 512 << 20}, {"1.5GiB", 3 << 29}, {"4096", 4096},
		{"10 M", 10e6}, {"1KiB", 1024}, {"7B", 7}, {"1T", 1e12},
		{"", -1}, {"MB", -1}, {"-1MB", -1}, {"0", -1}, {"ten", -1}, {"1e300TB", -1}, {"NaN", -1}, {"5XB", -1},
	} {
		got, err := parseSize(c.in)
		if c.want < 0 {
			if err == nil {
				t.Errorf("parseSize(%q) = %d; want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

// TestLiveUsageErrors checks that live-capture flags misused are usage errors (exit 2)
// that name the flag, and that nothing is stored.
func TestLiveUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--iface", "eth0", "--pcap", "x.pcap"}, "--iface and --pcap cannot be combined"},
		{[]string{"--duration", "1h", "--pcap", "x.pcap"}, "--duration is for a live capture: give --iface IF"},
		{[]string{"--bpf", "tcp"}, "--bpf is for a live capture"},
		{[]string{"--iface", "eth0", "--pcap-max-file", "1GB"}, "--pcap-max-file shapes --write-pcap"},
		{[]string{"--iface", "eth0", "--write-pcap", "d", "--pcap-max-file", "lots"}, `--pcap-max-file: "lots" is not a size`},
		{[]string{"--iface", "eth0", "--write-pcap", "d", "--pcap-max-file", "1GB", "--pcap-max-total", "100MB"},
			"--pcap-max-total 100MB is smaller than --pcap-max-file 1GB"},
		{[]string{"--iface", "eth0", "--snaplen", "10"}, "--snaplen 10: give 64 to"},
		{[]string{"--iface", "eth0", "--commit-interval", "10ms"}, "--commit-interval 10ms: give at least 1s"},
		{[]string{"--iface", "eth0", "--workers", "-1"}, "--workers -1"},
		{[]string{"--iface", "eth0", "--duration", "-1s"}, "--duration must not be negative"},
		{[]string{"--iface", "../eth0"}, `--iface "../eth0" is not an interface name`},
		{[]string{"--iface", "eth0", "--iface", "eth0"}, "--iface eth0 given twice"},
	} {
		work := t.TempDir()
		res := medscan(t, work, nil, append([]string{"scan"}, c.args...)...)
		if res.code != 2 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("scan %q: exit %d, stderr %q; want exit 2 and %q", c.args, res.code, res.stderr, c.want)
		}
		if _, err := os.Stat(filepath.Join(work, "medscan.db")); err == nil {
			t.Errorf("scan %q: a usage error created the store", c.args)
		}
	}
}

// TestLiveMissingInterface needs no privilege: the interface is looked up by name first.
func TestLiveMissingInterface(t *testing.T) {
	work := t.TempDir()
	res := medscan(t, work, nil, "scan", "--iface", "medscan-nope0", "--duration", "1s")
	if res.code != 1 || !strings.Contains(res.stderr, "medscan-nope0: no such interface") ||
		strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q; want exit 1 and one line naming the interface", res.code, res.stderr)
	}
	db := filepath.Join(work, "medscan.db")
	if res := medscan(t, work, nil, "scans", "--db", db); strings.Contains(res.stdout, "iface:") {
		t.Errorf("a scan was stored for an interface that could not be opened:\n%s", res.stdout)
	}
}

// TestLiveBadInput checks the one-line errors (exit 1) of a live scan that cannot start:
// each is found before an interface is read, and none needs privilege except the last,
// which takes CAP_NET_RAW away from a root test with setpriv.
func TestLiveBadInput(t *testing.T) {
	work := t.TempDir()
	notDir := filepath.Join(work, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--iface", "lo", "--bpf", "tcp port 80 or 443"}, `filter "tcp port 80 or 443": bpf: position 16: unknown primitive "443"`},
		{[]string{"--iface", "lo", "--bpf", "tcp and ("}, `filter "tcp and ("`},
		{[]string{"--iface", "lo", "--write-pcap", filepath.Join(notDir, "kept")}, "--write-pcap " + filepath.Join(notDir, "kept") + ": not a directory"},
	}
	for _, c := range cases {
		res := medscan(t, work, nil, append([]string{"scan", "--db", filepath.Join(work, "m.db")}, c.args...)...)
		if res.code != 1 || !strings.Contains(res.stderr, c.want) || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
			t.Errorf("scan %q: exit %d, stderr %q; want exit 1 and one line with %q", c.args, res.code, res.stderr, c.want)
		}
	}
	if os.Geteuid() != 0 {
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed: the no-permission case is not run")
	}
	cmd := exec.Command(setpriv, "--inh-caps=-net_raw", "--bounding-set=-net_raw", binPath, "scan", "--iface", "lo",
		"--db", filepath.Join(work, "m.db"))
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "lo: capture needs root or CAP_NET_RAW") {
		t.Errorf("without CAP_NET_RAW: %v, %q; want an error saying what is needed", err, out)
	}
}
