package codesign

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA keys are reported, not used
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/medscan/medscan/observe"
)

// keyring holds OpenPGP public keys served beside the images: they let a signature be
// checked, but a signer found only there is untrusted (or not judged without anchors).
type keyring struct{ keys openpgp.EntityList }

func (k *keyring) add(b []byte) {
	el, err := readKeys(b)
	if err == nil {
		k.keys = append(k.keys, el...)
	}
}

func readKeys(b []byte) (openpgp.EntityList, error) {
	t := bytes.TrimSpace(b)
	if bytes.HasPrefix(t, []byte("-----BEGIN PGP PUBLIC KEY BLOCK")) {
		blk, err := armor.Decode(bytes.NewReader(t))
		if err != nil {
			return nil, err
		}
		return openpgp.ReadKeyRing(blk.Body)
	}
	return openpgp.ReadKeyRing(bytes.NewReader(b))
}

func isOpenPGPPublicKey(head []byte) bool {
	t := bytes.TrimSpace(head)
	if bytes.HasPrefix(t, []byte("-----BEGIN PGP PUBLIC KEY BLOCK")) {
		return true
	}
	// A binary public key: an old- or new-format packet header of tag 6.
	if len(head) > 1 && head[0]&0x80 != 0 {
		return packetTag(head[0]) == 6 && looksLikeKeyPacket(head)
	}
	return false
}

// looksLikeKeyPacket checks that a tag-6 packet's body starts with a key version (4, 5
// or 6): an arbitrary binary image starting with 0x99 is not taken for a key.
func looksLikeKeyPacket(head []byte) bool {
	body, ok := packetBody(head)
	return ok && len(body) > 0 && body[0] >= 3 && body[0] <= 6
}

func packetTag(b byte) byte {
	if b&0x40 != 0 {
		return b & 0x3f
	}
	return (b >> 2) & 0x0f
}

// packetBody returns the start of the first packet's body (as far as head holds it).
func packetBody(head []byte) ([]byte, bool) {
	if len(head) < 2 || head[0]&0x80 == 0 {
		return nil, false
	}
	if head[0]&0x40 != 0 { // new format
		l := head[1]
		switch {
		case l < 192:
			return head[2:], true
		case l < 224 && len(head) > 3:
			return head[3:], true
		case l == 255 && len(head) > 6:
			return head[6:], true
		}
		return nil, false
	}
	switch head[0] & 3 {
	case 0:
		return head[2:], true
	case 1:
		if len(head) > 3 {
			return head[3:], true
		}
	case 2:
		if len(head) > 5 {
			return head[5:], true
		}
	}
	return nil, false
}

func isClearSigned(head []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(head), []byte("-----BEGIN PGP SIGNED MESSAGE-----"))
}

// looksLikeSignature says whether a file named like a signature holds one: armored or
// binary OpenPGP, or CMS (DER, PEM or S/MIME).
func looksLikeSignature(head []byte) bool { return sigKindOf(head) != "" }

// sigKindOf names the kind of a detached signature from its first bytes: "openpgp",
// "cms", or "" when it is neither.
func sigKindOf(head []byte) string {
	t := bytes.TrimSpace(head)
	switch {
	case bytes.HasPrefix(t, []byte("-----BEGIN PGP SIGNATURE")):
		return "openpgp"
	case bytes.HasPrefix(t, []byte("-----BEGIN PKCS7")), bytes.HasPrefix(t, []byte("-----BEGIN CMS")),
		bytes.HasPrefix(t, []byte("-----BEGIN PKCS #7")):
		return "cms"
	case bytes.HasPrefix(t, []byte("MIME-Version:")), bytes.HasPrefix(t, []byte("Content-Type:")):
		return "cms"
	case len(head) > 1 && head[0] == 0x30:
		return "cms"
	case len(head) > 1 && head[0]&0x80 != 0 && packetTag(head[0]) == 2:
		return "openpgp"
	}
	return ""
}

