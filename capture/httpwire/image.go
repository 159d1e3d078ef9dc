package httpwire

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/medscan/medscan/capture/internal/image"
	"github.com/medscan/medscan/observe"
)

// SniffLen is how many leading body bytes of a 2xx response are examined for an image's
// magic number (see image.SniffLen).
const SniffLen = image.SniffLen

// pathKind returns "ext:<extension>" when the path's last segment ends in an image extension.
func pathKind(path string) string { return image.PathKind(path) }

// typeKind returns "type:<media type>" when the content type is an image media type.
func typeKind(ct string) string { return image.TypeKind(ct) }

// magic identifies an image by its leading bytes (see image.Magic).
func magic(b []byte, final bool) (kind string, done bool) { return image.Magic(b, final) }

// download is the response whose body is being examined: held back from the sink until its
// body is identified (or ruled out) and, for an image, until the body ends.
type download struct {
	active    bool
	rec       observe.HTTPRequest
	kind      string // what identified the image so far ("" while only sniffing)
	sniffing  bool   // collecting the first SniffLen bytes for magic
	hashing   bool
	partial   bool
	xml       bool // the body may be a UPnP description: read the window for its root
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
	*d = download{sum: d.sum, rec: r, active: true, kind: kind, sniffing: !encoded, partial: r.Status == 206,
		xml: maybeXML(r.RespContentType)}
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
					if d.xml && d.n < SniffLen && !upnpRoot(d.prefix[:d.n]) {
						d.sniffing = true // not an image; a description's root may come later
						return
					}
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
	if d.xml && d.kind == "" && d.rec.Descriptor == "" && upnpRoot(d.prefix[:d.n]) {
		d.rec.Descriptor = observe.DescriptorUPnP
	}
	s.emit(d.rec)
	d.rec = observe.HTTPRequest{}
	d.active, d.sniffing, d.hashing = false, false, false
}

// maybeXML reports whether a response of this Content-Type may be a UPnP device or
// service description: XML, or no type at all (small devices omit it).
func maybeXML(ct string) bool {
	switch observe.MediaType(ct) {
	case "", "text/xml", "application/xml":
		return true
	}
	return false
}

// upnpRoot reports whether the start of a body holds the namespace of a UPnP device
// description's root element (<root xmlns="urn:schemas-upnp-org:device-1-0">) or of a
// service description's (<scpd xmlns="urn:schemas-upnp-org:service-1-0">): UPnP Device
// Architecture 2.0 §2.3 and §2.5.
func upnpRoot(b []byte) bool {
	return bytes.Contains(b, []byte("urn:schemas-upnp-org:device-1-0")) ||
		bytes.Contains(b, []byte("urn:schemas-upnp-org:service-1-0"))
}
