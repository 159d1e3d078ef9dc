package tlswire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// testPKI is a CA with an RSA and an ECDSA server leaf and a client leaf.
type testPKI struct {
	caDER             []byte
	caSubject         string
	rsaLeaf, ecLeaf   tls.Certificate
	clientLeaf        tls.Certificate
	pool              *x509.CertPool
	rsaChain, ecChain []observe.CertRef
	clientChain       []observe.CertRef
}

var (
	pkiOnce sync.Once
	pki     testPKI
)

func getPKI(tb testing.TB) *testPKI {
	pkiOnce.Do(func() {
		caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		now := time.Now()
		caTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "medscan test CA", Organization: []string{"medscan"}},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign,
		}
		pki.caDER, err = x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		ca, _ := x509.ParseCertificate(pki.caDER)
		pki.caSubject = ca.Subject.ToRDNSequence().String()
		pki.pool = x509.NewCertPool()
		pki.pool.AddCert(ca)
		leaf := func(serial int64, pub, priv any) (tls.Certificate, []observe.CertRef) {
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "medscan.test"},
				DNSNames: []string{"medscan.test"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
			if err != nil {
				panic(err)
			}
			refs := []observe.CertRef{sha256.Sum256(der), sha256.Sum256(pki.caDER)}
			return tls.Certificate{Certificate: [][]byte{der, pki.caDER}, PrivateKey: priv}, refs
		}
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		clKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pki.rsaLeaf, pki.rsaChain = leaf(2, &rsaKey.PublicKey, rsaKey)
		pki.ecLeaf, pki.ecChain = leaf(3, &ecKey.PublicKey, ecKey)
		pki.clientLeaf, pki.clientChain = leaf(4, &clKey.PublicKey, clKey)
	})
	return &pki
}

// transcript records what each side wrote, in the order it wrote it.
type transcript struct {
	mu     sync.Mutex
	events []event
}

type recConn struct {
	net.Conn
	dir dissect.Direction
	tr  *transcript
}

func (c *recConn) Write(b []byte) (int, error) {
	c.tr.mu.Lock()
	c.tr.events = append(c.tr.events, event{dir: c.dir, data: append([]byte{}, b...), t: time.Unix(1700000000, 0)})
	c.tr.mu.Unlock()
	return c.Conn.Write(b)
}

