package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// endless reads head, then unit again and again, forever.
type endless struct {
	head, unit []byte
	pos        int // in unit, once head is read
}

func (r *endless) Read(p []byte) (int, error) {
	n := 0
	if len(r.head) > 0 {
		n = copy(p, r.head)
		r.head = r.head[n:]
	}
	for n < len(p) {
		c := copy(p[n:], r.unit[r.pos:])
		n += c
		r.pos = (r.pos + c) % len(r.unit)
	}
	return n, nil
}

// stalled reads head, then waits for input that never comes (a pipe from a capture that
// went quiet) until the test ends.
type stalled struct {
	head []byte
	end  chan struct{}
}

func (r *stalled) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	<-r.end
	return 0, io.EOF
}

// bomb is a gzip stream of head then n times unit, each compressed once and repeated as
// gzip members: a gigabyte from a megabyte, all of it in the reader's first reads, so
// that only the checks made while decompressing can stop it.
func bomb(head, unit []byte, n int) io.Reader {
	member := gz(unit)
	b := gz(head)
	for range n {
		b = append(b, member...)
	}
	return bytes.NewReader(b)
}

// TestReadInterrupted checks that a read stops soon after its context is cancelled,
// whatever the input: endless records however small, endless skipped pcapng blocks
// however large, both inside gzip, and a stream that stops sending; the error names the
// cause and says the reading was interrupted, and the packets read before are kept.
func TestReadInterrupted(t *testing.T) {
	le := binary.LittleEndian
	pcapHead := pcapBytes(le, false, LinkEthernet, nil)
	frames := pcapBytes(le, false, LinkEthernet, sampleFrames(LinkEthernet))[len(pcapHead):]
	ngHead := pcapngBytes([]ngSection{{bo: le, ifaces: []ngIface{{link: uint16(LinkEthernet)}}}})
	smallBlock := ngBlock(le, 0x00000BAD, nil)
	bigBlock := ngBlock(le, 0x00000BAD, make([]byte, maxSkipBlockLen-12))
	for _, c := range []struct {
		name    string
		in      func(t *testing.T) io.Reader
		packets bool // packets are read before the cancel
	}{
		{"pcap, endless empty records", func(*testing.T) io.Reader {
			return &endless{head: pcapHead, unit: make([]byte, 16)}
		}, true},
		{"pcap, endless frames", func(*testing.T) io.Reader {
			return &endless{head: pcapHead, unit: frames}
		}, true},
		{"pcapng, endless empty unknown blocks", func(*testing.T) io.Reader {
			return &endless{head: ngHead, unit: smallBlock}
		}, false},
		{"pcapng, endless 64 MiB skipped blocks", func(*testing.T) io.Reader {
			return &endless{head: ngHead, unit: bigBlock}
		}, false},
		{"gzip bomb of empty records", func(t *testing.T) io.Reader {
			return bomb(pcapHead, make([]byte, 16<<20), 256)
		}, true},
		{"gzip bomb of 64 MiB skipped blocks", func(t *testing.T) io.Reader {
			return bomb(ngHead, bigBlock, 64)
		}, false},
		{"pcap, input stalls", func(t *testing.T) io.Reader {
			r := &stalled{head: append(pcapHead, frames...), end: make(chan struct{})}
			t.Cleanup(func() { close(r.end) })
			return r
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			set := observe.NewSet()
			e := NewEngine(Config{}, set)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			done := make(chan error, 1)
			in := c.in(t)
			go func() { done <- e.ReadContext(ctx, "in", in) }()
			time.Sleep(100 * time.Millisecond)
			cancel(errors.New("SIGTEST received"))
			start := time.Now()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("still reading 5 s after the cancel")
			}
			t.Logf("stopped %v after the cancel", time.Since(start))
			if took := time.Since(start); took > 250*time.Millisecond {
				t.Errorf("the read ended %v after the cancel; want within 250 ms", took)
			}
			var se *SourceError
			if !errors.As(err, &se) || !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "SIGTEST received") {
				t.Fatalf("error %v; want a SourceError wrapping ErrInterrupted and naming the cause", err)
			}
			if se.Offset <= 0 {
				t.Errorf("offset %d; want where the reading stopped", se.Offset)
			}
			if len(set.Problems) != 1 || !set.Problems[0].Fatal || !strings.Contains(set.Problems[0].Message, "interrupted") {
				t.Errorf("problems %+v; want one fatal problem saying the reading was interrupted", set.Problems)
			}
			if got := e.Stats().Packets; c.packets && got == 0 {
				t.Error("no packet counted before the cancel")
			}
		})
	}
}

// TestReadContextUncancelled checks that a context that is never done reads a capture
// as Read does, and that a context cancelled before the read stops it at the start.
func TestReadContextUncancelled(t *testing.T) {
	data := pcapBytes(binary.LittleEndian, false, LinkEthernet, sampleFrames(LinkEthernet))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := NewEngine(Config{}, observe.NewSet())
	if err := e.ReadContext(ctx, "in", strings.NewReader(string(data))); err != nil {
		t.Fatalf("ReadContext: %v", err)
	}
	if got, want := e.Stats().Packets, uint64(len(sampleFrames(LinkEthernet))); got != want {
		t.Errorf("%d packets; want %d", got, want)
	}
	cancel()
	e = NewEngine(Config{}, observe.NewSet())
	err := e.ReadContext(ctx, "in", strings.NewReader(string(data)))
	if !errors.Is(err, ErrInterrupted) || e.Stats().Packets != 0 {
		t.Errorf("cancelled before reading: %v, %d packets; want ErrInterrupted and none", err, e.Stats().Packets)
	}
}
