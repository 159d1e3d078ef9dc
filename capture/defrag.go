package capture

import "time"

// Bounds on IP fragment reassembly: a flood of never-completed fragments costs at most
// fragMaxTotal bytes and is counted.
const (
	fragMaxDatagram = 65535
	fragMaxTotal    = 8 << 20
	fragMaxPending  = 4096
	fragMaxSpans    = 64
	fragTimeout     = 30 * time.Second
)

// fragKey names one datagram being reassembled (RFC 791 and RFC 8200 identify it by
// addresses, protocol and ID).
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

// span is a received byte range [start, end) of a datagram.
type span struct{ start, end int }

type fragEntry struct {
	buf   []byte
	spans []span // sorted, merged
	total int    // datagram length once the last fragment arrived, else -1
	first int64  // capture time of the first fragment, ns
}

type defragmenter struct {
	m     map[fragKey]*fragEntry
	bytes int    // capacity of all pending buffers
	done  []byte // buffer of the datagram last completed, recycled on the next call
}

func (d *defragmenter) init() { d.m = map[fragKey]*fragEntry{} }

// add stores one fragment and returns the whole payload when the datagram is complete.
// The payload is valid until the next call.
func (d *defragmenter) add(e *Engine, k fragKey, off int, more bool, data []byte) ([]byte, bool) {
	if d.done != nil {
		d.bytes -= cap(d.done)
		d.done = nil
	}
	end := off + len(data)
	if end > fragMaxDatagram {
		e.cnt[cFragDropped]++
		return nil, false
	}
	f := d.m[k]
	if f == nil {
		if len(d.m) >= fragMaxPending {
			e.cnt[cFragDropped]++
			return nil, false
		}
		f = &fragEntry{total: -1, first: e.now}
		d.m[k] = f
	}
	if !more {
		if (f.total >= 0 && f.total != end) || (len(f.spans) > 0 && f.spans[len(f.spans)-1].end > end) {
			// Two different ends, or data beyond the end: the datagram cannot be trusted.
			d.drop(e, k, f)
			return nil, false
		}
		f.total = end
	} else if f.total >= 0 && end > f.total {
		d.drop(e, k, f)
		return nil, false
	}
	if end > len(f.buf) {
		if end > cap(f.buf) {
			n := max(end, 2*cap(f.buf), 2048)
			if f.total >= 0 {
				n = min(n, max(f.total, end))
			}
			n = min(n, fragMaxDatagram)
			if d.bytes-cap(f.buf)+n > fragMaxTotal {
				d.drop(e, k, f)
				return nil, false
			}
			nb := make([]byte, end, n)
			copy(nb, f.buf)
			d.bytes += n - cap(f.buf)
			f.buf = nb
		}
		f.buf = f.buf[:end]
	}
	if len(f.spans) >= fragMaxSpans {
		d.drop(e, k, f)
		return nil, false
	}
	copy(f.buf[off:], data)
	if !f.insert(span{off, end}) {
		e.cnt[cFragOverlaps]++
	}
	if f.total >= 0 && len(f.spans) == 1 && f.spans[0].start == 0 && f.spans[0].end == f.total {
		delete(d.m, k)
		d.done = f.buf
		return f.buf[:f.total], true
	}
	return nil, false
}

// insert merges s into the sorted spans, reporting false when it overlapped received data.
func (f *fragEntry) insert(s span) bool {
	clean := true
	out := f.spans[:0:0]
	placed := false
	for _, o := range f.spans {
		switch {
		case o.end < s.start:
			out = append(out, o)
		case s.end < o.start:
			if !placed {
				out = append(out, s)
				placed = true
			}
			out = append(out, o)
		default:
			if o.end > s.start && s.end > o.start {
				clean = false
			}
			s.start, s.end = min(s.start, o.start), max(s.end, o.end)
		}
	}
	if !placed {
		out = append(out, s)
	}
	f.spans = out
	return clean
}

// drop discards a datagram: the fragments received (counted by their merged ranges)
// and the one in hand.
func (d *defragmenter) drop(e *Engine, k fragKey, f *fragEntry) {
	e.cnt[cFragDropped] += uint64(len(f.spans) + 1)
	d.bytes -= cap(f.buf)
	delete(d.m, k)
}

// expire drops datagrams whose fragments have waited longer than fragTimeout.
func (d *defragmenter) expire(e *Engine) {
	for k, f := range d.m {
		if e.now-f.first > int64(fragTimeout) {
			e.cnt[cFragExpired] += uint64(len(f.spans))
			d.bytes -= cap(f.buf)
			delete(d.m, k)
		}
	}
}

// reset drops everything pending, counting it.
func (d *defragmenter) reset(e *Engine) {
	for k, f := range d.m {
		e.cnt[cFragExpired] += uint64(len(f.spans))
		delete(d.m, k)
	}
	d.bytes, d.done = 0, nil
}
