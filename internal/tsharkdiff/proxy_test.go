package tsharkdiff

import (
	"bytes"
	"context"
	"encoding/json"
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

// The SOCKS5 credential curl gives microsocks; the password must never be written out.
const (
	socksUser     = "nurse"
	socksPassword = "Tunn3l-Ward7-Socks"
)

// squidConf runs squid in the foreground on one loopback port, caching nothing, logging
// to stderr only, allowing CONNECT to the test's TLS port alone.
const squidConf = `http_port 127.0.0.1:%[1]d
pid_filename none
cache deny all
cache_mem 1 MB
access_log none
cache_store_log none
cache_log /dev/null
netdb_filename none
pinger_enable off
coredump_dir none
acl tls_port port %[2]d
acl CONNECT method CONNECT
http_access deny CONNECT !tls_port
http_access allow localhost
http_access deny all
shutdown_lifetime 1 seconds
`

// danteConf runs danted on one loopback port for SOCKS4 without authentication (dante
// 1.4 refuses SOCKS4a: it takes the request's 0.0.0.x for the target, so SOCKS4a is
// covered by the generated captures of package scan, not here). It listens on loopback only, for the test's curl alone; its rule
// names no port or address, because dante 1.4 then takes a SOCKS4a request's 0.0.0.x for
// the target instead of its host name.
const danteConf = `logoutput: stderr
internal: 127.0.0.1 port = %[1]d
external: 127.0.0.1
socksmethod: none
clientmethod: none
%[2]sclient pass {
  from: 127.0.0.1/32 to: 0.0.0.0/0
}
socks pass {
  from: 127.0.0.1/32 to: 0.0.0.0/0
  command: connect
  protocol: tcp
}
`

// msTunnel is what medscan says of a tunnel's target in tls_sessions[] and services[]
// beside msSession's fields.
type msTunnel struct {
	Via    string `json:"via_proxy"`
	Target string `json:"target"`
}

// TestProxiesAgainstTshark captures curl reaching a TLS 1.0 server (openssl s_server with
// a self-signed RSA-1024 certificate and a suite without forward secrecy, at SECLEVEL 0)
// through squid (CONNECT to an address and to a name), dante (SOCKS4) and
// microsocks (SOCKS5 with a user name and password, to an address and to a name). It
// requires medscan to report each tunnelled session on its target with the proxy as
// via, the TLS and key rules to fire there, the SOCKS5 password as a masked credential
// written nowhere, and every handshake and certificate tshark decodes to be in medscan's
// report (a tunnelled session is compared on the proxy's port, where tshark sees it).
func TestProxiesAgainstTshark(t *testing.T) {
	tshark := requireTshark(t)
	openssl := requireTool(t, "openssl", "Debian/Ubuntu package openssl")
	curl := requireTool(t, "curl", "Debian/Ubuntu package curl")
	squid := requireTool(t, "squid", "Debian/Ubuntu package squid")
	danted := requireTool(t, "danted", "Debian/Ubuntu package dante-server")
	microsocks := requireTool(t, "microsocks", "Debian/Ubuntu package microsocks")
	started := time.Now()

	dir := t.TempDir()
	// squid and danted drop privileges: let them read their configuration.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	out, err := exec.Command(openssl, "req", "-x509", "-newkey", "rsa:1024", "-sha1", "-nodes", "-keyout", key, "-out", cert,
		"-days", "30", "-subj", "/CN=pump.example", "-addext", "subjectAltName=DNS:localhost,DNS:pump.example").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}

	tlsPort := testproc.FreePort(t, "tcp4", "127.0.0.1")
	srv := testproc.Start(t, openssl, "s_server", "-accept", "127.0.0.1:"+strconv.Itoa(tlsPort), "-cert", cert, "-key", key,
		"-cipher", "AES128-SHA:@SECLEVEL=0", "-tls1", "-www", "-naccept", "5")
	srv.WaitFor(t, testproc.Stdout, "ACCEPT", 15*time.Second)

	squidPort := testproc.FreePort(t, "tcp4", "127.0.0.1")
	squidFile := filepath.Join(dir, "squid.conf")
	writeConf(t, squidFile, fmt.Sprintf(squidConf, squidPort, tlsPort))
	sq := testproc.Start(t, squid, "-N", "-d", "1", "-f", squidFile)
	sq.WaitFor(t, testproc.Stderr, "Accepting HTTP Socket connections", 30*time.Second)

	dantePort := testproc.FreePort(t, "tcp4", "127.0.0.1")
	users := ""
	if os.Geteuid() == 0 {
		users = "user.privileged: root\nuser.unprivileged: nobody\n"
	}
	danteFile := filepath.Join(dir, "danted.conf")
	writeConf(t, danteFile, fmt.Sprintf(danteConf, dantePort, users))
	dn := testproc.Start(t, danted, "-f", danteFile, "-p", filepath.Join(dir, "danted.pid"))
	dn.WaitFor(t, testproc.Stderr, "running", 15*time.Second)

	msPort := testproc.FreePort(t, "tcp4", "127.0.0.1")
	testproc.Start(t, microsocks, "-i", "127.0.0.1", "-p", strconv.Itoa(msPort), "-u", socksUser, "-P", socksPassword)
	waitListening(t, msPort, 10*time.Second)

	path := filepath.Join(t.TempDir(), "proxies.pcap")
	filter := fmt.Sprintf("tcp port %d or tcp port %d or tcp port %d or tcp port %d", tlsPort, squidPort, dantePort, msPort)
	capt := testproc.StartCapture(t, requireTool(t, "tcpdump", "Debian/Ubuntu package tcpdump"), "lo", filter, path, envRequire)

	tlsURL := func(host string) string { return "https://" + net.JoinHostPort(host, strconv.Itoa(tlsPort)) + "/" }
	proxyAt := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
	cred := socksUser + ":" + socksPassword + "@"
	for _, args := range [][]string{
		{"-x", "http://" + proxyAt(squidPort), tlsURL("127.0.0.1")},
		{"-x", "http://" + proxyAt(squidPort), tlsURL("localhost")},
		{"--socks4", proxyAt(dantePort), tlsURL("127.0.0.1")},
		{"--socks5", cred + proxyAt(msPort), tlsURL("127.0.0.1")},
		{"--socks5-hostname", cred + proxyAt(msPort), tlsURL("localhost")},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		cmd := exec.CommandContext(ctx, curl, append([]string{"-sS", "-k", "--max-time", "10", "--tlsv1.0", "--tls-max", "1.0",
			"--ciphers", "AES128-SHA:@SECLEVEL=0", "-o", "/dev/null", "-w", "%{http_code}"}, args...)...)
		cmd.Env = noProxyEnv()
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil || string(out) != "200" {
			t.Fatalf("curl %q: %v, %q\nsquid: %s\ndanted: %s", args, err, out, sq.Output(), dn.Output())
		}
	}
	raw := capt.Stop(t)
	testproc.Keep(t, os.Getenv("MEDSCAN_DIFF_KEEP"), ".pcap", raw)
	if !bytes.Contains(raw, []byte(socksPassword)) {
		t.Fatal("the capture does not hold the SOCKS5 password: the privacy check below would prove nothing")
	}

	// tshark: SOCKS on the two SOCKS ports (its port table knows 1080 only), HTTP on
	// squid's; the TLS inside the tunnels is found by its heuristic.
	ts := runTsharkExtra(t, tshark, path, "-d", fmt.Sprintf("tcp.port==%d,socks", dantePort),
		"-d", fmt.Sprintf("tcp.port==%d,socks", msPort), "-d", fmt.Sprintf("tcp.port==%d,http", squidPort))
	for _, p := range []int{squidPort, dantePort, msPort} {
		if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool { return h.Port == p && h.Version == "TLSv1.0" }) {
			t.Errorf("tshark decoded no TLS 1.0 handshake in the tunnels of the proxy on port %d: %+v", p, ts.Handshakes)
		}
	}

	js, store := scanKeepingStore(t, path)
	var ms msReport
	var extra struct {
		TLSSessions []msTunnel `json:"tls_sessions"`
		Findings    []struct {
			Rule     string         `json:"rule"`
			Host     string         `json:"host"`
			Port     int            `json:"port"`
			Message  string         `json:"message"`
			Evidence map[string]any `json:"evidence"`
		} `json:"findings"`
		Credentials []struct {
			Host, Kind, User, Preview, Hash string
			Port                            int
		} `json:"credentials"`
	}
	if err := json.Unmarshal(js, &ms); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &extra); err != nil {
		t.Fatal(err)
	}
	if !ms.Scan.Complete {
		t.Errorf("medscan did not read the capture completely: %+v", ms.Scan.Problems)
	}

	// Each tunnel's session, on its target, with its proxy.
	tlsAddr := "127.0.0.1:" + strconv.Itoa(tlsPort)
	named := "localhost:" + strconv.Itoa(tlsPort)
	for _, want := range []struct {
		host         string
		port         int
		via, target  string
		messageStart string
	}{
		// The server by its address: the proxies' own connections reach it directly too,
		// so its findings name it alone, listing the proxies.
		{"127.0.0.1", tlsPort, proxyAt(squidPort), "", tlsAddr + " negotiated"},
		{"127.0.0.1", tlsPort, proxyAt(dantePort), "", tlsAddr + " negotiated"},
		{"127.0.0.1", tlsPort, proxyAt(msPort), "", tlsAddr + " negotiated"},
		{"127.0.0.1", tlsPort, "", "", tlsAddr + " negotiated"},
		// By its name, behind each proxy.
		{"127.0.0.1", squidPort, proxyAt(squidPort), named, named + " via proxy " + proxyAt(squidPort)},
		{"127.0.0.1", msPort, proxyAt(msPort), named, named + " via proxy " + proxyAt(msPort)},
	} {
		i := slices.IndexFunc(ms.TLSSessions, func(s msSession) bool { return s.Host == want.host && s.Port == want.port })
		found := false
		for j, s := range ms.TLSSessions {
			x := extra.TLSSessions[j]
			found = found || (s.Host == want.host && s.Port == want.port && x.Via == want.via && x.Target == want.target &&
				s.Version == "TLSv1.0" && s.Cipher == "TLS_RSA_WITH_AES_128_CBC_SHA" && len(s.ServerCerts) == 1)
		}
		if !found {
			t.Errorf("no TLS 1.0 session on %s:%d via %q target %q (first on that port: %d); sessions: %+v %+v",
				want.host, want.port, want.via, want.target, i, ms.TLSSessions, extra.TLSSessions)
		}
		for _, rule := range []string{"tls-legacy-version", "tls-no-forward-secrecy", "key-weak", "cert-self-signed"} {
			if !slices.ContainsFunc(extra.Findings, func(f struct {
				Rule     string         `json:"rule"`
				Host     string         `json:"host"`
				Port     int            `json:"port"`
				Message  string         `json:"message"`
				Evidence map[string]any `json:"evidence"`
			}) bool {
				// One server reached by its address directly and through proxies is one
				// finding listing them; a target named by host name is one per name.
				vias := asList(f.Evidence["via_proxy"])
				target, _ := f.Evidence["target"].(string)
				return f.Rule == rule && f.Host == want.host && f.Port == want.port && target == want.target &&
					(want.via == "" || slices.Contains(vias, want.via)) &&
					(rule != "tls-legacy-version" || strings.HasPrefix(f.Message, want.messageStart))
			}) {
				t.Errorf("no %s on %s:%d via %q (message starting %q)", rule, want.host, want.port, want.via, want.messageStart)
			}
		}
	}
	i := slices.IndexFunc(extra.Credentials, func(c struct {
		Host, Kind, User, Preview, Hash string
		Port                            int
	}) bool {
		return c.Host == "127.0.0.1" && c.Port == msPort && c.Kind == "socks5-password" && c.User == socksUser && c.Hash != ""
	})
	if i < 0 {
		t.Errorf("no socks5-password credential of %s on the SOCKS5 proxy: %+v", socksUser, extra.Credentials)
	}
	for what, b := range map[string][]byte{"the JSON report": js, "the store": store} {
		if bytes.Contains(b, []byte(socksPassword)) {
			t.Errorf("the SOCKS5 password is written out in %s", what)
		}
	}

	// tshark sees a tunnelled handshake on the proxy's TCP conversation: compare medscan's
	// sessions there.
	onWire := ms
	onWire.TLSSessions = slices.Clone(ms.TLSSessions)
	for j := range onWire.TLSSessions {
		if via := extra.TLSSessions[j].Via; via != "" {
			ap, err := net.ResolveTCPAddr("tcp", via)
			if err != nil {
				t.Fatal(err)
			}
			onWire.TLSSessions[j].Host, onWire.TLSSessions[j].Port = ap.IP.String(), ap.Port
		}
	}
	n := compareOrFail(t, path, ts, onWire)
	t.Logf("compared %s; the test took %v", n, time.Since(started).Round(time.Millisecond))
}

