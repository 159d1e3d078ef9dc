package capture

import (
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Limits on pending expectations (dissect.Expectation).
const (
	// maxExpectations bounds the connections announced and not yet seen; past it the
	// oldest is dropped.
	maxExpectations = 256
	// expectTimeout is how long, in capture time, an announced connection may take to
	// carry its first bytes.
	expectTimeout = 2 * time.Minute
)

type expectEntry struct {
	x        dissect.Expectation
	deadline int64 // engine clock
}

// expectTable holds the connections control streams announced. It is a short slice:
// a control stream announces one connection per transfer, and each is used once.
type expectTable struct {
	list []expectEntry
	fn   func(dissect.Expectation) bool // e.expectation, bound once
}

// expectFunc returns the Expect function handed to stream dissectors in their Context.
func (e *Engine) expectFunc() func(dissect.Expectation) bool {
	if e.expect.fn == nil {
		e.expect.fn = e.expectation
	}
	return e.expect.fn
}

// expectation records an announced connection.
func (e *Engine) expectation(x dissect.Expectation) bool {
	if x.New == nil || !x.Listener.IsValid() || !x.Client.IsValid() {
		return false
	}
	t := &e.expect
	if len(t.list) >= maxExpectations {
		e.addCount("expectations_dropped", 1)
		copy(t.list, t.list[1:])
		t.list = t.list[:len(t.list)-1]
	}
	t.list = append(t.list, expectEntry{x: x, deadline: e.now + int64(expectTimeout)})
	e.addCount("expectations", 1)
	return true
}

// claimExpected starts the announced stream on f if f is an expected connection, and
// delivers b to it. It is asked before detection on a flow's first payload.
func (e *Engine) claimExpected(f *flow, side uint8, b []byte, ts time.Time) bool {
	t := &e.expect
	if len(t.list) == 0 {
		return false
	}
	// Forget what expired, keeping the order.
	n := 0
	for _, x := range t.list {
		if x.deadline >= e.now {
			t.list[n] = x
			n++
		} else {
			e.addCount("expectations_expired", 1)
		}
	}
	clear(t.list[n:])
	t.list = t.list[:n]
	for i, en := range t.list {
		x := en.x
		if !(f.ep[0] == x.Listener && f.ep[1].Addr() == x.Client) && !(f.ep[1] == x.Listener && f.ep[0].Addr() == x.Client) {
			continue
		}
		t.list = append(t.list[:i], t.list[i+1:]...)
		t.list[len(t.list):cap(t.list)][0] = expectEntry{} // drop the stream's reference
		fl := observe.Flow{Client: f.ep[f.client], Server: f.ep[f.client^1]}
		st := x.New(&dissect.Context{Flow: fl, Sink: e.set, Secrets: e.cfg.Secrets, Source: e.cfg.Source, Count: e.countFn,
			Keep: e.cfg.Keep})
		if st == nil {
			e.cnt[cDissectorNoStream]++
			return false
		}
		f.stream, f.state = &guarded{st: st, name: x.Name, flow: fl, set: e.set}, stStream
		e.cnt[cStreams]++
		e.addCount("streams_"+x.Name, 1)
		// Bytes lost before this first delivery are the head of the transfer: the stream
		// must know, or it takes what follows for the whole file.
		for s := range uint8(2) {
			if n := f.h[s].lostFirst; n > 0 {
				f.h[s].lostFirst = 0
				f.stream.Gap(f.dir(s), n)
			}
		}
		if f.state != stStream {
			return true
		}
		e.deliver(f, side, b, ts)
		return true
	}
	return false
}

// finishExtensions ends the datagram handlers (finishDatagrams) and forgets pending
// expectations, whose control streams have ended. Finish calls it before the hosts are
// flushed.
func (e *Engine) finishExtensions() {
	e.finishDatagrams()
	clear(e.expect.list)
	e.expect.list = e.expect.list[:0]
}