// examineDetached checks one detached signature file over the image.
func examineDetached(img *File, s *classified, anchors *Anchors, beside *keyring) observe.UpdateSignature {
	kind := sigKindOf(s.head)
	sig := observe.UpdateSignature{Kind: kind, File: s.f.Name, Trust: TrustNotJudged}
	data, err := readAll(s.f, MaxSignatureSize)
	if err != nil {
		sig.Reason = "signature not read: " + err.Error()
		return sig
	}
	switch kind {
	case "openpgp":
		return checkOpenPGP(sig, data, img.Open, anchors, beside)
	case "cms":
		return checkCMSDetached(sig, data, img, anchors)
	}
	sig.Reason = "not a signature medscan reads"
	return sig
}

// openSignature returns the binary packets of an armored or binary OpenPGP signature.
func openSignature(data []byte) ([]byte, error) {
	t := bytes.TrimSpace(data)
	if bytes.HasPrefix(t, []byte("-----BEGIN PGP")) {
		blk, err := armor.Decode(bytes.NewReader(t))
		if err != nil {
			return nil, fmt.Errorf("OpenPGP armor: %v", err)
		}
		if blk.Type != openpgp.SignatureType {
			return nil, fmt.Errorf("OpenPGP armor holds %q, not a signature", blk.Type)
		}
		return io.ReadAll(io.LimitReader(blk.Body, MaxSignatureSize))
	}
	return data, nil
}

// firstSignature reads the first signature packet, for what it says even without the
// key: issuer, hash, creation time.
func firstSignature(bin []byte) (*packet.Signature, error) {
	pr := packet.NewReader(bytes.NewReader(bin))
	for range 16 {
		p, err := pr.Next()
		if err != nil {
			if err == io.EOF {
				return nil, errors.New("no signature packet")
			}
			return nil, fmt.Errorf("OpenPGP packets: %v", err)
		}
		if s, ok := p.(*packet.Signature); ok {
			return s, nil
		}
	}
	return nil, errors.New("no signature packet in the first 16")
}

// checkOpenPGP verifies a detached OpenPGP signature over the bytes open returns, with the
// anchors' keys first (trusted), then the keys served beside the image (untrusted).
func checkOpenPGP(sig observe.UpdateSignature, data []byte, open func() (io.ReadSeekCloser, error), anchors *Anchors, beside *keyring) observe.UpdateSignature {
	bin, err := openSignature(data)
	if err != nil {
		sig.Reason = err.Error()
		return sig
	}
	return checkOpenPGPBinary(sig, bin, open, anchors, beside)
}

