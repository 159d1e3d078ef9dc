package codesign

import (
	"crypto"
	"crypto/x509"
	"slices"
	"time"
)

// LongLived is the signer validity beyond which a code-signing certificate or key is
// reported as "long-lived": ten years, the bound cert-long-lived sets for a leaf's high
// severity. A signing key meant to outlast the devices (the 25–30-year keys seen in the
// field) cannot be rotated when it leaks.
const LongLived = 10 * 365 * 24 * time.Hour

// MinRSABits is the smallest RSA key not reported as weak (NIST SP 800-57, SP 800-131A).
const MinRSABits = 2048

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.MD5:
		return "md5"
	case crypto.SHA1:
		return "sha1"
	case crypto.SHA224:
		return "sha224"
	case crypto.SHA256:
		return "sha256"
	case crypto.SHA384:
		return "sha384"
	case crypto.SHA512:
		return "sha512"
	case crypto.SHA3_256:
		return "sha3-256"
	case crypto.SHA3_512:
		return "sha3-512"
	case crypto.RIPEMD160:
		return "ripemd160"
	}
	return h.String()
}

func digestWeakness(h crypto.Hash) []string {
	switch h {
	case crypto.MD5:
		return []string{"digest-md5"}
	case crypto.SHA1:
		return []string{"digest-sha1"}
	case crypto.RIPEMD160:
		return []string{"digest-ripemd160"}
	}
	return nil
}

func keyWeakness(typ string, bits int) []string {
	switch {
	case typ == "rsa" && bits < 1024:
		return []string{"rsa-below-1024"}
	case typ == "rsa" && bits < MinRSABits:
		return []string{"rsa-below-2048"}
	case typ == "dsa":
		return []string{"key-dsa"}
	case typ == "ecdsa" && bits < 256:
		return []string{"ec-below-256"}
	}
	return nil
}

// certWeaknesses are the signing certificate's weak points at signing time at (zero
// when the signature names no time).
func certWeaknesses(c *x509.Certificate, at time.Time, trustedTime bool) []string {
	var w []string
	typ, bits := pubKeyInfo(c.PublicKey)
	w = append(w, keyWeakness(typ, bits)...)
	switch c.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.MD2WithRSA:
		w = append(w, "cert-signed-md5")
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1:
		w = append(w, "cert-signed-sha1")
	}
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageCodeSigning) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
			w = append(w, "no-code-signing-eku")
		}
	} else {
		w = append(w, "no-code-signing-eku")
	}
	if c.NotAfter.Sub(c.NotBefore) > LongLived {
		w = append(w, "long-lived")
	}
	if !at.IsZero() {
		switch {
		case at.After(c.NotAfter) && !trustedTime:
			w = append(w, "expired-at-signing")
		case at.After(c.NotAfter):
			w = append(w, "expired-at-timestamp")
		case at.Before(c.NotBefore):
			w = append(w, "not-yet-valid-at-signing")
		}
	}
	return w
}

func uniqueSorted(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
