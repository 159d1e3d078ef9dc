package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// tlsLoopDialer dials loopback ports and counts its calls, standing in for the pacing
// dialer.
type tlsLoopDialer struct {
	n atomic.Int32
}

func (d *tlsLoopDialer) Dial(ctx context.Context, port uint16) (net.Conn, error) {
	d.n.Add(1)
	var nd net.Dialer
	nd.Timeout = 2 * time.Second
	return nd.DialContext(ctx, "tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String())
}

// tlsCerts are a self-signed RSA and ECDSA certificate, made once.
var tlsCerts = sync.OnceValue(func() (c struct{ rsa, ecdsa tls.Certificate }) {
	mk := func(key any, pub any, cn string) tls.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"medscan test"}},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			DNSNames: []string{"pacs.example.test"}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
		if err != nil {
			panic(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	c.rsa = mk(rk, &rk.PublicKey, "rsa.example.test")
	c.ecdsa = mk(ek, &ek.PublicKey, "ecdsa.example.test")
	return c
})

// serve runs handle for every connection to a fresh loopback listener until the test
// ends, and returns the listener's address.
func tlsServe(t testing.TB, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(3 * time.Second))
				handle(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// tlsServeGo runs a crypto/tls server with cfg.
func tlsServeGo(t testing.TB, cfg *tls.Config) netip.AddrPort {
	return tlsServe(t, func(c net.Conn) {
		s := tls.Server(c, cfg)
		if s.Handshake() != nil {
			return
		}
		var b [1]byte
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = s.Read(b[:]) // let a TLS 1.3 server read and judge the client's certificate
	})
}

var tlsFastTimeouts = Timeouts{Connect: 2 * time.Second, Handshake: 2 * time.Second}

func tlsEnumerate(t testing.TB, srv netip.AddrPort, p Profile) (TLSResult, int) {
	t.Helper()
	var d tlsLoopDialer
	r := EnumerateTLS(context.Background(), &d, TLSTarget{Server: srv, Name: "pacs.example.test"}, p, tlsFastTimeouts)
	return r, int(d.n.Load())
}

func tlsSuitesOf(r TLSResult, v uint16) []uint32 {
	for _, vs := range r.Profile.Suites {
		if vs.Version == v {
			return vs.Suites
		}
	}
	return nil
}

func tlsSorted(l []uint32) []uint32 { l = slices.Clone(l); slices.Sort(l); return l }

func tlsU32s(l ...uint16) []uint32 {
	var out []uint32
	for _, v := range l {
		out = append(out, uint32(v))
	}
	return out
}

var tlsAll13 = tlsU32s(tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256)

// TestEnumerateGoServers checks that the standard profile finds exactly the versions
// and suites each server is configured with, its preference and client-certificate
// stance, and that every accepted (version, suite) has one handshake that reads as the
// rules expect.
func TestEnumerateGoServers(t *testing.T) {
	certs := tlsCerts()
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(certs.ecdsa.Certificate[0])
	pool.AddCert(leaf)
	tests := []struct {
		name     string
		cfg      *tls.Config
		versions []uint16
		suites   map[uint16][]uint32
		certReq  bool
		certReqd bool
		cas      []string
		groups   []uint16
	}{
		{
			name: "tls12 rsa three suites",
			cfg: &tls.Config{Certificates: []tls.Certificate{certs.rsa}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
				CipherSuites:     []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA},
				CurvePreferences: []tls.CurveID{tls.CurveP256, tls.X25519}},
			versions: []uint16{0x0303},
			suites: map[uint16][]uint32{0x0303: tlsU32s(tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
				tls.TLS_RSA_WITH_AES_128_CBC_SHA)},
			groups: []uint16{23, 29},
		},
		{
			name: "tls10 to 13 ecdsa",
			cfg: &tls.Config{Certificates: []tls.Certificate{certs.ecdsa}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS13,
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
					tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
				CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}},
			versions: []uint16{0x0301, 0x0302, 0x0303, 0x0304},
			suites: map[uint16][]uint32{
				0x0301: tlsU32s(tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA),
				0x0302: tlsU32s(tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA),
				0x0303: tlsU32s(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
					tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA),
				0x0304: tlsAll13,
			},
			groups: []uint16{23, 24, 29},
		},
		{
			name: "tls12 requires a client certificate",
			cfg: &tls.Config{Certificates: []tls.Certificate{certs.ecdsa}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
				ClientAuth: tls.RequireAnyClientCert, ClientCAs: pool,
				CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
				CurvePreferences: []tls.CurveID{tls.CurveP256}},
			versions: []uint16{0x0303},
			suites:   map[uint16][]uint32{0x0303: tlsU32s(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)},
			certReq:  true, certReqd: true, cas: []string{"CN=ecdsa.example.test,O=medscan test"},
			groups: []uint16{23},
		},
		{
			name: "tls13 requires a client certificate",
			cfg: &tls.Config{Certificates: []tls.Certificate{certs.ecdsa}, MinVersion: tls.VersionTLS13,
				ClientAuth: tls.RequireAnyClientCert, ClientCAs: pool, CurvePreferences: []tls.CurveID{tls.X25519}},
			versions: []uint16{0x0304},
			suites:   map[uint16][]uint32{0x0304: tlsAll13},
			certReq:  true, certReqd: true, cas: []string{"CN=ecdsa.example.test,O=medscan test"},
			groups: []uint16{29},
		},
		{
			name: "tls13 asks for but does not require a client certificate",
			cfg: &tls.Config{Certificates: []tls.Certificate{certs.ecdsa}, MinVersion: tls.VersionTLS13,
				ClientAuth: tls.RequestClientCert, CurvePreferences: []tls.CurveID{tls.CurveP256, tls.CurveP384}},
			versions: []uint16{0x0304},
			suites:   map[uint16][]uint32{0x0304: tlsAll13},
			certReq:  true,
			groups:   []uint16{23, 24},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := tlsServeGo(t, tc.cfg)
			r, dials := tlsEnumerate(t, srv, ProfileStandard)
			if r.Outcome != observe.ProbeTLS {
				t.Fatalf("outcome %s (%v)", r.Outcome, r.Err)
			}
			if r.Connections != dials {
				t.Errorf("Connections %d, dialer counted %d", r.Connections, dials)
			}
			if !slices.Equal(r.Profile.Versions, tc.versions) {
				t.Errorf("versions %x, want %x", r.Profile.Versions, tc.versions)
			}
			for v, want := range tc.suites {
				if got := tlsSorted(tlsSuitesOf(r, v)); !slices.Equal(got, tlsSorted(want)) {
					t.Errorf("%s suites %x, want %x", observe.VersionName(v), got, tlsSorted(want))
				}
			}
			for _, vs := range r.Profile.Suites {
				// crypto/tls servers choose by their own order.
				if len(vs.Suites) > 1 && !vs.ServerPreference {
					t.Errorf("%s: server preference not detected", observe.VersionName(vs.Version))
				}
			}
			if !slices.Equal(r.Profile.Groups, tc.groups) {
				t.Errorf("groups %v, want %v", r.Profile.Groups, tc.groups)
			}
			if r.Profile.CertRequest != tc.certReq || r.Profile.CertRequired != tc.certReqd {
				t.Errorf("cert request %v required %v, want %v %v", r.Profile.CertRequest, r.Profile.CertRequired, tc.certReq, tc.certReqd)
			}
			if !slices.Equal(r.Profile.CertRequestCAs, tc.cas) {
				t.Errorf("CAs %q, want %q", r.Profile.CertRequestCAs, tc.cas)
			}
			leaf := tc.cfg.Certificates[0].Certificate[0]
			if len(r.Profile.ServerChain) != 1 || r.Profile.ServerChain[0] != refsOf([][]byte{leaf})[0] {
				t.Errorf("server chain %v", r.Profile.ServerChain)
			}
			tlsCheckHandshakes(t, r, srv)
			t.Logf("%d connections", r.Connections)
		})
	}
}

