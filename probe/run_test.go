package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// tlsServer is an in-process TLS 1.2/1.3 server on a loopback address that records the
// SNI of every handshake.
type tlsServer struct {
	ln  net.Listener
	mu  sync.Mutex
	sni []string
	wg  sync.WaitGroup
}

func newTLSServer(t testing.TB, addr netip.Addr) *tlsServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pacs.ward.example"},
		DNSNames: []string{"pacs.ward.example"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsServer{}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			s.mu.Lock()
			s.sni = append(s.sni, h.ServerName)
			s.mu.Unlock()
			return nil, nil
		},
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					_, _ = tc.Read(make([]byte, 1))
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *tlsServer) port() uint16 { return uint16(s.ln.Addr().(*net.TCPAddr).Port) }

// TestRunTLS scans one in-process TLS server as a name target and one closed port, and
// checks everything Run reports: the probe result with its profile, each handshake, the
// service, the host, the host's account, the SNI sent, the stats and the progress.
func TestRunTLS(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.20")
	srv := newTLSServer(t, addr)
	closed := closedPort(t, addr)
	s := NewScope(mustTargets(t, "pacs.ward.example"), nil)
	if err := s.Resolve(context.Background(), fakeDNS(map[string][]string{"pacs.ward.example": {addr.String()}})); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reports []Progress
	set := observe.NewSet()
	st, err := Run(context.Background(), s, Config{
		Profile: ProfileStandard, Ports: []uint16{srv.port(), closed}, Pause: -1, Rate: -1, Timeouts: fastTimeouts,
		Progress: func(p Progress) { mu.Lock(); reports = append(reports, p); mu.Unlock() },
	}, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Probes) != 2 {
		t.Fatalf("%d probe results, want 2", len(set.Probes))
	}
	for _, p := range set.Probes {
		if p.Name != "pacs.ward.example" {
			t.Errorf("%s: name %q", p.Server, p.Name)
		}
		switch p.Server.Port() {
		case srv.port():
			if p.Outcome != observe.ProbeTLS || p.Protocol != ProtoTLS || p.TLS == nil || len(p.TLS.Versions) != 2 {
				t.Errorf("tls port: %s %q %+v", p.Outcome, p.Protocol, p.TLS)
			}
			if p.Connections < 2 {
				t.Errorf("tls port: %d connections counted, want the enumeration's", p.Connections)
			}
		case closed:
			if p.Outcome != observe.ProbeRefused || p.Error == "" || p.Protocol != "" || p.Connections != 1 {
				t.Errorf("closed port: %s %q error %q connections %d", p.Outcome, p.Protocol, p.Error, p.Connections)
			}
		}
	}
	if len(set.TLSSessions) == 0 {
		t.Error("no handshake recorded")
	}
	for _, ses := range set.TLSSessions {
		if ses.Source != observe.SourceActive || ses.Flow.Server.Port() != srv.port() {
			t.Errorf("handshake %+v: want active, on the TLS port", ses.Flow)
		}
	}
	if len(set.Certificates) != 1 {
		t.Errorf("%d certificates, want the server's one", len(set.Certificates))
	}
	if len(set.Services) != 1 {
		t.Errorf("services %v, want the TLS port only", set.Services)
	}
	if _, ok := set.Hosts[addr]; !ok {
		t.Error("the host is not recorded")
	}
	ph := set.ProbeHosts[addr]
	if ph == nil || ph.Name != "pacs.ward.example" || ph.Connections != st.Connections || ph.Failures != 1 || ph.First.IsZero() || ph.Last.Before(ph.First) {
		t.Errorf("probe host %+v, stats %+v", ph, st)
	}
	// Every hello that names a server names the target; an SSLv3-style hello may carry
	// no extension at all.
	srv.mu.Lock()
	named := 0
	for _, n := range srv.sni {
		if n != "" && n != "pacs.ward.example" {
			t.Errorf("SNI %q, want the name target", n)
		}
		if n != "" {
			named++
		}
	}
	if named == 0 {
		t.Errorf("no hello named the target: %q", srv.sni)
	}
	srv.mu.Unlock()
	if st.Hosts != 1 || st.Ports != 2 || st.Errors != 1 || st.Elapsed <= 0 {
		t.Errorf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) == 0 || !reports[len(reports)-1].Done {
		t.Fatalf("progress %+v: want a final report", reports)
	}
	last := reports[len(reports)-1]
	if last.HostsDone != 1 || last.HostsTotal != 1 || last.Connections != int64(st.Connections) || last.Errors != 1 {
		t.Errorf("final progress %+v, stats %+v", last, st)
	}
	for _, r := range reports[:len(reports)-1] {
		if r.Done {
			t.Error("a report before the last says done")
		}
	}
}

