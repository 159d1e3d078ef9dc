package codesign

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/medscan/medscan/observe"
)

// Mender artifacts (.mender, made by mender-artifact) are a tar of: version (JSON naming
// the format), manifest (sha256sum lines for version, header.tar.gz and every payload
// file, as data/0000/rootfs.img), manifest.sig (the base64 of a signature over the
// manifest, made with a bare RSA or ECDSA key: no certificate, no key ID), header.tar.gz,
// and data/0000.tar.gz holding the payload files. The signature covers the manifest
// only; the rest is covered through the manifest's sha256 lines, which the Mender client
// checks while installing, so medscan checks both. Payloads compressed with xz or zstd
// (mender-artifact --compression) are not decompressed here: their files are not
// checked, and the artifact's verdict is unknown rather than verified.

// Bounds of an artifact's structure: members of the outer tar and of each payload tar,
// and the bytes the payloads' files may hold altogether: menderInflation times the
// artifact's size (counted twice, see budgetReader), within [minMenderInflated,
// maxMenderInflated] (a decompression bomb, or a sparse tar entry declaring gigabytes of
// holes, stops there; real root file systems compress by a few times, not sixty-four).
const (
	maxTarMembers      = 10000
	menderInflation    = 128
	minMenderInflated  = 16 << 20
	maxMenderInflated  = 16 << 30
	maxMenderVersionSz = 4096
)

// inflationBudget is the bytes an artifact of size bytes may decompress to.
func inflationBudget(size int64) int64 {
	return min(max(size*menderInflation, minMenderInflated), maxMenderInflated)
}

// menderImage is what one pass over an artifact gathers.
type menderImage struct {
	format    int               // the version member's "version" (1, 2, 3)
	manifest  []byte            // nil when absent
	sig       []byte            // manifest.sig as stored (base64), nil when absent
	sums      map[string]string // sha256 of every member and payload file, by manifest name
	unchecked []string          // payload containers not decompressed (xz, zstd)
	readErr   error             // the archive ended badly after its version member
	corrupt   string            // a payload that does not decompress: why
}

// corruptPayload is a payload container whose compression or tar framing is broken.
type corruptPayload struct{ err error }

func (c corruptPayload) Error() string { return c.err.Error() }

// readMender reads an artifact of size bytes; ok is false for a tar that is not one (its
// first member is not a Mender version document).
func readMender(r io.Reader, size int64) (img menderImage, ok bool) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil || h.Name != "version" || h.Size > maxMenderVersionSz {
		return img, false
	}
	vb, err := io.ReadAll(io.LimitReader(tr, maxMenderVersionSz))
	if err != nil {
		return img, false
	}
	var v struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if json.Unmarshal(vb, &v) != nil || v.Format != "mender" {
		return img, false
	}
	img.format = v.Version
	img.sums = map[string]string{"version": SHA256Hex(vb)}
	budget := &inflateBudget{left: inflationBudget(size)}
	for n := 1; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return img, true
		}
		if err != nil {
			img.readErr = fmt.Errorf("tar: %v", err)
			return img, true
		}
		if n > maxTarMembers {
			img.readErr = fmt.Errorf("more than %d members", maxTarMembers)
			return img, true
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > size {
			// Only a sparse entry declares more than the archive holds: its holes would
			// be read as zeros, without end. Mender never writes one.
			img.readErr = fmt.Errorf("%s: %d bytes declared in a %d-byte artifact", observe.Clean(h.Name), h.Size, size)
			return img, true
		}
		switch {
		case h.Name == "manifest" && img.manifest == nil:
			if h.Size > MaxManifestSize {
				img.readErr = fmt.Errorf("manifest of %d bytes, above the %d-byte limit", h.Size, MaxManifestSize)
				return img, true
			}
			img.manifest, err = io.ReadAll(tr)
		case h.Name == "manifest.sig" && img.sig == nil:
			if h.Size > MaxSignatureSize {
				img.readErr = fmt.Errorf("manifest.sig of %d bytes, above the %d-byte limit", h.Size, MaxSignatureSize)
				return img, true
			}
			img.sig, err = io.ReadAll(tr)
		case strings.HasPrefix(h.Name, "data/") && strings.Count(h.Name, "/") == 1:
			err = img.readPayload(tr, h.Name, budget)
			var bad corruptPayload
			if errors.As(err, &bad) {
				// The signer made a payload that decompresses: one that does not was
				// changed after signing (a cut image never gets here).
				img.corrupt = fmt.Sprintf("payload %s is corrupt (%v): modified after signing", observe.Clean(h.Name), bad.err)
				return img, true
			}
		default:
			sum := sha256.New()
			if _, err = io.Copy(sum, tr); err == nil {
				img.add(h.Name, hex.EncodeToString(sum.Sum(nil)))
			}
		}
		if err != nil {
			img.readErr = fmt.Errorf("%s: %v", observe.Clean(h.Name), err)
			return img, true
		}
	}
}