// tlsCheckHandshakes checks one handshake per accepted (version, suite), each as the
// passive rules read sessions.
func tlsCheckHandshakes(t *testing.T, r TLSResult, srv netip.AddrPort) {
	t.Helper()
	want := 0
	for _, vs := range r.Profile.Suites {
		want += len(vs.Suites)
	}
	if len(r.Handshakes) != want {
		t.Errorf("%d handshakes, want one per accepted suite (%d)", len(r.Handshakes), want)
	}
	seen := map[[2]uint32]bool{}
	for _, h := range r.Handshakes {
		s := h.Session
		k := [2]uint32{uint32(s.Version), uint32(s.Suite) | s.SSLv2Cipher}
		if seen[k] {
			t.Errorf("duplicate handshake %x", k)
		}
		seen[k] = true
		if s.Source != observe.SourceActive || !s.SawServerHello || s.SNI != "pacs.example.test" || s.Flow.Server != srv ||
			!s.Flow.Client.Addr().IsLoopback() {
			t.Errorf("handshake %x: source %q hello %v sni %q flow %v", k, s.Source, s.SawServerHello, s.SNI, s.Flow)
		}
		if len(h.ServerChain) == 0 || s.CertsEncrypted || len(s.ServerChain) != len(h.ServerChain) {
			t.Errorf("handshake %x: chain %d refs %d encrypted %v", k, len(h.ServerChain), len(s.ServerChain), s.CertsEncrypted)
		}
		if s.CertRequest != r.Profile.CertRequest {
			t.Errorf("handshake %x: CertRequest %v, profile %v", k, s.CertRequest, r.Profile.CertRequest)
		}
		if isECDHE(s.Suite) && s.ECDHCurve == 0 {
			t.Errorf("handshake %x: no curve", k)
		}
	}
}

