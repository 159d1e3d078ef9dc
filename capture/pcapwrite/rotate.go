package pcapwrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Defaults for the zero values of RotateOptions.
const (
	DefaultMaxFileBytes  = 100 << 20
	DefaultMaxFileAge    = time.Hour
	DefaultMaxTotalBytes = 2 << 30
	DefaultSnapLen       = 262144
	DefaultPrefix        = "medscan"
)

const (
	fileHeaderLen   = 24
	recordHeaderLen = 16
	bufferSize      = 256 << 10
	magicNanos      = 0xa1b23c4d
)

// RotateOptions bound the files a Rotator writes.
type RotateOptions struct {
	MaxFileBytes  int64         // a file is closed before it grows past this; DefaultMaxFileBytes when zero
	MaxFileAge    time.Duration // a file is closed once it spans this much capture time; DefaultMaxFileAge when zero
	MaxTotalBytes int64         // the oldest files are deleted to stay under this; DefaultMaxTotalBytes when zero
	LinkType      uint32        // pcap link type of every packet (1 for Ethernet)
	SnapLen       int           // bytes kept per packet; DefaultSnapLen when zero
	Prefix        string        // file name prefix; DefaultPrefix when empty
}

// file is what the Rotator needs of an open file (a test replaces it to fail writes).
type file interface {
	Write(p []byte) (int, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

// diskFile is a file in the directory, counted against the total cap.
type diskFile struct {
	path string
	size int64
}

// Rotator writes packets into a directory of rotated pcap files. It is not safe for
// concurrent use.
type Rotator struct {
	dir string
	opt RotateOptions

	create func(path string) (file, error)

	old     []diskFile // closed files, oldest first
	oldSize int64

	f       file
	path    string
	seq     int
	start   int64 // capture time of the file's first packet, ns
	size    int64 // bytes of the file, the buffered ones included
	flushed int64 // bytes already in the file
	buf     []byte
	err     error
	dropped uint64
	written uint64
}

// NewRotator prepares to write into dir, which is created if missing. No file is
// created before the first packet.
func NewRotator(dir string, opt RotateOptions) (*Rotator, error) {
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = DefaultMaxFileBytes
	}
	if opt.MaxFileAge <= 0 {
		opt.MaxFileAge = DefaultMaxFileAge
	}
	if opt.MaxTotalBytes <= 0 {
		opt.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if opt.SnapLen <= 0 {
		opt.SnapLen = DefaultSnapLen
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opt.Prefix, `/\`) {
		return nil, fmt.Errorf("pcapwrite: prefix %q must not contain a path separator", opt.Prefix)
	}
	if opt.MaxFileBytes > opt.MaxTotalBytes {
		return nil, fmt.Errorf("pcapwrite: %s: a file of up to %d bytes cannot fit a total of %d", dir, opt.MaxFileBytes, opt.MaxTotalBytes)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("pcapwrite: %w", err)
	}
	r := &Rotator{dir: dir, opt: opt, create: createFile, buf: make([]byte, 0, bufferSize)}
	// Files of earlier runs count against the cap; their names sort oldest first.
	matches, err := filepath.Glob(filepath.Join(dir, opt.Prefix+"-*.pcap"))
	if err != nil {
		return nil, fmt.Errorf("pcapwrite: %s: %w", dir, err)
	}
	slices.Sort(matches)
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		r.old = append(r.old, diskFile{m, st.Size()})
		r.oldSize += st.Size()
	}
	return r, nil
}

func createFile(path string) (file, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
}

// WritePacket appends one packet: its capture time, the captured bytes (cut to
// SnapLen) and its length on the wire. After a write error, which it returns once, it
// keeps nothing and returns nil.
func (r *Rotator) WritePacket(ts time.Time, data []byte, origLen int) error {
	if r.err != nil {
		r.dropped++
		return nil
	}
	if len(data) > r.opt.SnapLen {
		data = data[:r.opt.SnapLen]
	}
	origLen = max(origLen, len(data))
	rec := int64(recordHeaderLen + len(data))
	ns := ts.UnixNano()
	// A file holds at least one packet, however small MaxFileBytes is.
	if r.f != nil && r.size > fileHeaderLen && (r.size+rec > r.opt.MaxFileBytes || ns-r.start >= int64(r.opt.MaxFileAge)) {
		if err := r.closeFile(); err != nil {
			return r.fail(err)
		}
	}
	if r.f == nil {
		if err := r.openFile(ts); err != nil {
			return r.fail(err)
		}
	}
	if err := r.makeRoom(rec); err != nil {
		return r.fail(err)
	}
	if len(r.buf)+int(rec) > cap(r.buf) {
		if err := r.flush(); err != nil {
			return r.fail(err)
		}
	}
	secs := ts.Unix()
	r.buf = binary.LittleEndian.AppendUint32(r.buf, uint32(secs))
	r.buf = binary.LittleEndian.AppendUint32(r.buf, uint32(ts.Nanosecond()))
	r.buf = binary.LittleEndian.AppendUint32(r.buf, uint32(len(data)))
	r.buf = binary.LittleEndian.AppendUint32(r.buf, uint32(origLen))
	r.buf = append(r.buf, data...)
	r.size += rec
	r.written++
	return nil
}

// fail records the error that stops writing, closing the file as best it can.
func (r *Rotator) fail(err error) error {
	r.err = err
	r.dropped++
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	return err
}

// openFile starts a file named after the capture time ts.
func (r *Rotator) openFile(ts time.Time) error {
	stamp := ts.UTC().Format("20060102T150405Z")
	for range 10000 {
		r.seq++
		path := filepath.Join(r.dir, fmt.Sprintf("%s-%s-%04d.pcap", r.opt.Prefix, stamp, r.seq))
		f, err := r.create(path)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("pcapwrite: %w", err)
		}
		r.f, r.path, r.start = f, path, ts.UnixNano()
		r.size, r.flushed = 0, 0
		hdr := make([]byte, 0, fileHeaderLen)
		hdr = binary.LittleEndian.AppendUint32(hdr, magicNanos)
		hdr = binary.LittleEndian.AppendUint16(hdr, 2)
		hdr = binary.LittleEndian.AppendUint16(hdr, 4)
		hdr = binary.LittleEndian.AppendUint32(hdr, 0) // thiszone
		hdr = binary.LittleEndian.AppendUint32(hdr, 0) // sigfigs
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(r.opt.SnapLen))
		hdr = binary.LittleEndian.AppendUint32(hdr, r.opt.LinkType)
		r.buf = append(r.buf[:0], hdr...)
		r.size = fileHeaderLen
		return nil
	}
	return fmt.Errorf("pcapwrite: %s: no free file name for %s", r.dir, stamp)
}

// makeRoom deletes the oldest closed files until rec more bytes fit under the cap.
func (r *Rotator) makeRoom(rec int64) error {
	for len(r.old) > 0 && r.oldSize+r.size+rec > r.opt.MaxTotalBytes {
		o := r.old[0]
		if err := os.Remove(o.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pcapwrite: %w", err)
		}
		r.old = r.old[1:]
		r.oldSize -= o.size
	}
	return nil
}

// flush writes the buffer; on an error the file is cut back to its last whole record.
func (r *Rotator) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	n, err := r.f.Write(r.buf)
	if err != nil {
		if n > 0 {
			r.f.Truncate(r.flushed)
		}
		r.buf = r.buf[:0]
		return fmt.Errorf("pcapwrite: %s: %w (capture continues; packets are no longer kept)", r.path, err)
	}
	r.flushed += int64(n)
	r.buf = r.buf[:0]
	return nil
}

// sync flushes the buffer and asks the kernel to put the file on disk.
func (r *Rotator) sync() error {
	if err := r.flush(); err != nil {
		return err
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("pcapwrite: %s: %w", r.path, err)
	}
	return nil
}

// closeFile finishes the current file and counts it against the cap.
func (r *Rotator) closeFile() error {
	if err := r.sync(); err != nil {
		return err
	}
	if err := r.f.Close(); err != nil {
		r.f = nil
		return fmt.Errorf("pcapwrite: %s: %w", r.path, err)
	}
	r.f = nil
	r.old = append(r.old, diskFile{r.path, r.size})
	r.oldSize += r.size
	return nil
}

// Flush puts what was written so far on disk (a caller does it when it commits what it
// learned, so that the packets behind a finding are there too).
func (r *Rotator) Flush() error {
	if r.err != nil || r.f == nil {
		return nil
	}
	if err := r.sync(); err != nil {
		return r.fail(err)
	}
	return nil
}

// Close finishes the current file. It returns a write error not yet returned, if any.
func (r *Rotator) Close() error {
	if r.err != nil || r.f == nil {
		return nil
	}
	if err := r.closeFile(); err != nil {
		return r.fail(err)
	}
	return nil
}

// Err returns the error that stopped writing, or nil.
func (r *Rotator) Err() error { return r.err }

// Stats returns how many packets were kept and how many were not, after an error.
func (r *Rotator) Stats() (written, dropped uint64) { return r.written, r.dropped }

// Files returns the files of the directory under the cap, oldest first, the one being
// written last.
func (r *Rotator) Files() []string {
	var out []string
	for _, o := range r.old {
		out = append(out, o.path)
	}
	if r.f != nil {
		out = append(out, r.path)
	}
	return out
}
