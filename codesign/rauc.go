package codesign

import (
	"crypto"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/medscan/medscan/observe"
)

// RAUC bundles (rauc bundle) are a squashfs image with a CMS signature appended and the
// signature's size as a big-endian uint64 at the very end. In the "plain" format the
// signature is detached over the squashfs bytes before it; in the "verity" format it is an
// attached signature over a manifest that names the dm-verity root hash of the payload.

// raucTrailer reads a squashfs image's trailer: the CMS bytes and the payload length, or
// ok false when the file does not end like a RAUC bundle.
func raucTrailer(r io.ReadSeeker, size int64) (sig []byte, payload int64, ok bool) {
	if size < 4096+8 {
		return nil, 0, false
	}
	var tail [8]byte
	if _, err := r.Seek(size-8, io.SeekStart); err != nil {
		return nil, 0, false
	}
	if _, err := io.ReadFull(r, tail[:]); err != nil {
		return nil, 0, false
	}
	n := binary.BigEndian.Uint64(tail[:])
	if n < 64 || n > MaxSignatureSize || int64(n) > size-8-4096 {
		return nil, 0, false
	}
	payload = size - 8 - int64(n)
	sig = make([]byte, n)
	if _, err := r.Seek(payload, io.SeekStart); err != nil {
		return nil, 0, false
	}
	if _, err := io.ReadFull(r, sig); err != nil || sig[0] != 0x30 {
		return nil, 0, false
	}
	return sig, payload, true
}

// examineRAUC checks the signature appended to a squashfs image; nothing when it has none
// (a plain squashfs, judged by what lies beside it).
func examineRAUC(f *File, anchors *Anchors) []observe.UpdateSignature {
	r, err := f.Open()
	if err != nil {
		return []observe.UpdateSignature{{Kind: "rauc", Trust: TrustNotJudged, Reason: "image not read: " + err.Error()}}
	}
	defer r.Close()
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil
	}
	raw, payload, ok := raucTrailer(r, size)
	if !ok {
		return nil
	}
	sig := observe.UpdateSignature{Kind: "rauc", Trust: TrustNotJudged}
	p7, err := parseCMS(raw)
	if err != nil {
		return nil // trailing bytes that only looked like a signature size
	}
	if len(p7.Content) > 0 {
		// The verity format: the signature covers a manifest naming the payload's
		// dm-verity root hash, which medscan does not compute.
		describeCMSSigner(&sig, p7)
		sig.Reason = "RAUC bundle with a signed manifest (verity or crypt format): the payload's dm-verity hash tree is not checked"
		return []observe.UpdateSignature{sig}
	}
	open := f.Open
	digest := func(h crypto.Hash) ([]byte, error) {
		if !h.Available() {
			return nil, fmt.Errorf("hash %v not available", h)
		}
		rr, err := open()
		if err != nil {
			return nil, err
		}
		defer rr.Close()
		w := h.New()
		if _, err := io.CopyN(w, rr, payload); err != nil {
			return nil, err
		}
		return w.Sum(nil), nil
	}
	return []observe.UpdateSignature{verifyCMS(sig, p7, digest, anchors)}
}
