package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// nopStream consumes bytes as a cheap dissector would.
type nopStream struct{ n int }

func (s *nopStream) Data(_ dissect.Direction, b []byte, _ time.Time) { s.n += len(b) }
func (s *nopStream) Gap(dissect.Direction, int)                      {}
func (s *nopStream) Done() bool                                      { return false }
func (s *nopStream) End(time.Time)                                   {}

// benchDissectors claim flows whose first byte is 'C' (the "claimed" share of the
// synthetic traffic) and refuse the rest.
var benchDissectors = []dissect.Dissector{{
	Name: "bench",
	Detect: func(b []byte) dissect.Match {
		if b[0] == 'C' {
			return dissect.Match{Verdict: dissect.Yes}
		}
		return dissect.Match{}
	},
	New: func(*dissect.Context) dissect.Stream { return &nopStream{} },
}}

// benchTraffic builds Ethernet/IPv4/TCP frames of nflows flows, each a SYN then segs
// full-size data segments, interleaved; claimedEvery says which flows carry 'C'.
// seqOffsets[i] is the byte offset of frame i's sequence number (0 for SYNs).
func benchTraffic(nflows, segs, claimedEvery int) (frames [][]byte, seqOffsets []int) {
	payload := bytes.Repeat([]byte("x"), 1448)
	for i := range segs + 1 {
		for f := range nflows {
			client := fmt.Sprintf("10.%d.%d.1:%d", f>>8&0xff, f&0xff, 30000+f%30000)
			server := "10.255.0.1:443"
			if i == 0 {
				frames = append(frames, eth(macA, macB, seg{client, server, 1000, 0, tcpSYN, ""}.ip()))
				seqOffsets = append(seqOffsets, 0)
				continue
			}
			p := bytes.Clone(payload)
			if f%claimedEvery == 0 {
				p[0] = 'C'
			}
			frames = append(frames, eth(macA, macB, seg{client, server, uint32(1001 + (i-1)*1448), 0, psh, string(p)}.ip()))
			seqOffsets = append(seqOffsets, 14+20+4)
		}
	}
	return frames, seqOffsets
}

// BenchmarkEngine measures the whole per-packet path (decode, flow table, reassembly,
// detection, delivery) on full-size segments. Each pass over the frames advances the
// sequence numbers so the flows keep streaming instead of turning into retransmissions.
func BenchmarkEngine(b *testing.B) {
	for _, tc := range []struct {
		name         string
		claimedEvery int
	}{{"all-claimed", 1}, {"quarter-claimed", 4}} {
		b.Run(tc.name, func(b *testing.B) {
			frames, seqOff := benchTraffic(1000, 20, tc.claimedEvery)
			var total int
			for _, f := range frames {
				total += len(f)
			}
			e := NewEngine(Config{Dissectors: benchDissectors}, observe.NewSet())
			b.SetBytes(int64(total / len(frames)))
			b.ReportAllocs()
			b.ResetTimer()
			ts := t0
			for i := 0; i < b.N; i++ {
				k := i % len(frames)
				if k == 0 && i > 0 {
					// Next pass: move every data segment 20 segments on.
					for j, f := range frames {
						if off := seqOff[j]; off > 0 {
							binary.BigEndian.PutUint32(f[off:], binary.BigEndian.Uint32(f[off:])+20*1448)
						}
					}
				}
				ts = ts.Add(time.Microsecond)
				e.Packet(LinkEthernet, frames[k], ts)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
			e.Finish()
		})
	}
}

// BenchmarkReadPcap measures the reader and the engine together on an in-memory pcap.
func BenchmarkReadPcap(b *testing.B) {
	frames, _ := benchTraffic(500, 20, 2)
	var fr []frame
	for i, f := range frames {
		fr = append(fr, frame{ts: t0.Add(time.Duration(i) * time.Microsecond), data: f})
	}
	file := pcapBytes(binary.LittleEndian, true, LinkEthernet, fr)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := NewEngine(Config{Dissectors: benchDissectors}, observe.NewSet())
		if err := e.Read("bench", bytes.NewReader(file)); err != nil {
			b.Fatal(err)
		}
		e.Finish()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(frames))/b.Elapsed().Seconds(), "packets/s")
}
