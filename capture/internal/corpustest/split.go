package corpustest

// Splits returns the ways a test cuts b into Data calls: whole, one byte per call, and in
// two at every boundary. A dissector must say the same thing for all of them.
func Splits(b []byte) [][][]byte {
	out := [][][]byte{{b}}
	if len(b) < 2 {
		return out
	}
	bytewise := make([][]byte, len(b))
	for i := range b {
		bytewise[i] = b[i : i+1]
	}
	out = append(out, bytewise)
	for k := 1; k < len(b); k++ {
		out = append(out, [][]byte{b[:k], b[k:]})
	}
	return out
}
