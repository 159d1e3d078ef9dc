package probe

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Progress is a scan's state as Config.Progress receives it.
type Progress struct {
	HostsDone   int64         // hosts finished, skipped ones included
	HostsTotal  int64         // hosts the scope holds; saturates for absurdly large scopes
	Connections int64         // connection attempts made so far
	Errors      int64         // connection attempts that failed
	Rate        float64       // connection attempts per second since the start
	Elapsed     time.Duration // since Run started
	Done        bool          // the last report of the scan
}

// progressInterval is how often Config.Progress hears from a scan: often enough to look
// alive on a terminal, rarely enough to cost nothing.
const progressInterval = 250 * time.Millisecond

// counters are the scan-wide tallies, updated by every host's goroutine.
type counters struct {
	start       time.Time
	hostsTotal  int64
	hostsDone   atomic.Int64
	connections atomic.Int64
	errors      atomic.Int64
	ports       atomic.Int64
}

// snapshot reads the counters into a Progress.
func (c *counters) snapshot(done bool) Progress {
	p := Progress{
		HostsDone:   c.hostsDone.Load(),
		HostsTotal:  c.hostsTotal,
		Connections: c.connections.Load(),
		Errors:      c.errors.Load(),
		Elapsed:     time.Since(c.start),
		Done:        done,
	}
	if s := p.Elapsed.Seconds(); s > 0 {
		p.Rate = float64(p.Connections) / s
	}
	return p
}

// ProgressLine renders p as one line for a terminal's status line, without a line
// ending: the caller decides between "\r" and "\n". It holds only numbers, never
// anything a peer sent.
func ProgressLine(p Progress) string {
	el := p.Elapsed.Truncate(time.Second)
	return fmt.Sprintf("hosts %d/%d  connections %d  %.1f/s  errors %d  %d:%02d",
		p.HostsDone, p.HostsTotal, p.Connections, p.Rate, p.Errors,
		int(el.Minutes()), int(el.Seconds())%60)
}
