package codesign

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/observe"
)

// File is one file to examine: an update image, a detached signature, a checksum manifest
// or an OpenPGP public key served beside them. Examine tells which is which from the name
// and the content.
type File struct {
	Name   string // base name as served or on disk ("pump-2.1.bin", "pump-2.1.bin.sig", "SHA256SUMS.asc")
	Dir    string // the directory part of the URL path or file path; pairing happens within one Origin+Dir
	Origin string // where it came from: "http://10.0.0.5:80", "ftp://…", "tftp://…", or "file" for medscan verify
	Size   int64
	SHA256 string // hex, lower case; computed by Examine when empty
	Cut    bool   // truncated at the size limit: examined as unknown, never as tampered
	// Open returns the bytes (from a temp file or disk); each call a fresh reader at
	// offset 0, closed by Examine.
	Open    func() (io.ReadSeekCloser, error)
	Clients []string // devices that fetched it (addresses); empty for files
	// WireSHA256 is the SHA-256 of each gzip stream this image was decoded from (an HTTP
	// body under Content-Encoding: gzip), copied to the Image; empty for anything else.
	WireSHA256 []string
	Time       time.Time // when it was fetched or read
	// RawName is the name as served, when Name is a path template ("{id}.bin": an image
	// kept off the wire, whose raw name may carry identifiers). The policy's image
	// patterns are matched against it, in memory; it is never copied into an Image, a
	// reason or an error. Empty for files on disk, whose Name is their own.
	RawName string
}

// Image is one examined update image: the facts rules judge (see observe.UpdateImage).
type Image = observe.UpdateImage

// Options are the examination's inputs besides the files and the policy.
type Options struct {
	// Source is observe.SourcePassive for images from the wire, observe.SourceFile for
	// medscan verify.
	Source observe.Source
}

// The size caps for what Examine reads whole: signatures and keys, and manifests.
const (
	MaxSignatureSize = 1 << 20
	MaxManifestSize  = 8 << 20
	maxSniff         = 4096
)

// Verdicts of an image (observe.UpdateImage.Verdict).
const (
	VerdictVerified = "verified"
	VerdictInvalid  = "invalid"
	VerdictUnsigned = "unsigned"
	VerdictUnknown  = "unknown"
)

// Trust values of a signature (observe.UpdateSignature.Trust).
const (
	TrustTrusted   = "trusted"
	TrustUntrusted = "untrusted"
	TrustNotJudged = "not-judged"
)

