package codesign

import (
	"archive/zip"
	"bytes"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/medscan/medscan/observe"
)

// JAR signing (jarsigner, and APK signature scheme v1 by apksigner): META-INF/MANIFEST.MF
// lists a digest of every entry; META-INF/NAME.SF lists a digest of the manifest (whole,
// and of each of its sections); META-INF/NAME.RSA (.DSA, .EC) is a CMS signature over
// the .SF. All three links are checked, and every entry of the archive that is not
// signature material must be listed: an entry added after signing is not signed.

// Limits on what a zip archive may make medscan do: entries listed, and bytes inflated
// to hash them (a zip bomb costs time only up to this).
const (
	maxZipEntries = 100000
	maxZipInflate = 4 << 30
)

// openZip reads an archive's central directory, refusing one with too many entries.
func openZip(r io.ReaderAt, size int64) (*zip.Reader, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a readable zip archive: %v", err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, fmt.Errorf("zip archive with %d entries (limit %d)", len(zr.File), maxZipEntries)
	}
	return zr, nil
}

// isJarSignatureFile says whether a JAR entry is signature material, which the manifest
// does not list: META-INF/MANIFEST.MF, META-INF/*.SF, *.RSA, *.DSA, *.EC, SIG-*.
func isJarSignatureFile(name string) bool {
	if !strings.HasPrefix(name, "META-INF/") || strings.Contains(name[len("META-INF/"):], "/") {
		return false
	}
	base := strings.ToUpper(name[len("META-INF/"):])
	if base == "MANIFEST.MF" || strings.HasPrefix(base, "SIG-") {
		return true
	}
	switch path.Ext(base) {
	case ".SF", ".RSA", ".DSA", ".EC":
		return true
	}
	return false
}

// manifestSection is one section of a manifest or signature file: its attributes and
// its raw bytes (through the blank line that ends it), which the .SF digests.
type manifestSection struct {
	name  string // the Name attribute; "" for the main section
	attrs map[string]string
	raw   []byte
}

// parseJarManifest splits a manifest into sections (continuation lines, which start
// with one space, joined), in order; the first is the main section.
func parseJarManifest(b []byte) ([]manifestSection, error) {
	var out []manifestSection
	cur := manifestSection{attrs: map[string]string{}}
	start := 0
	var last string
	flush := func(end int) {
		cur.raw = b[start:end]
		out = append(out, cur)
		cur = manifestSection{attrs: map[string]string{}}
		start = end
		last = ""
	}
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		next := len(b)
		line := b[i:]
		if j >= 0 {
			line, next = b[i:i+j], i+j+1
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		switch {
		case len(line) == 0:
			if len(cur.attrs) > 0 || len(out) == 0 {
				flush(next)
			} else {
				start = next
			}
		case line[0] == ' ':
			if last == "" {
				return nil, errors.New("continuation line without an attribute")
			}
			cur.attrs[last] += string(line[1:])
			if last == "name" {
				cur.name = cur.attrs[last]
			}
		default:
			k, v, ok := bytes.Cut(line, []byte(": "))
			if !ok {
				return nil, fmt.Errorf("malformed manifest line %q", observe.Clean(string(line[:min(len(line), 40)])))
			}
			last = strings.ToLower(string(k))
			cur.attrs[last] = string(v)
			if last == "name" {
				cur.name = string(v)
			}
		}
		i = next
	}
	if len(cur.attrs) > 0 {
		flush(len(b))
	}
	if len(out) > maxZipEntries+1 {
		return nil, errors.New("manifest with too many sections")
	}
	return out, nil
}

// jarDigests are the digest attribute names, strongest first.
var jarDigests = []struct {
	attr string
	h    crypto.Hash
}{
	{"sha-512", crypto.SHA512}, {"sha-384", crypto.SHA384}, {"sha-256", crypto.SHA256},
	{"sha1", crypto.SHA1}, {"sha-1", crypto.SHA1}, {"md5", crypto.MD5},
}

// jarDigest is a section's strongest digest with the given suffix ("-digest",
// "-digest-manifest"...).
func jarDigest(attrs map[string]string, suffix string) (crypto.Hash, []byte, bool) {
	for _, d := range jarDigests {
		if v, ok := attrs[d.attr+suffix]; ok {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return d.h, nil, false
			}
			return d.h, b, true
		}
	}
	return 0, nil, false
}

// readZipEntry reads a small entry whole.
func readZipEntry(f *zip.File, max int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(max) {
		return nil, fmt.Errorf("%s larger than %d bytes", f.Name, max)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.Name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s larger than %d bytes", f.Name, max)
	}
	return b, nil
}

