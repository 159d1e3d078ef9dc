package tlswire

// rd is a bounds-checked cursor over a message body. Every read checks the bytes that are
// actually there, so a lying length field fails the read instead of allocating.
type rd []byte

func (r *rd) u8() (uint8, bool) {
	if len(*r) < 1 {
		return 0, false
	}
	v := (*r)[0]
	*r = (*r)[1:]
	return v, true
}

func (r *rd) u16() (uint16, bool) {
	if len(*r) < 2 {
		return 0, false
	}
	v := uint16((*r)[0])<<8 | uint16((*r)[1])
	*r = (*r)[2:]
	return v, true
}

func (r *rd) u24() (int, bool) {
	if len(*r) < 3 {
		return 0, false
	}
	v := int((*r)[0])<<16 | int((*r)[1])<<8 | int((*r)[2])
	*r = (*r)[3:]
	return v, true
}

func (r *rd) bytes(n int) ([]byte, bool) {
	if n < 0 || len(*r) < n {
		return nil, false
	}
	v := (*r)[:n:n]
	*r = (*r)[n:]
	return v, true
}

// vec8, vec16 and vec24 read a vector with a 1-, 2- or 3-byte length prefix.
func (r *rd) vec8() (rd, bool) {
	n, ok := r.u8()
	if !ok {
		return nil, false
	}
	b, ok := r.bytes(int(n))
	return rd(b), ok
}

func (r *rd) vec16() (rd, bool) {
	n, ok := r.u16()
	if !ok {
		return nil, false
	}
	b, ok := r.bytes(int(n))
	return rd(b), ok
}

func (r *rd) vec24() (rd, bool) {
	n, ok := r.u24()
	if !ok {
		return nil, false
	}
	b, ok := r.bytes(n)
	return rd(b), ok
}

func (r *rd) empty() bool { return len(*r) == 0 }
