package probe

import (
	"crypto/rand"
	"net"
	"slices"
	"testing"

	"github.com/medscan/medscan/observe"
)

// legacyServer is a minimal hand-written server of one version (SSLv3 in the main,
// the kind of stack crypto/tls and zcrypto no longer talk to) that also speaks SSLv2:
// an SSLv2 CLIENT-HELLO gets a SERVER-HELLO listing the kinds it shares; a TLS-style
// hello of its version or above gets a ServerHello of its version, Certificate and
// ServerHelloDone with the first suite of its own order that the client offered; a
// lower version gets protocol_version, and no common suite handshake_failure.
type legacyServer struct {
	version uint16
	cert    []byte
	kinds   []uint32
	suites  []uint16 // server's order
}

func (s legacyServer) handle(c net.Conn) {
	buf := make([]byte, 0, 4096)
	for len(buf) < 2 || (buf[0]&0x80 != 0 && len(buf) < 2+int(buf[0]&0x7f)<<8|int(buf[1])) ||
		(buf[0]&0x80 == 0 && (len(buf) < 5 || len(buf) < 5+int(buf[3])<<8|int(buf[4]))) {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil || len(buf) == cap(buf) {
			return
		}
	}
	if buf[0]&0x80 != 0 {
		s.sslv2(c, buf[2:])
		return
	}
	alert := []byte{21, 3, 0, 0, 2, 2, 40}
	b := buf[5:]
	if buf[0] != 22 || len(b) < 4+2+32+1 || b[0] != 1 {
		_, _ = c.Write(alert)
		return
	}
	b = b[4:]
	if uint16(b[0])<<8|uint16(b[1]) < s.version {
		_, _ = c.Write([]byte{21, 3, 0, 0, 2, 2, 70})
		return
	}
	b = b[34:]
	if len(b) < 1+int(b[0])+2 {
		return
	}
	b = b[1+int(b[0]):]
	n := int(b[0])<<8 | int(b[1])
	if len(b) < 2+n {
		return
	}
	var offered []uint16
	for i := 2; i+1 < 2+n; i += 2 {
		offered = append(offered, uint16(b[i])<<8|uint16(b[i+1]))
	}
	var suite uint16
	for _, x := range s.suites {
		if slices.Contains(offered, x) {
			suite = x
			break
		}
	}
	if suite == 0 {
		_, _ = c.Write(alert)
		return
	}
	var hs []byte
	sh := []byte{byte(s.version >> 8), byte(s.version)}
	random := make([]byte, 32)
	_, _ = rand.Read(random)
	sh = append(sh, random...)
	sh = append(sh, 0, byte(suite>>8), byte(suite), 0)
	hs = appendHS(hs, 2, sh)
	l := len(s.cert)
	cert := []byte{byte((l + 3) >> 16), byte((l + 3) >> 8), byte(l + 3), byte(l >> 16), byte(l >> 8), byte(l)}
	hs = appendHS(hs, 11, append(cert, s.cert...))
	hs = appendHS(hs, 14, nil)
	_, _ = c.Write(append([]byte{22, 3, byte(s.version), byte(len(hs) >> 8), byte(len(hs))}, hs...))
}

func appendHS(b []byte, typ byte, body []byte) []byte {
	b = append(b, typ, byte(len(body)>>16), byte(len(body)>>8), byte(len(body)))
	return append(b, body...)
}

func (s legacyServer) sslv2(c net.Conn, b []byte) {
	if len(b) < 9 || b[0] != 1 {
		return
	}
	specLen := int(b[3])<<8 | int(b[4])
	if len(b) < 9+specLen {
		return
	}
	var shared []byte
	for i := 9; i+3 <= 9+specLen; i += 3 {
		k := uint32(b[i])<<16 | uint32(b[i+1])<<8 | uint32(b[i+2])
		if slices.Contains(s.kinds, k) {
			shared = append(shared, b[i], b[i+1], b[i+2])
		}
	}
	body := []byte{4, 0, 1, 0, 2}
	body = appendU16(body, uint16(len(s.cert)))
	body = appendU16(body, uint16(len(shared)))
	body = appendU16(body, 16)
	body = append(body, s.cert...)
	body = append(body, shared...)
	body = append(body, make([]byte, 16)...)
	_, _ = c.Write(append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...))
}

