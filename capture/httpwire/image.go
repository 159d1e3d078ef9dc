package httpwire

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/netip"
	"path"

	"github.com/medscan/medscan/capture/internal/image"
	"github.com/medscan/medscan/capture/updatekeep"
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
	encoded   bool // under a Content-Encoding or a non-chunked Transfer-Encoding
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
	s.keepStart(r, kind, encoded)
	// An encoded body (Content-Encoding or a non-chunked Transfer-Encoding) hides its
	// magic: a gzip-compressed web page is not a gzip download.
	if kind == "" && encoded {
		return false
	}
	*d = download{sum: d.sum, rec: r, active: true, kind: kind, sniffing: !encoded, partial: r.Status == 206,
		encoded: encoded, xml: maybeXML(r.RespContentType)}
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
	if s.keep.body == nil && s.keep.path == "" {
		s.keepStart(d.rec, d.kind, false) // identified by its magic: kept from here
	}
}

// bodyData takes response body bytes while a download is held.
func (s *stream) bodyData(p []byte) {
	d := &s.dl
	if s.keep.companion {
		s.keep.body.Write(p)
	}
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
					s.keepImage(d.prefix[:before])
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
		s.keepImage(p)
	}
}

// bodyLost notes a gap inside a held body: the digest can no longer be right.
func (s *stream) bodyLost() {
	d := &s.dl
	s.keepEnd(true, "")
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
			s.keepImage(d.prefix[:d.n])
		}
		d.kind = kind
	}
}

// bodyEnd emits the held record when its body ends (or is cut short).
func (s *stream) bodyEnd(partial bool) {
	d := &s.dl
	if !d.active {
		s.keepEnd(partial, "")
		return
	}
	if partial {
		d.partial, d.hashing = true, false
	}
	if d.sniffing {
		s.decideNow()
	}
	s.keepEnd(d.partial, d.kind)
	if d.kind != "" {
		d.rec.BodyKind = d.kind
		d.rec.BodyBytes = d.seen
		d.rec.BodyPartial = d.partial
		d.rec.BodyEncoded = d.encoded
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
	if !s.keep.companion && s.keep.body != nil {
		s.keep.body.Drop("") // not an image after all: nothing lost, nothing to keep
		s.keep = keeping{}
	}
}

// keeping is the response body handed to the update keeper (package updatekeep): an image
// (the bytes hashed for its SHA-256, the same ones) or a companion (a signature or
// manifest named after one, read whole whatever its content).
type keeping struct {
	body      *updatekeep.Body
	path      string // the raw path: it stays here and in the keeper, which template it
	client    netip.Addr
	companion bool
}

// keepStart decides, once the response's headers are read (or once its magic identified
// it), whether its body is kept. A 206 fragment is not an image anyone can verify. A body
// under Content-Encoding: gzip is kept as it comes and decoded by the keeper when it ends
// (Body.Gunzip): the decoded bytes are the vendor's file. Any other Content-Encoding (or
// a Transfer-Encoding other than chunked) is not decoded, so its bytes are not the
// vendor's file: it is counted and not kept.
func (s *stream) keepStart(r observe.HTTPRequest, kind string, encoded bool) {
	s.keepEnd(true, "")
	k := s.ctx.Keep
	if k == nil || r.Status == 206 {
		return
	}
	companion := kind == "" && updatekeep.Companion(path.Base(r.Path)) != ""
	if kind == "" && !companion {
		return // its magic may still identify it (startHash)
	}
	if encoded && !s.gzipBody {
		k.Count(updatekeep.CountEncoded, 1)
		s.keep.path = r.Path // declined: not begun again by startHash
		return
	}
	role := updatekeep.RoleImage
	if companion {
		role = updatekeep.RoleCompanion
	}
	s.keep = keeping{body: k.Begin(role), path: r.Path, client: s.ctx.Flow.Client.Addr(), companion: companion}
	if encoded {
		s.keep.body.Gunzip()
	}
}

// keepImage hands the keeper the next bytes of an image body, those just hashed.
func (s *stream) keepImage(p []byte) {
	if !s.keep.companion {
		s.keep.body.Write(p)
	}
}

// keepEnd ends the kept body: kept when whole, dropped (and counted) when bytes were lost.
func (s *stream) keepEnd(partial bool, kind string) {
	if s.keep.body != nil {
		if partial {
			s.keep.body.Drop(updatekeep.CountGap)
		} else {
			s.keep.body.Finish(updatekeep.Meta{Protocol: "http", Server: s.ctx.Flow.Server, Client: s.keep.client,
				Path: s.keep.path, Kind: kind, Time: s.dir[1].t})
		}
	}
	s.keep = keeping{}
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
