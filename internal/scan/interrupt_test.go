package scan

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// endlessPcap is a pcap header then zeros, without end: empty records forever.
type endlessPcap struct{ head []byte }

func (r *endlessPcap) Read(p []byte) (int, error) {
	n := copy(p, r.head)
	r.head = r.head[n:]
	clear(p[n:])
	return len(p), nil
}

// TestRunInterrupted checks that a scan of an endless standard input ends when its
// context is cancelled, and is stored incomplete with problems naming the cause: the
// source cut short, and the scan as a whole.
func TestRunInterrupted(t *testing.T) {
	st := openStore(t)
	head := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(200*time.Millisecond, func() { cancel(errors.New("SIGTEST received")) })
	done := make(chan struct{})
	var res Result
	var err error
	go func() {
		res, err = Run(ctx, st, Options{Pcaps: []string{"-"}, Stdin: io.Reader(&endlessPcap{head: head})})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the scan still runs 5 s after its context was cancelled")
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Error("an interrupted scan is complete")
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	var source, scan bool
	for _, p := range rep.Scan.Problems {
		source = source || p.Source == "-" && p.Fatal && strings.Contains(p.Message, "interrupted (SIGTEST received)")
		scan = scan || p.Source == "scan" && strings.Contains(p.Message, "scan interrupted (SIGTEST received)")
	}
	if rep.Scan.Complete || !source || !scan {
		t.Errorf("stored complete %v, problems %+v; want incomplete, the source and the scan interrupted", rep.Scan.Complete, rep.Scan.Problems)
	}
}
