package tsharkdiff

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
)

// This file captures real traffic inside tunnels the Linux kernel makes: two network
// namespaces joined by a veth pair (the underlay), a tunnel link of each kind between
// them, OpenSSL (TLS 1.2 with a self-signed certificate and a suite without forward
// secrecy) and curl (HTTP Basic) talking through it, and tcpdump on the underlay, so
// the capture holds the encapsulation. medscan must report the TLS session, the
// certificate and the credential inside each tunnel, agree with tshark on them, and say
// through which tunnel the inner hosts were seen.
//
// Only the namespaces' own addresses are used; the namespaces, with every link in them,
// are deleted when the test ends, and every process is bounded in time and killed by
// its process group. A link type the running kernel does not know (built without
// CONFIG_NET_IPGRE, CONFIG_GENEVE, ...) skips its case, saying so; anything else that
// fails is a failure.

// tunnelLink is one kind of tunnel link to build, and what medscan must call it.
type tunnelLink struct {
	name    string
	typ     string   // ip link add ... type typ
	args    []string // after local/remote; {local} and {remote} are replaced
	outer6  bool     // the underlay is IPv6
	inner6  bool     // the traffic inside is IPv6
	noLocal bool     // the type takes no local address (geneve)
	encap   string   // the sensor path's encapsulation
	path    string   // the start of the inner server's sensor path
}

var tunnelLinks = []tunnelLink{
	{name: "gre", typ: "gre", args: []string{"key", "42"}, encap: "gre", path: "GRE key 42 192.0.2.1↔192.0.2.2"},
	{name: "gretap", typ: "gretap", args: []string{"key", "43"}, encap: "gre", path: "GRE key 43 192.0.2.1↔192.0.2.2"},
	{name: "erspan-ii", typ: "erspan", args: []string{"seq", "key", "7", "erspan_ver", "1", "erspan", "100"},
		encap: "erspan-ii", path: "ERSPAN session 7 from "},
	{name: "erspan-iii", typ: "erspan", args: []string{"seq", "key", "9", "erspan_ver", "2", "erspan_dir", "egress", "erspan_hwid", "3"},
		encap: "erspan-iii", path: "ERSPAN type III session 9 from "},
	{name: "ip6erspan", typ: "ip6erspan", outer6: true, args: []string{"seq", "key", "11", "erspan_ver", "2", "erspan_dir", "ingress", "erspan_hwid", "4"},
		encap: "erspan-iii", path: "ERSPAN type III session 11 from 2001:db8::"},
	{name: "vxlan", typ: "vxlan", args: []string{"id", "100", "dstport", "4789", "dev", "{underlay}"}, encap: "vxlan",
		path: "VXLAN VNI 100 192.0.2.1↔192.0.2.2"},
	{name: "geneve", typ: "geneve", noLocal: true, args: []string{"id", "200"}, encap: "geneve", path: "Geneve VNI 200 192.0.2.1↔192.0.2.2"},
	{name: "ipip", typ: "ipip", encap: "ipip", path: "IPv4-in-IPv4 192.0.2.1↔192.0.2.2"},
	{name: "sit", typ: "sit", inner6: true, encap: "6in4", path: "6in4 192.0.2.1↔192.0.2.2"},
	{name: "ip6tnl", typ: "ip6tnl", outer6: true, inner6: true, args: []string{"mode", "ip6ip6"}, encap: "6in6",
		path: "6in6 2001:db8::1↔2001:db8::2"},
}

// underlay is two network namespaces joined by a veth pair: 192.0.2.1 and 2001:db8::1
// in a, .2 and ::2 in b.
type underlay struct {
	ip   string
	a, b string // namespace names
}

// tunnelTools are the programs the tunnel cases run.
type tunnelTools struct {
	tshark, ip, openssl, curl, python, tcpdump string
}

func TestTunnelsAgainstTshark(t *testing.T) {
	tools, u, m := newTunnelBench(t)
	for i, l := range tunnelLinks {
		t.Run(l.name, func(t *testing.T) { runTunnelCase(t, tools, u, m, l, i+1) })
	}
}

