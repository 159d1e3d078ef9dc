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
			if len(r.Host) > maxField || len(r.Path) > maxField || len(r.QueryKeys) > maxQueryKeys {
				t.Fatalf("unbounded field: %+v", r)
			}
		}
		for _, c := range h.Sink.Credentials {
			if len(c.Preview) > 32 || len(c.Hash) != 32 || len(c.User) > maxField || len(c.Where) > maxField {
				t.Fatalf("credential not hidden or unbounded: %+v", c)
			}
		}
	})
}
