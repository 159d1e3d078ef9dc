package tsharkdiff

import (
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
)

// This file makes captures of real software on the loopback interface: OpenSSL's server
// and client in the configurations hospital devices still run, and curl sending
// credentials in clear. Every address is 127.0.0.1 or ::1, every wait is bounded, and
// every process is killed when its test ends.

// liveCase is one conversation to capture, with what tshark must see in it (a check that
// the capture worked) and the findings medscan's default policy must raise on it.
type liveCase struct {
	name     string
	ipv6     bool
	dumpcap  bool     // capture with dumpcap (pcapng) rather than tcpdump (pcap), when present
	server   []string // s_server options beyond -accept, -cert, -key
	cert     string   // key name in the generated material
	clients  [][]string
	versions []string // the TLS versions tshark must see
	findings []string // rules medscan must raise on the server's port
	check    func(t *testing.T, ts tsFacts, ms msReport, m *material)
}

func liveCases(t *testing.T, tshark string) {
	cases := []liveCase{
		{
			name: "tls12-ecdhe-rsa2048-resumed", server: []string{"-tls1_2", "-naccept", "2"}, cert: "rsa2048",
			// The second connection resumes the first one's session: an abbreviated
			// handshake with no Certificate, a distinct tls_sessions entry.
			clients:  [][]string{{"-sess_out", "{dir}/sess.pem"}, {"-sess_in", "{dir}/sess.pem"}},
			versions: []string{"TLSv1.2"},
			check: func(t *testing.T, ts tsFacts, ms msReport, m *material) {
				wantChain(t, ts, m, "rsa2048")
				if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool { return len(h.ServerCerts) == 0 }) {
					t.Error("tshark saw no resumed handshake: session resumption did not happen")
				}
			},
		},
		{
			name: "tls12-ecdhe-ecdsa", server: []string{"-tls1_2", "-naccept", "1"}, cert: "ecdsa",
			clients: [][]string{nil}, versions: []string{"TLSv1.2"},
			check: func(t *testing.T, ts tsFacts, ms msReport, m *material) { wantChain(t, ts, m, "ecdsa") },
		},
		{
			name: "tls10-static-rsa", server: []string{"-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0", "-naccept", "1"}, cert: "rsa2048",
			clients:  [][]string{{"-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"}},
			versions: []string{"TLSv1.0"}, findings: []string{"tls-legacy-version", "tls-no-forward-secrecy"},
			check: func(t *testing.T, ts tsFacts, ms msReport, m *material) {
				wantSuite(t, ts, "TLS_RSA_WITH_AES_128_CBC_SHA")
			},
		},
		{
			name: "dhe-1024", server: []string{"-tls1_2", "-dhparam", "{dir}/dh1024.pem", "-cipher", "DHE-RSA-AES128-SHA:@SECLEVEL=0", "-naccept", "1"},
			cert: "rsa2048", clients: [][]string{{"-cipher", "DHE-RSA-AES128-SHA:@SECLEVEL=0"}},
			versions: []string{"TLSv1.2"}, findings: []string{"tls-weak-dh"},
			check: func(t *testing.T, ts tsFacts, ms msReport, m *material) {
				if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool { return h.DHBits == 1024 }) {
					t.Errorf("tshark saw no 1024-bit DH group: %+v", ts.Handshakes)
				}
			},
		},
		{
			name: "rsa1024-cert", server: []string{"-tls1_2", "-cipher", "DEFAULT:@SECLEVEL=0", "-naccept", "1"}, cert: "rsa1024",
			clients: [][]string{{"-cipher", "DEFAULT:@SECLEVEL=0"}}, versions: []string{"TLSv1.2"}, findings: []string{"key-weak"},
			check: func(t *testing.T, ts tsFacts, ms msReport, m *material) { wantChain(t, ts, m, "rsa1024") },
		},
		{
			name: "mutual-tls12", server: []string{"-tls1_2", "-Verify", "1", "-CAfile", "{dir}/client.crt", "-naccept", "1"}, cert: "rsa2048",
			clients:  [][]string{{"-cert", "{dir}/client.crt", "-key", "{dir}/client.key"}},
			versions: []string{"TLSv1.2"},
			check: func(t *testing.T, ts tsFacts, ms msReport, m *material) {
				if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool {
					return h.CertRequest && slices.Equal(h.ClientCerts, []string{m.sha["client"]})
				}) {
					t.Errorf("tshark saw no CertificateRequest answered with the client certificate: %+v", ts.Handshakes)
				}
			},
		},
		{
			// A two-certificate chain sent in 512-byte records, so that the Certificate
			// message spans many records and must be reassembled.
			name:   "tls12-chain-small-records",
			server: []string{"-tls1_2", "-cert_chain", "{dir}/ca.crt", "-max_send_frag", "512", "-cipher", "DEFAULT:@SECLEVEL=0", "-naccept", "1"},
			cert:   "leaf", clients: [][]string{{"-cipher", "DEFAULT:@SECLEVEL=0"}}, versions: []string{"TLSv1.2"},
			findings: []string{"cert-weak-signature"},
			check: func(t *testing.T, ts tsFacts, ms msReport, m *material) {
				if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool {
					return slices.Equal(h.ServerCerts, []string{m.sha["leaf"], m.sha["ca"]})
				}) {
					t.Errorf("tshark saw no handshake with the leaf and CA chain: %+v", ts.Handshakes)
				}
			},
		},
		{
			// The client offers a key share the server does not take: a HelloRetryRequest
			// (a ServerHello with a special random) precedes the real ServerHello.
			name: "tls13-hello-retry", server: []string{"-tls1_3", "-groups", "P-256", "-naccept", "1"}, cert: "rsa2048",
			clients: [][]string{{"-groups", "X25519:P-256"}}, versions: []string{"TLSv1.3"},
			check: func(t *testing.T, ts tsFacts, ms msReport, m *material) {
				if len(ts.Handshakes) < 2 {
					t.Errorf("tshark saw %d ServerHello, want a HelloRetryRequest and a ServerHello", len(ts.Handshakes))
				}
			},
		},
		{
			name: "tls13-ipv6", ipv6: true, dumpcap: true, server: []string{"-tls1_3", "-naccept", "1"}, cert: "ecdsa",
			clients: [][]string{nil}, versions: []string{"TLSv1.3"},
		},
		{
			name: "tls13-ipv4", server: []string{"-naccept", "1"}, cert: "rsa2048",
			clients: [][]string{nil}, versions: []string{"TLSv1.3"},
		},
	}
	m := newMaterial(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runOpenSSLCase(t, tshark, m, c)
		})
	}
	t.Run("curl-credentials", func(t *testing.T) {
		t.Parallel()
		runCurlCase(t, tshark)
	})
}