// newTunnelBench finds the programs the tunnel cases run, makes their certificates and
// the two namespaces they run in, or skips the test (fails it when tshark or the real
// software is required) where that is not possible here.
func newTunnelBench(t *testing.T) (tunnelTools, *underlay, *material) {
	t.Helper()
	tools := tunnelTools{tshark: requireTshark(t)}
	tools.ip = requireTool(t, "ip", "iproute2; Debian/Ubuntu package iproute2")
	tools.openssl = requireTool(t, "openssl", "OpenSSL's command-line tool; Debian/Ubuntu package openssl")
	tools.curl = requireTool(t, "curl", "Debian/Ubuntu package curl")
	tools.python = requireTool(t, "python3", "its http.server serves the HTTP case; Debian/Ubuntu package python3")
	tools.tcpdump = requireTool(t, "tcpdump", "Debian/Ubuntu package tcpdump")
	if os.Geteuid() != 0 {
		if testproc.Required(envRequire) || testproc.Required("MEDSCAN_REQUIRE_REALSOFT") {
			t.Fatal("the tunnel cases need root, to make network namespaces and links")
		}
		t.Skip("skipping: making network namespaces and tunnel links needs root")
	}
	medscanBinary(t)
	m := newMaterial(t)
	m.make(t, tools.openssl)
	return tools, newUnderlay(t, tools.ip), m
}

// newUnderlay makes the two namespaces and their veth pair, and deletes them (with
// every link and address in them) when the test ends.
func newUnderlay(t *testing.T, ip string) *underlay {
	t.Helper()
	u := &underlay{ip: ip, a: fmt.Sprintf("medscan-tun%d-a", os.Getpid()), b: fmt.Sprintf("medscan-tun%d-b", os.Getpid())}
	for _, ns := range []string{u.a, u.b} {
		ipCmd(t, ip, "netns", "add", ns)
		t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
		ipCmd(t, ip, "-n", ns, "link", "set", "lo", "up")
	}
	ipCmd(t, ip, "link", "add", "under0", "netns", u.a, "type", "veth", "peer", "name", "under0", "netns", u.b)
	for i, ns := range []string{u.a, u.b} {
		n := strconv.Itoa(i + 1)
		ipCmd(t, ip, "-n", ns, "addr", "add", "192.0.2."+n+"/24", "dev", "under0")
		ipCmd(t, ip, "-n", ns, "addr", "add", "2001:db8::"+n+"/64", "dev", "under0", "nodad")
		ipCmd(t, ip, "-n", ns, "link", "set", "under0", "up")
	}
	return u
}

// ipCmd runs ip, failing the test with its output.
func ipCmd(t *testing.T, ip string, args ...string) {
	t.Helper()
	if out, err := ipRun(ip, args...); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func ipRun(ip string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, ip, args...).CombinedOutput()
	return string(out), err
}

// unsupportedLink reports whether ip's complaint says the kernel lacks the link type.
func unsupportedLink(out string) bool {
	out = strings.ToLower(out)
	return strings.Contains(out, "unknown device type") || strings.Contains(out, "not supported")
}

