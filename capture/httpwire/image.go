package httpwire

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strings"

	"github.com/medscan/medscan/observe"
)

// SniffLen is how many leading body bytes of a 2xx response are examined for an image's
// magic number: enough for tar's "ustar" at offset 257 and for the PE signature of most
// Windows executables, whose e_lfanew is below 0x1f0.
const SniffLen = 512

// imageExts are the request path extensions that mark a response as a firmware or software
// image whatever its content: raw and vendor firmware (.bin .img .fw .hex .elf .swu .upd
// .uimage), Windows software (.exe .msi .dll), archives (.zip .tar .tgz .gz) and packages
// (.deb .rpm .apk .pkg).
var imageExts = [...]string{".bin", ".img", ".fw", ".hex", ".elf", ".exe", ".msi", ".dll", ".zip", ".tar",
	".tgz", ".gz", ".deb", ".rpm", ".apk", ".pkg", ".swu", ".upd", ".uimage"}

// imageTypes are the response media types that mark a response as an image: generic binary,
// executables, archives and packages. Parameters (";charset=...") are ignored.
var imageTypes = [...]string{
	"application/octet-stream", "application/x-msdownload", "application/x-msdos-program",
	"application/x-executable", "application/x-elf", "application/x-sharedlib", "application/x-msi",
	"application/zip", "application/x-zip-compressed", "application/gzip", "application/x-gzip",
	"application/x-tar", "application/x-gtar", "application/vnd.android.package-archive",
	"application/vnd.debian.binary-package", "application/x-debian-package", "application/x-rpm",
	"application/x-redhat-package-manager",
}