// TestEnumerateLegacy proves the SSLv2 and SSLv3 paths against a server only they
// reach: both versions, the SSLv2 kinds from one exchange, the SSLv3 suites in the
// server's order, and a handshake for each, chain included.
func TestEnumerateLegacy(t *testing.T) {
	der := tlsCerts().rsa.Certificate[0]
	srv := tlsServe(t, legacyServer{version: 0x0300, cert: der, kinds: []uint32{0x0700c0, 0x010080}, suites: []uint16{0x000a, 0x0005}}.handle)
	r, dials := tlsEnumerate(t, srv, ProfileStandard)
	if r.Outcome != observe.ProbeTLS || r.Connections != dials {
		t.Fatalf("outcome %s (%v), connections %d dialed %d", r.Outcome, r.Err, r.Connections, dials)
	}
	if !slices.Equal(r.Profile.Versions, []uint16{0x0002, 0x0300}) {
		t.Errorf("versions %x", r.Profile.Versions)
	}
	if got := tlsSorted(tlsSuitesOf(r, 0x0002)); !slices.Equal(got, []uint32{0x010080, 0x0700c0}) {
		t.Errorf("SSLv2 kinds %x", got)
	}
	for _, vs := range r.Profile.Suites {
		if vs.Version == 0x0300 && (!slices.Equal(vs.Suites, []uint32{0x000a, 0x0005}) || !vs.ServerPreference) {
			t.Errorf("SSLv3 suites %x preference %v", vs.Suites, vs.ServerPreference)
		}
	}
	if len(r.Handshakes) != 4 {
		t.Fatalf("%d handshakes, want 4", len(r.Handshakes))
	}
	for _, h := range r.Handshakes {
		s := h.Session
		if len(h.ServerChain) != 1 || s.Source != observe.SourceActive || (s.Version == 0x0002) != (s.SSLv2Cipher != 0) {
			t.Errorf("handshake %+v chain %d", s, len(h.ServerChain))
		}
	}
	t.Logf("%d connections", r.Connections)
}

// TestSSLv2ServerKinds checks the SERVER-HELLO reader on a well-formed record and on
// truncations of it.
func TestSSLv2ServerKinds(t *testing.T) {
	body := []byte{4, 0, 1, 0, 2, 0, 2, 0, 6, 0, 1, 0xaa, 0xbb, 1, 0, 0x80, 7, 0, 0xc0, 9}
	kinds, ok := sslv2ServerKinds(body)
	if !ok || !slices.Equal(kinds, []uint32{0x010080, 0x0700c0}) {
		t.Errorf("kinds %x ok %v", kinds, ok)
	}
	for n := range len(body) - 1 {
		if _, ok := sslv2ServerKinds(body[:n]); ok {
			t.Errorf("truncated to %d bytes: accepted", n)
		}
	}
}

// TestServerOrderBeyondFirstOffer checks that a suite found only after the first offer
// (a SEED suite, offered late) still takes its place in the server's order.
func TestServerOrderBeyondFirstOffer(t *testing.T) {
	der := tlsCerts().rsa.Certificate[0]
	order := []uint16{0x0096, 0x009c, 0x002f}
	if slices.Contains(suitesFor(versionTLS12)[:maxHelloSuites], 0x0096) {
		t.Fatal("the SEED suite is in the first offer; pick a later one")
	}
	srv := tlsServe(t, legacyServer{version: 0x0303, cert: der, suites: order}.handle)
	r, _ := tlsEnumerate(t, srv, ProfileStandard)
	if !slices.Equal(r.Profile.Versions, []uint16{0x0303}) || len(r.Profile.Suites) != 1 {
		t.Fatalf("versions %x suites %v (%s %v)", r.Profile.Versions, r.Profile.Suites, r.Outcome, r.Err)
	}
	if vs := r.Profile.Suites[0]; !vs.ServerPreference || !slices.Equal(vs.Suites, tlsU32s(order...)) {
		t.Errorf("suites %x preference %v, want %x", vs.Suites, vs.ServerPreference, order)
	}
	t.Logf("%d connections", r.Connections)
}
