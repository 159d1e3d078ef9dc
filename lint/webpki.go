package lint

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"strings"
	"sync"
)

// WebPKI says how the public-WebPKI question is answered for a scan (the policy's
// webpki key): it decides whether zlint's CA/Browser Forum and root-programme lints run.
type WebPKI string

// The ways of deciding whether a certificate is public WebPKI.
const (
	// WebPKIAuto judges a certificate public when it, or a chain it was sent in, names
	// a public root (webpki_roots.txt) as subject or issuer.
	WebPKIAuto WebPKI = "auto"
	// WebPKIAlways treats every certificate as public WebPKI: for a site whose TLS
	// services all use certificates from public CAs.
	WebPKIAlways WebPKI = "always"
	// WebPKINever treats no certificate as public WebPKI: a closed clinical network.
	WebPKINever WebPKI = "never"
)

// webpkiRootsText lists the public roots by the SHA-256 of their subject name's DER,
// generated from Mozilla's root store by lint/internal/genroots. Names are compared as
// DER bytes, never as rendered strings, so that a lookalike name in another encoding
// does not match. A private CA that copies a public root's name byte for byte would be
// judged public; the cost is CA/B Forum lints on it, which is noise, not silence.
//
//go:embed webpki_roots.txt
var webpkiRootsText string

var (
	rootsOnce sync.Once
	rootNames map[[32]byte]string
)

// publicRootName returns the name of the public root whose subject name is the given
// DER name, or "".
func publicRootName(nameDER []byte) string {
	rootsOnce.Do(func() {
		rootNames = map[[32]byte]string{}
		sc := bufio.NewScanner(strings.NewReader(webpkiRootsText))
		for sc.Scan() {
			line := sc.Text()
			if line == "" || line[0] == '#' {
				continue
			}
			h, name, _ := strings.Cut(line, " ")
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != 32 {
				continue
			}
			rootNames[[32]byte(b)] = name
		}
	})
	if len(nameDER) == 0 {
		return ""
	}
	return rootNames[sha256.Sum256(nameDER)]
}

// publicName checks a certificate's issuer, then its subject, against the public roots.
func publicName(r *rawCert) (string, bool) {
	if r == nil {
		return "", false
	}
	for _, n := range [][]byte{r.issuer, r.subject} {
		if name := publicRootName(n); name != "" {
			return name, true
		}
	}
	return "", false
}

// sameBytes is bytes.Equal for names, kept as a name so chain code reads plainly.
func sameBytes(a, b []byte) bool { return len(a) > 0 && bytes.Equal(a, b) }
