package codesign

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Policy is what the site trusts for code signing: anchors for every image, anchors per
// vendor (matched by update server and image name), and which images must be signed.
// The zero Policy has no anchors (signers are reported, not judged) and requires every
// image to be signed.
type Policy struct {
	// Anchors apply to every image no vendor entry matches; nil for none.
	Anchors *Anchors
	// MustSign are name patterns (path.Match) of the images that must be signed; empty
	// means every image.
	MustSign []string
	// Vendors are checked in order; the first that matches an image gives its anchors.
	Vendors []Vendor
}

// Vendor is one maker's update channel: its servers, its image names, and its anchors.
type Vendor struct {
	Name string
	// Servers are host names or addresses (with or without a port) of the update
	// servers; empty matches any. "file" matches medscan verify's files.
	Servers []string
	// Images are name patterns (path.Match); empty matches any name.
	Images []string
	// Anchors replace the global ones for this vendor's images: a signature from
	// another vendor's key is untrusted here.
	Anchors *Anchors
	// MustSign, when non-nil, replaces the global list for this vendor's images.
	MustSign []string
}

// Anchors are trust anchors for code signing: X.509 roots (and intermediates, which
// anchor too), OpenPGP public keys, and bare public keys (PEM "PUBLIC KEY"), which only
// formats that sign with a bare key use (Mender artifacts, SWUpdate's raw RSA mode, U-Boot FIT):
// such a signature names no signer, so the key that checks it is the signer.
type Anchors struct {
	Certs      []*x509.Certificate
	Keys       openpgp.EntityList
	PublicKeys []PublicKey
	Files      []string // the files they came from, as the policy names them
}

// PublicKey is one bare public key anchor, the file it came from and, for a key of a
// U-Boot control DTB (FIT images carry no certificate), its key-name-hint.
type PublicKey struct {
	Key  crypto.PublicKey
	File string
	Name string
}

// Empty says whether the set has nothing to trust.
func (a *Anchors) Empty() bool {
	return a == nil || len(a.Certs) == 0 && len(a.Keys) == 0 && len(a.PublicKeys) == 0
}

func (a *Anchors) pool() *x509.CertPool {
	p := x509.NewCertPool()
	if a != nil {
		for _, c := range a.Certs {
			p.AddCert(c)
		}
	}
	return p
}

// AddFile parses one anchor file's bytes: PEM or DER certificates, armored or binary
// OpenPGP public keys, PEM public keys, or a U-Boot control DTB's keys. name is the file
// as the user named it, for errors.
func (a *Anchors) AddFile(name string, data []byte) error {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return fmt.Errorf("%s: empty", name)
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP PUBLIC KEY BLOCK")):
		block, err := armor.Decode(bytes.NewReader(trimmed))
		if err != nil {
			return fmt.Errorf("%s: OpenPGP armor: %v", name, err)
		}
		el, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return fmt.Errorf("%s: OpenPGP key: %v", name, err)
		}
		a.Keys = append(a.Keys, el...)
	case bytes.Contains(trimmed, []byte("-----BEGIN CERTIFICATE")):
		rest, n := trimmed, 0
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return fmt.Errorf("%s: certificate %d: %v", name, n+1, err)
			}
			a.Certs = append(a.Certs, c)
			n++
		}
		if n == 0 {
			return fmt.Errorf("%s: no certificate in the PEM", name)
		}
	case bytes.Contains(trimmed, []byte("-----BEGIN PUBLIC KEY")), bytes.Contains(trimmed, []byte("-----BEGIN RSA PUBLIC KEY")):
		keys, err := parsePublicKeys(trimmed)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		for _, k := range keys {
			a.PublicKeys = append(a.PublicKeys, PublicKey{Key: k, File: name})
		}
	case len(data) >= 4 && string(data[:4]) == "\xd0\x0d\xfe\xed":
		ks, err := controlDTBKeys(data)
		if err != nil {
			return fmt.Errorf("%s: U-Boot control DTB: %v", name, err)
		}
		for _, k := range ks {
			k.File = name
			a.PublicKeys = append(a.PublicKeys, k)
		}
	case trimmed[0] == 0x30:
		cs, err := x509.ParseCertificates(data)
		if err != nil {
			return fmt.Errorf("%s: DER certificate: %v", name, err)
		}
		a.Certs = append(a.Certs, cs...)
	case data[0]&0x80 != 0:
		el, err := openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: OpenPGP key: %v", name, err)
		}
		a.Keys = append(a.Keys, el...)
	default:
		return fmt.Errorf("%s: neither a certificate (PEM or DER), an OpenPGP public key, a PEM public key nor a U-Boot control DTB", name)
	}
	a.Files = append(a.Files, name)
	return nil
}

// scope is what the policy says of one image.
type scope struct {
	name     string // vendor, "" for global
	anchors  *Anchors
	required bool
}

func (p *Policy) scopeFor(origin, name string) scope {
	for _, v := range p.Vendors {
		if !v.matches(origin, name) {
			continue
		}
		must := p.MustSign
		if v.MustSign != nil {
			must = v.MustSign
		}
		return scope{name: v.Name, anchors: v.Anchors, required: matchAny(must, name, true)}
	}
	return scope{anchors: p.Anchors, required: matchAny(p.MustSign, name, true)}
}

func (v Vendor) matches(origin, name string) bool {
	if len(v.Images) > 0 && !matchAny(v.Images, name, false) {
		return false
	}
	if len(v.Servers) == 0 {
		return true
	}
	host, port := originHost(origin)
	for _, s := range v.Servers {
		if s == origin || s == "file" && origin == "file" {
			return true
		}
		if sh, sp, err := net.SplitHostPort(s); err == nil {
			if strings.EqualFold(strings.Trim(sh, "[]"), host) && sp == port {
				return true
			}
			continue
		}
		if strings.EqualFold(strings.Trim(s, "[]"), host) {
			return true
		}
	}
	return false
}

// originHost splits "http://10.0.0.5:80" into its host and port.
func originHost(origin string) (string, string) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return origin, ""
	}
	return u.Hostname(), u.Port()
}

// matchAny reports whether name matches one of the patterns; empty means def.
func matchAny(patterns []string, name string, def bool) bool {
	if len(patterns) == 0 {
		return def
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// ValidPattern checks a name pattern for the policy parser.
func ValidPattern(p string) error {
	_, err := path.Match(p, "")
	return err
}

// openpgpConfig accepts what the site must hear about rather than refuse: SHA-1 and MD5
// digests, DSA and small RSA keys verify (and are reported as weak), and keys are judged
// at the signature's own creation time.
func openpgpConfig(at func() time.Time) *packet.Config {
	return &packet.Config{
		MinRSABits:                  512,
		RejectPublicKeyAlgorithms:   map[packet.PublicKeyAlgorithm]bool{},
		RejectHashAlgorithms:        map[crypto.Hash]bool{},
		RejectMessageHashAlgorithms: map[crypto.Hash]bool{},
		Time:                        at,
	}
}