// TestEnumerateInventory checks that the inventory profile makes one connection to a
// modern server and still reads version, suite, chain and the certificate request.
func TestEnumerateInventory(t *testing.T) {
	certs := tlsCerts()
	srv := tlsServeGo(t, &tls.Config{Certificates: []tls.Certificate{certs.rsa}, MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAnyClientCert})
	r, _ := tlsEnumerate(t, srv, ProfileInventory)
	if r.Outcome != observe.ProbeTLS || r.Connections != 1 || len(r.Handshakes) != 1 {
		t.Fatalf("outcome %s connections %d handshakes %d (%v)", r.Outcome, r.Connections, len(r.Handshakes), r.Err)
	}
	s := r.Handshakes[0].Session
	if s.Version != 0x0304 || !s.CertRequest || !r.Profile.CertRequired || s.CertsEncrypted || len(r.Handshakes[0].ServerChain) != 1 {
		t.Errorf("session %+v required %v", s, r.Profile.CertRequired)
	}
}

// TestEnumerateThorough checks the thorough profile's extra answers against a Go
// server: secure renegotiation, no compression, a ticket (whose lifetime hint Go leaves
// unspecified, 0), no OCSP, fallback SCSV.
func TestEnumerateThorough(t *testing.T) {
	certs := tlsCerts()
	srv := tlsServeGo(t, &tls.Config{Certificates: []tls.Certificate{certs.rsa}, MinVersion: tls.VersionTLS12})
	r, _ := tlsEnumerate(t, srv, ProfileThorough)
	p := r.Profile
	if p.Renegotiation != "secure" || p.Compression != "none" || p.OCSPStapling != "no" || p.FallbackSCSV != "yes" || p.TicketLifetime == -1 {
		t.Errorf("thorough: reneg %q compression %q ocsp %q fallback %q ticket %d", p.Renegotiation, p.Compression, p.OCSPStapling, p.FallbackSCSV, p.TicketLifetime)
	}
	// With stapling configured the answer changes.
	cert := certs.rsa
	cert.OCSPStaple = []byte{0x30, 0x03, 0x0a, 0x01, 0x00}
	srv = tlsServeGo(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12})
	r, _ = tlsEnumerate(t, srv, ProfileThorough)
	if r.Profile.OCSPStapling != "yes" || r.Profile.FallbackSCSV != "" {
		t.Errorf("stapled: ocsp %q fallback %q", r.Profile.OCSPStapling, r.Profile.FallbackSCSV)
	}
}

// TestEnumerateFailures checks the typed outcomes of peers that do not complete a
// handshake, and that none of them holds the prober past its timeouts.
func TestEnumerateFailures(t *testing.T) {
	closed := func() netip.AddrPort {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().(*net.TCPAddr).AddrPort()
		ln.Close()
		return a
	}
	readHello := func(c net.Conn) { var b [4096]byte; _, _ = c.Read(b[:]) }
	tests := []struct {
		name  string
		srv   func(t *testing.T) netip.AddrPort
		want  observe.ProbeOutcome
		reply string
	}{
		{"refused", func(t *testing.T) netip.AddrPort { return closed() }, observe.ProbeRefused, ""},
		{"silent", func(t *testing.T) netip.AddrPort {
			return tlsServe(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
		}, observe.ProbeTimeout, ""},
		{"reset", func(t *testing.T) netip.AddrPort {
			return tlsServe(t, func(c net.Conn) {
				readHello(c)
				_ = c.(*net.TCPConn).SetLinger(0)
			})
		}, observe.ProbeReset, ""},
		{"http", func(t *testing.T) netip.AddrPort {
			return tlsServe(t, func(c net.Conn) {
				readHello(c)
				_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			})
		}, observe.ProbeNotTLS, "HTTP/1.1 400 Bad Request\r\n"},
		{"dicom abort", func(t *testing.T) netip.AddrPort {
			return tlsServe(t, func(c net.Conn) {
				readHello(c)
				_, _ = c.Write([]byte{0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x00})
			})
		}, observe.ProbeNotTLS, "\x07\x00"},
		{"closes mid-handshake", func(t *testing.T) netip.AddrPort {
			return tlsServe(t, func(c net.Conn) {
				readHello(c)
				_, _ = c.Write([]byte{22, 3, 3, 0, 80, 2, 0, 0, 76, 3, 3})
			})
		}, observe.ProbeReset, ""},
		{"alert", func(t *testing.T) netip.AddrPort {
			return tlsServe(t, func(c net.Conn) {
				readHello(c)
				_, _ = c.Write([]byte{21, 3, 3, 0, 2, 2, 40})
			})
		}, observe.ProbeHandshakeFailure, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.srv(t)
			var d tlsLoopDialer
			start := time.Now()
			r := EnumerateTLS(context.Background(), &d, TLSTarget{Server: srv}, ProfileStandard,
				Timeouts{Connect: time.Second, Handshake: 300 * time.Millisecond})
			if r.Outcome != tc.want || r.Err == nil && tc.want != observe.ProbeHandshakeFailure {
				t.Errorf("outcome %s (%v), want %s", r.Outcome, r.Err, tc.want)
			}
			if !strings.HasPrefix(string(r.Reply), tc.reply) || (tc.reply == "") != (len(r.Reply) == 0) {
				t.Errorf("reply %q, want prefix %q", r.Reply, tc.reply)
			}
			if r.Connections != int(d.n.Load()) || len(r.Handshakes) != 0 {
				t.Errorf("connections %d (dialed %d), handshakes %d", r.Connections, d.n.Load(), len(r.Handshakes))
			}
			// Bounded by the timeouts: at most a few handshake timeouts, never a hang.
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v", el)
			}
		})
	}
}

