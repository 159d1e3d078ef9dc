package probe

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/tlswire"
	"github.com/medscan/medscan/observe"
)

// parseClientHello reads a hand-built hello back with the passive dissector, the
// independent check that it is well formed.
func parseClientHello(t *testing.T, b []byte) observe.TLSSession {
	t.Helper()
	var sink sessionSink
	st := tlswire.New(&dissect.Context{Sink: &sink})
	st.Data(dissect.ClientToServer, b, time.Now())
	st.End(time.Now())
	if !sink.got || !sink.sess.SawClientHello {
		t.Fatalf("hello % x did not parse", b)
	}
	return sink.sess
}

// TestHelloShape checks every kind of hand-built hello at its largest: one record well
// under 512 bytes, and saying exactly what it was built to say.
func TestHelloShape(t *testing.T) {
	name := strings.Repeat("a", 40) + ".radiology.example.org"
	for _, v := range []uint16{versionSSL3, versionTLS10, versionTLS11, versionTLS12, versionTLS13} {
		all := suitesFor(v)
		hs := []hello{{version: v, suites: all[:min(len(all), maxHelloSuites)], sni: name}}
		switch v {
		case versionTLS13:
			hs[0].groups, hs[0].keyShare = helloGroups13, true
			hs = append(hs, hello{version: v, suites: all, groups: allGroups13, sni: name})
		case versionSSL3:
		default:
			hs[0].groups = helloGroups12
			hs = append(hs, hello{version: v, suites: all[:maxHelloSuites], groups: allGroups12, sni: name, deflate: true, statusRequest: true})
		}
		for _, h := range hs {
			b := h.build()
			if len(b) >= 512 || int(b[3])<<8|int(b[4]) != len(b)-5 {
				t.Errorf("%s hello of %d bytes", observe.VersionName(v), len(b))
			}
			s := parseClientHello(t, b)
			wantVersions := []uint16{v}
			if v == versionTLS13 {
				wantVersions = []uint16{versionTLS13}
			}
			if !slices.Equal(s.OfferedSuites, h.suites) || !slices.Equal(s.OfferedVersions, wantVersions) ||
				!slices.Equal(s.OfferedGroups, h.groups) {
				t.Errorf("%s hello reads back as suites %x versions %x groups %v", observe.VersionName(v), s.OfferedSuites, s.OfferedVersions, s.OfferedGroups)
			}
			if wantSNI := name; v != versionSSL3 && s.SNI != wantSNI || v == versionSSL3 && s.SNI != "" {
				t.Errorf("%s hello SNI %q", observe.VersionName(v), s.SNI)
			}
		}
	}
	if s := parseClientHello(t, sslv2Hello()); !s.SSLv2Hello || s.ClientVersion != versionSSL2 {
		t.Errorf("SSLv2 hello reads back as %+v", s)
	}
	if s := parseClientHello(t, hello{version: versionTLS12, suites: []uint16{0x002f}, sni: "10.0.0.1"}.build()); s.SNI != "" {
		t.Errorf("an address was sent as SNI %q", s.SNI)
	}
}

// TestRegistryCoverage checks that enumeration offers the whole registry: every
// assigned suite is offered at some version, and none at a version it cannot work in.
func TestRegistryCoverage(t *testing.T) {
	offered := map[uint16]bool{}
	for _, v := range []uint16{versionTLS13, versionTLS12, versionTLS10} {
		for _, s := range suitesFor(v) {
			info, _ := observe.Suite(s)
			if (v == versionTLS13) != (info.KeyExchange == "TLS13") {
				t.Errorf("%s offered at %s", info.Name, observe.VersionName(v))
			}
			if v == versionTLS10 && (info.Cipher == "AESGCM" || info.Cipher == "CHACHA20" || info.MAC == "SHA256") {
				t.Errorf("TLS 1.2 suite %s offered at TLS 1.0", info.Name)
			}
			offered[s] = true
		}
	}
	for id := 1; id <= 0xffff; id++ {
		if _, ok := observe.Suite(uint16(id)); ok && !offered[uint16(id)] && id != 0x00ff && id != 0x5600 {
			t.Errorf("suite %s never offered", observe.SuiteName(uint16(id)))
		}
	}
}

// writeLog wraps connections to record, per connection, how many writes came before the
// first read and how large the first was.
type writeLog struct {
	tlsLoopDialer
	mu     sync.Mutex
	before []int
	size   []int
}

type loggedConn struct {
	net.Conn
	l    *writeLog
	i    int
	read bool
}

func (d *writeLog) Dial(ctx context.Context, port uint16) (net.Conn, error) {
	c, err := d.tlsLoopDialer.Dial(ctx, port)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.before = append(d.before, 0)
	d.size = append(d.size, 0)
	return &loggedConn{Conn: c, l: d, i: len(d.before) - 1}, nil
}

func (c *loggedConn) Write(b []byte) (int, error) {
	c.l.mu.Lock()
	if !c.read {
		if c.l.before[c.i] == 0 {
			c.l.size[c.i] = len(b)
		}
		c.l.before[c.i]++
	}
	c.l.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *loggedConn) Read(b []byte) (int, error) {
	c.read = true
	return c.Conn.Read(b)
}

// TestOneSegmentHellos checks that every connection of a thorough enumeration, full
// handshakes included, sends its ClientHello in one write of under 512 bytes.
func TestOneSegmentHellos(t *testing.T) {
	certs := tlsCerts()
	srv := tlsServeGo(t, &tls.Config{Certificates: []tls.Certificate{certs.rsa, certs.ecdsa}, MinVersion: tls.VersionTLS10})
	var d writeLog
	r := EnumerateTLS(context.Background(), &d, TLSTarget{Server: srv, Name: "pacs.example.test"}, ProfileThorough, tlsFastTimeouts)
	if r.Outcome != observe.ProbeTLS {
		t.Fatalf("outcome %s (%v)", r.Outcome, r.Err)
	}
	t.Logf("first writes of %d connections, bytes: %v", len(d.size), d.size)
	for i := range d.before {
		if d.before[i] != 1 || d.size[i] >= 512 {
			t.Errorf("connection %d: %d writes before the server spoke, first of %d bytes", i, d.before[i], d.size[i])
		}
	}
}
