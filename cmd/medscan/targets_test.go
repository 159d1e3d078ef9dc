package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestScanFileArgument is defect 3: a capture named without --pcap is never looked up in
// DNS nor called an invalid CIDR; the error names it and suggests the flag, before any
// store is created.
func TestScanFileArgument(t *testing.T) {
	dir := t.TempDir()
	for f, content := range map[string]string{"ward.pcapng": "", "notes": "10.0.0.1\n", "ward": "\xd4\xc3\xb2\xa1\x02\x00"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "captures"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "ward.pcapng"}, `scan: "ward.pcapng" is a file; did you mean --pcap ward.pcapng?`},
		{[]string{"scan", "notes"}, `scan: "notes" is a file; did you mean -l notes?`},
		{[]string{"scan", "ward"}, `scan: "ward" is a file; did you mean --pcap ward?`},
		{[]string{"scan", "targets.txt"}, `scan: "targets.txt" looks like a file name, not a target; did you mean -l targets.txt?`},
		{[]string{"scan", "missing.pcap"}, `scan: "missing.pcap" looks like a file name, not a target; did you mean --pcap missing.pcap?`},
		{[]string{"scan", "Ward.PCAPNG.gz"}, `scan: "Ward.PCAPNG.gz" looks like a file name, not a target; did you mean --pcap Ward.PCAPNG.gz?`},
		{[]string{"scan", "caps/ward.pcapng"}, `scan: "caps/ward.pcapng" looks like a file name, not a target; did you mean --pcap caps/ward.pcapng?`},
		{[]string{"scan", "./ward"}, `scan: "./ward" is a file; did you mean --pcap ./ward?`},
		{[]string{"scan", "./gone"}, `scan: "./gone" looks like a file name, not a target; did you mean -l ./gone?`},
		{[]string{"scan", "captures"}, `scan: "captures" is a directory; did you mean --pcap with the files in it?`},
		{[]string{"scan", "127.0.0.1,ward.pcapng"}, `scan: "ward.pcapng" is a file; did you mean --pcap ward.pcapng?`},
		{[]string{"scan", "127.0.0.1", "--exclude", "skip.txt"}, `scan: "skip.txt" looks like a file name, not a target; did you mean --exclude-file skip.txt?`},
		{[]string{"scan", "127.0.0.1", "--exclude", "notes"}, `scan: "notes" is a file; did you mean --exclude-file notes?`},
	} {
		res := medscan(t, dir, nil, append(tc.args, "--db", "m.db")...)
		if res.code != 2 || !strings.Contains(res.stderr, "medscan: "+tc.want) || strings.Contains(res.stderr, "lookup") ||
			strings.Contains(res.stderr, "CIDR") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %s", tc.args, res.code, res.stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m.db")); err == nil {
		t.Error("a file argument created the store")
	}

	// The same through run(), with a path given in full.
	var stdout, stderr bytes.Buffer
	full := filepath.Join(dir, "ward.pcapng")
	code := run(context.Background(), []string{"scan", full, "--db", filepath.Join(dir, "r.db")}, nil, &stdout, &stderr)
	if want := fmt.Sprintf("medscan: scan: %q is a file; did you mean --pcap %s?\n", full, full); code != exitUsage || !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("run: exit %d, stderr %q; want %q", code, stderr.String(), want)
	}
	// An address is an address even when a file has its name.
	if err := os.WriteFile(filepath.Join(dir, "127.0.0.9"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := medscan(t, dir, nil, "scan", "127.0.0.9", "--list-targets", "-p", "443"); res.code != 0 || res.stdout != "127.0.0.9:443\n" {
		t.Errorf("address named like a file: exit %d, %q %q", res.code, res.stdout, res.stderr)
	}
}

// TestScanTargetSyntax is defect 4: host:port and bracketed IPv6 are accepted, and a
// target written with a port is probed on that port alone, not on --ports.
func TestScanTargetSyntax(t *testing.T) {
	dir := t.TempDir()
	port, accepted := tlsListener(t, "127.0.0.1:0")
	other, otherHits := tlsListener(t, "127.0.0.1:0")
	res := medscan(t, dir, nil, "scan", fmt.Sprintf("127.0.0.1:%d", port), "-p", fmt.Sprint(other), "--pause", "0",
		"--profile", "inventory", "--format", "json", "--db", "m.db")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if accepted.Load() == 0 || otherHits.Load() != 0 {
		t.Errorf("the named port got %d connections, the --ports port %d", accepted.Load(), otherHits.Load())
	}
	r := parseProbeReport(t, res.stdout)
	if len(r.Probes) != 1 || r.Probes[0].Port != port || r.Probes[0].Outcome != "tls" {
		t.Errorf("probes = %+v", r.Probes)
	}
	if want := fmt.Sprintf("probe:127.0.0.1:%d", port); len(r.Scan.Sources) != 1 || r.Scan.Sources[0] != want {
		t.Errorf("sources = %v, want %s", r.Scan.Sources, want)
	}

	v6port, v6hits := tlsListener(t, "[::1]:0") // skips where loopback has no IPv6
	res = medscan(t, dir, nil, "scan", fmt.Sprintf("[::1]:%d", v6port), "--pause", "0", "--profile", "inventory",
		"--format", "json", "--db", "m.db")
	if res.code != 0 || v6hits.Load() == 0 {
		t.Fatalf("[::1]:%d: exit %d, %d connections\n%s", v6port, res.code, v6hits.Load(), res.stderr)
	}
	res = medscan(t, dir, nil, "scan", "[::1]", "-p", fmt.Sprint(v6port), "--list-targets")
	if res.code != 0 || res.stdout != fmt.Sprintf("[::1]:%d\n", v6port) {
		t.Errorf("[::1] -p %d: exit %d, %q %q", v6port, res.code, res.stdout, res.stderr)
	}
}

// TestListTargets checks the dry run: what would be contacted, after exclusions, with
// the count, and nothing contacted or stored.
func TestListTargets(t *testing.T) {
	dir := t.TempDir()
	port, accepted := tlsListener(t, "127.0.0.1:0")
	os.WriteFile(filepath.Join(dir, "skip.txt"), []byte("127.0.0.3\n10.0.2.1-254\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "targets.txt"), []byte("10.0.0-2.1,2\n"), 0o644)
	res := medscan(t, dir, nil, "scan", fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.2-3", "-p", "443,8443",
		"-l", "targets.txt", "--excludefile", "skip.txt", "--exclude", "10.0.1.2", "--list-targets", "--db", "m.db")
	want := `10.0.0.1:443
10.0.0.1:8443
10.0.0.2:443
10.0.0.2:8443
10.0.1.1:443
10.0.1.1:8443
127.0.0.1:` + fmt.Sprint(port) + `
127.0.0.2:443
127.0.0.2:8443
`
	if res.code != 0 || res.stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", res.code, res.stdout, want, res.stderr)
	}
	if wantErr := "medscan: 9 address:port pairs on 5 hosts would be probed; nothing was contacted or stored\n"; res.stderr != wantErr {
		t.Errorf("stderr %q, want %q", res.stderr, wantErr)
	}
	if accepted.Load() != 0 {
		t.Errorf("the dry run made %d connections", accepted.Load())
	}
	if _, err := os.Stat(filepath.Join(dir, "m.db")); err == nil {
		t.Error("the dry run created the store")
	}

	// Huge scopes list by block, with the count; -q keeps stderr quiet.
	res = medscan(t, dir, nil, "scan", "10.0.0.0/8", "10.0-255.0-255.1", "--exclude", "10.128.0.0/9", "-p", "443", "--list-targets")
	if res.code != 0 || res.stdout != "10.0.0.0-10.127.255.255 443\n" {
		t.Errorf("huge: exit %d, stdout %.300q", res.code, res.stdout)
	}
	if !strings.Contains(res.stderr, "8388608 address:port pairs on 8388608 hosts would be probed, listed by block (more than 65536)") {
		t.Errorf("huge: stderr %q", res.stderr)
	}
	if res := medscan(t, dir, nil, "scan", "127.0.0.1", "--list-targets", "-q", "-p", "1-3"); res.code != 0 || res.stderr != "" ||
		res.stdout != "127.0.0.1:1\n127.0.0.1:2\n127.0.0.1:3\n" {
		t.Errorf("-q: exit %d, %q %q", res.code, res.stdout, res.stderr)
	}
}

// TestTargetFlagErrors covers the new flags' usage errors: -n with a name anywhere, an
// exclusion with a port, --list-targets without targets or with a capture.
func TestTargetFlagErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "skip.txt"), []byte("pacs.example\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ward.pcap"), nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "pacs.example", "-n"}, `scan: "pacs.example" is a host name, and -n/--no-dns forbids resolving it`},
		{[]string{"scan", "pacs.example:443", "--no-dns"}, `scan: "pacs.example:443" is a host name, and -n/--no-dns`},
		{[]string{"scan", "127.0.0.1", "-n", "--exclude-file", "skip.txt"}, `"pacs.example" is a host name`},
		{[]string{"scan", "127.0.0.1", "--exclude", "127.0.0.1:443"}, `scan: exclusion "127.0.0.1:443" names a port`},
		{[]string{"scan", "--list-targets"}, "--list-targets lists the targets to probe, and none was given"},
		{[]string{"scan", "127.0.0.1", "--pcap", "ward.pcap", "--list-targets"}, "it reads no capture"},
		{[]string{"scan", "10.0.0-3.1-300"}, `scan: probe: target "10.0.0-3.1-300": invalid range end`},
		{[]string{"scan", "10.0.0.0/24:443"}, "a port can follow one address or host name only"},
		{[]string{"scan", "https://pacs.example/"}, "a URL is not a target"},
	} {
		res := medscan(t, dir, nil, append(tc.args, "--db", "m.db")...)
		if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %s", tc.args, res.code, res.stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m.db")); err == nil {
		t.Error("a usage error created the store")
	}
}