// material is the throwaway key material the OpenSSL cases share: made once, in a
// temporary directory, with the SHA-256 of each certificate's DER.
type material struct {
	once sync.Once
	dir  string
	sha  map[string]string
	err  error
}

func newMaterial(t *testing.T) *material {
	return &material{dir: t.TempDir(), sha: map[string]string{}}
}

func (m *material) make(t *testing.T, openssl string) {
	t.Helper()
	m.once.Do(func() { m.err = m.generate(openssl) })
	if m.err != nil {
		t.Fatalf("making key material: %v", m.err)
	}
}

func (m *material) generate(openssl string) error {
	certs := []struct {
		name, subj string
		key        []string
	}{
		{"rsa2048", "/CN=server.example", []string{"-newkey", "rsa:2048"}},
		{"rsa1024", "/CN=weak.example", []string{"-newkey", "rsa:1024"}},
		{"ecdsa", "/CN=ec.example", []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"}},
		{"client", "/CN=client.example", []string{"-newkey", "rsa:2048"}},
		{"ca", "/CN=Ward 7 Device CA/O=Ward 7", []string{"-newkey", "rsa:2048", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"}},
	}
	for _, c := range certs {
		crt, key := filepath.Join(m.dir, c.name+".crt"), filepath.Join(m.dir, c.name+".key")
		args := append([]string{"req", "-x509", "-nodes", "-days", "30", "-sha256", "-subj", c.subj,
			"-addext", "subjectAltName=DNS:name.example", "-keyout", key, "-out", crt}, c.key...)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, openssl, args...).CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("openssl req for %s: %w\n%s", c.name, err, out)
		}
		if err := m.hash(c.name); err != nil {
			return err
		}
	}
	// A leaf signed by a CA with SHA-1, sent with its CA: a two-certificate chain.
	steps := [][]string{
		{"req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=pacs.example/O=Ward 7", "-keyout", "{dir}/leaf.key", "-out", "{dir}/leaf.csr"},
		{"x509", "-req", "-in", "{dir}/leaf.csr", "-CA", "{dir}/ca.crt", "-CAkey", "{dir}/ca.key", "-set_serial", "4242", "-days", "30", "-sha1", "-out", "{dir}/leaf.crt"},
	}
	for _, s := range steps {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, openssl, expand(s, m.dir)...).CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("openssl %v: %w\n%s", s, err, out)
		}
	}
	if err := m.hash("leaf"); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(m.dir, "dh1024.pem"), dh1024PEM(), 0o600)
}