// handshake runs one real TLS connection over loopback TCP, exchanges a ping and a pong
// (so that TLS 1.3 tickets reach the client), and returns the recorded bytes. Loopback
// rather than net.Pipe: an unbuffered pipe deadlocks when the TLS 1.3 server writes its
// tickets while the client writes its first data.
func handshake(tb testing.TB, server, client *tls.Config) []event {
	tb.Helper()
	tr := &transcript{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Skipf("no loopback TCP: %v", err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	cc := tls.Client(&recConn{Conn: c, dir: dissect.ClientToServer, tr: tr}, client)
	sc := tls.Server(&recConn{Conn: s, dir: dissect.ServerToClient, tr: tr}, server)
	errc := make(chan error, 1)
	go func() {
		defer sc.Close()
		buf := make([]byte, 4)
		if _, err := io.ReadFull(sc, buf); err != nil {
			errc <- err
			return
		}
		_, err := sc.Write([]byte("pong"))
		errc <- err
	}()
	if _, err := cc.Write([]byte("ping")); err != nil {
		tb.Fatalf("client: %v", err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(cc, buf); err != nil {
		tb.Fatalf("client read: %v", err)
	}
	if err := <-errc; err != nil {
		tb.Fatalf("server: %v", err)
	}
	cc.Close()
	return tr.events
}

// feed runs a transcript through a new stream with the given chunking and returns what
// was emitted.
func feed(tb testing.TB, events []event, chunk func(n int) int) (*recorder, dissect.Stream) {
	tb.Helper()
	rec := newRecorder()
	flow := observe.Flow{Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:443")}
	st := New(rec.context(flow))
	t := time.Unix(1700000000, 0)
	for _, e := range events {
		for b := e.data; len(b) > 0; {
			n := len(b)
			if chunk != nil {
				n = min(max(chunk(len(b)), 1), len(b))
			}
			st.Data(e.dir, b[:n], t)
			b = b[n:]
		}
	}
	st.End(t)
	if len(rec.sessions) > 1 {
		tb.Fatalf("%d sessions emitted for one flow", len(rec.sessions))
	}
	return rec, st
}

func refsOf(chain [][]byte) []observe.CertRef {
	var out []observe.CertRef
	for _, d := range chain {
		out = append(out, sha256.Sum256(d))
	}
	return out
}

func TestRealHandshakes(t *testing.T) {
	p := getPKI(t)
	serverCfg := func(cert tls.Certificate) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"hl7", "h2"}}
	}
	clientCfg := func(max uint16) *tls.Config {
		return &tls.Config{RootCAs: p.pool, ServerName: "medscan.test", MaxVersion: max, NextProtos: []string{"h2", "hl7"}}
	}
	withClientAuth := func(c *tls.Config) *tls.Config {
		c.ClientAuth = tls.RequireAnyClientCert
		c.ClientCAs = p.pool
		return c
	}
	withClientCert := func(c *tls.Config) *tls.Config {
		c.Certificates = []tls.Certificate{p.clientLeaf}
		return c
	}
	tests := []struct {
		name       string
		server     *tls.Config
		client     *tls.Config
		version    uint16
		chain      []observe.CertRef
		clientCh   []observe.CertRef
		certReq    bool
		encrypted  bool
		wantSuite  uint16
		wantCurve  uint16
		doneBefore bool // Done() before End: the handshake finished in the transcript
	}{
		{name: "tls12-rsa", server: serverCfg(p.rsaLeaf), client: clientCfg(tls.VersionTLS12),
			version: tls.VersionTLS12, chain: p.rsaChain, doneBefore: true},
		{name: "tls12-ecdsa", server: serverCfg(p.ecLeaf), client: clientCfg(tls.VersionTLS12),
			version: tls.VersionTLS12, chain: p.ecChain, doneBefore: true},
		{name: "tls12-rsa-kex", server: func() *tls.Config {
			c := serverCfg(p.rsaLeaf)
			c.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
			return c
		}(),
			client: func() *tls.Config {
				c := clientCfg(tls.VersionTLS12)
				c.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
				return c
			}(),
			version: tls.VersionTLS12, chain: p.rsaChain, wantSuite: tls.TLS_RSA_WITH_AES_128_GCM_SHA256, doneBefore: true},
		{name: "tls12-ecdsa-client-auth", server: withClientAuth(serverCfg(p.ecLeaf)), client: withClientCert(clientCfg(tls.VersionTLS12)),
			version: tls.VersionTLS12, chain: p.ecChain, clientCh: p.clientChain, certReq: true, doneBefore: true},
		{name: "tls12-rsa-client-auth-no-cert", server: func() *tls.Config {
			c := serverCfg(p.rsaLeaf)
			c.ClientAuth = tls.RequestClientCert
			return c
		}(), client: clientCfg(tls.VersionTLS12), version: tls.VersionTLS12, chain: p.rsaChain, certReq: true, doneBefore: true},
		{name: "tls13", server: serverCfg(p.ecLeaf), client: clientCfg(tls.VersionTLS13),
			version: tls.VersionTLS13, encrypted: true, doneBefore: true},
		{name: "tls13-hello-retry", server: func() *tls.Config {
			c := serverCfg(p.ecLeaf)
			c.CurvePreferences = []tls.CurveID{tls.CurveP256}
			return c
		}(), client: func() *tls.Config {
			c := clientCfg(tls.VersionTLS13)
			c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
			return c
		}(), version: tls.VersionTLS13, encrypted: true, wantCurve: uint16(tls.CurveP256), doneBefore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := handshake(t, tt.server, tt.client)
			rec, _ := feed(t, events, nil)
			if len(rec.sessions) != 1 {
				t.Fatalf("got %d sessions, want 1", len(rec.sessions))
			}
			s := rec.sessions[0]
			if s.Version != tt.version || !s.SawClientHello || !s.SawServerHello {
				t.Errorf("version %s, hellos %v/%v", observe.VersionName(s.Version), s.SawClientHello, s.SawServerHello)
			}
			if tt.wantSuite != 0 && s.Suite != tt.wantSuite {
				t.Errorf("suite %s, want %s", observe.SuiteName(s.Suite), observe.SuiteName(tt.wantSuite))
			}
			if tt.wantCurve != 0 && s.ECDHCurve != tt.wantCurve {
				t.Errorf("curve %s, want %s", observe.GroupName(s.ECDHCurve), observe.GroupName(tt.wantCurve))
			}
			if s.ECDHCurve == 0 && tt.wantSuite == 0 {
				t.Errorf("no key exchange group seen")
			}
			// Go's server prefers its own order; in TLS 1.3 the choice travels encrypted.
			wantALPN := "hl7"
			if tt.version == tls.VersionTLS13 {
				wantALPN = ""
			}
			if s.SNI != "medscan.test" || s.ALPNSelected != wantALPN || !reflect.DeepEqual(s.ALPN, []string{"h2", "hl7"}) {
				t.Errorf("SNI %q, ALPN %v selected %q", s.SNI, s.ALPN, s.ALPNSelected)
			}
			if s.CertsEncrypted != tt.encrypted || s.Resumed {
				t.Errorf("encrypted %v resumed %v", s.CertsEncrypted, s.Resumed)
			}
			if got := refsOf(rec.server[0]); !reflect.DeepEqual(got, tt.chain) {
				t.Errorf("server chain %v, want %v", got, tt.chain)
			}
			if got := refsOf(rec.client[0]); !reflect.DeepEqual(got, tt.clientCh) {
				t.Errorf("client chain %v, want %v", got, tt.clientCh)
			}
			if s.CertRequest != tt.certReq {
				t.Errorf("CertRequest %v", s.CertRequest)
			}
			if tt.name == "tls12-ecdsa-client-auth" && !reflect.DeepEqual(s.CertRequestCAs, []string{p.caSubject}) {
				t.Errorf("CAs %q, want %q", s.CertRequestCAs, p.caSubject)
			}
			if s.JA3 == "" || len(s.JA4) != len("t13d1516h2_8daaf6152771_e5627efa2ab1") {
				t.Errorf("fingerprints JA3 %q JA4 %q", s.JA3, s.JA4)
			}
			if len(rec.counters) != 0 {
				t.Errorf("counters on a clean handshake: %v", rec.counters)
			}

			// The same bytes split anywhere must give the same session.
			_, done := feedUntilDone(events)
			if done != tt.doneBefore {
				t.Errorf("Done before End = %v, want %v", done, tt.doneBefore)
			}
			checkSplits(t, events, rec)
		})
	}
}

// feedUntilDone reports whether Done became true while the transcript was fed in order.
func feedUntilDone(events []event) (*recorder, bool) {
	rec := newRecorder()
	st := New(rec.context(observe.Flow{}))
	for _, e := range events {
		st.Data(e.dir, e.data, e.t)
		if st.Done() {
			return rec, len(rec.sessions) == 1
		}
	}
	return rec, false
}

// checkSplits feeds the transcript cut at every byte offset of every event, and in random
// small chunks, and compares each result with the unsplit one.
func checkSplits(t *testing.T, events []event, want *recorder) {
	t.Helper()
	for i, e := range events {
		for cut := 1; cut < len(e.data); cut++ {
			split := make([]event, 0, len(events)+1)
			split = append(split, events[:i]...)
			split = append(split, event{dir: e.dir, data: e.data[:cut], t: e.t}, event{dir: e.dir, data: e.data[cut:], t: e.t})
			split = append(split, events[i+1:]...)
			got, _ := feed(t, split, nil)
			if !sameResult(got, want) {
				t.Fatalf("event %d cut at %d: session differs", i, cut)
			}
		}
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		got, _ := feed(t, events, func(int) int { return 1 + rng.IntN(7) })
		if !sameResult(got, want) {
			t.Fatalf("random chunks, round %d: session differs", round)
		}
	}
}

func sameResult(a, b *recorder) bool {
	return reflect.DeepEqual(a.sessions, b.sessions) && reflect.DeepEqual(a.server, b.server) &&
		reflect.DeepEqual(a.client, b.client)
}

func TestResumption(t *testing.T) {
	p := getPKI(t)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(observe.VersionName(version), func(t *testing.T) {
			server := &tls.Config{Certificates: []tls.Certificate{p.ecLeaf}}
			client := &tls.Config{RootCAs: p.pool, ServerName: "medscan.test", MaxVersion: version,
				ClientSessionCache: tls.NewLRUClientSessionCache(4)}
			first, _ := feed(t, handshake(t, server, client), nil)
			events := handshake(t, server, client)
			second, _ := feed(t, events, nil)
			if len(first.sessions) != 1 || len(second.sessions) != 1 {
				t.Fatalf("sessions %d, %d", len(first.sessions), len(second.sessions))
			}
			if first.sessions[0].Resumed {
				t.Errorf("first handshake reported resumed")
			}
			s := second.sessions[0]
			if !s.Resumed || s.Version != version {
				t.Errorf("second handshake: resumed %v version %s", s.Resumed, observe.VersionName(s.Version))
			}
			if len(second.server[0]) != 0 {
				t.Errorf("a resumed handshake carries no certificate, got %d", len(second.server[0]))
			}
			checkSplits(t, events, second)
		})
	}
}