func (img *menderImage) add(name, sum string) {
	if _, dup := img.sums[name]; !dup {
		img.sums[name] = sum
	}
}

// readPayload hashes the files of one payload container (data/0000.tar.gz) under the
// names the manifest gives them (data/0000/rootfs.img). The container's own hash is
// kept too: older formats list it.
func (img *menderImage) readPayload(r io.Reader, name string, budget *inflateBudget) error {
	outer := sha256.New()
	r = io.TeeReader(r, outer)
	defer func() { img.add(name, hex.EncodeToString(outer.Sum(nil))) }()
	base, ext, _ := strings.Cut(name, ".")
	var inner io.Reader
	switch ext {
	case "tar":
		inner = r
	case "tar.gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return corruptPayload{fmt.Errorf("gzip: %v", err)}
		}
		zr.Multistream(true)
		inner = &budgetReader{r: zr, b: budget}
	default:
		img.unchecked = append(img.unchecked, name)
		_, err := io.Copy(io.Discard, r)
		return err
	}
	tr := tar.NewReader(inner)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return payloadErr(err)
		}
		if n >= maxTarMembers {
			return fmt.Errorf("payload of more than %d files", maxTarMembers)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if !budget.take(h.Size) {
			return budgetError{} // a file larger than the budget left, sparse or not
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, tr); err != nil {
			return payloadErr(err)
		}
		img.add(base+"/"+h.Name, hex.EncodeToString(sum.Sum(nil)))
	}
	if _, err := io.Copy(io.Discard, inner); err != nil { // the rest, and the gzip checksum
		return payloadErr(err)
	}
	_, err := io.Copy(io.Discard, r) // bytes after the compressed stream, for the container's own hash
	return err
}

// payloadErr tells a broken payload (gzip or tar framing, a bad checksum) from the
// budget running out, which is not the artifact's fault.
func payloadErr(err error) error {
	var budget budgetError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &budget):
		return err
	}
	return corruptPayload{err}
}

// budgetError is the decompression budget running out.
type budgetError struct{}

func (budgetError) Error() string {
	return "payloads inflate beyond the limit (64 times the artifact's size, at most 16 GiB)"
}

// inflateBudget is what the artifact's payloads may still decompress to.
type inflateBudget struct{ left int64 }

func (b *inflateBudget) take(n int64) bool {
	if n < 0 || n > b.left {
		b.left = 0
		return false
	}
	b.left -= n
	return true
}

// budgetReader stops reading a payload's decompressed stream once the artifact's budget
// is spent. Files are charged twice, by their declared size (so that a sparse entry's
// holes, which do not come from the stream, are paid for) and as they stream: hence
// menderInflation is twice the ratio allowed.
type budgetReader struct {
	r io.Reader
	b *inflateBudget
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if !b.b.take(int64(n)) {
		return 0, budgetError{}
	}
	return n, err
}

