package updatekeep

import (
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/netip"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medscan/medscan/observe"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxImage     = 512 << 20 // --max-update-size
	DefaultMaxCompanion = 1 << 20   // a signature or manifest is a few KiB; 1 MiB leaves room for long manifests
	DefaultMemPerFile   = 1 << 20
	DefaultMaxMem       = 64 << 20
	DefaultMaxTotal     = 4 << 30
	DefaultMaxFiles     = 4096
	// DefaultMinImage matches cleartext-update's threshold (rules/cleartext.MinImageBytes):
	// only what that rule calls an image is examined.
	DefaultMinImage = 64 << 10
)

// Options bound what a Keeper holds. Zero values take the defaults above.
type Options struct {
	MaxImage     int64 // bytes of one image kept; the rest is hashed, not kept (Cut)
	MaxCompanion int64 // bytes of one signature or manifest kept
	MemPerFile   int64 // a body longer than this is spilled to a temporary file
	MaxMem       int64 // bytes held in memory by all bodies together; past it new bytes spill
	MaxTotal     int64 // bytes kept by all bodies together, in memory and on disk
	MaxFiles     int   // bodies kept or being kept at once
	MinImage     int64 // an image shorter than this is not kept (cleartext-update ignores it)
	TempDir      string
}

func (o *Options) fill() {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxImage, DefaultMaxImage)
	def(&o.MaxCompanion, DefaultMaxCompanion)
	def(&o.MemPerFile, DefaultMemPerFile)
	def(&o.MaxMem, DefaultMaxMem)
	def(&o.MaxTotal, DefaultMaxTotal)
	def(&o.MinImage, DefaultMinImage)
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
}

// Role is what a dissector knows of a body when it begins.
type Role uint8

// Roles.
const (
	// RoleUnknown is a body whose name or kind is settled only when it ends (an FTP data
	// connection may open before its RETR is read): kept up to MaxImage, trimmed to
	// MaxCompanion if it turns out a companion.
	RoleUnknown Role = iota
	RoleImage
	RoleCompanion
)

// Counter names. Each says what was not kept, or kept only in part.
const (
	CountKept        = "updates_kept"                // images and companions handed on
	CountCut         = "updates_cut"                 // images longer than MaxImage: the first MaxImage bytes kept
	CountCompCut     = "update_companions_cut"       // companions longer than MaxCompanion
	CountBytesCut    = "update_bytes_not_kept"       // bytes past a cut (hashed, not kept)
	CountGap         = "updates_not_kept_gap"        // bytes were lost on the wire
	CountBudget      = "updates_not_kept_budget"     // MaxTotal or MaxFiles reached
	CountIOError     = "updates_not_kept_io_error"   // the temporary file could not be written
	CountUnpaired    = "update_companions_unpaired"  // a signature or manifest with no image beside it
	CountEncoded     = "updates_not_kept_encoded"    // an HTTP body with a Content-Encoding (see docs/updates.md)
	CountDuplicate   = "update_copies_merged"        // the same bytes at the same path again: one copy kept
	CountSmallImages = "update_images_below_minimum" // identified as images but shorter than MinImage
	CountDecoded     = "updates_decoded_gzip"        // HTTP bodies under Content-Encoding: gzip, kept decoded
	CountDecodeError = "updates_not_kept_bad_gzip"   // ... whose gzip stream did not decode
)

// Keeper collects the bodies of one scan. Its methods are safe for concurrent use by the
// capture workers; a Body belongs to the one stream that began it. The nil Keeper keeps
// nothing (--max-update-size 0), and every method works on it.
type Keeper struct {
	opt   Options
	mem   atomic.Int64 // bytes in memory
	total atomic.Int64 // bytes kept, memory and disk
	files atomic.Int64 // bodies begun or kept, not dropped

	mu     sync.Mutex
	dir    string // the private temporary directory, made at the first spill
	kept   []*entry
	counts map[string]uint64
	closed bool
}

// New returns a Keeper bounded by opt.
func New(opt Options) *Keeper {
	opt.fill()
	return &Keeper{opt: opt, counts: map[string]uint64{}}
}

// Options returns the bounds in force (defaults filled in).
func (k *Keeper) Options() Options {
	if k == nil {
		return Options{}
	}
	return k.opt
}

// Count adds n to a named counter; dissectors use it for what they decline to hand over
// (CountEncoded).
func (k *Keeper) Count(name string, n uint64) {
	if k == nil || n == 0 {
		return
	}
	k.mu.Lock()
	k.counts[name] += n
	k.mu.Unlock()
}