func checkOpenPGPBinary(sig observe.UpdateSignature, bin []byte, open func() (io.ReadSeekCloser, error), anchors *Anchors, beside *keyring) observe.UpdateSignature {
	ps, err := firstSignature(bin)
	if err != nil {
		sig.Reason = err.Error()
		return sig
	}
	sig.Digest = hashName(ps.Hash)
	sig.SigningTime = ps.CreationTime.UTC()
	if ps.IssuerKeyId != nil {
		sig.Signer.KeyID = fmt.Sprintf("%016X", *ps.IssuerKeyId)
	}
	if ps.IssuerFingerprint != nil {
		sig.Signer.Fingerprint = strings.ToUpper(hex.EncodeToString(ps.IssuerFingerprint))
	}
	at := func() time.Time { return ps.CreationTime }
	cfg := openpgpConfig(at)
	try := func(keys openpgp.EntityList) (*openpgp.Entity, error) {
		r, err := open()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		_, ent, err := openpgp.VerifyDetachedSignature(keys, r, bytes.NewReader(bin), cfg)
		return ent, err
	}
	var ent *openpgp.Entity
	trusted := false
	var lastErr error = pgperrors.ErrUnknownIssuer
	if anchors != nil && len(anchors.Keys) > 0 {
		ent, lastErr = try(anchors.Keys)
		trusted = ent != nil
	}
	if ent == nil && errors.Is(lastErr, pgperrors.ErrUnknownIssuer) && beside != nil && len(beside.keys) > 0 {
		ent, lastErr = try(beside.keys)
	}
	// A signature made when the key had expired, or by a key revoked since: the
	// signature itself verified; the key's state is a weakness, not tampering.
	if ent != nil && lastErr != nil && (errors.Is(lastErr, pgperrors.ErrKeyExpired) || errors.Is(lastErr, pgperrors.ErrSignatureExpired)) {
		sig.Weaknesses = append(sig.Weaknesses, "expired-at-signing")
		lastErr = nil
	}
	switch {
	case ent == nil && errors.Is(lastErr, pgperrors.ErrUnknownIssuer):
		sig.Reason = "no key to check it with (signed by " + cmpOr(sig.Signer.Fingerprint, sig.Signer.KeyID) + ")"
		if !anchors.Empty() {
			sig.Trust, sig.TrustReason = TrustUntrusted, "the signing key is not among the anchors"
		}
		return sig
	case ent == nil || lastErr != nil:
		sig.Checked = true
		sig.Reason = "does not verify: " + pgpReason(lastErr)
		if ent != nil {
			describeEntity(&sig, ent, ps)
		}
		return sig
	}
	sig.Checked, sig.Verifies = true, true
	describeEntity(&sig, ent, ps)
	switch {
	case trusted:
		sig.Trust, sig.TrustReason = TrustTrusted, "signed by an anchor key"
	case anchors.Empty():
		sig.Trust, sig.TrustReason = TrustNotJudged, "no anchors in the policy; key served beside the image"
	default:
		sig.Trust, sig.TrustReason = TrustUntrusted, "the signing key is not among the anchors (only served beside the image)"
	}
	sig.Weaknesses = append(sig.Weaknesses, pgpWeaknesses(ent, ps)...)
	sig.Weaknesses = uniqueSorted(sig.Weaknesses)
	return sig
}

func pgpReason(err error) string {
	if err == nil {
		return "unknown"
	}
	s := err.Error()
	if strings.Contains(s, "hash tag doesn't match") || strings.Contains(s, "verification failure") || strings.Contains(s, "RSA verification") {
		return "the signature does not match the image (modified, or a signature for another file)"
	}
	return s
}

func describeEntity(sig *observe.UpdateSignature, ent *openpgp.Entity, ps *packet.Signature) {
	pk := ent.PrimaryKey
	if ps.IssuerKeyId != nil {
		for _, k := range ent.Subkeys {
			if k.PublicKey.KeyId == *ps.IssuerKeyId {
				pk = k.PublicKey
			}
		}
	}
	sig.Signer.Fingerprint = strings.ToUpper(hex.EncodeToString(pk.Fingerprint))
	sig.Signer.KeyID = fmt.Sprintf("%016X", pk.KeyId)
	if id := ent.PrimaryIdentity(); id != nil {
		sig.Signer.UserID = observe.Clean(id.Name)
	}
	sig.Signer.NotBefore = pk.CreationTime.UTC()
	if self, _ := ent.PrimarySelfSignature(); self != nil && self.KeyLifetimeSecs != nil && *self.KeyLifetimeSecs > 0 {
		sig.Signer.NotAfter = pk.CreationTime.Add(time.Duration(*self.KeyLifetimeSecs) * time.Second).UTC()
	}
	sig.Signer.KeyType, sig.Signer.KeyBits = pubKeyInfo(pk.PublicKey)
}

func pubKeyInfo(k crypto.PublicKey) (string, int) {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return "rsa", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ecdsa", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "ed25519", 256
	case *dsa.PublicKey:
		return "dsa", k.P.BitLen()
	}
	return "", 0
}

func pgpWeaknesses(ent *openpgp.Entity, ps *packet.Signature) []string {
	var w []string
	w = append(w, digestWeakness(ps.Hash)...)
	var s observe.UpdateSignature
	describeEntity(&s, ent, ps)
	w = append(w, keyWeakness(s.Signer.KeyType, s.Signer.KeyBits)...)
	if !s.Signer.NotAfter.IsZero() && s.Signer.NotAfter.Sub(s.Signer.NotBefore) > LongLived {
		w = append(w, "long-lived")
	}
	return w
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
