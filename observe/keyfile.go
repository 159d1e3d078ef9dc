package observe

import (
	"slices"
	"strconv"
	"time"
)

// KeyFile is a private key found in a file read for certificates (medscan lint): what
// the key is and where it lies, never its bytes. Package lint describes the key from its
// public half and matches it with the run's certificates.
type KeyFile struct {
	// File is the file as the user named it (cleaned, forward slashes), as
	// CertSighting.File; Path is the same file absolute, by which the history tells
	// whether a later run read that place again.
	File string `json:"file"`
	Path string `json:"path"`
	// Position is the key's place among the file's private keys, 0 for the first.
	Position int `json:"position"`
	// Format is the key's encoding: "pkcs8", "pkcs1", "sec1", "dsa" or "openssh".
	Format string `json:"format"`
	// KeyType ("rsa", "ecdsa", "dsa", "ed25519", "unknown"), KeyBits and Curve describe
	// the key as CertFacts describes a certificate's; an encrypted key tells only what
	// its encoding names.
	KeyType   string `json:"key_type"`
	KeyBits   int    `json:"key_bits"`
	Curve     string `json:"curve"`
	Encrypted bool   `json:"encrypted"`
	// Mode is the file's permission bits in octal ("0644"), "" when unknown.
	Mode string `json:"mode"`
	// SPKISHA256 is the hex SHA-256 of the public key's SubjectPublicKeyInfo, "" when it
	// cannot be read without the passphrase.
	SPKISHA256 string `json:"spki_sha256"`
	// Certificates are the SHA-256 of the run's certificates that carry this public key,
	// sorted, at most MaxKeyFileCertificates (filled by lint.MatchKeyFiles).
	Certificates []string  `json:"certificates"`
	Time         time.Time `json:"time"` // when the file was read
}

// MaxKeyFileCertificates bounds the certificates listed as holding one key file's key:
// a few name it, a renewed certificate keeps its key.
const MaxKeyFileCertificates = 16

// AddKeyFile records a private key found in a file; the same key of the same file
// (by path and position) is kept once.
func (s *Set) AddKeyFile(k KeyFile) {
	key := k.Path + "#" + strconv.Itoa(k.Position)
	kept, added := keep(s, &s.keys, &s.KeyFiles, "key_files"+notKeptSuffix, key, &k, func(o *KeyFile, k KeyFile) {
		for _, c := range k.Certificates {
			if len(o.Certificates) < MaxKeyFileCertificates && !slices.Contains(o.Certificates, c) {
				o.Certificates = append(o.Certificates, c)
			}
		}
		slices.Sort(o.Certificates)
		if !k.Time.IsZero() && (o.Time.IsZero() || k.Time.Before(o.Time)) {
			o.Time = k.Time
		}
	})
	if added {
		kept.Certificates = slices.Clone(kept.Certificates) // appended to above: not shared with the caller
	}
}
