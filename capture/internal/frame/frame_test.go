package frame

import (
	"bytes"
	"testing"
)

// byteLen frames messages whose first byte is their total length (0 is bad).
func byteLen(head []byte) (int, bool) {
	if len(head) < 1 {
		return 0, false
	}
	return int(head[0]), head[0] == 0
}

func TestFeed(t *testing.T) {
	stream := []byte{3, 'a', 'b', 2, 'c', 9, 1, 2, 3, 4, 5, 6, 7, 8, 4, 'd', 'e', 'f'}
	for _, tc := range []struct {
		name      string
		stop      string // the message after which msg returns false
		want      []string
		used      int
		oversized int
	}{
		{name: "all", want: []string{"\x03ab", "\x02c", "\x04def"}, used: len(stream), oversized: 1},
		{name: "stop", stop: "\x02c", want: []string{"\x03ab", "\x02c"}, used: 5},
	} {
		for cut := 1; cut <= len(stream); cut++ {
			r := Reader{Max: 8, HeadMax: 1}
			var got []string
			used, over := 0, 0
			stopped := false
			for b := stream; len(b) > 0 && !stopped; {
				k := min(cut, len(b))
				u, o, bad := r.Feed(b[:k], byteLen, func(m []byte) bool {
					got = append(got, string(m))
					if string(m) == tc.stop {
						stopped = true
						return false
					}
					return true
				})
				if bad {
					t.Fatalf("%s/%d: bad framing", tc.name, cut)
				}
				used += u
				over += o
				b = b[k:]
			}
			if !slicesEqual(got, tc.want) || used != tc.used || over != tc.oversized {
				t.Errorf("%s/cut %d: got %q used %d oversized %d; want %q %d %d", tc.name, cut, got, used, over, tc.want, tc.used, tc.oversized)
			}
		}
	}
}

func TestBadAndGap(t *testing.T) {
	r := Reader{Max: 8, HeadMax: 1}
	if _, _, bad := r.Feed([]byte{2, 'a', 0, 5}, byteLen, func([]byte) bool { return true }); !bad || !r.Lost() {
		t.Fatal("a zero length was not bad framing")
	}
	r.Reset()
	var got []string
	r.Feed([]byte{20, 1, 2}, byteLen, func(m []byte) bool { got = append(got, string(m)); return true })
	r.Skip(10) // inside the oversized message: still in step
	r.Feed(bytes.Repeat([]byte{9}, 7), byteLen, func(m []byte) bool { got = append(got, string(m)); return true })
	r.Feed([]byte{2, 'z'}, byteLen, func(m []byte) bool { got = append(got, string(m)); return true })
	if r.Lost() || len(got) != 1 || got[0] != "\x02z" {
		t.Fatalf("after a gap in a skipped message: lost %v, got %q", r.Lost(), got)
	}
	r.Feed([]byte{3, 'a'}, byteLen, func([]byte) bool { return true })
	r.Skip(1)
	if !r.Lost() {
		t.Fatal("a gap inside a buffered message kept the framing")
	}
}

func FuzzFeed(f *testing.F) {
	f.Add([]byte{3, 'a', 'b', 2, 'c', 9, 1, 2, 3, 4, 5, 6, 7, 8}, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		r := Reader{Max: 8, HeadMax: 1}
		k := int(cut) % (len(b) + 1)
		total := 0
		for _, p := range [][]byte{b[:k], b[k:]} {
			u, _, _ := r.Feed(p, byteLen, func(m []byte) bool {
				if len(m) > 8 || int(m[0]) != len(m) {
					t.Fatalf("message %x", m)
				}
				return true
			})
			total += u
		}
		if cap(r.buf) > 64 {
			t.Fatalf("buffer grew to %d", cap(r.buf))
		}
	})
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
