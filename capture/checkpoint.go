package capture

import (
	"maps"
	"slices"

	"github.com/medscan/medscan/observe"
)

// Checkpoint hands the engine's hosts and counters to its Set mid-run, as Finish does,
// but leaves every flow, fragment and stream running: a long live capture calls it at
// each commit interval so the store holds what was learned so far. Counters restart
// from zero (Stats too), so the counters of successive checkpoints add up to those of
// one run; hosts are flushed and relearned, and Set.Merge joins their first and last
// sightings.
func (e *Engine) Checkpoint() {
	e.checkpointDatagrams()
	e.handOver()
}

// handOver flushes the hosts into the Set and moves every counter there, restarting
// them from zero: what Finish and Checkpoint both end with.
func (e *Engine) handOver() {
	e.hosts.flush(e.set, e.tun.flush(e.set))
	e.arps.flush(e.set)
	e.set.AddCounter("packets", e.packets.Swap(0))
	e.set.AddCounter("bytes", e.bytes.Swap(0))
	for i, v := range e.cnt {
		e.set.AddCounter(counterNames[i], v)
	}
	e.cnt = [numCounters]uint64{}
	for i, v := range e.streams {
		e.set.AddCounter(e.streamNames[i], v)
		e.streams[i] = 0
	}
	// In name order: a map's order would move the counters of the same capture from run
	// to run, and the document would differ where nothing did.
	for _, k := range slices.Sorted(maps.Keys(e.extra)) {
		e.set.AddCounter(k, e.extra[k])
	}
	clear(e.extra)
}

// TakeSet moves everything the engine's Set holds into a new Set and returns it, leaving
// the engine's Set empty and still in use. Call it after Checkpoint (or Finish) to get
// the delta since the previous TakeSet.
//
// The Set is emptied in place rather than swapped for another because the streams of
// running flows hold the engine's Set as their Sink: what they emit after TakeSet lands
// in the next delta instead of in a Set the caller has already stored.
func (e *Engine) TakeSet() *observe.Set {
	d := new(observe.Set)
	*d = *e.set
	*e.set = *observe.NewSet()
	return d
}

// tick sweeps at capture time ns, advancing the clock to it: a Pool sends every worker
// a tick wherever one Engine fed all the packets would sweep, so that each worker's
// flows expire when that Engine's would, however few packets the worker sees.
func (e *Engine) tick(ns int64) {
	e.now = max(e.now, ns)
	e.lastSweep = ns
	e.sweep()
}