// examineMender checks an artifact's manifest signature and every listed member. ok is
// false when the tar is not a Mender artifact.
func examineMender(f *File, anchors *Anchors) (sigs []observe.UpdateSignature, ok bool) {
	r, err := f.Open()
	if err != nil {
		return []observe.UpdateSignature{{Kind: "mender", Trust: TrustNotJudged, Reason: "image not read: " + err.Error()}}, true
	}
	defer r.Close()
	size, err := r.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = r.Seek(0, io.SeekStart)
	}
	if err != nil {
		return []observe.UpdateSignature{{Kind: "mender", Trust: TrustNotJudged, Reason: "image not read: " + err.Error()}}, true
	}
	img, ok := readMender(r, size)
	if !ok {
		return nil, false
	}
	sig := observe.UpdateSignature{Kind: "mender", File: "manifest.sig", Trust: TrustNotJudged}
	mismatch := cmp.Or(img.corrupt, menderMismatch(img))
	if img.sig == nil {
		if mismatch != "" {
			sig.File, sig.Kind = "", "mender-manifest"
			sig.Checked, sig.Reason = true, mismatch
			return []observe.UpdateSignature{sig}, true
		}
		return nil, true // unsigned (format 1 has no manifest at all)
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(img.sig)))
	switch {
	case err != nil:
		sig.Reason = "manifest.sig is not base64: " + err.Error()
	case img.manifest == nil:
		sig.Checked, sig.Reason = true, "manifest.sig without a manifest"
		return []observe.UpdateSignature{sig}, true
	default:
		sig = checkBareKey(sig, img.manifest, raw, anchors)
	}
	switch {
	case mismatch != "":
		sig.Checked, sig.Verifies, sig.Reason = true, false, mismatch
	case sig.Verifies && img.readErr != nil:
		sig.Verifies, sig.Checked, sig.Reason = false, false, "the artifact is not all read: "+img.readErr.Error()
	case sig.Verifies && len(img.unchecked) > 0:
		sig.Verifies, sig.Checked = false, false
		sig.Reason = "the manifest's signature verifies, but payload " + observe.Clean(img.unchecked[0]) +
			" is compressed in a way medscan does not read (xz or zstd): its files are not checked"
	}
	return []observe.UpdateSignature{sig}, true
}

// menderMismatch names the first member whose sha256 differs from the manifest, that the
// manifest lists and the artifact lacks, or that the artifact holds and the manifest does
// not list (the Mender client refuses each); "" when all agree or there is no manifest.
func menderMismatch(img menderImage) string {
	if img.manifest == nil {
		return ""
	}
	listed := parseMenderManifest(img.manifest)
	names := make([]string, 0, len(listed))
	for n := range listed {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e := listed[n]
		got, ok := img.sums[n]
		switch {
		case !ok && (img.readErr != nil || img.inUnchecked(n)):
			continue
		case !ok:
			return fmt.Sprintf("the manifest lists %s, which the artifact does not hold", observe.Clean(n))
		case !strings.EqualFold(got, e):
			return fmt.Sprintf("%s differs from the sha256 in the signed manifest: modified after signing", observe.Clean(n))
		}
	}
	extra := []string{}
	for n := range img.sums {
		if _, ok := listed[n]; ok || isPayloadContainer(n) || unlistedByDesign[n] {
			continue
		}
		extra = append(extra, n)
	}
	slices.Sort(extra)
	if len(extra) > 0 {
		return fmt.Sprintf("the artifact holds %s, which the signed manifest does not list", observe.Clean(extra[0]))
	}
	return ""
}

// parseMenderManifest reads the manifest's lines, "HEX  name" with a SHA-256 in hex and
// the member's path inside the artifact (data/0000/rootfs.img); other lines are skipped
// (and so, if they named a member, that member is unlisted).
func parseMenderManifest(b []byte) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 2 || len(f[0]) != 2*sha256.Size || len(out) >= MaxManifestEntries {
			continue
		}
		if _, err := hex.DecodeString(f[0]); err != nil {
			continue
		}
		if _, dup := out[f[1]]; !dup {
			out[f[1]] = strings.ToLower(f[0])
		}
	}
	return out
}

// unlistedByDesign are members the signed manifest need not list: the augmented header
// and its own list (mender-artifact's unsigned additions, which the client treats
// apart), and the version document, which format 2 does not list.
var unlistedByDesign = map[string]bool{"version": true, "manifest-augment": true, "header-augment.tar.gz": true}

// isPayloadContainer says whether a name is a payload tar (data/0000.tar.gz), whose files
// the manifest lists rather than the container.
func isPayloadContainer(n string) bool {
	return strings.HasPrefix(n, "data/") && strings.Count(n, "/") == 1 && strings.Contains(n, ".tar")
}

func (img menderImage) inUnchecked(n string) bool {
	for _, u := range img.unchecked {
		base, _, _ := strings.Cut(u, ".")
		if strings.HasPrefix(n, base+"/") {
			return true
		}
	}
	return false
}
