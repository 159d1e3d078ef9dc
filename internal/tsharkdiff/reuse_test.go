package tsharkdiff

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
)

// TestTupleReuseAgainstTshark captures what real clients do to a flow table: a client on
// a lower port than its server resets a TLS 1.2 connection and at once connects again
// from the same port (a new SYN on the same four-tuple) for a TLS 1.3 session. medscan
// must see both sessions on the server's side, as tshark does, in the whole capture and
// in the same capture without its first handshake (as if it started mid-stream, where
// only the ClientHello tells the sides apart).
func TestTupleReuseAgainstTshark(t *testing.T) {
	tshark := requireTshark(t)
	openssl := requireTool(t, "openssl", "OpenSSL's command-line tool; Debian/Ubuntu package openssl")
	m := newMaterial(t)
	m.make(t, openssl)

	port := testproc.FreePort(t, "tcp4", "127.0.0.1")
	clientPort := lowerFreePort(t, port)
	hp := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	file := startCapture(t, port, false)
	srv := testproc.StartHoldingStdin(t, openssl, "s_server", "-accept", hp, "-naccept", "2",
		"-cert", filepath.Join(m.dir, "rsa2048.crt"), "-key", filepath.Join(m.dir, "rsa2048.key"))
	srv.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)

	for i, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		if err := handshakeFrom(clientPort, hp, version, i == 0); err != nil {
			t.Fatalf("connection %d from port %d: %v\nserver: %s", i+1, clientPort, err, srv.Output())
		}
	}
	srv.WaitExit(5 * time.Second)
	file.stop(t)

	ts := runTshark(t, tshark, file.path, true)
	for _, v := range []string{"TLSv1.2", "TLSv1.3"} {
		if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool { return h.Version == v && h.Port == port }) {
			t.Fatalf("tshark saw no %s handshake on %s: %+v\nserver: %s", v, hp, ts.Handshakes, srv.Output())
		}
	}
	ms := diffLive(t, file.path, ts)
	for _, v := range []string{"TLSv1.2", "TLSv1.3"} {
		if !slices.ContainsFunc(ms.TLSSessions, func(s msSession) bool { return s.Version == v && s.Port == port }) {
			t.Errorf("medscan has no %s session on port %d: %s", v, port, sessionsOn(ms, "127.0.0.1", port))
		}
	}

	// The same capture from its fourth packet on: the first connection's handshake is
	// gone, so the flow starts with the client's first bytes on the lower port.
	mid := filepath.Join(t.TempDir(), "midstream.pcap")
	if err := dropPackets(file.path, mid, 3); err != nil {
		t.Fatal(err)
	}
	ts = runTshark(t, tshark, mid, true)
	ms = diffLive(t, mid, ts)
	if slices.ContainsFunc(ms.TLSSessions, func(s msSession) bool { return s.Port == clientPort }) {
		t.Errorf("medscan took the client's port %d for a server: %s", clientPort, sessionsOn(ms, "127.0.0.1", clientPort))
	}
	if !slices.ContainsFunc(ms.TLSSessions, func(s msSession) bool { return s.Version == "TLSv1.3" && s.Port == port }) {
		t.Errorf("medscan has no TLSv1.3 session on port %d in the mid-stream capture: %s", port, sessionsOn(ms, "127.0.0.1", port))
	}
}

// lowerFreePort finds a port below limit that 127.0.0.1 can bind now.
func lowerFreePort(t *testing.T, limit int) int {
	t.Helper()
	start := 20000 + int(time.Now().UnixNano()%5000)
	for p := start; p < start+2000 && p < limit; p++ {
		ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			ln.Close()
			return p
		}
	}
	t.Skipf("no free port below %d", limit)
	return 0
}

// handshakeFrom completes one TLS handshake from local port lport to addr. reset ends
// the connection with a RST (linger 0) instead of FINs, so the port can be bound again
// at once and the next SYN reuses the four-tuple.
func handshakeFrom(lport int, addr string, version uint16, reset bool) error {
	d := net.Dialer{
		Timeout:   5 * time.Second,
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: lport},
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
			})
			return errors.Join(err, serr)
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := d.DialContext(ctx, "tcp4", addr)
	if err != nil {
		return err
	}
	conn := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, ServerName: "name.example",
		MinVersion: version, MaxVersion: version})
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return err
	}
	if reset {
		raw.(*net.TCPConn).SetLinger(0)
		return raw.Close()
	}
	return conn.Close()
}

// dropPackets copies the classic pcap file src to dst without its first n packets.
func dropPackets(src, dst string, n int) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if len(b) < 24 {
		return fmt.Errorf("%s: too short for a pcap file", src)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint32(b) == 0xa1b2c3d4 || binary.BigEndian.Uint32(b) == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	off := 24
	for i := 0; i < n; i++ {
		if off+16 > len(b) {
			return fmt.Errorf("%s: fewer than %d packets", src, n)
		}
		off += 16 + int(bo.Uint32(b[off+8:]))
	}
	if off > len(b) {
		return fmt.Errorf("%s: packet %d runs past the end", src, n)
	}
	return os.WriteFile(dst, append(append([]byte{}, b[:24]...), b[off:]...), 0o600)
}
