// Package lines frames text protocols (HTTP headers, FTP/POP3/IMAP/SMTP commands) into lines
// across arbitrarily split stream data, with a bound on line length and without leaving a
// line that may have held a password in a reused buffer; and matches their keywords
// ignoring ASCII case.
package lines

import "bytes"

// Buffer carries one partial line across Data calls, bounded by Max.
type Buffer struct {
	Max  int // the longest line kept; longer lines are skipped and reported as long
	buf  []byte
	over bool // the current line passed Max; skipping to its end
	used int  // length of the line last returned from buf, wiped on the next call
}

// Next splits the next complete line off b, without its LF or a trailing CR. ok is false
// when b holds no line end (the bytes are kept for the next call). long reports a line
// that exceeded l.Max; its content is not returned.
func (l *Buffer) Next(b []byte) (line, rest []byte, ok, long bool) {
	if l.used > 0 {
		// The line may have held a password: do not leave it in the reused buffer.
		clear(l.buf[:l.used])
		l.used = 0
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if !l.over {
			if len(l.buf)+len(b) > l.Max {
				l.over = true
				clear(l.buf)
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, b...)
			}
		}
		return nil, nil, false, false
	}
	seg, rest := b[:i], b[i+1:]
	if l.over {
		l.over = false
		return nil, rest, true, true
	}
	if len(l.buf) > 0 {
		if len(l.buf)+len(seg) > l.Max {
			clear(l.buf)
			l.buf = l.buf[:0]
			return nil, rest, true, true
		}
		l.buf = append(l.buf, seg...)
		seg = l.buf
		l.used = len(seg)
		l.buf = l.buf[:0] // seg stays valid until the next call, after it is used
	} else if len(seg) > l.Max {
		return nil, rest, true, true
	}
	if n := len(seg); n > 0 && seg[n-1] == '\r' {
		seg = seg[:n-1]
	}
	return seg, rest, true, false
}

// SkipLine drops a partial line and ignores everything up to the next line end: after a
// gap, the line the gap fell in cannot be trusted.
func (l *Buffer) SkipLine() {
	clear(l.buf)
	l.buf, l.over = l.buf[:0], true
}

// Reset drops a partial line.
func (l *Buffer) Reset() { l.buf, l.over = l.buf[:0], false }

// EqualFold compares b with s ASCII case-insensitively without allocating: text protocols
// match their keywords (headers, commands, banners) this way.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if Lower(b[i]) != Lower(s[i]) {
			return false
		}
	}
	return true
}

// Lower folds an ASCII upper-case letter to lower case and leaves every other byte alone.
func Lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// ContainsFold reports whether b contains sub, ignoring ASCII case.
func ContainsFold(b []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if EqualFold(b[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
