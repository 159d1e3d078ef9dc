package capture

import (
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// gapLog is a stream that records the gaps and bytes it was given, in order.
type gapLog struct{ events []int } // a gap of n is -n, bytes are +n

func (g *gapLog) Data(_ dissect.Direction, b []byte, _ time.Time) {
	g.events = append(g.events, len(b))
}
func (g *gapLog) Gap(_ dissect.Direction, n int) { g.events = append(g.events, -n) }
func (g *gapLog) Done() bool                     { return false }
func (g *gapLog) End(time.Time)                  {}

// TestExpectedStreamToldOfLostHead checks that bytes lost before an announced
// connection's first delivered byte (the head of an FTP download the capture missed)
// reach its stream as a gap before the bytes that follow: otherwise the rest is taken for
// the whole file, with a digest that matches nothing and a signature that "fails".
func TestExpectedStreamToldOfLostHead(t *testing.T) {
	e := NewEngine(Config{}, observe.NewSet())
	e.now = ms(0).UnixNano()
	var got *gapLog
	e.expectFunc()(dissect.Expectation{Name: "ftp-data", Listener: netip.MustParseAddrPort("10.20.0.60:50000"),
		Client: netip.MustParseAddr("10.20.3.50"),
		New:    func(*dissect.Context) dissect.Stream { got = &gapLog{}; return got }})
	f := testFlow("10.20.0.60:50000", "10.20.3.50:40001")
	f.client = 1
	f.state = stDetect
	e.lose(f, 0, 1400, ms(1)) // the server's first segment was not captured
	if !e.claimExpected(f, 0, []byte("rest of the file"), ms(2)) || got == nil {
		t.Fatal("not claimed")
	}
	if len(got.events) != 2 || got.events[0] != -1400 || got.events[1] != 16 {
		t.Errorf("the stream saw %v, want the gap of 1400 then 16 bytes", got.events)
	}
}