// closedPort returns a port on addr where nothing listens.
func closedPort(t testing.TB, addr netip.Addr) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	p := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	return p
}

// TestRunErrors checks the errors Run returns before touching anything.
func TestRunErrors(t *testing.T) {
	closedScope := NewScope(mustTargets(t, "10.0.0.1"), mustTargets(t, "excluded.example"))
	cases := []struct {
		name  string
		scope *Scope
		cfg   Config
		sink  observe.Sink
	}{
		{"no scope", nil, Config{}, observe.NewSet()},
		{"no sink", scopeOf(t, netip.MustParseAddr("127.0.0.1")), Config{}, nil},
		{"unresolved exclusion", closedScope, Config{}, observe.NewSet()},
		{"bad profile", scopeOf(t, netip.MustParseAddr("127.0.0.1")), Config{Profile: "aggressive"}, observe.NewSet()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.DialContext = func(context.Context, string, string) (net.Conn, error) {
				t.Error("dialled despite the error")
				return nil, net.ErrClosed
			}
			if _, err := Run(context.Background(), c.scope, c.cfg, c.sink); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.Profile != ProfileStandard || len(c.Ports) != len(DefaultPorts) || c.Pause != DefaultPause || c.Rate != DefaultRate ||
		c.Timeouts.Connect != DefaultConnectTimeout || c.Timeouts.Handshake != DefaultHandshakeTimeout ||
		c.MaxConnsPerHost != DefaultMaxConnsPerHost || c.MaxFailures != DefaultMaxFailures || c.Hosts != DefaultHosts || c.DialContext == nil {
		t.Errorf("defaults %+v", c)
	}
	c = Config{Pause: -1, Rate: -1}.withDefaults()
	if c.Pause >= 0 || c.Rate >= 0 {
		t.Errorf("negative pause and rate must stay off: %v %v", c.Pause, c.Rate)
	}
}

func TestProgressLine(t *testing.T) {
	cases := []struct {
		p    Progress
		want string
	}{
		{Progress{}, "hosts 0/0  connections 0  0.0/s  errors 0  0:00"},
		{Progress{HostsDone: 12, HostsTotal: 256, Connections: 340, Errors: 3, Rate: 17.25, Elapsed: 42*time.Second + 900*time.Millisecond},
			"hosts 12/256  connections 340  17.2/s  errors 3  0:42"},
		{Progress{HostsDone: 65536, HostsTotal: 65536, Connections: 1 << 20, Rate: 19.96, Elapsed: 2*time.Hour + 5*time.Second, Done: true},
			"hosts 65536/65536  connections 1048576  20.0/s  errors 0  120:05"},
	}
	for _, c := range cases {
		if got := ProgressLine(c.p); got != c.want {
			t.Errorf("ProgressLine(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

// BenchmarkRunStandard measures a standard-profile scan of one in-process TLS server
// with pacing off, reporting the connections each scan makes.
func BenchmarkRunStandard(b *testing.B) {
	addr := netip.MustParseAddr("127.0.0.21")
	srv := newTLSServer(b, addr)
	s := NewScope([]Target{{Text: addr.String(), First: addr, Last: addr}}, nil)
	var conns int
	for b.Loop() {
		st, err := Run(context.Background(), s, Config{Ports: []uint16{srv.port()}, Pause: -1, Rate: -1, Timeouts: fastTimeouts}, observe.NewSet())
		if err != nil {
			b.Fatal(err)
		}
		conns = st.Connections
	}
	b.ReportMetric(float64(conns), "conns/scan")
}
