package codesign

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/medscan/medscan/observe"
)

// SWUpdate images (.swu, made by swugenerator) are a newc cpio archive whose first member
// is sw-description, the update's description, listing every artifact with its sha256.
// When the image is signed, sw-description.sig follows it: a detached CMS signature of
// sw-description (SWUpdate's CONFIG_SIGALG_CMS), or a raw RSA PKCS #1 v1.5 (or PSS)
// signature over its SHA-256 made with a bare key (CONFIG_SIGALG_RAWRSA,
// CONFIG_SIGALG_RSAPSS). The signature covers the description only; the artifacts are
// covered through their sha256 in it, which SWUpdate checks while installing, so medscan
// checks both: the signature over sw-description, and every listed artifact's sha256
// against the archive's member of that name.

// swuImage is what one pass over an SWUpdate archive gathers.
type swuImage struct {
	desc    []byte            // sw-description
	sig     []byte            // sw-description.sig, nil when absent
	sums    map[string]string // every other regular member's sha256 (hex)
	readErr error             // the archive ended badly after sw-description
}

// readSWU reads an archive whose first member is sw-description; ok is false for any
// other cpio (a plain archive, judged by what lies beside it).
func readSWU(r io.Reader) (img swuImage, ok bool, err error) {
	cr := newCpioReader(r)
	m, err := cr.next()
	if err != nil || m.name != "sw-description" {
		return img, false, nil
	}
	if m.size > MaxManifestSize {
		return img, true, fmt.Errorf("sw-description of %d bytes, above the %d-byte limit", m.size, MaxManifestSize)
	}
	if img.desc, err = io.ReadAll(cr); err != nil {
		return img, true, fmt.Errorf("sw-description: %v", err)
	}
	img.sums = map[string]string{}
	for {
		m, err := cr.next()
		if errors.Is(err, errCpioEnd) {
			return img, true, nil
		}
		if err != nil {
			img.readErr = err
			return img, true, nil
		}
		switch {
		case m.name == "sw-description.sig" && img.sig == nil:
			if m.size > MaxSignatureSize {
				img.readErr = fmt.Errorf("sw-description.sig of %d bytes, above the %d-byte limit", m.size, MaxSignatureSize)
				return img, true, nil
			}
			if img.sig, err = io.ReadAll(cr); err != nil {
				img.readErr = err
				return img, true, nil
			}
		case m.regular():
			h := sha256.New()
			if _, err := io.Copy(h, cr); err != nil {
				img.readErr = err
				return img, true, nil
			}
			if _, dup := img.sums[m.name]; !dup {
				img.sums[m.name] = hex.EncodeToString(h.Sum(nil))
			}
		}
	}
}

// examineSWU checks an SWUpdate image's signature and artifacts. ok is false when the
// cpio is not an SWUpdate image. version is the one sw-description states.
func examineSWU(f *File, anchors *Anchors) (sigs []observe.UpdateSignature, version string, ok bool) {
	r, err := f.Open()
	if err != nil {
		return []observe.UpdateSignature{{Kind: "swupdate", Trust: TrustNotJudged, Reason: "image not read: " + err.Error()}}, "", true
	}
	defer r.Close()
	img, ok, err := readSWU(r)
	if !ok {
		return nil, "", false
	}
	sig := observe.UpdateSignature{Kind: "swupdate", File: "sw-description.sig", Trust: TrustNotJudged}
	if err != nil {
		sig.Reason = "not checked: " + err.Error()
		return []observe.UpdateSignature{sig}, "", true
	}
	desc, perr := parseSWDescription(img.desc)
	mismatch := ""
	if perr == nil {
		mismatch = swuMismatch(desc.entries, img)
	}
	if img.sig == nil {
		// Unsigned. Like an unsigned checksum list, a description that agrees with the
		// artifacts proves nothing of its author; one that disagrees shows the image was
		// changed after it was made.
		if mismatch != "" {
			sig.File, sig.Kind = "", "swupdate-description"
			sig.Checked, sig.Reason = true, mismatch
			return []observe.UpdateSignature{sig}, desc.version, true
		}
		return nil, desc.version, true
	}
	if p7, err := parseCMS(img.sig); err == nil {
		d := img.desc
		sig = verifyCMS(sig, p7, func(h crypto.Hash) ([]byte, error) {
			if !h.Available() {
				return nil, fmt.Errorf("hash %v not available", h)
			}
			return memDigest(d, h), nil
		}, anchors)
	} else {
		sig.Kind = "swupdate-rsa"
		sig = checkBareKey(sig, img.desc, img.sig, anchors)
	}
	switch {
	case perr != nil:
		if sig.Verifies {
			sig.Verifies, sig.Reason = false, "the signed sw-description is not read, so its artifacts are not checked: "+perr.Error()
		}
	case mismatch != "":
		// Whether or not the signature checks, the artifacts are not the ones described:
		// modified after signing (or the description was, and the signature fails too).
		sig.Checked, sig.Verifies, sig.Reason = true, false, mismatch
	case sig.Verifies && img.readErr != nil:
		sig.Verifies, sig.Checked, sig.Reason = false, false, "the archive's artifacts are not all read: "+img.readErr.Error()
	}
	return []observe.UpdateSignature{sig}, desc.version, true
}

// swuMismatch names the first listed artifact whose sha256 differs from the archive's
// member, or that the archive lacks; "" when all agree.
func swuMismatch(entries []swEntry, img swuImage) string {
	for _, e := range entries {
		if e.sha256 == "" {
			continue
		}
		got, ok := img.sums[e.filename]
		name := observe.Clean(e.filename)
		switch {
		case !ok && img.readErr != nil:
			continue // not reached: the archive ended badly before it
		case !ok:
			return fmt.Sprintf("sw-description lists %s, which the archive does not hold", name)
		case !strings.EqualFold(got, strings.TrimSpace(e.sha256)):
			return fmt.Sprintf("artifact %s differs from the sha256 in sw-description: modified after signing", name)
		}
	}
	return ""
}
