package tftpwire

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/observe"
)

// TestKeep checks that a TFTP read is kept byte for byte (a retransmitted block once)
// and that one with a lost block is not kept, but counted.
func TestKeep(t *testing.T) {
	img := elfImage(70000)
	for _, tc := range []struct {
		name string
		dgs  []dg
		kept bool
	}{
		{"in order, a block repeated", fetch(img, 512, 9, 0), true},
		{"negotiated block size", fetch(img, 1428, 0, 0, "blksize", "1428"), true},
		{"a lost block", fetch(img, 512, 0, 30), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := updatekeep.New(updatekeep.Options{TempDir: t.TempDir()})
			defer k.Close()
			h := New(&dissect.DatagramContext{Sink: observe.NewSet(), Keep: k})
			for i, d := range tc.dgs {
				h.Datagram(d.src, d.dst, nil, d.b, t0.Add(time.Duration(i)*time.Millisecond))
			}
			h.End(t0.Add(time.Hour))
			files := k.Files()
			if !tc.kept {
				if len(files) != 0 {
					t.Fatalf("kept %+v", files)
				}
				for _, c := range k.Counters() {
					if c.Name == updatekeep.CountGap && c.Value == 1 {
						return
					}
				}
				t.Fatalf("not counted: %v", k.Counters())
			}
			if len(files) != 1 {
				t.Fatalf("files %+v", files)
			}
			f := files[0]
			r, _ := f.Open()
			b, _ := io.ReadAll(r)
			r.Close()
			if !bytes.Equal(b, img) || f.Origin != "tftp://10.20.0.60:69" || f.Dir != "fw" || f.Clients[0] != "10.20.1.11" {
				t.Errorf("kept %d bytes as %+v", len(b), f)
			}
		})
	}
}