// hash records the SHA-256 of a generated certificate's DER.
func (m *material) hash(name string) error {
	raw, err := os.ReadFile(filepath.Join(m.dir, name+".crt"))
	if err != nil {
		return err
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		return fmt.Errorf("%s.crt: no PEM certificate", name)
	}
	sum := sha256.Sum256(b.Bytes)
	m.sha[name] = hex.EncodeToString(sum[:])
	return nil
}

// dh1024PEM is the 1024-bit MODP group of RFC 2409 (Oakley group 2, generator 2), the
// group that old Apache and many embedded servers used for DHE. Writing the well-known
// group avoids generating a safe prime in the test.
func dh1024PEM() []byte {
	p, _ := new(big.Int).SetString(
		"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
			"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
			"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16)
	der, err := asn1.Marshal(struct{ P, G *big.Int }{p, big.NewInt(2)})
	if err != nil {
		panic(err) // two positive integers always marshal
	}
	return pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: der})
}

// expand replaces {dir} in arguments with the material directory.
func expand(args []string, dir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "{dir}", dir)
	}
	return out
}

func runOpenSSLCase(t *testing.T, tshark string, m *material, c liveCase) {
	openssl := requireTool(t, "openssl", "OpenSSL's command-line tool; Debian/Ubuntu package openssl")
	m.make(t, openssl)
	host, listen := "127.0.0.1", "tcp4"
	if c.ipv6 {
		host, listen = "::1", "tcp6"
	}
	port := testproc.FreePort(t, listen, host)
	hp := net.JoinHostPort(host, strconv.Itoa(port))
	file := startCapture(t, port, c.dumpcap)

	srvArgs := append([]string{"s_server", "-accept", hp,
		"-cert", filepath.Join(m.dir, c.cert+".crt"), "-key", filepath.Join(m.dir, c.cert+".key")}, expand(c.server, m.dir)...)
	srv := testproc.StartHoldingStdin(t, openssl, srvArgs...) // s_server stops when its input ends
	srv.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)
	for i, extra := range c.clients {
		args := append([]string{"s_client", "-connect", hp, "-servername", "name.example"}, expand(extra, m.dir)...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, openssl, args...).CombinedOutput() // stdin is /dev/null
		cancel()
		if err != nil {
			t.Fatalf("s_client %d %v: %v\n%s\nserver: %s", i, args, err, out, srv.Output())
		}
	}
	srv.WaitExit(5 * time.Second) // -naccept: the server ends after its connections
	file.stop(t)

	ts := runTshark(t, tshark, file.path, true)
	for _, v := range c.versions {
		if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool { return h.Version == v && h.Host == host && h.Port == port }) {
			t.Fatalf("tshark saw no %s handshake on %s in the capture (the conversation failed?): %+v\nserver: %s", v, hp, ts.Handshakes, srv.Output())
		}
	}
	ms := diffLive(t, file.path, ts)
	if c.check != nil {
		c.check(t, ts, ms, m)
	}
	wantFindings(t, ms, host, port, c.findings)
}

