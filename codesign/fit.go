package codesign

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/observe"
)

// U-Boot FIT images (mkimage -f x.its -k keydir) are flattened device trees: /images/*
// hold the payloads (kernel, device tree, ramdisk...) with hash-N subnodes giving each
// payload's digest, and /configurations/*/signature-N sign a configuration: a set of
// regions of the tree (the nodes listed in hashed-nodes, less the payload data) and a
// prefix of the strings block. The payloads are bound to the signature only through
// their hash nodes, so both are checked: the signature over the regions, and every
// signed image's data against its hash. An image signature (/images/*/signature-N)
// covers the image's data alone.
//
// The public key is not in the image: U-Boot verifies with the keys of its control
// DTB. The policy's anchors supply it: a PEM public key, a certificate (mkimage reads
// keydir/NAME.crt), or the control DTB itself with its /signature/key-* nodes.

// fitExcludedProps are the properties fit_config_check_sig leaves out of the regions:
// the payload data and where it lies.
var fitExcludedProps = []string{"data", "data-size", "data-position", "data-offset"}

// fitKey is a candidate key: an anchor key, or an anchor certificate's key.
type fitKey struct {
	name string
	key  crypto.PublicKey
	cert *x509.Certificate
}

func fitKeys(a *Anchors) []fitKey {
	if a == nil {
		return nil
	}
	var out []fitKey
	for _, k := range a.PublicKeys {
		out = append(out, fitKey{name: cmp.Or(k.Name, k.File), key: k.Key})
	}
	for _, c := range a.Certs {
		out = append(out, fitKey{name: c.Subject.CommonName, key: c.PublicKey, cert: c})
	}
	return out
}

// fitImageData is the byte range of an image node's payload: embedded in its data
// property, or external (mkimage -E) at data-offset after the tree or at data-position.
func fitImageData(t *fdtTree, n *fdtNode, fileSize int64) (off, size int64, err error) {
	if p, ok := n.prop("data"); ok {
		return p.off, p.size, nil
	}
	sz, ok := n.u32("data-size")
	if !ok {
		return 0, 0, errors.New("no data")
	}
	switch {
	case hasProp(n, "data-offset"):
		o, _ := n.u32("data-offset")
		off = align4(int64(t.hdr.TotalSize)) + int64(o)
	case hasProp(n, "data-position"):
		o, _ := n.u32("data-position")
		off = int64(o)
	default:
		return 0, 0, errors.New("data-size without data-offset or data-position")
	}
	if off+int64(sz) > fileSize {
		return 0, 0, fmt.Errorf("external data at %d+%d lies outside the file", off, sz)
	}
	return off, int64(sz), nil
}

func hasProp(n *fdtNode, name string) bool { _, ok := n.prop(name); return ok }

// fitHash maps a FIT algorithm name ("sha256", the first half of "sha256,rsa2048") to
// a hash; crc32 is U-Boot's big-endian IEEE CRC.
func fitHash(name string) (func() hash.Hash, crypto.Hash, bool) {
	switch name {
	case "sha1":
		return sha1.New, crypto.SHA1, true
	case "sha256":
		return sha256.New, crypto.SHA256, true
	case "sha384":
		return sha512.New384, crypto.SHA384, true
	case "sha512":
		return sha512.New, crypto.SHA512, true
	case "md5":
		return md5.New, crypto.MD5, true
	case "crc32":
		return func() hash.Hash { return crc32.NewIEEE() }, 0, true
	}
	return nil, 0, false
}

// hashRanges streams the ranges of r through h.
func hashRanges(r io.ReaderAt, h hash.Hash, rs []fdtRegion) error {
	for _, x := range rs {
		if _, err := io.Copy(h, io.NewSectionReader(r, x.off, x.size)); err != nil {
			return err
		}
	}
	return nil
}

// checkFITImageHashes checks every hash-N node of an image against its data; it returns
// how many were checked and the first mismatch.
func checkFITImageHashes(t *fdtTree, img *fdtNode, size int64, only []string) (int, error) {
	off, n, err := fitImageData(t, img, size)
	if err != nil {
		return 0, fmt.Errorf("image %s: %v", img.name, err)
	}
	checked := 0
	for _, c := range img.children {
		if !strings.HasPrefix(c.name, "hash") || only != nil && !slices.Contains(only, c.path) {
			continue
		}
		algo := c.str("algo")
		newH, _, ok := fitHash(algo)
		if !ok {
			return checked, fmt.Errorf("image %s: hash algorithm %q not known", img.name, algo)
		}
		want, ok := c.prop("value")
		if !ok || want.value == nil {
			return checked, fmt.Errorf("image %s: %s without a value", img.name, c.name)
		}
		h := newH()
		if err := hashRanges(t.r, h, []fdtRegion{{off, n}}); err != nil {
			return checked, fmt.Errorf("image %s not read: %v", img.name, err)
		}
		if !bytes.Equal(h.Sum(nil), want.value) {
			return checked, fmt.Errorf("image %s: its data does not match its %s hash (modified after signing)", img.name, algo)
		}
		checked++
	}
	return checked, nil
}