// jarV1 is what examineJAR found besides the signatures: whether the .SF names the APK
// signature schemes a stripping attack would remove.
type jarV1 struct {
	apkSigned []string // X-Android-APK-Signed: "2", "3"
}

// examineJAR checks the JAR signatures of an archive (one per .SF with its block);
// apk drops the checks Android does not make (the code-signing EKU).
func examineJAR(zr *zip.Reader, anchors *Anchors, apk bool) ([]observe.UpdateSignature, jarV1) {
	var info jarV1
	files := map[string]*zip.File{}
	var dup string
	for _, f := range zr.File {
		if _, ok := files[f.Name]; ok && dup == "" {
			dup = f.Name
		}
		files[f.Name] = f
	}
	var sfs []*zip.File
	for _, f := range zr.File {
		if isJarSignatureFile(f.Name) && strings.EqualFold(path.Ext(f.Name), ".sf") {
			sfs = append(sfs, f)
		}
	}
	if len(sfs) == 0 {
		return nil, info
	}
	kind := "jar"
	var out []observe.UpdateSignature
	mf, ok := files["META-INF/MANIFEST.MF"]
	for _, sf := range sfs {
		sig := observe.UpdateSignature{Kind: kind, File: sf.Name, Trust: TrustNotJudged}
		if !ok {
			sig.Checked, sig.Reason = true, "META-INF/MANIFEST.MF missing"
			out = append(out, sig)
			continue
		}
		out = append(out, checkJARSigner(sig, zr, files, mf, sf, dup, anchors, apk, &info))
	}
	return out, info
}

func checkJARSigner(sig observe.UpdateSignature, zr *zip.Reader, files map[string]*zip.File, mf, sf *zip.File, dup string, anchors *Anchors, apk bool, info *jarV1) observe.UpdateSignature {
	stem := strings.TrimSuffix(sf.Name, path.Ext(sf.Name))
	var block *zip.File
	for _, ext := range []string{".RSA", ".EC", ".DSA", ".rsa", ".ec", ".dsa"} {
		if f, ok := files[stem+ext]; ok {
			block = f
			break
		}
	}
	if block == nil {
		sig.Reason = "signature file " + sf.Name + " without its signature block (.RSA, .EC or .DSA)"
		return sig
	}
	sig.File = block.Name
	sfBytes, err := readZipEntry(sf, MaxManifestSize)
	if err != nil {
		sig.Reason = "not read: " + err.Error()
		return sig
	}
	blockBytes, err := readZipEntry(block, MaxSignatureSize)
	if err != nil {
		sig.Reason = "not read: " + err.Error()
		return sig
	}
	mfBytes, err := readZipEntry(mf, MaxManifestSize)
	if err != nil {
		sig.Reason = "not read: " + err.Error()
		return sig
	}
	// The signature over the .SF first: it says who signed.
	p7, err := parseCMS(blockBytes)
	if err != nil {
		sig.Reason = err.Error()
		return sig
	}
	sig = verifyCMS(sig, p7, func(h crypto.Hash) ([]byte, error) { return memDigest(sfBytes, h), nil }, anchors)
	if apk {
		sig.Weaknesses = slices.DeleteFunc(sig.Weaknesses, func(w string) bool { return w == "no-code-signing-eku" })
	}
	if !sig.Verifies {
		return sig
	}
	fail := func(reason string) observe.UpdateSignature {
		sig.Verifies, sig.Reason = false, reason
		return sig
	}
	if dup != "" {
		return fail(fmt.Sprintf("the archive holds entry %q twice: which one is installed is up to the reader", observe.Clean(dup)))
	}
	sfSecs, err := parseJarManifest(sfBytes)
	if err != nil || len(sfSecs) == 0 {
		return fail("signature file " + sf.Name + " malformed")
	}
	mfSecs, err := parseJarManifest(mfBytes)
	if err != nil || len(mfSecs) == 0 {
		return fail("META-INF/MANIFEST.MF malformed")
	}
	if v := sfSecs[0].attrs["x-android-apk-signed"]; v != "" {
		for _, s := range strings.Split(v, ",") {
			info.apkSigned = append(info.apkSigned, strings.TrimSpace(s))
		}
	}
	// The .SF vouches for the manifest: whole, or section by section.
	whole := false
	if h, d, ok := jarDigest(sfSecs[0].attrs, "-digest-manifest"); ok {
		whole = bytes.Equal(memDigest(mfBytes, h), d)
	}
	sfByName := map[string]manifestSection{}
	for _, s := range sfSecs[1:] {
		sfByName[s.name] = s
	}
	if !whole {
		if h, d, ok := jarDigest(sfSecs[0].attrs, "-digest-manifest-main-attributes"); ok && !bytes.Equal(memDigest(mfSecs[0].raw, h), d) {
			return fail("the manifest's main attributes do not match the signature file (modified after signing)")
		}
		for _, s := range mfSecs[1:] {
			ss, ok := sfByName[s.name]
			if !ok {
				return fail(fmt.Sprintf("manifest entry %q is not in the signature file (added after signing)", observe.Clean(s.name)))
			}
			h, d, ok := jarDigest(ss.attrs, "-digest")
			if !ok || !bytes.Equal(memDigest(s.raw, h), d) && !bytes.Equal(memDigest(bytes.TrimSuffix(bytes.TrimSuffix(s.raw, []byte("\n")), []byte("\r")), h), d) {
				return fail(fmt.Sprintf("manifest entry %q does not match the signature file (modified after signing)", observe.Clean(s.name)))
			}
		}
	}
	// The manifest vouches for every entry.
	listed := map[string]manifestSection{}
	for _, s := range mfSecs[1:] {
		listed[s.name] = s
	}
	var inflated int64
	weakEntries := false
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") || isJarSignatureFile(f.Name) {
			continue
		}
		s, ok := listed[f.Name]
		if !ok {
			return fail(fmt.Sprintf("entry %q is not signed (added after signing)", observe.Clean(f.Name)))
		}
		h, d, ok := jarDigest(s.attrs, "-digest")
		if !ok {
			return fail(fmt.Sprintf("entry %q has no digest in the manifest", observe.Clean(f.Name)))
		}
		if h == crypto.SHA1 || h == crypto.MD5 {
			weakEntries = true
		}
		inflated += int64(f.UncompressedSize64)
		if inflated > maxZipInflate || f.UncompressedSize64 > maxZipInflate {
			sig.Verifies, sig.Checked = false, false
			sig.Reason = fmt.Sprintf("entries inflate to more than %d bytes: not checked", int64(maxZipInflate))
			return sig
		}
		got, err := zipEntryDigest(f, h)
		if err != nil {
			return fail(fmt.Sprintf("entry %q not read (%v): modified after signing, or damaged", observe.Clean(f.Name), err))
		}
		if !bytes.Equal(got, d) {
			return fail(fmt.Sprintf("entry %q does not match its digest in the manifest (modified after signing)", observe.Clean(f.Name)))
		}
	}
	if weakEntries {
		sig.Weaknesses = uniqueSorted(append(sig.Weaknesses, "manifest-sha1"))
	}
	return sig
}

