package probe

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/observe"
)

// envRealSoft makes the tests that need real server software fail, rather than skip,
// when it is missing: CI sets it.
const envRealSoft = "MEDSCAN_REQUIRE_REALSOFT"

// testPKI is a CA and a server certificate it issued (RSA, so that static-RSA suites
// work), written as PEM files in a test's temporary directory.
type testPKI struct {
	dir, caFile, certFile, keyFile string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "medscan test ward CA", Organization: []string{"medscan tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{dir: dir, caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "server.pem"),
		keyFile: filepath.Join(dir, "server.key")}
	write := func(path, typ string, der []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.caFile, "CERTIFICATE", caDER)
	write(p.certFile, "CERTIFICATE", leafDER)
	write(p.keyFile, "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(key)))
	return p
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// realServer is one running server and what its configuration makes it accept.
type realServer struct {
	name     string
	port     uint16
	versions []uint16            // exactly the versions it accepts
	suites   map[uint16][]uint32 // exactly the suites it accepts per version, where the test fixes them
	certReq  bool                // it asks for a client certificate
	// certReqd: it ends the handshake when no client certificate comes (nginx does not:
	// it completes the handshake and answers HTTP 400).
	certReqd bool
	// caNames: its CertificateRequest names the acceptable CAs. nginx sends the names of
	// ssl_client_certificate; mosquitto and storescp load the CA for verification only,
	// so OpenSSL sends an empty list.
	caNames bool
}

func (s realServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// startOpenSSL runs openssl s_server accepting TLS 1.0 only with three static-RSA
// suites. OpenSSL 3 refuses TLS 1.0's signatures below security level 0, and Debian's
// build has no 3DES at all, hence these suites and ":@SECLEVEL=0" (after a colon: as
// part of the last suite's name it is not applied).
func startOpenSSL(t *testing.T, p testPKI) realServer {
	bin := testproc.Need(t, envRealSoft, "openssl", "Debian package openssl")
	port := testproc.FreePort(t, "tcp4", "127.0.0.1")
	srv := testproc.StartHoldingStdin(t, bin, "s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port),
		"-cert", p.certFile, "-key", p.keyFile, "-tls1", "-cipher", "AES128-SHA:AES256-SHA:CAMELLIA128-SHA:@SECLEVEL=0",
		"-naccept", "100000")
	srv.WaitFor(t, testproc.Stdout, "ACCEPT", 15*time.Second)
	return realServer{name: "openssl", port: uint16(port), versions: []uint16{0x0301},
		suites: map[uint16][]uint32{0x0301: {0x002f, 0x0035, 0x0041}}}
}

// nginxTLSConf serves TLS 1.2 and 1.3 on one loopback port and demands a client
// certificate from the test CA.
const nginxTLSConf = `daemon off;
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
    listen 127.0.0.1:%[2]d ssl;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    ssl_client_certificate %[5]s;
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:AES128-SHA256;
    ssl_prefer_server_ciphers on;
    location / { return 200 "ok\n"; }
  }
}
`

func startNginx(t *testing.T, p testPKI) realServer {
	bin := testproc.Need(t, envRealSoft, "nginx", "Debian package nginx-light")
	port := testproc.FreePort(t, "tcp4", "127.0.0.1")
	conf := filepath.Join(p.dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxTLSConf, p.dir, port, p.certFile, p.keyFile, p.caFile), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testproc.Start(t, bin, "-p", p.dir, "-c", conf)
	srv.WaitFor(t, testproc.Stderr, "start worker process", 15*time.Second)
	return realServer{name: "nginx", port: uint16(port), versions: []uint16{0x0303, 0x0304},
		suites:  map[uint16][]uint32{0x0303: {0xc030, 0xc02f, 0x003c}}, // no DHE: nginx enables it only with ssl_dhparam
		certReq: true, caNames: true}
}

// startMosquitto runs a broker with one TLS listener that requires a client certificate
// from the test CA.
func startMosquitto(t *testing.T, p testPKI) realServer {
	bin := testproc.Need(t, envRealSoft, "mosquitto", "Debian package mosquitto")
	port := testproc.FreePort(t, "tcp4", "127.0.0.1")
	conf := []string{
		fmt.Sprintf("listener %d 127.0.0.1", port),
		"cafile " + p.caFile, "certfile " + p.certFile, "keyfile " + p.keyFile,
		"require_certificate true", "tls_version tlsv1.2",
		"ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305",
		"allow_anonymous true", "persistence false", "log_dest stderr", "log_type all",
	}
	if os.Geteuid() == 0 {
		conf = append(conf, "user root") // the mosquitto user may not read the test's directory
	}
	file := filepath.Join(p.dir, "mosquitto.conf")
	if err := os.WriteFile(file, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testproc.Start(t, bin, "-c", file)
	srv.WaitFor(t, testproc.Stderr, " running", 15*time.Second)
	return realServer{name: "mosquitto", port: uint16(port), versions: []uint16{0x0303, 0x0304},
		suites:  map[uint16][]uint32{0x0303: {0xc030, 0xcca8}},
		certReq: true, certReqd: true}
}

// startStorescp serves dcmtk's storescp with TLS on a loopback port, inetd style:
// storescp has no option to choose its address and would otherwise listen on every
// interface, so the test listens and runs `storescp --inetd` per connection. It keeps
// dcmtk's default BCP 195 profile and requires a client certificate from the test CA.
func startStorescp(t *testing.T, p testPKI) realServer {
	bin := testproc.Need(t, envRealSoft, "storescp", "Debian package dcmtk")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var procs []*exec.Cmd
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f, err := c.(*net.TCPConn).File()
			c.Close()
			if err != nil {
				continue
			}
			cmd := exec.Command(bin, "--inetd", "+tls", p.keyFile, p.certFile, "+cf", p.caFile, "-od", out)
			cmd.Stdin, cmd.Stdout = f, f
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				f.Close()
				continue
			}
			f.Close()
			mu.Lock()
			procs = append(procs, cmd)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				done := make(chan struct{})
				go func() { _ = cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(60 * time.Second): // a stuck storescp: bounded
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					<-done
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range procs {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		}
		mu.Unlock()
		wg.Wait()
	})
	return realServer{name: "storescp", port: uint16(ln.Addr().(*net.TCPAddr).Port),
		versions: []uint16{0x0303, 0x0304}, certReq: true, certReqd: true}
}

// realServers starts every server the real-software tests compare on.
var realServers = []struct {
	name  string
	start func(*testing.T, testPKI) realServer
}{
	{"openssl", startOpenSSL},
	{"nginx", startNginx},
	{"mosquitto", startMosquitto},
	{"storescp", startStorescp},
}

// probeReal runs a standard-profile scan of one server, as fast as politeness allows on
// loopback (no pause, no rate cap), and returns its port's result and the scan stats.
func probeReal(t *testing.T, srv realServer, dial func(context.Context, string, string) (net.Conn, error)) (*observe.ProbeEndpoint, *observe.Set, Stats) {
	t.Helper()
	set := observe.NewSet()
	st, err := Run(context.Background(), scopeOf(t, netip.MustParseAddr("127.0.0.1")), Config{
		Profile: ProfileStandard, Ports: []uint16{srv.port}, Pause: -1, Rate: -1,
		Timeouts: Timeouts{Connect: 3 * time.Second, Handshake: 8 * time.Second}, DialContext: dial,
	}, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Probes) != 1 {
		t.Fatalf("%s: %d probe results, want 1", srv.name, len(set.Probes))
	}
	return set.Probes[0], set, st
}

// TestRealServers probes each real server and checks the result against what its
// configuration makes it accept: versions, suites where the configuration fixes them,
// and whether it asks for a client certificate.
func TestRealServers(t *testing.T) {
	for _, rs := range realServers {
		t.Run(rs.name, func(t *testing.T) {
			srv := rs.start(t, newTestPKI(t))
			p, set, st := probeReal(t, srv, nil)
			if p.Outcome != observe.ProbeTLS || p.Protocol != ProtoTLS || p.TLS == nil {
				t.Fatalf("outcome %s protocol %q error %q, want tls", p.Outcome, p.Protocol, p.Error)
			}
			if !slices.Equal(p.TLS.Versions, srv.versions) {
				t.Errorf("versions %04x, want %04x", p.TLS.Versions, srv.versions)
			}
			for v, want := range srv.suites {
				got := suitesOf(p.TLS, v)
				if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
					t.Errorf("version %04x: suites %04x, want %04x", v, got, want)
				}
			}
			if p.TLS.CertRequest != srv.certReq || p.TLS.CertRequired != srv.certReqd {
				t.Errorf("cert request %v required %v, want %v %v", p.TLS.CertRequest, p.TLS.CertRequired, srv.certReq, srv.certReqd)
			}
			if srv.caNames != (len(p.TLS.CertRequestCAs) == 1) || srv.caNames && !strings.Contains(p.TLS.CertRequestCAs[0], "medscan test ward CA") {
				t.Errorf("acceptable CAs %q, want the test CA: %v", p.TLS.CertRequestCAs, srv.caNames)
			}
			if len(set.TLSSessions) == 0 || len(set.Certificates) == 0 {
				t.Errorf("%d handshakes and %d certificates recorded, want some", len(set.TLSSessions), len(set.Certificates))
			}
			if v := set.Services["tcp/"+p.Server.String()+"/active"]; v == nil || v.Protocol != ProtoTLS {
				t.Errorf("service %+v, want tls", v)
			}
			t.Logf("%s: %d connections in %v", srv.name, st.Connections, st.Elapsed)
		})
	}
}

// suitesOf returns the suites p accepts with version v.
func suitesOf(p *observe.TLSProfile, v uint16) []uint32 {
	for _, vs := range p.Suites {
		if vs.Version == v {
			return vs.Suites
		}
	}
	return nil
}

func sortedCopy[T uint16 | uint32](s []T) []T {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