// examineFIT checks every signature of a FIT image; nothing when it has none (an
// unsigned FIT, judged by what lies beside it) or is not a FIT after all.
func examineFIT(f *File, anchors *Anchors) []observe.UpdateSignature {
	r, err := f.Open()
	if err != nil {
		return []observe.UpdateSignature{{Kind: "fit", Trust: TrustNotJudged, Reason: "image not read: " + err.Error()}}
	}
	defer r.Close()
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil
	}
	t, err := parseFDT(&readerAt{r: r}, size)
	if err != nil {
		return nil
	}
	return fitSignatures(t, size, fitKeys(anchors), !anchors.Empty())
}

// fitSignatures is examineFIT on a parsed tree (and what FuzzFDT drives).
func fitSignatures(t *fdtTree, size int64, keys []fitKey, judged bool) []observe.UpdateSignature {
	var out []observe.UpdateSignature
	images := t.root.child("images")
	// Two siblings of one name make the node a path names ambiguous: the signature's
	// regions cover both, while a loader takes one (the trick behind CVE-2021-27138).
	dup := duplicateNode(t.root, 0)
	if confs := t.root.child("configurations"); confs != nil {
		for _, conf := range confs.children {
			for _, sn := range conf.children {
				if strings.HasPrefix(sn.name, "signature") {
					sig := fitConfigSignature(t, size, images, conf, sn, keys, judged)
					if dup != "" {
						sig.Verifies, sig.Checked = false, true
						sig.Reason = "two nodes named " + dup + ": the signature covers both, a loader takes one of them"
					}
					out = append(out, sig)
				}
			}
		}
	}
	if images != nil {
		for _, img := range images.children {
			for _, sn := range img.children {
				if strings.HasPrefix(sn.name, "signature") {
					sig := fitImageSignature(t, size, img, sn, keys, judged)
					if dup != "" {
						sig.Verifies, sig.Checked = false, true
						sig.Reason = "two nodes named " + dup + ": the signature covers both, a loader takes one of them"
					}
					out = append(out, sig)
				}
			}
		}
	}
	return out
}

// duplicateNode is the path of a node with a sibling of the same name, or "".
func duplicateNode(n *fdtNode, depth int) string {
	if depth > fdtMaxDepth {
		return ""
	}
	seen := map[string]bool{}
	for _, c := range n.children {
		if seen[c.name] {
			return observe.Clean(c.path)
		}
		seen[c.name] = true
		if d := duplicateNode(c, depth+1); d != "" {
			return d
		}
	}
	return ""
}

// fitSigBase fills what a signature node says of itself.
func fitSigBase(sn *fdtNode, judged bool) (observe.UpdateSignature, crypto.Hash, func() hash.Hash, string, error) {
	sig := observe.UpdateSignature{Kind: "fit", File: "", Trust: TrustNotJudged}
	if !judged {
		sig.TrustReason = "no anchors in the policy"
	}
	if ts, ok := sn.u32("timestamp"); ok {
		sig.SigningTime = time.Unix(int64(ts), 0).UTC()
	}
	hint := sn.str("key-name-hint")
	if hint != "" {
		sig.Signer.Subject = fmt.Sprintf("U-Boot key %q", observe.Clean(hint))
	}
	algo := sn.str("algo")
	hname, cname, _ := strings.Cut(algo, ",")
	newH, h, ok := fitHash(hname)
	if !ok || h == 0 || cname == "" {
		return sig, 0, nil, "", fmt.Errorf("signature algorithm %q not known", observe.Clean(algo))
	}
	sig.Digest = hashName(h)
	return sig, h, newH, cname, nil
}

