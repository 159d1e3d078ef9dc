package capture

import (
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

type panicky struct{ calls int }

func (p *panicky) Data(dissect.Direction, []byte, time.Time) { p.calls++; panic("boom") }
func (p *panicky) Gap(dissect.Direction, int)                { panic("boom") }
func (p *panicky) Done() bool                                { return false }
func (p *panicky) End(time.Time)                             { panic("boom") }

func TestGuardedStreamRecovers(t *testing.T) {
	set := observe.NewSet()
	inner := &panicky{}
	g := &guarded{st: inner, name: "toy", set: set}
	g.Data(dissect.ClientToServer, []byte("x"), time.Time{})
	g.Data(dissect.ClientToServer, []byte("y"), time.Time{})
	g.Gap(dissect.ServerToClient, 3)
	g.End(time.Time{})
	if !g.Done() {
		t.Error("a stream that panicked is not done")
	}
	if inner.calls != 1 {
		t.Errorf("the broken stream was called %d times, want 1", inner.calls)
	}
	if len(set.Problems) != 1 || !strings.Contains(set.Problems[0].Message, "internal error in Data") {
		t.Errorf("problems = %+v", set.Problems)
	}
	if len(set.Counters) != 1 || set.Counters[0].Name != "dissector_panics" || set.Counters[0].Value != 1 {
		t.Errorf("counters = %+v", set.Counters)
	}
}
