package codesign

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// The cpio reader reads the "new ASCII" (newc, magic 070701) and "new CRC" (070702)
// formats, the ones SWUpdate images use: a 110-byte header of hex fields, the name
// (NUL-terminated) padded to a multiple of four from the header's start, the data padded
// to a multiple of four. It reads forward only, so that an image is streamed, never held.

// Bounds of what one archive may declare; beyond them it is malformed.
const (
	maxCpioMembers  = 10000
	maxCpioNameSize = 4096
	cpioHeaderSize  = 110
	cpioTrailer     = "TRAILER!!!"
)

// errCpioEnd is returned by next at the trailer.
var errCpioEnd = errors.New("cpio: end of archive")

// cpioReader walks the members of a newc archive.
type cpioReader struct {
	r       *bufio.Reader
	off     int64 // bytes consumed
	left    int64 // data bytes of the current member not yet read
	pad     int64 // padding after the current member's data
	members int
}

func newCpioReader(r io.Reader) *cpioReader {
	return &cpioReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// cpioMember is one member's header.
type cpioMember struct {
	name string
	size int64
	mode uint32
}

// regular says whether the member is a regular file (S_IFREG).
func (m cpioMember) regular() bool { return m.mode&0o170000 == 0o100000 }

// next skips what is left of the current member and reads the next header. It returns
// errCpioEnd at the trailer, and an error naming the offset for anything malformed.
func (c *cpioReader) next() (cpioMember, error) {
	if err := c.skip(c.left + c.pad); err != nil {
		return cpioMember{}, err
	}
	c.left, c.pad = 0, 0
	if c.members >= maxCpioMembers {
		return cpioMember{}, fmt.Errorf("cpio: more than %d members", maxCpioMembers)
	}
	start := c.off
	var h [cpioHeaderSize]byte
	if err := c.read(h[:]); err != nil {
		return cpioMember{}, fmt.Errorf("cpio: header at offset %d: %w", start, err)
	}
	if string(h[:6]) != "070701" && string(h[:6]) != "070702" {
		return cpioMember{}, fmt.Errorf("cpio: no newc magic at offset %d", start)
	}
	var f [13]uint32
	for i := range f {
		v, ok := hex8(h[6+8*i : 14+8*i])
		if !ok {
			return cpioMember{}, fmt.Errorf("cpio: header at offset %d: field %d is not hexadecimal", start, i)
		}
		f[i] = v
	}
	mode, size, nameSize := f[1], int64(f[6]), int64(f[11])
	if nameSize == 0 || nameSize > maxCpioNameSize {
		return cpioMember{}, fmt.Errorf("cpio: header at offset %d: name of %d bytes", start, nameSize)
	}
	name := make([]byte, nameSize)
	if err := c.read(name); err != nil {
		return cpioMember{}, fmt.Errorf("cpio: name at offset %d: %w", start+cpioHeaderSize, err)
	}
	if name[nameSize-1] != 0 {
		return cpioMember{}, fmt.Errorf("cpio: name at offset %d: not NUL-terminated", start+cpioHeaderSize)
	}
	if err := c.skip(pad4(cpioHeaderSize + nameSize)); err != nil {
		return cpioMember{}, err
	}
	c.members++
	m := cpioMember{name: string(name[:nameSize-1]), size: size, mode: mode}
	if m.name == cpioTrailer {
		return m, errCpioEnd
	}
	c.left, c.pad = size, pad4(size)
	return m, nil
}

// Read reads the current member's data.
func (c *cpioReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.off += int64(n)
	c.left -= int64(n)
	if err == io.EOF && c.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (c *cpioReader) read(p []byte) error {
	n, err := io.ReadFull(c.r, p)
	c.off += int64(n)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (c *cpioReader) skip(n int64) error {
	if n <= 0 {
		return nil
	}
	k, err := io.CopyN(io.Discard, c.r, n)
	c.off += k
	if err != nil {
		return fmt.Errorf("cpio: member data cut at offset %d: %w", c.off, io.ErrUnexpectedEOF)
	}
	return nil
}

func pad4(n int64) int64 { return (4 - n%4) % 4 }

// hex8 parses eight hexadecimal digits.
func hex8(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}
