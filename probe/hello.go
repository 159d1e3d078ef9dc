package probe

import (
	"cmp"
	"crypto/ecdh"
	"crypto/rand"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/medscan/medscan/observe"
)

// Protocol versions as they appear on the wire (SSLv2 is 0x0002, as in observe).
const (
	versionSSL2  uint16 = 0x0002
	versionSSL3  uint16 = 0x0300
	versionTLS10 uint16 = 0x0301
	versionTLS11 uint16 = 0x0302
	versionTLS12 uint16 = 0x0303
	versionTLS13 uint16 = 0x0304
)

// Signalling values that share the cipher suite registry but are not suites.
const (
	suiteRenegotiationSCSV uint16 = 0x00ff
	suiteFallbackSCSV      uint16 = 0x5600
)

// maxHelloSuites caps the suites one hand-built ClientHello offers. With the
// extensions below it keeps every hello under about 330 bytes, so it goes out in one
// small TCP segment: some embedded TLS stacks hang on large or fragmented hellos.
const maxHelloSuites = 64

// Extension and group code points used by the hand-built hellos.
const (
	extServerName          uint16 = 0
	extStatusRequest       uint16 = 5
	extSupportedGroups     uint16 = 10
	extECPointFormats      uint16 = 11
	extSignatureAlgorithms uint16 = 13
	extSupportedVersions   uint16 = 43
	extKeyShare            uint16 = 51
	extRenegotiationInfo   uint16 = 0xff01

	groupX25519 uint16 = 29
)

// sigAlgs is offered in TLS 1.2 and 1.3 hellos: every signature scheme a server
// certificate may need (ECDSA, EdDSA, RSA-PSS, PKCS#1 v1.5 including SHA-1 and SHA-224,
// DSA), so that no suite is refused for want of a signature algorithm.
var sigAlgs = []uint16{
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
	0x0401, 0x0501, 0x0601, 0x0301, 0x0303, 0x0201, 0x0203, 0x0202, 0x0402,
}

// helloGroups12 are the curves a TLS <= 1.2 suite-enumeration hello offers: enough that
// any server implementing ECDHE finds one, and no finite-field groups, so that a server
// implementing RFC 7919 uses its own DH parameters as it would for most clients.
var helloGroups12 = []uint16{29, 23, 24, 25, 30, 26, 27, 28, 22, 21, 19, 14}

// helloGroups13 are the groups a TLS 1.3 suite-enumeration hello lists (x25519 with a
// key share, the others so that a server without x25519 answers a HelloRetryRequest,
// which names the suite just as well).
var helloGroups13 = []uint16{29, 23, 24, 25, 30, 256, 257, 258, 4588, 4587, 513}

// allGroups12 and allGroups13 are what group enumeration offers: every elliptic curve of
// the registry for TLS <= 1.2 ECDHE, every group defined for TLS 1.3.
var (
	allGroups12 = []uint16{
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
		26, 27, 28, 29, 30, 41,
	}
	allGroups13 = []uint16{
		23, 24, 25, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 256, 257, 258, 259, 260,
		512, 513, 514, 4587, 4588, 4589, 0x6399, 0x639a,
	}
)

// sslv2Kinds are every SSLv2 cipher kind, offered together in the one SSLv2 hello.
var sslv2Kinds = []uint32{0x010080, 0x020080, 0x030080, 0x040080, 0x050080, 0x060040, 0x0700c0, 0x080080}

var registryOnce sync.Once
var registry struct {
	tls13, tls12, legacy []uint16 // enumeration order (see suiteTier), per version family
}

// suitesFor returns the registry's suites that a version can negotiate, in the order
// enumeration offers them: the suites real servers implement first, so that a server's
// accepted suites are normally all met in the first hello and its preference order is
// read exactly; within a tier, by ID.
func suitesFor(v uint16) []uint16 {
	registryOnce.Do(func() {
		for id := 0; id <= 0xffff; id++ {
			s, ok := observe.Suite(uint16(id))
			if !ok || id == 0 || uint16(id) == suiteRenegotiationSCSV || uint16(id) == suiteFallbackSCSV {
				continue
			}
			switch {
			case s.KeyExchange == "TLS13":
				registry.tls13 = append(registry.tls13, uint16(id))
			case s.MAC == "MD5" || s.MAC == "SHA1" || (s.MAC == "GOST" && !strings.HasPrefix(s.Name, "TLS_GOSTR341112")):
				// Suites with a pre-TLS 1.2 MAC work in every version up to 1.2.
				registry.legacy = append(registry.legacy, uint16(id))
				registry.tls12 = append(registry.tls12, uint16(id))
			default:
				registry.tls12 = append(registry.tls12, uint16(id))
			}
		}
		for _, l := range [][]uint16{registry.tls13, registry.tls12, registry.legacy} {
			slices.SortStableFunc(l, func(a, b uint16) int { return cmp.Compare(suiteTier(a), suiteTier(b)) })
		}
	})
	switch {
	case v == versionTLS13:
		return registry.tls13
	case v == versionTLS12:
		return registry.tls12
	}
	return registry.legacy
}