// asList reads a JSON list of strings from the evidence.
func asList(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// writeConf writes a configuration file its daemon can read after dropping privileges.
func writeConf(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitListening waits until something accepts on 127.0.0.1:port (before the capture
// starts, so that the probe connection is not in it).
func waitListening(t *testing.T, port int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on 127.0.0.1:%d after %v: %v", port, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// noProxyEnv is the environment without proxy variables, so that curl uses only the
// proxy its flags name.
func noProxyEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasSuffix(strings.ToLower(k), "_proxy") {
			env = append(env, kv)
		}
	}
	return env
}

// runTsharkExtra is runTshark with decode-as options placed before the usual ones.
func runTsharkExtra(t *testing.T, tshark, file string, extra ...string) tsFacts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tshark, append(extra, tsharkArgs(file)...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark on %s: %v\n%s", file, err, errb.String())
	}
	facts, err := parseTsharkFields(out.String())
	if err != nil {
		t.Fatalf("tshark on %s: %v", file, err)
	}
	return facts
}

// scanKeepingStore runs medscan over a capture into a fresh store and returns its JSON
// report and the bytes of every file of the store.
func scanKeepingStore(t *testing.T, file string) (js, store []byte) {
	t.Helper()
	work := t.TempDir()
	db := filepath.Join(work, "m.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, medscanBinary(t), "scan", "--pcap", file, "--format", "json", "--db", db, "-q")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("medscan on %s: %v\n%s", file, err, errb.String())
	}
	files, err := filepath.Glob(db + "*")
	if err != nil || len(files) == 0 {
		t.Fatalf("medscan wrote no store at %s (%v)", db, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		store = append(store, b...)
	}
	return out.Bytes(), store
}