// Examine pairs images with their signatures and manifests (within one Origin and Dir),
// verifies them, and returns one Image per image file, sorted by origin, dir and name. A
// file that cannot be opened is an error naming it; a malformed signature is a fact of
// the image (a signature that is not checked, with the reason), never an error.
func Examine(ctx context.Context, files []File, pol *Policy, opt Options) ([]Image, error) {
	if pol == nil {
		pol = &Policy{}
	}
	groups := map[string][]*classified{}
	var order []string
	for i := range files {
		f := &files[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := classify(f)
		if err != nil {
			return nil, err
		}
		k := f.Origin + "\x00" + f.Dir
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
	}
	var out []Image
	for _, k := range order {
		g := groups[k]
		imgs, err := examineGroup(ctx, g, pol, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, imgs...)
	}
	slices.SortFunc(out, func(a, b Image) int {
		return cmp.Or(cmp.Compare(a.Origin, b.Origin), cmp.Compare(a.Dir, b.Dir), cmp.Compare(a.Name, b.Name), cmp.Compare(a.SHA256, b.SHA256))
	})
	return out, nil
}

// role is what a file is to the examination.
type role int

const (
	roleImage     role = iota
	roleSignature      // detached signature of the file named base
	roleManifest       // a checksum list (maybe clear-signed)
	roleKey            // OpenPGP public key(s) beside the images
	roleCert           // PEM certificates beside the images (not judged as images)
)

type classified struct {
	f    *File
	role role
	base string // for a signature: the name it signs
	head []byte // the first bytes
}

// signatureExts are the suffixes of detached signatures beside an image.
var signatureExts = []string{".sig", ".asc", ".p7s", ".cms", ".gpg", ".sign", ".p7b"}

// isManifestName tells checksum lists by name: SHA256SUMS, sha256sums.txt, SHA512SUMS,
// CHECKSUMS, checksums.sha256 and the like.
func isManifestName(n string) bool {
	l := strings.ToLower(n)
	l = strings.TrimSuffix(l, ".txt")
	switch l {
	case "sha256sums", "sha512sums", "sha384sums", "sha224sums", "sha1sums", "md5sums", "checksums", "checksums.sha256", "checksums.sha512":
		return true
	}
	return false
}

func classify(f *File) (*classified, error) {
	c := &classified{f: f}
	if f.Open == nil {
		return nil, fmt.Errorf("codesign: %s: nothing to read", displayName(f))
	}
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("codesign: %s: %w", displayName(f), err)
	}
	head := make([]byte, maxSniff)
	n, err := io.ReadFull(r, head)
	r.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("codesign: %s: %w", displayName(f), err)
	}
	c.head = head[:n]
	ext := strings.ToLower(path.Ext(f.Name))
	switch {
	case isOpenPGPPublicKey(c.head):
		c.role = roleKey
	case bytes.HasPrefix(bytes.TrimSpace(c.head), []byte("-----BEGIN CERTIFICATE")):
		// A certificate delivered beside the images (the vendor's chain): material for
		// the anchors, not an update image.
		c.role = roleCert
	case isManifestName(f.Name):
		c.role = roleManifest
	case slices.Contains(signatureExts, ext) && isManifestName(strings.TrimSuffix(f.Name, path.Ext(f.Name))):
		// SHA256SUMS.asc: a detached signature of SHA256SUMS, or the clear-signed list itself.
		if isClearSigned(c.head) {
			c.role = roleManifest
		} else {
			c.role, c.base = roleSignature, strings.TrimSuffix(f.Name, path.Ext(f.Name))
		}
	case isClearSigned(c.head) && (ext == ".asc" || ext == ".txt"):
		c.role = roleManifest
	case slices.Contains(signatureExts, ext) && f.Size <= MaxSignatureSize && looksLikeSignature(c.head):
		c.role, c.base = roleSignature, strings.TrimSuffix(f.Name, path.Ext(f.Name))
	}
	return c, nil
}

func displayName(f *File) string {
	if f.Origin == "file" || f.Origin == "" {
		return path.Join(f.Dir, f.Name)
	}
	return f.Origin + path.Join("/", f.Dir, f.Name)
}

// readAll reads a whole small file, refusing one above max.
func readAll(f *File, max int64) ([]byte, error) {
	if f.Size > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return b, nil
}

