package sockswire

import (
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
)

// FuzzStream feeds arbitrary client and server bytes, each split at an arbitrary point,
// with an optional gap, and checks what the dissector promises: no panic, buffers within
// maxMessage, Detect consistent with the stream's reading, a tunnel target only with a
// handoff and only as dissect.TunnelHost allows, and credentials only hidden. (Secret
// leaks are asserted by the table tests: a mutated input may move a planted password into
// the user name, which is not a secret.)
func FuzzStream(f *testing.F) {
	for _, tc := range socksCases {
		var cl, sv []byte
		for _, m := range tc.msgs {
			if m.fromServer {
				sv = append(sv, m.b...)
			} else {
				cl = append(cl, m.b...)
			}
		}
		f.Add(cl, sv, uint16(3), uint16(0))
		f.Add(cl, sv, uint16(1), uint16(2))
	}
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16) {
		Detect(client)
		Detect(server)
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx).(*stream)
		feed := func(dir dissect.Direction, b []byte) {
			k := int(cut) % (len(b) + 1)
			d.Data(dir, b[:k], t0)
			if gap != 0 && gap < 16 {
				d.Gap(dir, int(gap))
			}
			d.Data(dir, b[k:], t0)
			for i := range d.buf {
				if len(d.buf[i]) > maxMessage {
					t.Fatalf("buffer of %d bytes", len(d.buf[i]))
				}
			}
		}
		feed(dissect.ClientToServer, client)
		feed(dissect.ServerToClient, server)
		addr, name, port, ok := d.TunnelTarget()
		if ok && (!d.Handoff() || !d.Done() || port == 0 || addr.IsValid() == (name != "")) {
			t.Fatalf("target %v %q %d with handoff=%v done=%v", addr, name, port, d.Handoff(), d.Done())
		}
		if name != "" {
			if a, n, ok := dissect.TunnelHost([]byte(name)); !ok || a.IsValid() || n != name {
				t.Fatalf("target name %q is not one TunnelHost gives", name)
			}
		}
		if addr.Is4In6() || (addr.IsValid() && addr.Zone() != "") {
			t.Fatalf("target address %v", addr)
		}
		d.End(t0)
		if d.buf[0] != nil || d.buf[1] != nil {
			t.Fatalf("buffers kept after End")
		}
		for _, c := range h.Sink.Credentials {
			if len(c.User) > 4*maxUser || c.Hash == "" {
				t.Fatalf("credential %+v", c)
			}
		}
	})
}
