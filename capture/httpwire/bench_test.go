package httpwire

import (
	"strings"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
)

// BenchmarkKeepAlive measures header parsing: a keep-alive flow of typical device API
// requests and responses with small bodies, fed in 1460-byte segments.
func BenchmarkKeepAlive(b *testing.B) {
	req := "POST /api/v1/vitals?device=pump7&seq=1 HTTP/1.1\r\nHost: middleware.hosp.local:8080\r\n" +
		"User-Agent: InfusionPump/4.2\r\nContent-Type: application/json\r\nAccept: */*\r\nConnection: keep-alive\r\n" +
		"Content-Length: 64\r\n\r\n" + strings.Repeat("x", 64)
	resp := "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\nContent-Length: 16\r\n" +
		"Date: Wed, 01 May 2024 10:00:00 GMT\r\n\r\n" + strings.Repeat("y", 16)
	client := []byte(strings.Repeat(req, 100))
	server := []byte(strings.Repeat(resp, 100))
	h := corpustest.NewHarness(flow)
	h.Ctx.Sink = corpustest.Discard{}
	b.SetBytes(int64(len(client) + len(server)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d := New(h.Ctx)
		for off := 0; off < len(client); off += 1460 {
			d.Data(dissect.ClientToServer, client[off:min(off+1460, len(client))], t0)
		}
		for off := 0; off < len(server); off += 1460 {
			d.Data(dissect.ServerToClient, server[off:min(off+1460, len(server))], t0)
		}
		d.End(t0)
	}
}

// BenchmarkBody measures skipping a large body.
func BenchmarkBody(b *testing.B) {
	h := corpustest.NewHarness(flow)
	h.Ctx.Sink = corpustest.Discard{}
	d := New(h.Ctx)
	d.Data(dissect.ClientToServer, []byte("POST /x HTTP/1.1\r\nContent-Length: 999999999999999\r\n\r\n"), t0)
	seg := make([]byte, 1460)
	b.SetBytes(int64(len(seg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Data(dissect.ClientToServer, seg, t0)
	}
}