// TestEnumerateContextCancel checks that cancelling the context stops a probe that a
// silent peer would otherwise hold until its timeout.
func TestEnumerateContextCancel(t *testing.T) {
	srv := tlsServe(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	var d tlsLoopDialer
	done := make(chan TLSResult, 1)
	go func() {
		done <- EnumerateTLS(ctx, &d, TLSTarget{Server: srv}, ProfileThorough, Timeouts{Handshake: time.Minute})
	}()
	select {
	case r := <-done:
		if r.Outcome == observe.ProbeTLS || r.Connections > 2 {
			t.Errorf("outcome %s after %d connections", r.Outcome, r.Connections)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled enumeration did not return")
	}
}

// TestEnumerateNegotiated checks that the profile names what an ordinary client
// negotiates, the first full handshake, and not what enumeration happened to try last
// (the defect: a service shown with the last suite found and its lowest version).
func TestEnumerateNegotiated(t *testing.T) {
	certs := tlsCerts()
	tests := []struct {
		name        string
		cfg         *tls.Config
		profile     Profile
		wantVersion uint16
		wantSuite   uint16
	}{
		{
			// crypto/tls servers prefer AEAD with ECDHE: the CBC suite with RSA key
			// exchange is accepted, found last, and never negotiated.
			name: "tls12 prefers ecdhe gcm",
			cfg: &tls.Config{Certificates: []tls.Certificate{certs.rsa}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
			profile: ProfileStandard, wantVersion: tls.VersionTLS12, wantSuite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		},
		{
			name: "tls10 to 13 negotiates 13",
			cfg: &tls.Config{Certificates: []tls.Certificate{certs.ecdsa}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS13,
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}},
			profile: ProfileStandard, wantVersion: tls.VersionTLS13,
		},
		{
			name: "inventory profile",
			cfg: &tls.Config{Certificates: []tls.Certificate{certs.rsa}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
			profile: ProfileInventory, wantVersion: tls.VersionTLS12, wantSuite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := tlsEnumerate(t, tlsServeGo(t, tc.cfg), tc.profile)
			if r.Outcome != observe.ProbeTLS {
				t.Fatalf("outcome %s (%v)", r.Outcome, r.Err)
			}
			p := r.Profile
			if p.NegotiatedVersion != tc.wantVersion {
				t.Errorf("negotiated version %s, want %s", observe.VersionName(p.NegotiatedVersion), observe.VersionName(tc.wantVersion))
			}
			if tc.wantSuite != 0 && p.NegotiatedSuite != tc.wantSuite {
				t.Errorf("negotiated suite %s, want %s", observe.SuiteName(p.NegotiatedSuite), observe.SuiteName(tc.wantSuite))
			}
			if !slices.Contains(tlsSuitesOf(r, p.NegotiatedVersion), uint32(p.NegotiatedSuite)) {
				t.Errorf("negotiated %s is not among the accepted suites %x", observe.SuiteName(p.NegotiatedSuite), tlsSuitesOf(r, p.NegotiatedVersion))
			}
			if tc.profile == ProfileInventory {
				return
			}
			last := r.Handshakes[len(r.Handshakes)-1].Session
			if last.Version == p.NegotiatedVersion && last.Suite == p.NegotiatedSuite {
				t.Errorf("the last handshake enumerated (%s %s) is the negotiated one: the test proves nothing",
					observe.VersionName(last.Version), observe.SuiteName(last.Suite))
			}
			if len(p.Versions) < 2 && len(tlsSuitesOf(r, p.NegotiatedVersion)) < 2 {
				t.Errorf("enumeration found one suite only: %+v", p.Suites)
			}
		})
	}
}