// Counters returns the counters, sorted by name, zero ones left out.
func (k *Keeper) Counters() []observe.Counter {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]observe.Counter, 0, len(k.counts))
	for n, v := range k.counts {
		if v > 0 {
			out = append(out, observe.Counter{Name: n, Value: v})
		}
	}
	slices.SortFunc(out, func(a, b observe.Counter) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Meta is what the dissector knows of a body when it ends.
type Meta struct {
	Protocol string         // "http", "ftp", "tftp"
	Server   netip.AddrPort // the server that served (or received) it
	Client   netip.Addr     // the device it went to
	Path     string         // the raw URL path or file name: kept inside the Keeper, never handed on
	Kind     string         // the image kind the dissector decided ("" for none)
	Time     time.Time      // when it crossed the wire (capture time)
}

// Begin starts a body. It returns nil (on which every Body method does nothing) when k
// is nil or MaxFiles bodies are held already (counted).
func (k *Keeper) Begin(role Role) *Body {
	if k == nil {
		return nil
	}
	if k.files.Add(1) > int64(k.opt.MaxFiles) {
		k.files.Add(-1)
		k.Count(CountBudget, 1)
		return nil
	}
	limit := k.opt.MaxImage
	if role == RoleCompanion {
		limit = k.opt.MaxCompanion
	}
	return &Body{k: k, role: role, limit: limit, sum: sha256.New()}
}

// Body is one transfer's bytes, in order, as they are kept.
type Body struct {
	k       *Keeper
	role    Role
	limit   int64
	sum     hash.Hash // every byte written, kept or not
	seen    int64
	kept    int64
	mem     chunks // the bytes, while in memory
	f       *os.File
	cut     bool
	dropped bool
	gzip    bool // the bytes written are a gzip stream, decoded when the body ends
	// wire is the SHA-256 (hex) of the gzip stream a decoded body came from, "" for a
	// body kept as it came or a stream cut at the limit (whose digest matches nothing).
	wire string
}

// Gunzip says that the bytes written are a gzip stream (an HTTP body under
// Content-Encoding: gzip): Finish keeps what they decode to, not them. The stream is
// kept as it comes (up to the body's limit) and decoded once it ends, up to the same
// limit of decoded bytes: past it the image is cut and decoding stops, so a
// decompression bomb costs no more than an image of --max-update-size.
func (b *Body) Gunzip() {
	if b != nil {
		b.gzip = true
	}
}

// Write appends the next bytes of the body. Past the body's limit the bytes are hashed
// and counted, not kept.
func (b *Body) Write(p []byte) {
	if b == nil || b.dropped || len(p) == 0 {
		return
	}
	b.sum.Write(p)
	b.seen += int64(len(p))
	room := b.limit - b.kept
	if int64(len(p)) > room {
		p = p[:max(room, 0)]
		b.cut = true
	}
	if len(p) == 0 {
		return
	}
	k := b.k
	n := int64(len(p))
	if k.total.Add(n) > k.opt.MaxTotal {
		k.total.Add(-n)
		b.Drop(CountBudget)
		return
	}
	if b.f == nil && (b.kept+n > k.opt.MemPerFile || k.mem.Load()+n > k.opt.MaxMem) {
		if err := b.spill(); err != nil {
			k.total.Add(-n)
			b.Drop(CountIOError)
			return
		}
	}
	if b.f != nil {
		if _, err := b.f.Write(p); err != nil {
			k.total.Add(-n)
			b.Drop(CountIOError)
			return
		}
	} else {
		b.mem.write(p)
		k.mem.Add(n)
	}
	b.kept += n
}

// spill moves the bytes held in memory to a new temporary file.
func (b *Body) spill() error {
	k := b.k
	dir, err := k.tempDir()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "body-*") // mode 0600
	if err != nil {
		return err
	}
	if err := b.mem.writeTo(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	k.mem.Add(-b.mem.n)
	b.mem, b.f = chunks{}, f
	return nil
}

// tempDir makes the Keeper's private directory on first use.
func (k *Keeper) tempDir() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return "", errors.New("updatekeep: closed")
	}
	if k.dir == "" {
		d, err := os.MkdirTemp(k.opt.TempDir, "medscan-updates-") // mode 0700
		if err != nil {
			return "", err
		}
		k.dir = d
	}
	return k.dir, nil
}

// Drop discards the body; reason names the counter to add to ("" for a body that was
// simply not an image, which is not a loss).
func (b *Body) Drop(reason string) {
	if b == nil || b.dropped {
		return
	}
	b.dropped = true
	b.release()
	if reason != "" {
		b.k.Count(reason, 1)
	}
}

