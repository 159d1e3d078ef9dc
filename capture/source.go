package capture

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"strconv"
	"time"

	"github.com/medscan/medscan/observe"
)

// Limits on what a capture file may claim. A record or block beyond them is not a packet
// any link carries, so the file is corrupt and reading stops there rather than allocating.
const (
	// MaxRecordLen is the largest captured packet accepted (libpcap's own maximum snaplen).
	MaxRecordLen = 262144
	// maxBlockLen bounds the pcapng blocks that are parsed in memory (SHB, IDB, EPB, SPB).
	maxBlockLen = 1 << 20
	// maxSkipBlockLen bounds pcapng blocks of other types, which are skipped unread.
	maxSkipBlockLen = 64 << 20
	// maxInterfaces bounds the interfaces of one pcapng section.
	maxInterfaces = 1 << 16
	// readBufSize holds the largest parsed block, so every packet is a view into the
	// buffer (zero copy).
	readBufSize = maxBlockLen + 4096
)

// How often a read looks at its context: after this many records or blocks, or this
// many bytes of the (decompressed) stream, whichever comes first. An endless stream of
// empty 16-byte records and a gzip bomb of large ones both stop within milliseconds.
const (
	pollRecords = 4096
	pollBytes   = 1 << 20
)

// Magic numbers of the formats read.
const (
	pcapMagicMicro    = 0xa1b2c3d4
	pcapMagicNano     = 0xa1b23c4d
	pcapMagicModified = 0xa1b2cd34 // Kuznetzov's patched libpcap: 8 more bytes per record
	pcapngSHB         = 0x0a0d0d0a
	pcapngBOM         = 0x1a2b3c4d
)

// pcapng block types read.
const (
	blockIDB = 0x00000001
	blockOPB = 0x00000002 // obsolete packet block
	blockSPB = 0x00000003
	blockEPB = 0x00000006
)

// ReadFile reads one capture file ("-" means stdin). It returns nil or a *SourceError;
// everything decoded before an error stays in the engine. It also records the problem in
// the Set.
func (e *Engine) ReadFile(path string) error {
	return e.ReadFileContext(context.Background(), path)
}

// ReadFileContext is ReadFile that stops when ctx is done (ReadContext).
func (e *Engine) ReadFileContext(ctx context.Context, path string) error {
	if path == "-" {
		return e.ReadContext(ctx, "-", os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("cannot open: %w", pe.Err)
		}
		return e.report(&SourceError{File: path, Offset: -1, Err: err})
	}
	defer f.Close()
	return e.ReadContext(ctx, path, f)
}

// Read reads one capture stream (pcap, pcapng, or either gzip-compressed) named name in
// errors. It returns nil or a *SourceError and records the problem in the Set.
func (e *Engine) Read(name string, r io.Reader) error {
	return e.ReadContext(context.Background(), name, r)
}

// ReadContext is Read that stops when ctx is done, within a few thousand records or a
// megabyte of the stream, and without waiting for input that does not come (a pipe from
// a capture that went quiet): the error then wraps ErrInterrupted and names ctx's cause
// (a signal), and what was decoded before stays in the engine.
func (e *Engine) ReadContext(ctx context.Context, name string, r io.Reader) error {
	r = ContextReader(ctx, r)
	if err := e.read(ctx, name, r); err != nil {
		return e.report(err)
	}
	return nil
}

// ContextReader returns a reader of r whose reads end when ctx is done, even one that
// waits for input, with an error wrapping ErrInterrupted: for the reads of standard input
// before the engine's (Sniff). A context that is never done returns r itself.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	if ctx.Done() == nil {
		return r
	}
	if c, ok := r.(*ctxReader); ok && c.ctx == ctx {
		return r
	}
	return &ctxReader{ctx: ctx, r: r}
}

// ctxReader ends a Read when its context is done, even one waiting for input: the read
// runs in a goroutine, into the ctxReader's own buffer, and is abandoned on cancel (the
// goroutine ends when its read returns). Each Read fills a large bufio buffer, so the
// goroutine costs nothing measurable.
type ctxReader struct {
	ctx  context.Context
	r    io.Reader
	buf  []byte
	done chan ctxRead
}

