package lint

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"

	zx509 "github.com/zmap/zcrypto/x509"
)

// digestInfoPrefix is the DER DigestInfo header that precedes each digest in a PKCS #1
// v1.5 signature (RFC 8017 §9.2, note 1).
var digestInfoPrefix = map[string][]byte{
	"md2":    {0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x02, 0x05, 0x00, 0x04, 0x10},
	"md5":    {0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10},
	"sha1":   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	"sha224": {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	"sha256": {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	"sha384": {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	"sha512": {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// digest hashes msg with the named function; nil when the name is not one handled here.
func digest(name string, msg []byte) []byte {
	switch name {
	case "md2":
		d := md2Sum(msg)
		return d[:]
	case "md5":
		d := md5.Sum(msg)
		return d[:]
	case "sha1":
		d := sha1.Sum(msg)
		return d[:]
	case "sha224":
		d := sha256.Sum224(msg)
		return d[:]
	case "sha256":
		d := sha256.Sum256(msg)
		return d[:]
	case "sha384":
		d := sha512.Sum384(msg)
		return d[:]
	case "sha512":
		d := sha512.Sum512(msg)
		return d[:]
	}
	return nil
}

// Limits on RSA verification by hand, so that a crafted key cannot make Facts slow.
const (
	maxVerifyModulusBits  = 16384
	maxVerifyExponentBits = 256
)

// verifyRSAPKCS1 checks a PKCS #1 v1.5 signature by hand. It exists because standard
// libraries refuse what medical devices still present: MD2 digests and keys below 1024
// bits. Only the public operation is done, so there is no timing concern.
func verifyRSAPKCS1(n, e *big.Int, hash string, msg, sig []byte) bool {
	prefix, ok := digestInfoPrefix[hash]
	if !ok || n == nil || e == nil || n.Sign() <= 0 || e.Sign() <= 0 ||
		n.BitLen() > maxVerifyModulusBits || e.BitLen() > maxVerifyExponentBits {
		return false
	}
	k := (n.BitLen() + 7) / 8
	if len(sig) == 0 || len(sig) > k {
		return false
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(n) >= 0 {
		return false
	}
	em := new(big.Int).Exp(s, e, n).FillBytes(make([]byte, k))
	d := digest(hash, msg)
	tLen := len(prefix) + len(d)
	if k < tLen+11 {
		return false
	}
	want := make([]byte, k)
	want[1] = 1
	for i := 2; i < k-tLen-1; i++ {
		want[i] = 0xff
	}
	copy(want[k-tLen:], prefix)
	copy(want[k-len(d):], d)
	return bytes.Equal(em, want)
}

// selfSignatureVerifies reports whether the certificate's signature verifies with its
// own public key. RSA PKCS #1 v1.5 is checked by hand (any digest, any key size); the
// other algorithms go through zcrypto when it parsed the certificate.
func selfSignatureVerifies(r *rawCert, k keyFacts, sig sigInfo, zc *zx509.Certificate) bool {
	if k.typ == "rsa" && k.n != nil {
		if _, ok := digestInfoPrefix[sig.hash]; ok && len(sig.name) > 4 && sig.name[len(sig.name)-4:] == "-RSA" {
			return verifyRSAPKCS1(k.n, k.e, sig.hash, r.tbs, r.signature)
		}
	}
	if zc == nil || zc.PublicKey == nil {
		return false
	}
	return zx509.CheckSignatureFromKey(zc.PublicKey, zc.SignatureAlgorithm, zc.RawTBSCertificate, zc.Signature) == nil
}
