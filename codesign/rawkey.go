package codesign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/medscan/medscan/observe"
)

// parsePublicKeys reads every PEM "PUBLIC KEY" (SubjectPublicKeyInfo) and "RSA PUBLIC
// KEY" (PKCS #1) block of an anchor file.
func parsePublicKeys(data []byte) ([]crypto.PublicKey, error) {
	var out []crypto.PublicKey
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("public key %d: %v", len(out)+1, err)
			}
			out = append(out, k)
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("public key %d: %v", len(out)+1, err)
			}
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no public key in the PEM")
	}
	return out, nil
}

// checkBareKey checks a signature made with a bare key (no certificate, no key ID: Mender's
// manifest.sig, SWUpdate's raw RSA sw-description.sig) over message with SHA-256, against
// each public key among the anchors. Such a signature names no signer, so a key that
// checks it is both the signer and trusted; when none does, the signature was made by
// another key or the message changed after signing, which cannot be told apart: it is
// then not checked, and untrusted (the keys the site trusts did not make it).
func checkBareKey(sig observe.UpdateSignature, message, signature []byte, anchors *Anchors) observe.UpdateSignature {
	sig.Digest = "sha256"
	if anchors == nil || len(anchors.PublicKeys) == 0 {
		sig.Trust = TrustNotJudged
		sig.Reason = "signed with a bare key, which the signature does not name: list the vendor's public key (PEM) in the policy's code_signing anchors to check it"
		if !anchors.Empty() {
			sig.Trust = TrustUntrusted
			sig.TrustReason = "the policy's anchors for this image hold no public key"
		}
		return sig
	}
	digest := sha256.Sum256(message)
	for _, pk := range anchors.PublicKeys {
		if verifyBare(pk.Key, digest[:], message, signature) {
			sig.Checked, sig.Verifies = true, true
			sig.Signer = bareSigner(pk)
			sig.Trust, sig.TrustReason = TrustTrusted, "verifies with the policy's public key "+pk.File
			sig.Weaknesses = uniqueSorted(keyWeakness(sig.Signer.KeyType, sig.Signer.KeyBits))
			return sig
		}
	}
	sig.Trust = TrustUntrusted
	sig.TrustReason = "verifies with none of the policy's public keys"
	sig.Reason = "verifies with none of the policy's public keys: signed by another key, or changed after signing"
	return sig
}

// verifyBare verifies a SHA-256 signature with one key: RSA PKCS #1 v1.5 or PSS, ECDSA
// as ASN.1 or as the fixed-size r||s Mender writes, Ed25519 over the message.
func verifyBare(pub crypto.PublicKey, digest, message, signature []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, signature) == nil ||
			rsa.VerifyPSS(k, crypto.SHA256, digest, signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(k, digest, signature) {
			return true
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		if len(signature) != 2*n {
			return false
		}
		r, s := new(big.Int).SetBytes(signature[:n]), new(big.Int).SetBytes(signature[n:])
		der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		return err == nil && ecdsa.VerifyASN1(k, digest, der)
	case ed25519.PublicKey:
		return len(signature) == ed25519.SignatureSize && ed25519.Verify(k, message, signature)
	}
	return false
}

// bareSigner names a bare key: the anchor file it came from and the SHA-256 of its
// SubjectPublicKeyInfo (the fingerprint).
func bareSigner(pk PublicKey) observe.UpdateSigner {
	var s observe.UpdateSigner
	s.KeyType, s.KeyBits = pubKeyInfo(pk.Key)
	s.Subject = "public key " + observe.Clean(pk.File)
	if der, err := x509.MarshalPKIXPublicKey(pk.Key); err == nil {
		sum := sha256.Sum256(der)
		s.Fingerprint = strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	return s
}
