package capture

import (
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// detect logs in-order bytes of an unclaimed flow and offers them to the dissectors.
func (e *Engine) detect(f *flow, side uint8, b []byte, ts time.Time) {
	f.payload = true
	if f.det == nil && e.claimExpected(f, side, b, ts) {
		return // a connection a control stream announced (FTP data)
	}
	if len(e.cfg.Dissectors) == 0 {
		e.unidentified(f)
		return
	}
	d := f.det
	if d == nil {
		d = &detection{}
		f.det = d
	}
	take := 0
	if !d.full[side] {
		take = min(len(b), DetectLimit-len(d.buf[side]))
		if e.buffered+int64(take) > e.cfg.MaxTotalBuffer {
			take = 0
		}
		if take > 0 {
			if d.buf[side] == nil {
				d.buf[side] = e.getBuf(0)
			}
			d.buf[side] = append(d.buf[side], b[:take]...)
			e.buffered += int64(take)
			d.chunks = append(d.chunks, chunk{side: side, n: take, t: ts})
		}
		if take < len(b) {
			d.full[side] = true
		}
		if !d.no[side] {
			e.runDetect(f, side, ts)
		}
	}
	if rest := b[take:]; len(rest) > 0 {
		switch {
		case f.state == stDetect && f.det == d: // still undecided: past the log
			e.cnt[cDetectSkippedBytes] += uint64(len(rest))
			d.skipped[side] += len(rest)
		case f.state != stIgnore:
			// Claimed by these very bytes: the rest goes straight to the stream, or, if that
			// stream already handed the flow off during the replay, to the new detection.
			e.deliver(f, side, rest, ts)
		}
	}
}

// runDetect asks every dissector that has not refused side about its first bytes.
// The first Yes in configuration order claims the flow.
func (e *Engine) runDetect(f *flow, side uint8, ts time.Time) {
	d := f.det
	b := d.buf[side]
	need := false
	for i := range e.cfg.Dissectors {
		if i < 64 && d.refused[side]&(1<<i) != 0 {
			continue
		}
		m := e.cfg.Dissectors[i].Detect(b)
		switch m.Verdict {
		case dissect.Yes:
			e.claim(f, i, side, m, ts)
			return
		case dissect.NeedMore:
			need = true
		default:
			if i < 64 {
				d.refused[side] |= 1 << i
			}
		}
	}
	if need && !d.full[side] {
		return
	}
	d.no[side] = true
	if d.no[side^1] {
		e.unidentified(f)
	}
}

// unidentified turns a flow no dissector wants into a tombstone: from now on its
// segments are looked up and dropped, never buffered or copied.
func (e *Engine) unidentified(f *flow) {
	e.cnt[cStreamsUnidentified]++
	f.state = stIgnore
	e.release(f)
}

// claim starts dissector i's stream on f, correcting guessed roles first, and replays
// the bytes logged during detection in the order they arrived. If the stream hands the
// flow off during the replay, the rest of the log goes to the new detection.
func (e *Engine) claim(f *flow, i int, side uint8, m dissect.Match, ts time.Time) {
	ds := &e.cfg.Dissectors[i]
	if !f.rolesSure && (m.FromServer && side == f.client || m.FromClient && side != f.client) {
		f.client ^= 1
		e.cnt[cRolesCorrected]++
	}
	f.rolesSure = true
	d := f.det
	f.det = nil
	defer e.freeDetection(d)
	var st dissect.Stream
	if ds.New != nil {
		st = ds.New(&dissect.Context{
			Flow:    f.observed(),
			Sink:    e.set,
			Secrets: e.cfg.Secrets,
			Source:  e.cfg.Source,
			Count:   e.countFn,
			Expect:  e.expectFunc(),
			Keep:    e.cfg.Keep,
		})
	}
	if st == nil {
		e.cnt[cDissectorNoStream]++
		f.state = stIgnore
		e.release(f)
		return
	}
	st = &guarded{st: st, name: ds.Name, flow: f.observed(), set: e.set}
	f.stream, f.state = st, stStream
	e.cnt[cStreams]++
	e.streams[i]++
	// After a handoff the service keeps the protocol it was first claimed as (SMTP that
	// upgraded to TLS is still an SMTP service; the upgrade is counted, and the TLS
	// dissector records the session itself). observe.Set keeps the first protocol per
	// server anyway; naming it here keeps that true across merged sets too.
	if f.service == "" {
		f.service = ds.Name
	}
	svc := observe.Service{Server: f.ep[f.client^1], Transport: "tcp", Protocol: f.service,
		FirstSeen: f.first, LastSeen: ts, Source: e.cfg.Source}
	if t := f.tun; t != nil {
		svc.Server, svc.Via, svc.Target = t.server, t.via.String(), t.name
	}
	e.set.AddService(svc)
	var off [2]int
	for _, c := range d.chunks {
		b := d.buf[c.side][off[c.side] : off[c.side]+c.n]
		off[c.side] += c.n
		e.deliver(f, c.side, b, c.t)
		if f.state == stIgnore {
			return
		}
	}
	for s := range uint8(2) {
		if d.skipped[s] > 0 {
			e.lose(f, s, d.skipped[s], ts)
			if f.state == stIgnore {
				return
			}
		}
	}
}

func (e *Engine) freeDetection(d *detection) {
	for side := range 2 {
		e.buffered -= int64(len(d.buf[side]))
		e.putBuf(d.buf[side])
	}
}
