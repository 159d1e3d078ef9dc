package httpwire

import (
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
)

// FuzzStream feeds arbitrary client and server bytes, split at an arbitrary point, with an
// optional gap, and checks the dissector neither panics nor emits unbounded fields. (Secret
// leaks are asserted by the table tests: a mutated input may legitimately move a planted
// secret into a path, where it is no longer a secret.)
func FuzzStream(f *testing.F) {
	for _, tc := range httpCases {
		if len(tc.client)+len(tc.server) > 4096 {
			continue // large seeds make minimisation crawl; the table test covers them
		}
		f.Add([]byte(tc.client), []byte(tc.server), uint16(7), uint16(0))
	}
	// Firmware downloads: length-delimited, chunked, and read until close.
	fw := string(withPrefix("\x7fELF\x01\x01\x01", 1500))
	f.Add([]byte("GET /firmware/pump-v2.3.bin HTTP/1.1\r\nHost: updates\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1500\r\n\r\n"+fw), uint16(300), uint16(0))
	f.Add([]byte("GET /fw HTTP/1.1\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+chunked([]byte(fw), 500)), uint16(60), uint16(2))
	f.Add([]byte("GET /update.tar HTTP/1.0\r\n\r\n"), []byte("HTTP/1.0 200 OK\r\n\r\n"+string(tarBody(600))), uint16(20), uint16(0))
	// Request bodies read for credentials: a form login, and a chunked JSON body.
	f.Add([]byte(post("/login", "Content-Type: application/x-www-form-urlencoded\r\n", "user=n&password=Pl%40nted&x=1")),
		[]byte(ok200), uint16(90), uint16(0))
	f.Add([]byte("POST /api HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"+chunked([]byte(`{"a":{"pin":1234},"token":"t\u0021"}`), 5)),
		[]byte(ok200), uint16(70), uint16(0))
	for _, file := range []string{"zeek-http-basic-auth.pcap", "suricata-http-bearer.pcap", "ndpi-http-auth.pcap"} {
		if !corpustest.Present() {
			break
		}
		for _, st := range corpustest.TCPStreams(f, file) {
			f.Add(st.ClientBytes, st.ServerBytes, uint16(100), uint16(3))
		}
	}
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		feed := func(dir dissect.Direction, b []byte) {
			k := int(cut) % (len(b) + 1)
			d.Data(dir, b[:k], t0)
			if gap != 0 {
				d.Gap(dir, int(gap))
			}
			d.Data(dir, b[k:], t0)
		}
		feed(dissect.ClientToServer, client)
		feed(dissect.ServerToClient, server)
		d.Done()
		d.End(t0)
		for _, r := range h.Sink.HTTP {
			if len(r.HostHeader) > maxField || len(r.Path) > maxField || len(r.QueryKeys) > maxQueryKeys ||
				len(r.BodySecretKeys) > maxBodyKeys {
				t.Fatalf("unbounded field: %+v", r)
			}
			noImage := r.BodyKind == "" && (r.BodyBytes != 0 || r.BodyPartial || r.BodySHA256 != "")
			badDigest := r.BodySHA256 != "" && (len(r.BodySHA256) != 64 || r.BodyPartial)
			if r.BodyBytes < 0 || r.BodyBytes > int64(len(server)) || noImage || badDigest {
				t.Fatalf("inconsistent body facts: %+v", r)
			}
		}
		for _, c := range h.Sink.Credentials {
			if len(c.Preview) > 32 || len(c.Hash) != 32 || len(c.User) > maxField || len(c.Where) > maxField {
				t.Fatalf("credential not hidden or unbounded: %+v", c)
			}
		}
	})
}