// runTunnelCase makes one tunnel link in each namespace, inner addresses on subnet k,
// runs the TLS and HTTP conversations through it while tcpdump records the underlay,
// and checks tshark and medscan on the capture.
func runTunnelCase(t *testing.T, tools tunnelTools, u *underlay, m *material, l tunnelLink, k int) {
	local, remote := "192.0.2.1", "192.0.2.2"
	if l.outer6 {
		local, remote = "2001:db8::1", "2001:db8::2"
	}
	dev := "tun" + strconv.Itoa(k)
	for i, ns := range []string{u.a, u.b} {
		args := []string{"-n", ns, "link", "add", dev, "type", l.typ}
		if !l.noLocal {
			args = append(args, "local", local)
		}
		args = append(args, "remote", remote)
		for _, a := range l.args {
			args = append(args, strings.ReplaceAll(a, "{underlay}", "under0"))
		}
		if out, err := ipRun(tools.ip, args...); err != nil {
			if unsupportedLink(out) {
				t.Skipf("skipping: this kernel (%s) has no %s links: ip link add says %q", kernelRelease(), l.typ, strings.TrimSpace(out))
			}
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Cleanup(func() { exec.Command(tools.ip, "-n", ns, "link", "del", dev).Run() })
		n := strconv.Itoa(i + 1)
		addr := fmt.Sprintf("10.20.%d.%s/24", k, n)
		if l.inner6 {
			addr = fmt.Sprintf("fd00:20:%d::%s/64", k, n)
		}
		ipCmd(t, tools.ip, "-n", ns, "addr", "add", addr, "dev", dev, "nodad")
		ipCmd(t, tools.ip, "-n", ns, "link", "set", dev, "up")
		local, remote = remote, local
	}
	server := fmt.Sprintf("10.20.%d.2", k)
	if l.inner6 {
		server = fmt.Sprintf("fd00:20:%d::2", k)
	}

	dir := t.TempDir()
	// tcpdump runs in the server's namespace on the underlay: a wrapper keeps the
	// capture helper's tcpdump arguments and signals.
	wrapper := filepath.Join(dir, "tcpdump")
	script := "#!/bin/sh\nexec " + tools.ip + " netns exec " + u.b + " " + tools.tcpdump + ` "$@"` + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	file := &liveCapture{path: filepath.Join(dir, "underlay.pcap")}
	file.c = testproc.StartCapture(t, wrapper, "under0", "ip or ip6", file.path, envRequire)

	tlsPort, httpPort := 4433, 8080
	hp := net.JoinHostPort(server, strconv.Itoa(tlsPort))
	srv := testproc.StartHoldingStdin(t, tools.ip, "netns", "exec", u.b, tools.openssl, "s_server", "-accept", hp,
		"-cert", filepath.Join(m.dir, "rsa2048.crt"), "-key", filepath.Join(m.dir, "rsa2048.key"),
		"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0", "-naccept", "1")
	srv.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)
	inNS(t, tools.ip, u.a, tools.openssl, "s_client", "-connect", hp, "-servername", "name.example",
		"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0")
	srv.WaitExit(5 * time.Second)

	web := testproc.Start(t, tools.ip, "netns", "exec", u.b, tools.python, "-u", "-m", "http.server", strconv.Itoa(httpPort),
		"--bind", server, "--directory", dir)
	web.WaitFor(t, "stdout", "Serving HTTP", 15*time.Second)
	inNS(t, tools.ip, u.a, tools.curl, "-sS", "--max-time", "8", "--noproxy", "*", "-o", "/dev/null",
		"-u", "nurse:Winter2024!", "http://"+net.JoinHostPort(server, strconv.Itoa(httpPort))+"/api/v1/patients")
	web.Kill()
	file.stop(t)

	ts := runTshark(t, tools.tshark, file.path, true)
	if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool {
		return h.Host == server && h.Port == tlsPort && h.Suite == "TLS_RSA_WITH_AES_128_CBC_SHA" && slices.Equal(h.ServerCerts, []string{m.sha["rsa2048"]})
	}) {
		t.Fatalf("tshark saw no TLS handshake inside the tunnel on %s: %+v", hp, ts.Handshakes)
	}
	if !slices.ContainsFunc(ts.Auth, func(a tsAuth) bool { return a.Scheme == "Basic" && a.Host == server && a.Port == httpPort }) {
		t.Fatalf("tshark saw no Basic Authorization inside the tunnel: %+v", ts.Auth)
	}
	ms := diffLive(t, file.path, ts)
	wantFindings(t, ms, server, tlsPort, []string{"tls-no-forward-secrecy", "cert-self-signed"})
	wantFindings(t, ms, server, httpPort, []string{"cleartext-credentials"})
	if !slices.ContainsFunc(ms.Credentials, func(c msCredential) bool {
		return c.Host == server && c.Port == httpPort && c.Kind == "http-basic"
	}) {
		t.Errorf("medscan reports no http-basic credential on %s:%d: %+v", server, httpPort, ms.Credentials)
	}
	checkSeenVia(t, ms, server, l)
}

// checkSeenVia checks what medscan says of the tunnel: the inner server seen via it,
// the outer endpoints marked as such and not seen via anything, and the sensor path.
func checkSeenVia(t *testing.T, ms msReport, server string, l tunnelLink) {
	t.Helper()
	assets := map[string]msAsset{}
	for _, a := range ms.Assets {
		assets[a.IP] = a
	}
	if a, ok := assets[server]; !ok || !slices.ContainsFunc(a.SeenVia, func(v string) bool { return strings.HasPrefix(v, l.path) }) {
		t.Errorf("inner server %s: seen via %q, want a path starting %q", server, a.SeenVia, l.path)
	}
	outer := []string{"192.0.2.1", "192.0.2.2"}
	if l.outer6 {
		outer = []string{"2001:db8::1", "2001:db8::2"}
	}
	for _, o := range outer {
		a, ok := assets[o]
		if !ok || !slices.Contains(a.Roles, "tunnel-endpoint") || len(a.SeenVia) > 0 {
			t.Errorf("outer endpoint %s: %+v, want the tunnel-endpoint role and no sensor path", o, a)
		}
	}
	if !slices.ContainsFunc(ms.SensorPaths, func(p msSensorPath) bool { return p.Encap == l.encap && p.Packets > 0 }) {
		t.Errorf("no %s sensor path: %+v", l.encap, ms.SensorPaths)
	}
}

// inNS runs a client in a namespace, bounded in time, failing the test with its output.
func inNS(t *testing.T, ip, ns string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, ip, append([]string{"netns", "exec", ns, name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v in %s: %v\n%s", filepath.Base(name), args, ns, err, out)
	}
}

// kernelRelease names the running kernel for a skip message.
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown release"
	}
	return strings.TrimSpace(string(b))
}