// zipEntryDigest streams an entry's inflated bytes through h (archive/zip checks the
// CRC at the end).
func zipEntryDigest(f *zip.File, h crypto.Hash) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	w := h.New()
	if _, err := io.Copy(w, io.LimitReader(rc, maxZipInflate)); err != nil {
		return nil, err
	}
	return w.Sum(nil), nil
}

// examineZip checks the signatures of an APK or a JAR: APK signature schemes v2 and v3
// and JAR signing (v1). format is "apk" (AndroidManifest.xml at the top), "jar"
// (META-INF/MANIFEST.MF) or "zip".
func examineZip(f *File, anchors *Anchors) ([]observe.UpdateSignature, string) {
	r, err := f.Open()
	if err != nil {
		return []observe.UpdateSignature{{Kind: "jar", Trust: TrustNotJudged, Reason: "image not read: " + err.Error()}}, "zip"
	}
	defer r.Close()
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, "zip"
	}
	ra := &readerAt{r: r}
	zr, err := openZip(ra, size)
	if err != nil {
		return nil, "zip"
	}
	format := "zip"
	for _, zf := range zr.File {
		switch zf.Name {
		case "AndroidManifest.xml":
			format = "apk"
		case "META-INF/MANIFEST.MF":
			if format == "zip" {
				format = "jar"
			}
		}
	}
	apk := format == "apk" || strings.EqualFold(path.Ext(f.Name), ".apk")
	var out []observe.UpdateSignature
	schemes := map[string]bool{}
	if apk {
		v2, _ := examineAPKBlock(ra, size, anchors)
		for _, s := range v2 {
			out = append(out, s)
			schemes[strings.TrimPrefix(s.Kind, "apk-v")] = true
		}
	}
	v1, info := examineJAR(zr, anchors, apk)
	for i := range v1 {
		// A v1 signature that says the APK was also signed with v2/v3: that signature
		// must be there, or someone stripped it to fall back to the weaker scheme.
		for _, want := range info.apkSigned {
			if (want == "2" || want == "3") && !schemes[want] && v1[i].Verifies {
				v1[i].Verifies = false
				v1[i].Reason = "the JAR signature says the APK was signed with scheme v" + want + ", whose signature is missing (stripped)"
			}
		}
		if apk {
			v1[i].Kind = "apk-v1"
		}
	}
	return append(out, v1...), format
}