type ctxRead struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, interrupted(c.ctx)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	if c.done == nil {
		c.done = make(chan ctxRead, 1)
	}
	buf, done := c.buf[:len(p)], c.done
	go func() {
		n, err := c.r.Read(buf)
		done <- ctxRead{n, err}
	}()
	select {
	case res := <-done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		// The goroutine still owns buf and done: never used again.
		c.buf, c.done = nil, nil
		return 0, interrupted(c.ctx)
	}
}

// interrupted is the error of a read cancelled by ctx, naming why ("SIGINT received").
func interrupted(ctx context.Context) error {
	return fmt.Errorf("%w (%v)", ErrInterrupted, context.Cause(ctx))
}

func (e *Engine) report(se *SourceError) error {
	e.set.Problem(observe.Problem{Source: se.File, Offset: se.Offset, Message: se.Err.Error(), Fatal: true})
	return se
}

// reader walks one capture stream, keeping the byte offset for error messages.
type reader struct {
	e    *Engine
	ctx  context.Context
	name string
	br   *bufio.Reader
	off  int64
	gz   bool
	// last is the latest record time, given to simple packet blocks, which carry none.
	last time.Time
	// records and polledAt count the records and bytes since the context was last
	// looked at (poll).
	records  int
	polledAt int64
}

// poll returns an ErrInterrupted error once the context is done, looking at it every
// pollRecords records or pollBytes bytes: the reading loops call it for every record or
// block, however small, so no input (an endless run of empty records, a gzip bomb)
// keeps a cancelled scan reading.
func (r *reader) poll() *SourceError {
	r.records++
	if r.records < pollRecords && r.off-r.polledAt < pollBytes {
		return nil
	}
	r.records, r.polledAt = 0, r.off
	if r.ctx.Err() != nil {
		return r.errAt(r.off, interrupted(r.ctx))
	}
	return nil
}

func (e *Engine) read(ctx context.Context, name string, in io.Reader) *SourceError {
	if e.rawBuf == nil {
		e.rawBuf = bufio.NewReaderSize(in, readBufSize)
	} else {
		e.rawBuf.Reset(in)
	}
	r := &reader{e: e, ctx: ctx, name: name, br: e.rawBuf}
	magic, err := r.br.Peek(4)
	if len(magic) == 0 {
		if err == io.EOF {
			return r.errAt(0, notCapture("the file is empty"))
		}
		return r.errAt(0, fmt.Errorf("read: %w", err))
	}
	if isGzip(magic) {
		// gzip.Reader is multistream by default: concatenated members read as one.
		if e.gzip == nil {
			e.gzip, err = gzip.NewReader(r.br)
		} else {
			err = e.gzip.Reset(r.br)
		}
		if err != nil {
			return r.errAt(0, fmt.Errorf("decompressing: %w", err))
		}
		if e.gzBuf == nil {
			e.gzBuf = bufio.NewReaderSize(e.gzip, readBufSize)
		} else {
			e.gzBuf.Reset(e.gzip)
		}
		r.br, r.gz = e.gzBuf, true
		magic, err = r.br.Peek(4)
		if len(magic) < 4 {
			if err == io.EOF {
				return r.errAt(0, notCapture("the gzip stream holds "+nBytes(len(magic))))
			}
			return r.errAt(0, r.readErr("file header", err))
		}
	}
	if len(magic) < 4 {
		return r.errAt(0, notCapture(fmt.Sprintf("the file is only %s (% x)", nBytes(len(magic)), magic)))
	}
	switch format, bo := captureFormat(magic); format {
	case "pcapng":
		return r.pcapng()
	case "pcap":
		return r.pcap(bo)
	}
	first, _ := r.br.Peek(sniffShown)
	return r.errAt(0, notCapture(startsWith(first)))
}