// release gives back the body's memory, disk and file slot.
func (b *Body) release() {
	k := b.k
	k.total.Add(-b.kept)
	if b.f != nil {
		b.f.Close()
		os.Remove(b.f.Name())
		b.f = nil
	} else {
		k.mem.Add(-b.mem.n)
	}
	b.mem = chunks{}
	k.files.Add(-1)
}

// Finish ends the body: it is kept when m says it is an image of at least MinImage bytes
// or a companion (by its name, see Companion), and dropped otherwise.
func (b *Body) Finish(m Meta) {
	if b == nil || b.dropped {
		return
	}
	k := b.k
	if b.gzip && !b.gunzip() {
		return
	}
	role := RoleNone
	switch {
	case m.Kind != "" && b.seen >= k.opt.MinImage:
		role = RoleImage
	case Companion(path.Base(m.Path)) != "":
		role = RoleCompanion
	case m.Kind != "":
		k.Count(CountSmallImages, 1)
	}
	if role == RoleNone {
		b.Drop("")
		return
	}
	if role == RoleCompanion && b.kept > k.opt.MaxCompanion {
		if err := b.trim(k.opt.MaxCompanion); err != nil {
			b.Drop(CountIOError)
			return
		}
		b.cut = true
	}
	e := &entry{proto: m.Protocol, server: m.Server, path: m.Path, role: role, size: b.seen, cut: b.cut,
		data: b.mem, time: m.Time}
	var d [sha256.Size]byte
	e.sha256 = hex.EncodeToString(b.sum.Sum(d[:0]))
	if b.f != nil {
		e.file = b.f.Name()
		if err := b.f.Close(); err != nil {
			b.Drop(CountIOError)
			return
		}
		b.f = nil
	}
	if m.Client.IsValid() {
		e.clients = []string{m.Client.Unmap().String()}
	}
	if b.wire != "" {
		e.wire = []string{b.wire}
	}
	b.dropped = true // the entry owns the bytes now
	if b.cut {
		k.Count(CountBytesCut, uint64(b.seen-b.kept))
		if role == RoleImage {
			k.Count(CountCut, 1)
		} else {
			k.Count(CountCompCut, 1)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		e.remove()
		return
	}
	for _, o := range k.kept {
		if o.proto == e.proto && o.server == e.server && o.path == e.path && o.sha256 == e.sha256 && o.cut == e.cut {
			// The same file fetched again (by the same device or another): one copy.
			if !e.time.IsZero() && (o.time.IsZero() || e.time.Before(o.time)) {
				o.time = e.time
			}
			o.clients = insertSorted(o.clients, e.clients)
			o.wire = insertSorted(o.wire, e.wire)
			k.total.Add(-b.kept)
			k.mem.Add(-e.data.n)
			k.files.Add(-1)
			e.remove()
			k.counts[CountDuplicate]++
			return
		}
	}
	k.kept = append(k.kept, e)
}

// gunzip replaces the kept gzip stream by what it decodes to, kept and hashed as a body
// of its own up to the same limit (cut there, decoding stopped). A stream that does not
// decode is dropped and counted, unless it was only cut short by the limit (its start
// then decodes to the image's start, and the image is cut). It returns false when the
// body was dropped.
func (b *Body) gunzip() bool {
	k := b.k
	var src io.Reader = b.mem.reader()
	if b.f != nil {
		src = io.NewSectionReader(b.f, 0, b.kept)
	}
	k.files.Add(1) // the decoded body's slot; the stream's is given back below
	nb := &Body{k: k, role: b.role, limit: b.limit, sum: sha256.New()}
	zr, err := gzip.NewReader(src)
	if err == nil {
		zr.Multistream(true)
		buf := make([]byte, 64<<10)
		for !nb.dropped && !nb.cut {
			n, rerr := zr.Read(buf)
			nb.Write(buf[:n])
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) {
					err = rerr
				}
				break
			}
		}
	}
	streamCut := b.cut
	if !streamCut {
		nb.wire = hex.EncodeToString(b.sum.Sum(nil))
	}
	b.release()
	switch {
	case nb.dropped:
		*b = Body{k: k, dropped: true} // already counted by nb
		return false
	case err != nil && !(streamCut && errors.Is(err, io.ErrUnexpectedEOF)):
		nb.Drop(CountDecodeError)
		*b = Body{k: k, dropped: true}
		return false
	case err != nil:
		nb.cut = true // the stream was cut at the limit: its start decoded
	}
	k.Count(CountDecoded, 1)
	*b = *nb
	return true
}

