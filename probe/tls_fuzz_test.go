package probe

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// pipeDialer answers every Dial with one end of a net.Pipe whose other end reads the
// ClientHello and writes reply back, then closes: a fake server for fuzzing every
// parser of server bytes without a socket.
type pipeDialer struct {
	reply []byte
	wg    sync.WaitGroup
	n     int
}

func (d *pipeDialer) Dial(ctx context.Context, port uint16) (net.Conn, error) {
	d.n++
	c, s := net.Pipe()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(2 * time.Second))
		var b [4096]byte
		if _, err := s.Read(b[:]); err != nil {
			return
		}
		_, _ = s.Write(d.reply)
	}()
	return c, nil
}

// serverFlightSeeds are first flights that exercise each parser: TLS 1.2 and 1.3
// ServerHellos, a HelloRetryRequest, an SSLv2 SERVER-HELLO, alerts and non-TLS replies.
func serverFlightSeeds() [][]byte {
	sh := func(version, suite uint16, exts []byte, random []byte) []byte {
		b := []byte{byte(min(version, 0x0303) >> 8), byte(min(version, 0x0303))}
		if random == nil {
			random = make([]byte, 32)
		}
		b = append(b, random...)
		b = append(b, 0, byte(suite>>8), byte(suite), 0)
		b = appendU16(b, uint16(len(exts)))
		return appendHS(nil, 2, append(b, exts...))
	}
	rec := func(typ byte, body []byte) []byte {
		return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
	}
	der := tlsCerts().ecdsa.Certificate[0]
	l := len(der)
	certMsg := appendHS(nil, 11, append([]byte{0, byte((l + 3) >> 8), byte(l + 3), 0, byte(l >> 8), byte(l)}, der...))
	ske := appendHS(nil, 12, []byte{3, 0, 23, 1, 4})
	cr := appendHS(nil, 13, []byte{1, 64, 0, 2, 4, 3, 0, 0})
	v13 := []byte{0, 43, 0, 2, 3, 4, 0, 51, 0, 2, 0, 29}
	flight12 := append(append(append(append(sh(0x0303, 0xc02b, []byte{0xff, 1, 0, 1, 0}, nil), certMsg...), ske...), cr...), appendHS(nil, 14, nil)...)
	return [][]byte{
		rec(22, flight12),
		rec(22, sh(0x0304, 0x1301, v13, nil)),
		rec(22, sh(0x0304, 0x1302, v13, hrrRandom[:])),
		append([]byte{0x80, 0x14}, []byte{4, 0, 1, 0, 2, 0, 2, 0, 3, 0, 1, 0xaa, 0xbb, 1, 0, 0x80, 9}...),
		rec(21, []byte{2, 70}),
		rec(21, []byte{2, 86}),
		[]byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
		{0x07, 0, 0, 0, 0, 4, 0, 0, 2, 0},
		{22, 3},
	}
}

// FuzzParseFlight feeds parseFlight and the passive dissector arbitrary server bytes,
// whole and cut at every length a read could end at: no panic, and a flight never
// claims a hello it did not parse.
func FuzzParseFlight(f *testing.F) {
	for _, s := range serverFlightSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fl := parseFlight(b)
		if fl.notTLS && fl.hello {
			t.Errorf("flight both not TLS and a hello: %+v", fl)
		}
		if fl.hello && fl.version == 0 && len(fl.sslv2Kinds) == 0 {
			t.Errorf("hello without a version: %+v", fl)
		}
		_, _, _ = dissectServer(b, observe.Flow{}, time.Now())
		for n := range min(len(b), 64) {
			_ = parseFlight(b[:n])
		}
	})
}

// FuzzSSLv2ServerKinds checks that the SERVER-HELLO reader never panics and returns
// whole 3-byte kinds only.
func FuzzSSLv2ServerKinds(f *testing.F) {
	f.Add([]byte{4, 0, 1, 0, 2, 0, 2, 0, 6, 0, 1, 0xaa, 0xbb, 1, 0, 0x80, 7, 0, 0xc0, 9})
	f.Add([]byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		kinds, ok := sslv2ServerKinds(b)
		if ok && len(kinds)*3 > len(b) {
			t.Errorf("%d kinds from %d bytes", len(kinds), len(b))
		}
	})
}

// FuzzEnumerateTLS runs the thorough profile against a fake server that answers every
// ClientHello, full handshakes included, with the fuzz input: it must return, with a
// typed outcome and its connections counted, whatever the server says.
func FuzzEnumerateTLS(f *testing.F) {
	for _, s := range serverFlightSeeds() {
		f.Add(s)
	}
	valid := map[observe.ProbeOutcome]bool{
		observe.ProbeTLS: true, observe.ProbeTimeout: true, observe.ProbeReset: true, observe.ProbeNotTLS: true,
		observe.ProbeHandshakeFailure: true, observe.ProbeRefused: true,
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		d := &pipeDialer{reply: reply}
		r := EnumerateTLS(context.Background(), d, TLSTarget{Server: tlsFuzzTarget, Name: "pacs.example.test"}, ProfileThorough,
			Timeouts{Connect: 100 * time.Millisecond, Handshake: 100 * time.Millisecond})
		d.wg.Wait()
		if !valid[r.Outcome] || r.Connections != d.n || len(r.Reply) > maxReply {
			t.Errorf("outcome %q, connections %d (dialed %d), reply %d bytes", r.Outcome, r.Connections, d.n, len(r.Reply))
		}
		if (r.Outcome == observe.ProbeTLS) != (len(r.Handshakes) > 0) {
			t.Errorf("outcome %s with %d handshakes", r.Outcome, len(r.Handshakes))
		}
	})
}

var tlsFuzzTarget = tlsParseAddrPort("192.0.2.10:443")

// BenchmarkStandardProfile measures the standard profile against an in-process server
// configured as a typical modern one (TLS 1.2 and 1.3, crypto/tls defaults), reporting
// the connections each enumeration makes.
func BenchmarkStandardProfile(b *testing.B) {
	srv := tlsServeGo(b, &tls.Config{Certificates: []tls.Certificate{tlsCerts().rsa}, MinVersion: tls.VersionTLS12})
	conns := 0
	for b.Loop() {
		var d tlsLoopDialer
		r := EnumerateTLS(context.Background(), &d, TLSTarget{Server: srv, Name: "pacs.example.test"}, ProfileStandard, tlsFastTimeouts)
		if r.Outcome != observe.ProbeTLS {
			b.Fatalf("outcome %s (%v)", r.Outcome, r.Err)
		}
		conns += r.Connections
	}
	b.ReportMetric(float64(conns)/float64(b.N), "conns/op")
}

func tlsParseAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