func runCurlCase(t *testing.T, tshark string) {
	curl := requireTool(t, "curl", "Debian/Ubuntu package curl")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	file := startCapture(t, port, false)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The digest path challenges first, as a real server does, so that curl
			// answers with a Digest Authorization on the same connection.
			if r.URL.Path == "/digest" && !strings.HasPrefix(r.Header.Get("Authorization"), "Digest ") {
				w.Header().Set("WWW-Authenticate", `Digest realm="ward7", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c0", opaque="5ccc069c403ebaf9f0171e9517f40e41"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "ok\n")
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for _, args := range [][]string{
		{"-u", "nurse:Winter2024!", "-H", "X-API-Key: 7f3c9a1e5b2d4f6a8c0e", base + "/api/v1/patients"},
		{"--digest", "-u", "nurse:Winter2024!", base + "/digest"},
		{"--oauth2-bearer", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJudXJzZSJ9.c2lnbmF0dXJl", base + "/fhir/Patient", base + "/fhir/Observation"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, curl, append([]string{"-sS", "--max-time", "8", "--noproxy", "*"}, args...)...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
	}
	srv.Close()
	file.stop(t)

	ts := runTshark(t, tshark, file.path, true)
	for _, scheme := range []string{"Basic", "Digest", "Bearer"} {
		if !slices.ContainsFunc(ts.Auth, func(a tsAuth) bool { return a.Scheme == scheme && a.Port == port }) {
			t.Fatalf("tshark saw no %s Authorization on port %d: %+v", scheme, port, ts.Auth)
		}
	}
	ms := diffLive(t, file.path, ts)
	for _, kind := range []string{"http-basic", "http-digest", "http-bearer", "api-key-header"} {
		if !slices.ContainsFunc(ms.Credentials, func(c msCredential) bool {
			return c.Host == "127.0.0.1" && c.Port == port && c.Kind == kind
		}) {
			t.Errorf("medscan reports no %s credential on 127.0.0.1:%d: %+v", kind, port, ms.Credentials)
		}
	}
	wantFindings(t, ms, "127.0.0.1", port, []string{"cleartext-credentials"})
}

// diffLive compares a capture the test made, which medscan must read completely.
func diffLive(t *testing.T, path string, ts tsFacts) msReport {
	t.Helper()
	ms := runMedscan(t, path)
	if !ms.Scan.Complete || len(ms.Scan.Problems) > 0 {
		t.Errorf("medscan did not read the capture completely: %+v", ms.Scan.Problems)
	}
	n := compareOrFail(t, path, ts, ms)
	t.Logf("compared %s", n)
	return ms
}

func wantChain(t *testing.T, ts tsFacts, m *material, name string) {
	t.Helper()
	if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool { return slices.Equal(h.ServerCerts, []string{m.sha[name]}) }) {
		t.Errorf("tshark saw no handshake carrying the %s certificate %s: %+v", name, m.sha[name], ts.Handshakes)
	}
}

func wantSuite(t *testing.T, ts tsFacts, suite string) {
	t.Helper()
	if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool { return h.Suite == suite }) {
		t.Errorf("tshark saw no %s handshake: %+v", suite, ts.Handshakes)
	}
}

func wantFindings(t *testing.T, ms msReport, host string, port int, rules []string) {
	t.Helper()
	for _, rule := range rules {
		if !slices.ContainsFunc(ms.Findings, func(f msFinding) bool { return f.Rule == rule && f.Host == host && f.Port == port }) {
			var got []string
			for _, f := range ms.Findings {
				got = append(got, fmt.Sprintf("%s %s:%d", f.Rule, f.Host, f.Port))
			}
			t.Errorf("medscan raised no %s on %s:%d; it raised %q", rule, host, port, got)
		}
	}
}

// liveCapture is a packet capture running on the loopback interface.
type liveCapture struct {
	path string
	c    *testproc.Capturer
}

// startCapture records TCP port port on the loopback interface with tcpdump (pcap) or,
// when asked and present or when tcpdump is missing, dumpcap (pcapng). It returns once
// the capturing tool says it is listening.
func startCapture(t *testing.T, port int, preferDumpcap bool) *liveCapture {
	t.Helper()
	filter := "tcp port " + strconv.Itoa(port)
	dir := t.TempDir()
	tcpdump, errT := exec.LookPath("tcpdump")
	dumpcap, errD := exec.LookPath("dumpcap")
	tool, path := tcpdump, filepath.Join(dir, "live.pcap")
	switch {
	case errD == nil && (preferDumpcap || errT != nil):
		tool, path = dumpcap, filepath.Join(dir, "live.pcapng")
	case errT != nil:
		requireTool(t, "tcpdump", "tcpdump or Wireshark's dumpcap; Debian/Ubuntu package tcpdump")
	}
	return &liveCapture{path: path, c: testproc.StartCapture(t, tool, "lo", filter, path, envRequire)}
}

// stop ends the capture, checks the file holds packets and, when MEDSCAN_DIFF_KEEP names
// a directory, keeps it there to open a disagreement in Wireshark after the test's
// temporary directory is gone.
func (c *liveCapture) stop(t *testing.T) {
	t.Helper()
	raw := c.c.Stop(t)
	testproc.Keep(t, os.Getenv("MEDSCAN_DIFF_KEEP"), filepath.Ext(c.path), raw)
}