// trim shortens the kept bytes to n.
func (b *Body) trim(n int64) error {
	d := b.kept - n
	if b.f != nil {
		if err := b.f.Truncate(n); err != nil {
			return err
		}
		if _, err := b.f.Seek(n, io.SeekStart); err != nil {
			return err
		}
	} else {
		b.mem.truncate(n)
		b.k.mem.Add(-d)
	}
	b.k.total.Add(-d)
	b.kept = n
	return nil
}

// RoleNone is a body that turned out to be neither an image nor a companion.
const RoleNone Role = 255

// entry is one kept body.
type entry struct {
	proto   string
	server  netip.AddrPort
	path    string // raw: never leaves the package
	role    Role
	size    int64
	sha256  string
	cut     bool
	data    chunks // the bytes, when in memory
	file    string // the temporary file, when spilled
	clients []string
	wire    []string  // the SHA-256 of each gzip stream that decoded to these bytes, sorted
	time    time.Time // the first fetch
}

// insertSorted adds to the sorted list each of add it lacks.
func insertSorted(list, add []string) []string {
	for _, c := range add {
		if i, found := slices.BinarySearch(list, c); !found {
			list = slices.Insert(list, i, c)
		}
	}
	return list
}

func (e *entry) remove() {
	if e.file != "" {
		os.Remove(e.file)
	}
	e.data = chunks{}
}

// open returns a reader over the kept bytes.
func (e *entry) open() (io.ReadSeekCloser, error) {
	if e.file != "" {
		return os.Open(e.file)
	}
	return e.data.reader(), nil
}

// open are the keepers registered to be closed by CloseAll.
var open struct {
	sync.Mutex
	m map[*Keeper]bool
}

// Register adds k to the keepers CloseAll closes, and returns it.
func Register(k *Keeper) *Keeper {
	if k == nil {
		return nil
	}
	open.Lock()
	defer open.Unlock()
	if open.m == nil {
		open.m = map[*Keeper]bool{}
	}
	open.m[k] = true
	return k
}

// CloseAll closes every registered keeper: the CLI calls it before it exits at once on
// a second signal, so that no image is left behind in the temporary folder.
func CloseAll() {
	open.Lock()
	ks := make([]*Keeper, 0, len(open.m))
	for k := range open.m {
		ks = append(ks, k)
	}
	open.Unlock()
	for _, k := range ks {
		k.Close()
	}
}

// Close removes every kept body and the temporary directory. The Files handed out can
// no longer be opened. It is safe to call more than once.
func (k *Keeper) Close() error {
	if k == nil {
		return nil
	}
	open.Lock()
	delete(open.m, k)
	open.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	for _, e := range k.kept {
		e.data = chunks{}
	}
	k.kept = nil
	if k.dir == "" {
		return nil
	}
	d := k.dir
	k.dir = ""
	if err := os.RemoveAll(d); err != nil {
		return fmt.Errorf("updatekeep: removing %s: %w", d, err)
	}
	return nil
}

// sigSuffixes are the names, after an image's own, of the detached signatures and digests
// published beside it.
var sigSuffixes = []string{".sig", ".asc", ".p7s", ".cms", ".gpg", ".sign", ".p7b", ".sha256"}

// Companion returns the companion suffix of a file name (".sig", ...), "manifest" for a
// checksum manifest (SHA256SUMS, SHA256SUMS.asc, sha256sum.txt.sig...), or "".
func Companion(name string) string {
	if manifestName(name) {
		return "manifest"
	}
	l := strings.ToLower(name)
	for _, s := range sigSuffixes {
		if len(l) > len(s) && strings.HasSuffix(l, s) {
			return s
		}
	}
	return ""
}

// manifestName reports whether name is a checksum manifest or its signature: one of a
// fixed set of names (any case; the names package codesign reads as manifests), so that
// it can be handed on as it is.
func manifestName(name string) bool {
	l := strings.ToLower(name)
	for _, s := range sigSuffixes[:len(sigSuffixes)-1] {
		l = strings.TrimSuffix(l, s)
	}
	l = strings.TrimSuffix(l, ".txt")
	return slices.Contains(manifestNames, l)
}

var manifestNames = []string{"sha256sums", "sha256sum", "sha512sums", "sha384sums", "sha224sums", "sha1sums",
	"md5sums", "checksums", "checksums.sha256", "checksums.sha512"}