// pathKind returns "ext:<extension>" when the path's last segment ends in an image extension.
func pathKind(path string) string {
	dot := -1
	for i := len(path) - 1; i >= 0 && path[i] != '/'; i-- {
		if path[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 || len(path)-dot > 8 {
		return ""
	}
	ext := path[dot:]
	for _, e := range imageExts {
		if strings.EqualFold(ext, e) {
			return "ext:" + e
		}
	}
	return ""
}

// typeKind returns "type:<media type>" when the content type is an image media type.
func typeKind(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for _, t := range imageTypes {
		if strings.EqualFold(ct, t) {
			return "type:" + t
		}
	}
	return ""
}

// magic identifies an image by its leading bytes. done is false while more bytes could
// change the answer; final says no more bytes will come.
func magic(b []byte, final bool) (kind string, done bool) {
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return "elf", true
	case bytes.HasPrefix(b, []byte("\x27\x05\x19\x56")): // U-Boot legacy image header
		return "uimage", true
	case bytes.HasPrefix(b, []byte("\x1f\x8b\x08")): // gzip, deflate
		return "gzip", true
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "zip", true
	case bytes.HasPrefix(b, []byte("MZ")):
		// The DOS stub's e_lfanew points at "PE\0\0"; check it when it falls in the window,
		// so that a text body that happens to start with "MZ" is not an executable.
		if len(b) < 0x40 {
			return "", final
		}
		off := binary.LittleEndian.Uint32(b[0x3c:])
		switch {
		case off < 0x40 || off > 1<<16:
			return "", true
		case off+4 > SniffLen:
			return "pe", true // beyond the window: MZ and a sane offset will do
		case int(off)+4 > len(b):
			return "", final
		case string(b[off:off+4]) == "PE\x00\x00":
			return "pe", true
		}
		return "", true
	case len(b) > 0 && b[0] == ':':
		// Intel HEX: ":LLAAAATT" in hex digits, record type 00 to 05.
		if len(b) < 9 {
			return "", final
		}
		for _, c := range b[1:9] {
			if !isHex(c) {
				return "", true
			}
		}
		if b[7] == '0' && b[8] >= '0' && b[8] <= '5' {
			return "ihex", true
		}
		return "", true
	}
	if len(b) >= 262 {
		if string(b[257:262]) == "ustar" {
			return "tar", true
		}
		return "", true
	}
	// A prefix of a magic number, or too short to rule out tar.
	return "", final
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// download is the response whose body is being examined: held back from the sink until its
// body is identified (or ruled out) and, for an image, until the body ends.
type download struct {
	active    bool
	rec       observe.HTTPRequest
	kind      string // what identified the image so far ("" while only sniffing)
	sniffing  bool   // collecting the first SniffLen bytes for magic
	hashing   bool
	partial   bool
	seen      int64
	n         int // bytes in prefix
	prefix    [SniffLen]byte
	sum       hash.Hash // reused across the flow's responses
	digest    [sha256.Size]byte
	hexDigest [2 * sha256.Size]byte
}

// holdResponse decides, at the end of a response's headers, whether its body needs a look:
// only 2xx responses that have a body do. It returns false when the record can be emitted
// at once, as every non-image response could before.
func (s *stream) holdResponse(r observe.HTTPRequest, encoded bool) bool {
	d := &s.dl
	if r.Status < 200 || r.Status > 299 {
		return false
	}
	kind := pathKind(r.Path)
	if kind == "" {
		kind = typeKind(r.RespContentType)
	}
	// An encoded body (Content-Encoding or a non-chunked Transfer-Encoding) hides its
	// magic: a gzip-compressed web page is not a gzip download.
	if kind == "" && encoded {
		return false
	}
	*d = download{sum: d.sum, rec: r, active: true, kind: kind, sniffing: !encoded, partial: r.Status == 206}
	if kind != "" {
		s.startHash()
	}
	return true
}

func (s *stream) startHash() {
	d := &s.dl
	if d.partial {
		return // a digest of a fragment matches nothing a vendor publishes
	}
	if d.sum == nil {
		d.sum = sha256.New()
	}
	d.sum.Reset()
	d.hashing = true
}

// bodyData takes response body bytes while a download is held.
func (s *stream) bodyData(p []byte) {
	d := &s.dl
	if !d.active {
		return
	}
	d.seen += int64(len(p))
	if d.sniffing {
		before := d.n
		d.n += copy(d.prefix[d.n:], p)
		if kind, done := magic(d.prefix[:d.n], d.n == SniffLen); done {
			d.sniffing = false
			switch {
			case kind != "" && d.kind == "":
				d.kind = kind
				s.startHash()
				if d.hashing {
					d.sum.Write(d.prefix[:before])
				}
			case kind != "":
				d.kind = kind // the content says more than the name or the media type
			default:
				if d.kind == "" {
					s.release()
					return
				}
			}
		}
	}
	if d.hashing {
		d.sum.Write(p)
	}
}

// bodyLost notes a gap inside a held body: the digest can no longer be right.
func (s *stream) bodyLost() {
	d := &s.dl
	if !d.active {
		return
	}
	d.partial, d.hashing = true, false
	if d.sniffing {
		s.decideNow()
	}
}

// decideNow settles the magic on what was collected.
func (s *stream) decideNow() {
	d := &s.dl
	d.sniffing = false
	if kind, _ := magic(d.prefix[:d.n], true); kind != "" {
		if d.kind == "" && !d.partial {
			// Everything seen is in the prefix: hash it now.
			s.startHash()
			d.sum.Write(d.prefix[:d.n])
		}
		d.kind = kind
	}
}

// bodyEnd emits the held record when its body ends (or is cut short).
func (s *stream) bodyEnd(partial bool) {
	d := &s.dl
	if !d.active {
		return
	}
	if partial {
		d.partial, d.hashing = true, false
	}
	if d.sniffing {
		s.decideNow()
	}
	if d.kind != "" {
		d.rec.BodyKind = d.kind
		d.rec.BodyBytes = d.seen
		d.rec.BodyPartial = d.partial
		if d.hashing && !d.partial {
			d.sum.Sum(d.digest[:0])
			hex.Encode(d.hexDigest[:], d.digest[:])
			d.rec.BodySHA256 = string(d.hexDigest[:])
		}
	}
	s.release()
}

// release emits the held record as it stands and stops examining the body.
func (s *stream) release() {
	d := &s.dl
	s.ctx.Sink.AddHTTP(d.rec)
	d.rec = observe.HTTPRequest{}
	d.active, d.sniffing, d.hashing = false, false, false
}