// suiteTier ranks suites by how likely a server is to implement and prefer them:
// authenticated ECDHE, DHE and RSA key exchange first, AEAD ciphers before CBC before
// the legacy ciphers, each cipher class across the three key exchanges; then static DH,
// anonymous and export suites; then the rest (PSK, SRP, Kerberos, GOST...).
func suiteTier(id uint16) int {
	s, _ := observe.Suite(id)
	var kex int
	switch {
	case s.KeyExchange == "TLS13":
		kex = 0
		if id>>8 != 0x13 || id > 0x1305 {
			kex = 5
		}
	case s.Anonymous || s.Export:
		kex = 4
	case s.KeyExchange == "ECDHE":
		kex = 0
	case s.KeyExchange == "DHE":
		kex = 1
	case s.KeyExchange == "RSA":
		kex = 2
	case s.KeyExchange == "ECDH" || s.KeyExchange == "DH":
		kex = 3
	default:
		kex = 5
	}
	var cipher int
	switch s.Cipher {
	case "AESGCM", "CHACHA20":
		cipher = 0
	case "AES":
		cipher = 1
	case "AESCCM", "CAMELLIA", "ARIA":
		cipher = 2
	case "3DES", "SEED", "IDEA":
		cipher = 3
	default:
		cipher = 4
	}
	if kex <= 2 {
		return cipher*3 + kex
	}
	return 100 + kex*10 + cipher
}

// hello describes one hand-built ClientHello.
type hello struct {
	version       uint16 // highest version offered; versionTLS13 sends supported_versions
	suites        []uint16
	groups        []uint16 // supported_groups; nil omits the extension
	keyShare      bool     // TLS 1.3: send an x25519 key share (otherwise an empty list)
	sni           string   // server_name; "" or an address literal omits it
	deflate       bool     // offer DEFLATE compression before null
	statusRequest bool     // ask for a stapled OCSP response
}

// build encodes the hello as one TLS record.
func (h hello) build() []byte {
	legacy := min(h.version, versionTLS12)
	b := make([]byte, 0, 400)
	b = append(b, 22, 3, 1, 0, 0) // record header, length patched below
	if h.version == versionSSL3 {
		b[2] = 0
	}
	b = append(b, 1, 0, 0, 0) // handshake header
	b = append(b, byte(legacy>>8), byte(legacy))
	var random [32]byte
	_, _ = rand.Read(random[:]) // crypto/rand.Read never fails
	b = append(b, random[:]...)
	b = append(b, 0) // no session ID
	b = appendU16(b, uint16(2*len(h.suites)))
	for _, s := range h.suites {
		b = appendU16(b, s)
	}
	if h.deflate {
		b = append(b, 2, 1, 0)
	} else {
		b = append(b, 1, 0)
	}
	if h.version > versionSSL3 {
		extStart := len(b)
		b = append(b, 0, 0)
		if h.sni != "" {
			if _, err := netip.ParseAddr(h.sni); err != nil && len(h.sni) < 256 {
				n := len(h.sni)
				b = appendU16(b, extServerName)
				b = appendU16(b, uint16(n+5))
				b = appendU16(b, uint16(n+3))
				b = append(b, 0)
				b = appendU16(b, uint16(n))
				b = append(b, h.sni...)
			}
		}
		if len(h.groups) > 0 {
			b = appendU16(b, extSupportedGroups)
			b = appendU16(b, uint16(2+2*len(h.groups)))
			b = appendU16(b, uint16(2*len(h.groups)))
			for _, g := range h.groups {
				b = appendU16(b, g)
			}
			if h.version <= versionTLS12 {
				b = append(b, 0, byte(extECPointFormats), 0, 2, 1, 0) // uncompressed only
			}
		}
		if h.version >= versionTLS12 {
			b = appendU16(b, extSignatureAlgorithms)
			b = appendU16(b, uint16(2+2*len(sigAlgs)))
			b = appendU16(b, uint16(2*len(sigAlgs)))
			for _, a := range sigAlgs {
				b = appendU16(b, a)
			}
		}
		if h.statusRequest {
			b = appendU16(b, extStatusRequest)
			b = append(b, 0, 5, 1, 0, 0, 0, 0) // ocsp, no responder IDs, no extensions
		}
		if h.version <= versionTLS12 {
			b = append(b, 0xff, 0x01, 0, 1, 0) // renegotiation_info, empty
		} else {
			b = appendU16(b, extSupportedVersions)
			b = append(b, 0, 3, 2, 3, 4)
			b = appendU16(b, extKeyShare)
			if h.keyShare {
				b = append(b, 0, 38, 0, 36, 0, byte(groupX25519), 0, 32)
				b = append(b, x25519Share()...)
			} else {
				b = append(b, 0, 2, 0, 0)
			}
		}
		putU16(b[extStart:], uint16(len(b)-extStart-2))
	}
	putU16(b[3:], uint16(len(b)-5))
	n := len(b) - 9
	b[6], b[7], b[8] = byte(n>>16), byte(n>>8), byte(n)
	return b
}

// x25519Share returns a fresh x25519 public key. The private key is discarded:
// enumeration never completes a handshake, it only needs the server's answer.
func x25519Share() []byte {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		// crypto/rand does not fail on supported platforms; a fixed valid point keeps
		// the hello well formed should it ever.
		return basePoint[:]
	}
	return k.PublicKey().Bytes()
}

// basePoint is the x25519 base point (u = 9).
var basePoint = [32]byte{9}

func appendU16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }

func putU16(b []byte, v uint16) { b[0], b[1] = byte(v>>8), byte(v) }