// captureFormat names the format whose magic number starts b (4 bytes at least):
// "pcap" with its byte order, "pcapng", or "" for neither.
func captureFormat(b []byte) (string, binary.ByteOrder) {
	switch m := binary.LittleEndian.Uint32(b); {
	case m == pcapngSHB:
		return "pcapng", nil
	case m == pcapMagicMicro || m == pcapMagicNano || m == pcapMagicModified:
		return "pcap", binary.LittleEndian
	}
	switch binary.BigEndian.Uint32(b) {
	case pcapMagicMicro, pcapMagicNano, pcapMagicModified:
		return "pcap", binary.BigEndian
	}
	return "", nil
}

// nBytes counts bytes in words.
func nBytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// sniffShown is how many of the first bytes of an input that is not a capture its error
// shows.
const sniffShown = 16

// notCapture is the error of an input that holds no capture at all, why says how.
func notCapture(why string) error {
	return fmt.Errorf("%w (pcap or pcapng, optionally gzip-compressed): %s", ErrNotCapture, why)
}

// startsWith shows an input's first bytes through the one sanitizer: a file of text
// reads as its text, and no byte of it can act on the terminal that shows the error.
func startsWith(first []byte) string {
	return `starts with "` + observe.Text(first, 4*sniffShown) + `"`
}

// SniffWindow is the buffer size Sniff wants of its reader: enough to find the first
// bytes of any gzip stream's content.
const SniffWindow = 64 << 10

// Sniff tells, before a stream is read, whether it holds a capture at all: pcap or
// pcapng, plain or gzip-compressed. It consumes nothing of br (it peeks, waiting for no
// more bytes than it needs, so a pipe from a live capture is not held up), so the stream
// is then read whole. It returns nil, or a *SourceError for name wrapping ErrNotCapture
// for a stream that is empty, not a capture, or a gzip stream of something else (or a
// read error). A stream that starts as a capture passes even if damaged later: reading it
// keeps what comes before the damage, and a scan stored from it says it is incomplete.
func Sniff(name string, br *bufio.Reader) error {
	fail := func(err error) error { return &SourceError{File: name, Offset: -1, Err: err} }
	magic, err := br.Peek(4)
	if len(magic) < 4 {
		switch {
		case err != io.EOF:
			return fail(fmt.Errorf("read: %w", err))
		case len(magic) == 0:
			return fail(notCapture("the file is empty"))
		}
		return fail(notCapture(fmt.Sprintf("the file is only %s (% x)", nBytes(len(magic)), magic)))
	}
	if !isGzip(magic) {
		if format, _ := captureFormat(magic); format != "" {
			return nil
		}
		first, _ := br.Peek(min(sniffShown, max(4, br.Buffered())))
		return fail(notCapture(startsWith(first)))
	}
	zr, err := gzip.NewReader(&peekReader{br: br})
	switch {
	case errors.Is(err, errPeekWindow):
		return nil // a header too long to judge here: reading will
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fail(notCapture("the gzip stream ends in its header"))
	case errors.Is(err, gzip.ErrHeader):
		return fail(notCapture("the gzip header is damaged"))
	case err != nil:
		return fail(fmt.Errorf("read: %w", err))
	}
	var first [sniffShown]byte
	n, err := io.ReadAtLeast(zr, first[:], 4)
	switch {
	case n >= 4:
		if format, _ := captureFormat(first[:]); format != "" {
			return nil
		}
		return fail(notCapture("the gzip stream " + startsWith(first[:n])))
	case errors.Is(err, errPeekWindow):
		return nil
	case n == 0 && errors.Is(err, io.EOF):
		return fail(notCapture("the gzip stream is empty"))
	}
	return fail(notCapture("the gzip stream holds " + nBytes(n)))
}

// errPeekWindow is the end of what Sniff peeks: the stream goes on beyond it.
var errPeekWindow = errors.New("capture: beyond the sniffing window")