func TestNmapArgs(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"scan", "-iL", "t.txt"}, []string{"scan", "--target-file", "t.txt"}},
		{[]string{"scan", "-iL=t.txt", "-p", "443"}, []string{"scan", "--target-file=t.txt", "-p", "443"}},
		{[]string{"scan", "-iLt.txt"}, []string{"scan", "--target-file=t.txt"}},
		{[]string{"scan", "-iL", "-", "-iL", "b"}, []string{"scan", "--target-file", "-", "--target-file", "b"}},
		{[]string{"scan", "-iL"}, []string{"scan", "--target-file"}},
		{[]string{"scan", "-l", "t.txt", "--", "-iL"}, []string{"scan", "-l", "t.txt", "--", "-iL"}},
		{[]string{"scan", "-i", "-il", "--iL"}, []string{"scan", "-i", "-il", "--iL"}},
		{nil, []string{}},
	}
	for _, tt := range tests {
		if got := nmapArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("nmapArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}

	// Through the command: -iL reads the file as -l does.
	dir := t.TempDir()
	file := filepath.Join(dir, "t.txt")
	os.WriteFile(file, []byte("127.0.0.4\n"), 0o644)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), nmapArgs([]string{"scan", "-iL", file, "-p", "443", "--list-targets", "-q"}), nil, &stdout, &stderr)
	if code != exitOK || stdout.String() != "127.0.0.4:443\n" {
		t.Errorf("-iL: exit %d, %q %q", code, stdout.String(), stderr.String())
	}
	// And as users run it.
	if res := medscan(t, dir, nil, "scan", "-iL", "t.txt", "-p", "443", "--list-targets", "-q"); res.code != 0 || res.stdout != "127.0.0.4:443\n" {
		t.Errorf("medscan scan -iL: exit %d, %q %q", res.code, res.stdout, res.stderr)
	}
}