// TestServerSideOnly checks a capture that holds only the server's bytes: the session
// must still carry the version, suite and chain.
func TestServerSideOnly(t *testing.T) {
	p := getPKI(t)
	events := handshake(t, &tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}},
		&tls.Config{RootCAs: p.pool, ServerName: "medscan.test", MaxVersion: tls.VersionTLS12})
	var server []event
	for _, e := range events {
		if e.dir == dissect.ServerToClient {
			server = append(server, e)
		}
	}
	rec, _ := feed(t, server, nil)
	if len(rec.sessions) != 1 {
		t.Fatalf("%d sessions", len(rec.sessions))
	}
	s := rec.sessions[0]
	if s.SawClientHello || !s.SawServerHello || s.Version != tls.VersionTLS12 || s.Suite == 0 {
		t.Errorf("session %+v", s)
	}
	if !reflect.DeepEqual(refsOf(rec.server[0]), p.rsaChain) {
		t.Errorf("chain missing")
	}
}

// TestGapBeforeCertificate gives up the server direction at a gap and still reports the
// hello at End.
func TestGapBeforeCertificate(t *testing.T) {
	p := getPKI(t)
	events := handshake(t, &tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}},
		&tls.Config{RootCAs: p.pool, ServerName: "medscan.test", MaxVersion: tls.VersionTLS12})
	rec := newRecorder()
	st := New(rec.context(observe.Flow{}))
	now := time.Unix(1700000000, 0)
	st.Data(events[0].dir, events[0].data, now) // ClientHello
	sh := events[1].data
	st.Data(dissect.ServerToClient, sh[:100], now) // part of the ServerHello
	st.Gap(dissect.ServerToClient, 500)
	st.Data(dissect.ServerToClient, sh[600:], now) // ignored: the direction is lost
	if len(rec.sessions) != 0 {
		t.Fatalf("emitted before End while the client direction is still open")
	}
	st.End(now)
	if len(rec.sessions) != 1 || !rec.sessions[0].SawClientHello || len(rec.server[0]) != 0 {
		t.Fatalf("sessions %+v", rec.sessions)
	}
	if rec.counters["tls_gaps"] != 1 {
		t.Errorf("counters %v", rec.counters)
	}
	if !st.Done() {
		t.Errorf("Done false after End")
	}
	st.End(now)
	if len(rec.sessions) != 1 {
		t.Errorf("second End emitted again")
	}
}