// hashFile streams the file through SHA-256 (and returns its size).
func hashFile(f *File) (string, int64, error) {
	r, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func examineGroup(ctx context.Context, g []*classified, pol *Policy, opt Options) ([]Image, error) {
	sigs := map[string][]*classified{}
	var manifests []*manifest
	var beside keyring
	for _, c := range g {
		switch c.role {
		case roleSignature:
			sigs[c.base] = append(sigs[c.base], c)
		case roleKey:
			if b, err := readAll(c.f, MaxSignatureSize); err == nil {
				beside.add(b)
			}
		}
	}
	for _, c := range g {
		if c.role == roleManifest {
			manifests = append(manifests, readManifest(c, sigs, &beside))
		}
	}
	var out []Image
	for _, c := range g {
		if c.role != roleImage {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img, err := examineImage(c, sigs[c.f.Name], manifests, pol, &beside, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

func examineImage(c *classified, sigs []*classified, manifests []*manifest, pol *Policy, beside *keyring, opt Options) (Image, error) {
	f := c.f
	img := Image{
		Name: f.Name, Dir: f.Dir, Origin: f.Origin, Size: f.Size, SHA256: strings.ToLower(f.SHA256),
		Cut: f.Cut, Clients: slices.Clone(f.Clients), WireSHA256: slices.Clone(f.WireSHA256), Source: opt.Source, Time: f.Time,
		Version: versionFromName(f.Name),
	}
	if img.Source == "" {
		img.Source = observe.SourcePassive
	}
	if img.SHA256 == "" || img.Size == 0 {
		sum, n, err := hashFile(f)
		if err != nil {
			return img, fmt.Errorf("codesign: %s: %w", displayName(f), err)
		}
		img.SHA256, img.Size = sum, n
	}
	scope := pol.scopeFor(f.Origin, cmp.Or(f.RawName, f.Name))
	img.Vendor, img.Required = scope.name, scope.required
	img.Format = sniffFormat(c.head)
	anchors := scope.anchors
	if img.Cut {
		for _, s := range sigs {
			img.Signatures = append(img.Signatures, observe.UpdateSignature{Kind: sigKindOf(s.head), File: s.f.Name,
				Reason: "image cut at the size limit: not checked", Trust: TrustNotJudged})
		}
		img.Verdict = VerdictUnknown // never unsigned or invalid: the missing bytes may hold the signature, or be the tampering
		return img, nil
	}
	switch img.Format {
	case "pe":
		img.Signatures = append(img.Signatures, examineAuthenticode(f, anchors)...)
	case "zip":
		s, format := examineZip(f, anchors)
		img.Format = format
		img.Signatures = append(img.Signatures, s...)
	case "fit":
		img.Signatures = append(img.Signatures, examineFIT(f, anchors)...)
	case "squashfs":
		if s := examineRAUC(f, anchors); len(s) > 0 {
			img.Format = "rauc"
			img.Signatures = append(img.Signatures, s...)
		}
	case "cpio":
		if s, version, ok := examineSWU(f, anchors); ok {
			img.Format = "swupdate"
			img.Version = cmp.Or(img.Version, observe.Clean(version))
			img.Signatures = append(img.Signatures, s...)
		}
	case "tar":
		if s, ok := examineMender(f, anchors); ok {
			img.Format = "mender"
			img.Signatures = append(img.Signatures, s...)
		}
	}
	for _, s := range sigs {
		img.Signatures = append(img.Signatures, examineDetached(f, s, anchors, beside))
	}
	for _, m := range manifests {
		if sig, ok := m.check(f, img.SHA256, anchors); ok {
			img.Signatures = append(img.Signatures, sig)
		}
	}
	img.Verdict = verdictOf(img.Signatures)
	return img, nil
}

// verdictOf sums signatures up: any verifying signature makes the image verified; one
// checked that fails, invalid; none checkable, unknown; none at all, unsigned.
func verdictOf(sigs []observe.UpdateSignature) string {
	if len(sigs) == 0 {
		return VerdictUnsigned
	}
	invalid := false
	for _, s := range sigs {
		if s.Verifies {
			return VerdictVerified
		}
		if s.Checked {
			invalid = true
		}
	}
	if invalid {
		return VerdictInvalid
	}
	return VerdictUnknown
}

// sniffFormat names the image's container from its first bytes.
func sniffFormat(head []byte) string {
	switch {
	case len(head) >= 2 && head[0] == 'M' && head[1] == 'Z':
		return "pe"
	case len(head) >= 4 && string(head[:4]) == "\x7fELF":
		return "elf"
	case len(head) >= 4 && string(head[:4]) == "hsqs":
		return "squashfs"
	case len(head) >= 4 && string(head[:4]) == "\xd0\x0d\xfe\xed":
		return "fit"
	case len(head) >= 4 && string(head[:4]) == "PK\x03\x04":
		return "zip"
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return "gzip"
	case len(head) >= 6 && (string(head[:6]) == "070701" || string(head[:6]) == "070702"):
		return "cpio"
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return "tar"
	}
	return "raw"
}

// versionRE finds a version in a file name: digits with at least one dot, after a
// separator or a "v", with an optional pre-release or build suffix.
var versionRE = regexp.MustCompile(`(?:^|[-_ ])[vV]?([0-9]+(?:\.[0-9]+)+(?:[-+~][0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?)$|(?:^|[-_ ])[vV]?([0-9]+(?:\.[0-9]+)+)[-_]`)

// versionFromName takes a version from names like pump-2.1.3.bin, fw_v10.2-rc1.img:
// the file's extensions (those without digits) removed, the last dotted number run.
func versionFromName(name string) string {
	base := name
	for range 3 {
		ext := path.Ext(base)
		if ext == "" || len(ext) > 8 || strings.ContainsAny(ext, "0123456789") {
			break
		}
		base = strings.TrimSuffix(base, ext)
	}
	m := versionRE.FindStringSubmatch(base)
	if m == nil {
		return ""
	}
	return cmp.Or(m[1], m[2])
}