// fitConfigSignature checks one configuration signature as fit_config_check_sig does.
func fitConfigSignature(t *fdtTree, size int64, images, conf, sn *fdtNode, keys []fitKey, judged bool) observe.UpdateSignature {
	sig, h, newH, cname, err := fitSigBase(sn, judged)
	if err != nil {
		sig.Reason = err.Error()
		return sig
	}
	value, ok := sn.prop("value")
	if !ok || value.value == nil {
		sig.Reason = "signature node without a value"
		return sig
	}
	hashed := sn.strs("hashed-nodes")
	if !slices.Contains(hashed, "/configurations/"+conf.name) {
		sig.Checked, sig.Reason = true, "the configuration is not among the signature's hashed nodes (U-Boot refuses it)"
		return sig
	}
	regions, err := t.findRegions(hashed, fitExcludedProps)
	if err != nil {
		sig.Checked, sig.Reason = true, "regions not found: "+err.Error()
		return sig
	}
	if hs, ok := sn.prop("hashed-strings"); ok && len(hs.value) == 8 {
		n := int64(binary.BigEndian.Uint32(hs.value[4:]))
		if n > int64(t.hdr.SizeStrings) {
			sig.Checked, sig.Reason = true, "hashed-strings beyond the strings block"
			return sig
		}
		regions = append(regions, fdtRegion{off: int64(t.hdr.OffStrings), size: n})
	}
	hh := newH()
	if err := hashRanges(t.r, hh, regions); err != nil {
		sig.Reason = "image not read: " + err.Error()
		return sig
	}
	// The images the configuration names (kernel, fdt, ramdisk, loadables...) must be
	// covered: listed with a hash node among the hashed nodes, and matching it.
	var problem error
	for _, p := range conf.props {
		if p.value == nil || images == nil {
			continue
		}
		for _, name := range bytes.Split(bytes.TrimSuffix(p.value, []byte{0}), []byte{0}) {
			img := images.child(string(name))
			if img == nil || len(name) == 0 {
				continue
			}
			if !slices.Contains(hashed, img.path) {
				problem = fmt.Errorf("image %s named by configuration %s is not covered by its signature", img.name, conf.name)
				break
			}
			n, err := checkFITImageHashes(t, img, size, hashed)
			if err == nil && n == 0 {
				err = fmt.Errorf("image %s has no signed hash node: its data is not covered by the signature", img.name)
			}
			if err != nil {
				problem = err
				break
			}
		}
		if problem != nil {
			break
		}
	}
	return fitVerify(sig, h, hh.Sum(nil), value.value, cname, sn.str("padding"), keys, problem)
}

// fitImageSignature checks an image signature: over the image's data alone.
func fitImageSignature(t *fdtTree, size int64, img, sn *fdtNode, keys []fitKey, judged bool) observe.UpdateSignature {
	sig, h, newH, cname, err := fitSigBase(sn, judged)
	if err != nil {
		sig.Reason = err.Error()
		return sig
	}
	value, ok := sn.prop("value")
	if !ok || value.value == nil {
		sig.Reason = "signature node without a value"
		return sig
	}
	off, n, err := fitImageData(t, img, size)
	if err != nil {
		sig.Checked, sig.Reason = true, "image "+img.name+": "+err.Error()
		return sig
	}
	hh := newH()
	if err := hashRanges(t.r, hh, []fdtRegion{{off, n}}); err != nil {
		sig.Reason = "image not read: " + err.Error()
		return sig
	}
	return fitVerify(sig, h, hh.Sum(nil), value.value, cname, sn.str("padding"), keys, nil)
}

// fitVerify checks the signature value over digest with the candidate keys. problem is
// a payload that does not match its signed hash: tampering, whatever the key says.
func fitVerify(sig observe.UpdateSignature, h crypto.Hash, digest, value []byte, cname, padding string, keys []fitKey, problem error) observe.UpdateSignature {
	describe := func(k fitKey) {
		if k.cert != nil {
			describeCert(&sig.Signer, k.cert)
		} else {
			sig.Signer.KeyType, sig.Signer.KeyBits = pubKeyInfo(k.key)
			if sig.Signer.Subject == "" {
				sig.Signer.Subject = fmt.Sprintf("U-Boot key %q", observe.Clean(k.name))
			}
		}
	}
	if problem != nil {
		sig.Checked, sig.Reason = true, problem.Error()
	}
	if len(keys) == 0 {
		if problem == nil {
			sig.Reason = "no key to check it with: U-Boot verifies FIT images with the keys of its control DTB; name that DTB, the public key or its certificate in the policy's code_signing anchors"
		}
		return sig
	}
	for _, k := range keys {
		if fitCheck(k.key, h, digest, value, cname, padding) != nil {
			continue
		}
		describe(k)
		if problem != nil {
			return sig
		}
		sig.Checked, sig.Verifies = true, true
		sig.Trust, sig.TrustReason = TrustTrusted, "made with an anchor key"
		sig.Weaknesses = uniqueSorted(append(digestWeakness(h), keyWeakness(sig.Signer.KeyType, sig.Signer.KeyBits)...))
		return sig
	}
	// No anchor key verifies it. An RSA PKCS #1 v1.5 signature tells whether it was made
	// by one of them over other bytes (its padding decodes) or by another key.
	for _, k := range keys {
		if pub, ok := k.key.(*rsa.PublicKey); ok && padding != "pss" && rsaPaddingFor(pub, h, value) {
			describe(k)
			sig.Checked = true
			if problem == nil {
				sig.Reason = "digest mismatch: the FIT image was modified after signing"
			}
			return sig
		}
	}
	if problem != nil {
		return sig
	}
	if strings.HasPrefix(cname, "rsa") && padding != "pss" {
		sig.Trust, sig.TrustReason = TrustUntrusted, "made with a key that is not among the anchors"
		sig.Reason = "signed with a key that is not among the policy's anchors"
		return sig
	}
	sig.Checked, sig.Reason = true, "does not verify with the anchors' keys: modified after signing, or signed with another key"
	return sig
}

