package updatekeep

import (
	"errors"
	"io"
)

// Chunk sizes of a body held in memory. A body grows in chunks rather than in one slice
// appended to: TFTP hands over 512-byte blocks and FTP and HTTP a segment at a time, and
// an appended slice is copied (and its new tail cleared) at every growth, about five
// times its final size for a 1 MiB body grown by 512 bytes. A new chunk is as large as
// what the body holds already (between minChunk and maxChunk), so a small companion
// wastes at most about half its chunks' room, as the doubling slice did, and no byte is
// copied twice.
const (
	minChunk = 4 << 10
	maxChunk = 256 << 10
)

// chunks are a body's bytes in memory, in order; every chunk but the last is full.
type chunks struct {
	c [][]byte
	n int64 // bytes held
}

// write appends p.
func (cs *chunks) write(p []byte) {
	for len(p) > 0 {
		if len(cs.c) == 0 || len(cs.c[len(cs.c)-1]) == cap(cs.c[len(cs.c)-1]) {
			size := min(max(cs.n, minChunk), maxChunk)
			cs.c = append(cs.c, make([]byte, 0, size))
		}
		last := &cs.c[len(cs.c)-1]
		m := min(len(p), cap(*last)-len(*last))
		*last = append(*last, p[:m]...)
		p = p[m:]
		cs.n += int64(m)
	}
}

// truncate keeps the first n bytes.
func (cs *chunks) truncate(n int64) {
	if n >= cs.n {
		return
	}
	var at int64
	for i, c := range cs.c {
		if at+int64(len(c)) >= n {
			cs.c[i] = c[:n-at]
			clear(cs.c[i+1:])
			cs.c = cs.c[:i+1]
			if n == at && i == 0 {
				cs.c = nil
			}
			break
		}
		at += int64(len(c))
	}
	cs.n = n
}

// writeTo writes every byte to w.
func (cs *chunks) writeTo(w io.Writer) error {
	for _, c := range cs.c {
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	return nil
}

// reader returns a reader over the bytes held now (later writes are not seen).
func (cs *chunks) reader() *chunkReader {
	return &chunkReader{c: cs.c, size: cs.n}
}

// chunkReader reads a body's chunks as one stream: the io.ReadSeekCloser that package
// codesign opens a kept file as, and the source a gzip body is decoded from.
type chunkReader struct {
	c    [][]byte
	size int64
	off  int64
}

// ReadAt reads len(p) bytes at off, as io.ReaderAt says.
func (r *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("updatekeep: negative offset")
	}
	var at int64
	n := 0
	for _, c := range r.c {
		end := at + int64(len(c))
		if off+int64(n) < end && n < len(p) {
			n += copy(p[n:], c[off+int64(n)-at:])
		}
		at = end
		if n == len(p) {
			return n, nil
		}
	}
	return n, io.EOF
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if n > 0 && errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func (r *chunkReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("updatekeep: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("updatekeep: negative position")
	}
	r.off = offset
	return offset, nil
}

// Close does nothing: the chunks stay the Keeper's until it closes.
func (r *chunkReader) Close() error { return nil }