// peekReader reads a bufio.Reader ahead without consuming it, up to its buffer size. Each
// Read returns what is buffered already, or waits for one more byte: never more than a
// decompressor asked for.
type peekReader struct {
	br  *bufio.Reader
	off int
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if p.off >= p.br.Size() {
		return 0, errPeekWindow
	}
	n := max(p.off+1, min(p.off+len(b), p.br.Buffered(), p.br.Size()))
	buf, err := p.br.Peek(n)
	c := copy(b, buf[min(p.off, len(buf)):])
	p.off += c
	if c == 0 {
		if err == nil || errors.Is(err, bufio.ErrBufferFull) {
			err = errPeekWindow
		}
		return 0, err
	}
	return c, nil
}

// errAt builds the SourceError for a problem at offset off.
func (r *reader) errAt(off int64, err error) *SourceError {
	if r.gz {
		err = fmt.Errorf("%w (offset in the decompressed stream)", err)
	}
	return &SourceError{File: r.name, Offset: off, Err: err}
}

// readErr describes a failed read that was not a clean end of input.
func (r *reader) readErr(what string, err error) error {
	if errors.Is(err, ErrInterrupted) {
		return err
	}
	if r.gz && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader)) {
		return fmt.Errorf("%w gzip stream in %s: %v", ErrTruncated, what, err)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

// peek returns the next n bytes without consuming them, or a truncation error.
func (r *reader) peek(n int, what string) ([]byte, *SourceError) {
	b, err := r.br.Peek(n)
	if len(b) == n {
		return b, nil
	}
	if err == io.EOF {
		return nil, r.errAt(r.off, fmt.Errorf("%w %s: %d of %d bytes", ErrTruncated, what, len(b), n))
	}
	return nil, r.errAt(r.off, r.readErr(what, err))
}

// atEnd reports whether the input ended cleanly at a record boundary.
func (r *reader) atEnd() (bool, *SourceError) {
	b, err := r.br.Peek(1)
	if len(b) == 1 {
		return false, nil
	}
	if err == io.EOF {
		return true, nil
	}
	return false, r.errAt(r.off, r.readErr("next record", err))
}

// skip consumes n bytes, a megabyte at a time so that a long skipped block (up to
// maxSkipBlockLen, maybe decompressed from a few bytes) is cut short by a cancel.
func (r *reader) skip(n int) *SourceError {
	for n > 0 {
		chunk := min(n, pollBytes)
		d, err := r.br.Discard(chunk)
		r.off += int64(d)
		n -= d
		if d < chunk {
			if err == io.EOF {
				return r.errAt(r.off, fmt.Errorf("%w block: %d bytes missing", ErrTruncated, n))
			}
			return r.errAt(r.off, r.readErr("block", err))
		}
		if n > 0 && r.ctx.Err() != nil {
			return r.errAt(r.off, interrupted(r.ctx))
		}
	}
	return nil
}

// pcap reads a classic pcap stream in byte order bo.
func (r *reader) pcap(bo binary.ByteOrder) *SourceError {
	h, serr := r.peek(24, "pcap file header")
	if serr != nil {
		return serr
	}
	magic := bo.Uint32(h)
	nano := magic == pcapMagicNano
	hdrLen := 16
	if magic == pcapMagicModified {
		hdrLen = 24
	}
	if major := bo.Uint16(h[4:]); major != 2 {
		return r.errAt(4, fmt.Errorf("%w: unsupported pcap version %d.%d", ErrMalformed, major, bo.Uint16(h[6:])))
	}
	// The upper bits may say the frames end in an FCS; the IP length fields make
	// trailing bytes harmless, so only the link type itself is read.
	link := bo.Uint32(h[20:]) & 0xffff
	if !supportedLink(link) {
		return r.errAt(20, fmt.Errorf("%w %d (%s) in pcap header", ErrLinkType, link, linkName(link)))
	}
	if serr := r.skip(24); serr != nil {
		return serr
	}
	for {
		if serr := r.poll(); serr != nil {
			return serr
		}
		if end, serr := r.atEnd(); end || serr != nil {
			return serr
		}
		rh, serr := r.peek(hdrLen, "packet record header")
		if serr != nil {
			return serr
		}
		sec, frac := bo.Uint32(rh), bo.Uint32(rh[4:])
		capLen := bo.Uint32(rh[8:])
		if capLen > MaxRecordLen {
			return r.errAt(r.off+8, fmt.Errorf("%w: record length %d exceeds the %d-byte limit", ErrAbsurdLength, capLen, MaxRecordLen))
		}
		total := hdrLen + int(capLen)
		rec, serr := r.peek(total, "packet record")
		if serr != nil {
			return serr
		}
		ns := int64(frac)
		if !nano {
			ns *= 1000
		}
		r.last = time.Unix(int64(sec), ns)
		r.e.Packet(link, rec[hdrLen:], r.last)
		if serr := r.skip(total); serr != nil {
			return serr
		}
	}
}

// iface is one pcapng interface: how to read its packets' link layer and timestamps.
type iface struct {
	link    uint32
	bad     bool // unsupported link type or timestamp resolution: packets are skipped
	pow2    bool // timestamp units are 2^-res seconds, else 10^-res
	res     uint8
	offset  int64 // if_tsoffset, seconds
	snapLen uint32
}

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
	1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// time converts a pcapng timestamp in the interface's units to a time.
func (f *iface) time(units uint64) time.Time {
	var sec, ns uint64
	if f.pow2 {
		p := uint(f.res)
		sec = units >> p
		frac := units & (1<<p - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		if p > 0 {
			ns = hi<<(64-p) | lo>>p
		}
	} else {
		div := pow10[f.res]
		sec, ns = units/div, units%div
		if f.res <= 9 {
			ns *= pow10[9-f.res]
		} else {
			ns /= pow10[f.res-9]
		}
	}
	return time.Unix(int64(sec)+f.offset, int64(ns))
}

// pcapng reads a pcapng stream: any number of sections, each with its own byte order
// and interfaces.
func (r *reader) pcapng() *SourceError {
	var bo binary.ByteOrder = binary.LittleEndian
	ifaces := r.e.ifaces[:0]
	defer func() { r.e.ifaces = ifaces[:0] }()
	for {
		if serr := r.poll(); serr != nil {
			return serr
		}
		if end, serr := r.atEnd(); end || serr != nil {
			return serr
		}
		start := r.off
		h, serr := r.peek(8, "block header")
		if serr != nil {
			return serr
		}
		if binary.LittleEndian.Uint32(h) == pcapngSHB {
			h, serr = r.peek(12, "section header")
			if serr != nil {
				return serr
			}
			switch {
			case binary.LittleEndian.Uint32(h[8:]) == pcapngBOM:
				bo = binary.LittleEndian
			case binary.BigEndian.Uint32(h[8:]) == pcapngBOM:
				bo = binary.BigEndian
			default:
				return r.errAt(start+8, fmt.Errorf("%w: section header byte-order magic is % x", ErrMalformed, h[8:12]))
			}
		}
		typ, blen := bo.Uint32(h), bo.Uint32(h[4:])
		if blen < 12 || blen%4 != 0 {
			return r.errAt(start+4, fmt.Errorf("%w: block length %d is not a multiple of 4 of at least 12", ErrMalformed, blen))
		}
		parsed := typ == pcapngSHB || typ == blockIDB || typ == blockEPB || typ == blockSPB || typ == blockOPB
		if blen > maxBlockLen {
			if parsed || blen > maxSkipBlockLen {
				return r.errAt(start+4, fmt.Errorf("%w: block length %d of block type 0x%08x exceeds the limit", ErrAbsurdLength, blen, typ))
			}
			if serr := r.skip(int(blen)); serr != nil {
				return serr
			}
			continue
		}
		b, serr := r.peek(int(blen), "block")
		if serr != nil {
			return serr
		}
		if t := bo.Uint32(b[blen-4:]); t != blen {
			return r.errAt(start+int64(blen)-4, fmt.Errorf("%w: block trailer length %d differs from header length %d", ErrMalformed, t, blen))
		}
		body := b[8 : blen-4]
		switch typ {
		case pcapngSHB:
			if len(body) < 16 {
				return r.errAt(start, fmt.Errorf("%w: section header block is %d bytes", ErrMalformed, blen))
			}
			if major := bo.Uint16(body[4:]); major != 1 {
				return r.errAt(start+12, fmt.Errorf("%w: unsupported pcapng version %d.%d", ErrMalformed, major, bo.Uint16(body[6:])))
			}
			ifaces = ifaces[:0]
		case blockIDB:
			if len(body) < 8 {
				r.e.cnt[cPcapngBadBlocks]++
				break
			}
			if len(ifaces) >= maxInterfaces {
				r.e.cnt[cPcapngBadBlocks]++
				break
			}
			f := iface{link: uint32(bo.Uint16(body)), snapLen: bo.Uint32(body[4:]), res: 6}
			r.options(bo, body[8:], &f)
			if !supportedLink(f.link) {
				f.bad = true
				r.e.set.Problem(observe.Problem{Source: r.name, Offset: start, Message: fmt.Sprintf(
					"%v %d (%s) in pcapng interface %d; its packets are skipped", ErrLinkType, f.link, linkName(f.link), len(ifaces))})
			}
			ifaces = append(ifaces, f)
		case blockEPB, blockOPB:
			var id uint32
			var body2 []byte
			if typ == blockEPB {
				if len(body) < 20 {
					r.e.cnt[cPcapngBadBlocks]++
					break
				}
				id, body2 = bo.Uint32(body), body[4:]
			} else {
				if len(body) < 20 {
					r.e.cnt[cPcapngBadBlocks]++
					break
				}
				id, body2 = uint32(bo.Uint16(body)), body[4:]
			}
			units := uint64(bo.Uint32(body2))<<32 | uint64(bo.Uint32(body2[4:]))
			capLen := bo.Uint32(body2[8:])
			data := body2[16:]
			if capLen > uint32(len(data)) || capLen > MaxRecordLen {
				r.e.cnt[cPcapngBadBlocks]++
				break
			}
			data = data[:capLen]
			if int(id) >= len(ifaces) {
				r.e.cnt[cPcapngUnknownIface]++
				break
			}
			f := &ifaces[id]
			r.last = f.time(units)
			r.packet(f, data)
		case blockSPB:
			if len(body) < 4 || len(ifaces) == 0 {
				r.e.cnt[cPcapngBadBlocks]++
				break
			}
			f := &ifaces[0]
			origLen := bo.Uint32(body)
			data := body[4:]
			capLen := min(origLen, uint32(len(data)))
			if f.snapLen > 0 {
				capLen = min(capLen, f.snapLen)
			}
			r.packet(f, data[:capLen])
		}
		if serr := r.skip(int(blen)); serr != nil {
			return serr
		}
	}
}

// packet hands one pcapng packet to the engine, or counts why not.
func (r *reader) packet(f *iface, data []byte) {
	if f.bad {
		r.e.packets.Add(1)
		r.e.bytes.Add(uint64(len(data)))
		r.e.cnt[cUnsupportedLink]++
		return
	}
	r.e.Packet(f.link, data, r.last)
}

// options reads the interface description options that change how packets are read.
func (r *reader) options(bo binary.ByteOrder, b []byte, f *iface) {
	for len(b) >= 4 {
		code, n := bo.Uint16(b), int(bo.Uint16(b[2:]))
		b = b[4:]
		if code == 0 || n > len(b) {
			return
		}
		v := b[:n]
		switch code {
		case 9: // if_tsresol
			if n >= 1 {
				f.pow2, f.res = v[0]&0x80 != 0, v[0]&0x7f
				if (f.pow2 && f.res > 63) || (!f.pow2 && f.res > 19) {
					f.bad = true
					r.e.set.Problem(observe.Problem{Source: r.name, Offset: r.off, Message: fmt.Sprintf(
						"%v: pcapng interface timestamp resolution 0x%02x is out of range; its packets are skipped", ErrMalformed, v[0])})
					f.pow2, f.res = false, 6
				}
			}
		case 14: // if_tsoffset
			if n >= 8 {
				f.offset = int64(bo.Uint64(v))
			}
		}
		pad := (n + 3) &^ 3
		if pad > len(b) {
			return
		}
		b = b[pad:]
	}
}
