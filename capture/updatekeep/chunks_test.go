package updatekeep

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// TestChunks holds a body grown in pieces of every size equal to the bytes written:
// read whole, read after seeks, read at offsets across chunk edges, and truncated.
func TestChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, minChunk - 1, minChunk, minChunk + 1, 3*maxChunk + 17} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(rng.Uint32())
		}
		var cs chunks
		for p := want; len(p) > 0; {
			n := min(len(p), 1+rng.IntN(1500))
			cs.write(p[:n])
			p = p[n:]
		}
		if cs.n != int64(size) {
			t.Fatalf("size %d: holds %d", size, cs.n)
		}
		got, err := io.ReadAll(cs.reader())
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: read %d bytes (err %v), not the bytes written", size, len(got), err)
		}
		var buf bytes.Buffer
		if err := cs.writeTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("size %d: writeTo differs", size)
		}
		r := cs.reader()
		for range 50 {
			off := int64(rng.IntN(size + 2))
			if _, err := r.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			p := make([]byte, rng.IntN(2*maxChunk))
			n, _ := io.ReadFull(r, p)
			wantN := max(0, min(len(p), size-int(off)))
			if n != wantN || !bytes.Equal(p[:n], want[min(int(off), size):min(int(off), size)+n]) {
				t.Fatalf("size %d: at %d read %d bytes, want %d of the body", size, off, n, wantN)
			}
		}
		if end, _ := r.Seek(0, io.SeekEnd); end != int64(size) {
			t.Fatalf("size %d: end at %d", size, end)
		}
		cut := rng.IntN(size + 1)
		cs.truncate(int64(cut))
		if got, _ := io.ReadAll(cs.reader()); !bytes.Equal(got, want[:cut]) {
			t.Fatalf("size %d: truncated to %d, read %d bytes", size, cut, len(got))
		}
		cs.write([]byte("tail"))
		if got, _ := io.ReadAll(cs.reader()); !bytes.Equal(got, append(want[:cut:cut], "tail"...)) {
			t.Fatalf("size %d: write after truncate to %d differs", size, cut)
		}
	}
}
