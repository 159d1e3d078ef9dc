// Package frame cuts one direction of a stream into length-prefixed messages (MySQL
// packets, PostgreSQL messages, LDAP's BER elements) with bounded memory: a message is
// buffered only up to Reader.Max bytes; a longer one is skipped by count without being
// copied, so a result set or a search response costs nothing but its length.
//
// A Reader never allocates in proportion to a length it has not checked against Max,
// and it wipes what it held (a message may carry a password) when the message has been
// handled and on Reset.
package frame

// Length reports, from the first bytes of a message (the head buffered so far), the
// message's total length including its header: n > 0 when the head suffices to tell, 0
// when more bytes are needed, and bad when the bytes cannot start a message of this
// protocol (the direction is then out of step and the caller stops reading it).
type Length func(head []byte) (n int, bad bool)

// Reader frames one direction.
type Reader struct {
	// Max is the longest message handed to the caller; longer ones are skipped.
	Max int
	// HeadMax is how many bytes Length may need to tell a length (a BER header is at
	// most 6 bytes); a head this long that Length still cannot judge is bad framing.
	HeadMax int

	buf  []byte
	skip int  // bytes still to skip of an oversized message
	bad  bool // framing lost: nothing more is read
}

// Feed takes the next bytes of the direction. For each complete message of at most
// Max bytes it calls msg with the message (valid only during the call; wiped after);
// msg returns false to stop, when the caller learned what it wanted (an upgrade to TLS
// begins after this message). Feed returns how many bytes of b it consumed, the number
// of messages skipped as oversized, and whether framing was lost.
func (r *Reader) Feed(b []byte, length Length, msg func(m []byte) bool) (used, oversized int, bad bool) {
	total := len(b)
	for len(b) > 0 && !r.bad {
		if r.skip > 0 {
			k := min(len(b), r.skip)
			r.skip -= k
			b = b[k:]
			continue
		}
		// Complete the head or the message in r.buf, or work straight from b when
		// nothing is buffered and b holds a whole message (the common case: no copy).
		src := b
		fromBuf := len(r.buf) > 0
		if fromBuf {
			src = r.buf
		}
		n, isBad := length(src)
		if !isBad && n == 0 && fromBuf {
			// The head is split: add one byte at a time, so that the head never runs
			// past a message shorter than HeadMax, and ask again.
			if len(r.buf) >= r.HeadMax {
				isBad = true
			} else {
				r.buf = append(r.buf, b[0])
				b = b[1:]
				continue
			}
		}
		if n > 0 && n < len(src) && fromBuf {
			isBad = true // a length shorter than the header it was read from
		}
		switch {
		case isBad:
			r.bad = true
			r.wipe()
			return total - len(b), oversized, true
		case n == 0:
			if len(b) >= r.HeadMax {
				r.bad = true
				return total - len(b), oversized, true
			}
			r.buf = append(r.buf, b...)
			return total, oversized, false
		case n > r.Max:
			oversized++
			already := len(r.buf)
			r.wipe()
			r.skip = n - already
			continue
		}
		if !fromBuf {
			if len(b) >= n {
				goOn := msg(b[:n])
				b = b[n:]
				if !goOn {
					return total - len(b), oversized, false
				}
				continue
			}
			r.buf = append(r.buf, b...)
			return total, oversized, false
		}
		k := min(len(b), n-len(r.buf))
		r.buf = append(r.buf, b[:k]...)
		b = b[k:]
		if len(r.buf) < n {
			return total, oversized, false
		}
		goOn := msg(r.buf)
		r.wipe()
		if !goOn {
			return total - len(b), oversized, false
		}
	}
	return total - len(b), oversized, r.bad
}

// Skip says n bytes of the direction were lost. Within an oversized message being
// skipped the reader stays in step; otherwise framing is lost and Lost reports true.
func (r *Reader) Skip(n int) {
	if r.skip >= n && len(r.buf) == 0 {
		r.skip -= n
		return
	}
	r.bad = true
	r.wipe()
}

// Lost reports whether framing was lost (bad bytes or a gap).
func (r *Reader) Lost() bool { return r.bad }

// Reset wipes what is held and starts again at a message boundary, as after an
// upgrade or when a caller knows the next byte begins a message.
func (r *Reader) Reset() {
	r.wipe()
	r.skip, r.bad = 0, false
}

// wipe clears the buffered bytes, which may hold a secret, keeping the capacity.
func (r *Reader) wipe() {
	clear(r.buf)
	r.buf = r.buf[:0]
}
