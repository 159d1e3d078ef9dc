package observe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// SecretHasher turns a secret into what medscan may keep: a masked preview and a keyed
// hash. The key lives in the store, so the same secret hashes alike across scans of one
// store (which is how a fleet-wide hard-coded key is found) while a leaked report or
// database cannot be checked against a dictionary without it.
type SecretHasher struct{ key []byte }

// NewSecretHasher returns a hasher with the given key (at least 16 bytes).
func NewSecretHasher(key []byte) *SecretHasher {
	return &SecretHasher{key: append([]byte(nil), key...)}
}

// Hash is the hex HMAC-SHA256 of the secret under the store's key (first 16 bytes).
func (h *SecretHasher) Hash(secret []byte) string {
	m := hmac.New(sha256.New, h.key)
	m.Write(secret)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Preview masks a secret for display: short secrets show nothing, longer ones show their
// first two and last two characters, and every preview gives the length.
func Preview(secret []byte) string {
	n := len(secret)
	if n < 8 {
		return "**** (" + strconv.Itoa(n) + " chars)"
	}
	return printable(secret[:2]) + "****" + printable(secret[n-2:]) + " (" + strconv.Itoa(n) + " chars)"
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x21 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// Hide returns the preview and keyed hash of a secret.
func (h *SecretHasher) Hide(secret []byte) (preview, hash string) {
	return Preview(secret), h.Hash(secret)
}

// Text makes bytes chosen by a peer safe to keep and show: at most max bytes, every byte
// outside printable ASCII replaced by '?', so a hostile client ID, SNI or header cannot
// bloat the store, corrupt a report or drive a terminal. Clean input costs one copy.
func Text(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			return printableFrom(b, i)
		}
	}
	return string(b)
}

func printableFrom(b []byte, i int) string {
	out := make([]byte, len(b))
	copy(out, b[:i])
	for ; i < len(b); i++ {
		c := b[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