// fitCheck verifies a FIT signature value (RSA PKCS #1 v1.5 or PSS; ECDSA as U-Boot's
// raw r||s) over digest.
func fitCheck(key crypto.PublicKey, h crypto.Hash, digest, value []byte, cname, padding string) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if !strings.HasPrefix(cname, "rsa") {
			return errors.New("not an RSA signature")
		}
		if padding == "pss" {
			return rsa.VerifyPSS(k, h, digest, value, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		}
		return rsa.VerifyPKCS1v15(k, h, digest, value)
	case *ecdsa.PublicKey:
		if !strings.HasPrefix(cname, "ecdsa") || len(value)%2 != 0 {
			return errors.New("not an ECDSA signature")
		}
		n := len(value) / 2
		r, s := new(big.Int).SetBytes(value[:n]), new(big.Int).SetBytes(value[n:])
		if !ecdsa.Verify(k, digest, r, s) {
			return errors.New("ECDSA verification failure")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", key)
}

// digestInfoPrefix is the DER prefix of PKCS #1 v1.5's DigestInfo per hash.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.MD5:    {0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10},
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// rsaPaddingFor says whether the RSA public operation of pub on sig yields a well-formed
// PKCS #1 v1.5 block for hash h: the key made this signature, over some digest. (A
// signature by another key decodes to noise.)
func rsaPaddingFor(pub *rsa.PublicKey, h crypto.Hash, sig []byte) bool {
	k := (pub.N.BitLen() + 7) / 8
	prefix, ok := digestInfoPrefix[h]
	if !ok || len(sig) != k || pub.E <= 1 {
		return false
	}
	c := new(big.Int).SetBytes(sig)
	if c.Cmp(pub.N) >= 0 {
		return false
	}
	m := new(big.Int).Exp(c, big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, k))
	tail := append(append([]byte{0}, prefix...), make([]byte, h.Size())...)
	if len(m) < len(tail)+10 || m[0] != 0 || m[1] != 1 {
		return false
	}
	ps := m[2 : k-len(tail)]
	for _, b := range ps {
		if b != 0xff {
			return false
		}
	}
	return bytes.Equal(m[k-len(tail):k-h.Size()], tail[:len(tail)-h.Size()])
}

// controlDTBKeys reads the public keys of a U-Boot control DTB (/signature/key-*: RSA
// modulus and exponent, or an ECDSA point), as mkimage -K writes them.
func controlDTBKeys(data []byte) ([]PublicKey, error) {
	t, err := parseFDT(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	sn := t.root.child("signature")
	if sn == nil {
		return nil, errors.New("a device tree without a /signature node (not a U-Boot control DTB with keys)")
	}
	var out []PublicKey
	for _, k := range sn.children {
		name := k.str("key-name-hint")
		if name == "" {
			name = strings.TrimPrefix(k.name, "key-")
		}
		if mod, ok := k.prop("rsa,modulus"); ok && len(mod.value) > 0 {
			if len(mod.value) > 16384/8 {
				return nil, fmt.Errorf("key %s: RSA modulus of %d bits (limit 16384)", observe.Clean(name), 8*len(mod.value))
			}
			e := int64(65537)
			if ep, ok := k.prop("rsa,exponent"); ok && len(ep.value) == 8 {
				e64 := binary.BigEndian.Uint64(ep.value)
				if e64 < 3 || e64 > 1<<31-1 {
					return nil, fmt.Errorf("key %s: RSA exponent %d not supported", observe.Clean(name), e64)
				}
				e = int64(e64)
			}
			out = append(out, PublicKey{Name: name, Key: &rsa.PublicKey{N: new(big.Int).SetBytes(mod.value), E: int(e)}})
			continue
		}
		if x, ok := k.prop("ecdsa,x-point"); ok {
			y, _ := k.prop("ecdsa,y-point")
			var curve elliptic.Curve
			switch k.str("ecdsa,curve") {
			case "prime256v1":
				curve = elliptic.P256()
			case "secp384r1":
				curve = elliptic.P384()
			default:
				return nil, fmt.Errorf("key %s: curve %q not supported", observe.Clean(name), observe.Clean(k.str("ecdsa,curve")))
			}
			out = append(out, PublicKey{Name: name, Key: &ecdsa.PublicKey{Curve: curve,
				X: new(big.Int).SetBytes(x.value), Y: new(big.Int).SetBytes(y.value)}})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no public key under /signature")
	}
	return out, nil
}
