package capture

import (
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// dataLog is a stream that records what it was given.
type dataLog struct {
	flow  observe.Flow
	bytes int
	ended bool
}

func (d *dataLog) Data(_ dissect.Direction, b []byte, _ time.Time) { d.bytes += len(b) }
func (d *dataLog) Gap(dissect.Direction, int)                      {}
func (d *dataLog) Done() bool                                      { return false }
func (d *dataLog) End(time.Time)                                   { d.ended = true }

func testFlow(a, b string) *flow {
	return &flow{ep: [2]netip.AddrPort{netip.MustParseAddrPort(a), netip.MustParseAddrPort(b)}}
}

func TestExpectations(t *testing.T) {
	set := observe.NewSet()
	e := NewEngine(Config{}, set)
	e.now = ms(0).UnixNano()
	var started []*dataLog
	x := dissect.Expectation{Name: "ftp-data", Listener: netip.MustParseAddrPort("10.20.0.60:50000"),
		Client: netip.MustParseAddr("10.20.3.50"),
		New: func(ctx *dissect.Context) dissect.Stream {
			d := &dataLog{flow: ctx.Flow}
			started = append(started, d)
			return d
		}}
	expect := e.expectFunc()
	if expect(dissect.Expectation{Listener: x.Listener, Client: x.Client}) {
		t.Error("an expectation without New was accepted")
	}
	if !expect(x) || !expect(x) {
		t.Fatal("expectation refused")
	}
	// Another host connecting to the listener is not the expected connection.
	if e.claimExpected(testFlow("10.20.3.99:40000", "10.20.0.60:50000"), 1, []byte("x"), ms(1)) {
		t.Error("claimed a flow from another host")
	}
	// The expected one is, in either side order, once per expectation.
	f := testFlow("10.20.0.60:50000", "10.20.3.50:40001")
	f.client = 1
	if !e.claimExpected(f, 0, []byte("hello"), ms(2)) || f.state != stStream || len(started) != 1 || started[0].bytes != 5 ||
		started[0].flow.Client.String() != "10.20.3.50:40001" {
		t.Fatalf("first claim: state %v, started %+v", f.state, started)
	}
	if !e.claimExpected(testFlow("10.20.3.50:40002", "10.20.0.60:50000"), 0, []byte("x"), ms(3)) {
		t.Error("second expectation not used")
	}
	if e.claimExpected(testFlow("10.20.3.50:40003", "10.20.0.60:50000"), 0, []byte("x"), ms(4)) {
		t.Error("an expectation was used twice")
	}
	// Expectations expire on the capture clock.
	expect(x)
	e.now = ms(0).Add(expectTimeout + time.Second).UnixNano()
	if e.claimExpected(testFlow("10.20.3.50:40004", "10.20.0.60:50000"), 0, []byte("x"), ms(5)) || len(e.expect.list) != 0 {
		t.Error("an expired expectation was used")
	}
	// The table is bounded, and Finish forgets it.
	for range maxExpectations + 10 {
		expect(x)
	}
	if len(e.expect.list) != maxExpectations {
		t.Errorf("%d expectations held", len(e.expect.list))
	}
	e.Finish()
	if len(e.expect.list) != 0 {
		t.Error("Finish kept expectations")
	}
	if counterValue(set, "expectations_dropped") != 10 || counterValue(set, "expectations_expired") != 1 || counterValue(set, "streams_ftp-data") != 2 {
		t.Errorf("counters %+v", set.Counters)
	}
}
