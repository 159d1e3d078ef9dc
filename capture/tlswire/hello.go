package tlswire

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Extension types read from hellos.
const (
	extServerName          = 0
	extSupportedGroups     = 10
	extECPointFormats      = 11
	extSignatureAlgorithms = 13
	extALPN                = 16
	extSessionTicket       = 35
	extPreSharedKey        = 41
	extSupportedVersions   = 43
	extKeyShare            = 51
)

// hrrRandom is the ServerHello.random that marks a HelloRetryRequest (RFC 8446 4.1.3).
var hrrRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// isGREASE reports the reserved values of RFC 8701 (0x0a0a, 0x1a1a, ... 0xfafa), which
// clients sprinkle through their lists and every fingerprint ignores.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// helloFacts are the parts of a ClientHello that the fingerprints need.
type helloFacts struct {
	version   uint16
	suites    []uint16 // GREASE removed
	exts      []uint16 // GREASE removed, in order
	groups    []uint16
	points    []byte
	sigAlgs   []uint16
	versions  []uint16 // supported_versions, GREASE removed; nil when absent
	hasSNI    bool
	alpnFirst []byte // the first ALPN protocol, raw
	hasALPN   bool
}

// clientHello reads a TLS ClientHello body. Only the first one counts: a second one
// (after a HelloRetryRequest) repeats the same client.
func (s *stream) clientHello(body []byte) {
	if s.sess.SawClientHello {
		return
	}
	var f helloFacts
	r := rd(body)
	var ok bool
	var sid, suites, comp rd
	if f.version, ok = r.u16(); !ok {
		s.count("tls_bad_hellos", 1)
		return
	}
	if _, ok = r.bytes(32); ok {
		sid, ok = r.vec8()
	}
	if ok {
		suites, ok = r.vec16()
	}
	if ok {
		comp, ok = r.vec8()
	}
	if !ok || len(sid) > 32 || len(suites)%2 != 0 || len(comp) == 0 {
		s.count("tls_bad_hellos", 1)
		return
	}
	s.hello()
	t := &s.sess
	t.SawClientHello = true
	t.ClientVersion = f.version
	s.clientSID = slices.Clone([]byte(sid))
	f.suites = make([]uint16, 0, len(suites)/2)
	for !suites.empty() {
		v, _ := suites.u16()
		if !isGREASE(v) {
			f.suites = append(f.suites, v)
		}
	}
	t.OfferedSuites = f.suites[:min(len(f.suites), maxListItems):min(len(f.suites), maxListItems)]

	s.extensions(r, func(typ uint16, data rd) {
		if isGREASE(typ) {
			return
		}
		if len(f.exts) < 4*maxListItems {
			f.exts = append(f.exts, typ)
		}
		s.clientExtension(&f, typ, data)
	})
	t.OfferedGroups = f.groups
	if f.versions != nil {
		t.OfferedVersions = f.versions
		s.offered13 = slices.Contains(f.versions, 0x0304)
	} else {
		t.OfferedVersions = []uint16{f.version}
	}
	t.JA3 = ja3(&f)
	t.JA4 = ja4(&f)
}

func (s *stream) clientExtension(f *helloFacts, typ uint16, data rd) {
	t := &s.sess
	switch typ {
	case extServerName:
		f.hasSNI = true
		list, ok := data.vec16()
		for ok && !list.empty() {
			var kind uint8
			var name rd
			kind, ok = list.u8()
			if ok {
				name, ok = list.vec16()
			}
			if ok && kind == 0 && t.SNI == "" {
				t.SNI = observe.Text(name, 255)
			}
		}
	case extALPN:
		f.hasALPN = true
		list, ok := data.vec16()
		for ok && !list.empty() {
			var p rd
			if p, ok = list.vec8(); !ok {
				break
			}
			if f.alpnFirst == nil {
				f.alpnFirst = append([]byte{}, p...)
			}
			if len(t.ALPN) < maxALPN {
				t.ALPN = append(t.ALPN, observe.Text(p, 255))
			}
		}
	case extSupportedVersions:
		list, ok := data.vec8()
		f.versions = []uint16{}
		for ok && len(list) >= 2 && len(f.versions) < maxListItems {
			v, _ := list.u16()
			if !isGREASE(v) {
				f.versions = append(f.versions, v)
			}
		}
	case extSupportedGroups:
		list, ok := data.vec16()
		for ok && len(list) >= 2 && len(f.groups) < maxListItems {
			v, _ := list.u16()
			if !isGREASE(v) {
				f.groups = append(f.groups, v)
			}
		}
	case extECPointFormats:
		if list, ok := data.vec8(); ok {
			f.points = append([]byte{}, list...)
		}
	case extSignatureAlgorithms:
		list, ok := data.vec16()
		for ok && len(list) >= 2 && len(f.sigAlgs) < maxListItems {
			v, _ := list.u16()
			if !isGREASE(v) {
				f.sigAlgs = append(f.sigAlgs, v)
			}
		}
	}
}

// ja3 is the MD5 of "version,suites,extensions,groups,point formats" in decimal, values
// joined by '-', GREASE removed (Salesforce JA3).
func ja3(f *helloFacts) string {
	b := make([]byte, 0, 256)
	b = strconv.AppendUint(b, uint64(f.version), 10)
	b = append(b, ',')
	b = appendDec(b, f.suites)
	b = append(b, ',')
	b = appendDec(b, f.exts)
	b = append(b, ',')
	b = appendDec(b, f.groups)
	b = append(b, ',')
	for i, p := range f.points {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(p), 10)
	}
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func appendDec(b []byte, v []uint16) []byte {
	for i, x := range v {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(x), 10)
	}
	return b
}

// ja4 is FoxIO's JA4 TLS client fingerprint, a_b_c: a describes the hello, b hashes the
// sorted suites, c the sorted extensions (without SNI and ALPN) and the signature
// algorithms in their order.
func ja4(f *helloFacts) string {
	b := make([]byte, 0, 40)
	b = append(b, 't')
	// The highest supported_versions entry wins over the legacy version.
	v := f.version
	if len(f.versions) > 0 {
		v = slices.Max(f.versions)
	}
	b = append(b, ja4Version(v)...)
	if f.hasSNI {
		b = append(b, 'd')
	} else {
		b = append(b, 'i')
	}
	b = append2(b, len(f.suites))
	b = append2(b, len(f.exts))
	b = append(b, ja4ALPN(f.alpnFirst)...)
	b = append(b, '_')

	suites := slices.Clone(f.suites)
	slices.Sort(suites)
	b = append(b, hash12(appendHex(nil, suites))...)
	b = append(b, '_')

	exts := make([]uint16, 0, len(f.exts))
	for _, e := range f.exts {
		if e != extServerName && e != extALPN {
			exts = append(exts, e)
		}
	}
	slices.Sort(exts)
	var c []byte
	if len(exts) > 0 {
		c = appendHex(nil, exts)
		if len(f.sigAlgs) > 0 {
			c = append(c, '_')
			c = appendHex(c, f.sigAlgs)
		}
	}
	return string(append(b, hash12(c)...))
}

func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// append2 writes a count as two digits, capped at 99 as the spec says.
func append2(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func ja4ALPN(p []byte) string {
	if len(p) == 0 {
		return "00"
	}
	first, last := p[0], p[len(p)-1]
	if alnum(first) && alnum(last) {
		return string([]byte{first, last})
	}
	// A non-alphanumeric end: the first hex digit of the first byte and the last hex
	// digit of the last byte.
	const digits = "0123456789abcdef"
	return string([]byte{digits[first>>4], digits[last&0xf]})
}

func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func appendHex(b []byte, v []uint16) []byte {
	const digits = "0123456789abcdef"
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[x>>12], digits[x>>8&0xf], digits[x>>4&0xf], digits[x&0xf])
	}
	return b
}

// hash12 is the first 12 hex digits of the SHA-256 of s, or twelve zeros for an empty
// list, as JA4 writes an absent section.
func hash12(s []byte) string {
	if len(s) == 0 {
		return "000000000000"
	}
	sum := sha256.Sum256(s)
	return hex.EncodeToString(sum[:6])
}

// serverHello reads a TLS ServerHello (or HelloRetryRequest) body.
func (s *stream) serverHello(body []byte) {
	r := rd(body)
	version, ok := r.u16()
	var random []byte
	var sid rd
	var suite uint16
	if ok {
		random, ok = r.bytes(32)
	}
	if ok {
		sid, ok = r.vec8()
	}
	if ok {
		suite, ok = r.u16()
	}
	if ok {
		_, ok = r.u8() // compression method
	}
	if !ok || len(sid) > 32 {
		s.count("tls_bad_hellos", 1)
		return
	}
	hrr := bytes.Equal(random, hrrRandom[:])
	var selected, group uint16
	var alpn string
	psk := false
	s.extensions(r, func(typ uint16, data rd) {
		switch typ {
		case extSupportedVersions:
			selected, _ = data.u16()
		case extALPN:
			if list, ok := data.vec16(); ok {
				if p, ok := list.vec8(); ok {
					alpn = observe.Text(p, 255)
				}
			}
		case extKeyShare:
			group, _ = data.u16()
		case extPreSharedKey:
			psk = true
		}
	})
	s.hello()
	t := &s.sess
	t.SawServerHello = true
	t.Version = version
	if selected != 0 {
		t.Version = selected
	}
	t.Suite = suite
	t.ALPNSelected = alpn
	if group != 0 {
		t.ECDHCurve = group
	}
	s.serverSID = slices.Clone([]byte(sid))
	if t.Version == 0x0304 {
		s.tls13 = true
		s.pskOK = psk
		if !hrr {
			// Everything after a TLS 1.3 ServerHello travels encrypted.
			s.final13 = true
			s.encrypt(dissect.ServerToClient)
		}
	}
}

// sslv2 reads the first record of a direction that uses the SSLv2 record format: the
// client's CLIENT-HELLO (possibly offering SSLv3/TLS) or the server's SERVER-HELLO.
func (s *stream) sslv2(dir dissect.Direction, body []byte) {
	r := rd(body)
	typ, _ := r.u8()
	switch {
	case typ == sslv2ClientHello && dir == dissect.ClientToServer:
		s.sslv2ClientHello(r)
	case typ == sslv2ServerHello && dir == dissect.ServerToClient:
		s.sslv2ServerHello(r)
	default:
		s.count("tls_bad_hellos", 1)
		s.stop(dir)
	}
}

func (s *stream) sslv2ClientHello(r rd) {
	version, ok := r.u16()
	var specLen, sidLen, chLen uint16
	if ok {
		specLen, ok = r.u16()
	}
	if ok {
		sidLen, ok = r.u16()
	}
	if ok {
		chLen, ok = r.u16()
	}
	var specs rd
	if ok {
		var b []byte
		b, ok = r.bytes(int(specLen))
		specs = rd(b)
	}
	if ok {
		_, ok = r.bytes(int(sidLen) + int(chLen))
	}
	if !ok || specLen%3 != 0 || s.sess.SawClientHello {
		s.count("tls_bad_hellos", 1)
		s.stop(dissect.ClientToServer)
		return
	}
	s.count("tls_sslv2_hellos", 1)
	s.hello()
	t := &s.sess
	t.SawClientHello = true
	t.SSLv2Hello = true
	t.ClientVersion = version
	t.OfferedVersions = []uint16{version}
	for len(specs) >= 3 && len(t.OfferedSuites) < maxListItems {
		// A spec whose first byte is zero is a TLS suite; others are SSLv2 cipher kinds.
		if specs[0] == 0 {
			if id := uint16(specs[1])<<8 | uint16(specs[2]); !isGREASE(id) {
				t.OfferedSuites = append(t.OfferedSuites, id)
			}
		}
		specs = specs[3:]
	}
}

func (s *stream) sslv2ServerHello(r rd) {
	var hit, certType uint8
	var version, certLen, specLen, connLen uint16
	hit, ok := r.u8()
	if ok {
		certType, ok = r.u8()
	}
	if ok {
		version, ok = r.u16()
	}
	if ok {
		certLen, ok = r.u16()
	}
	if ok {
		specLen, ok = r.u16()
	}
	if ok {
		connLen, ok = r.u16()
	}
	var cert []byte
	if ok {
		cert, ok = r.bytes(int(certLen))
	}
	var specs []byte
	if ok {
		specs, ok = r.bytes(int(specLen))
	}
	if ok {
		_, ok = r.bytes(int(connLen))
	}
	if !ok {
		s.count("tls_bad_hellos", 1)
		s.stop(dissect.ServerToClient)
		return
	}
	s.hello()
	t := &s.sess
	t.SawServerHello = true
	t.Version = version
	s.sawSSLv2SH = true
	t.Resumed = hit != 0
	if certType == 1 && len(cert) > 0 && len(s.serverChain) == 0 {
		s.serverChain = [][]byte{slices.Clone(cert)}
	}
	// A server that offers a single cipher kind has chosen it; otherwise the client's
	// CLIENT-MASTER-KEY, the one clear record left, names the choice.
	if len(specs) == 3 {
		t.SSLv2Cipher = uint32(specs[0])<<16 | uint32(specs[1])<<8 | uint32(specs[2])
	}
	// Everything the server sends after its SERVER-HELLO is encrypted; so is everything
	// the client sends on a resumed session (no CLIENT-MASTER-KEY then).
	s.encrypt(dissect.ServerToClient)
	if t.Resumed {
		s.encrypt(dissect.ClientToServer)
	}
}

// sslv2MasterKey reads the client's CLIENT-MASTER-KEY (message type 2), the SSLv2 record
// that names the cipher kind the client chose; every later record is encrypted.
func (s *stream) sslv2MasterKey(body []byte) {
	if len(body) >= 4 && body[0] == 2 {
		s.sess.SSLv2Cipher = uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3])
	} else {
		s.count("tls_bad_hellos", 1)
	}
	s.encrypt(dissect.ClientToServer)
}

// extensions walks a hello's extensions block, the rest of r, calling fn for each
// extension in order. A hello without the block has none; a malformed block is counted
// and ends the walk, keeping what was read before it.
func (s *stream) extensions(r rd, fn func(typ uint16, data rd)) {
	if r.empty() {
		return
	}
	exts, ok := r.vec16()
	for ok && !exts.empty() {
		var typ uint16
		var data rd
		if typ, ok = exts.u16(); ok {
			data, ok = exts.vec16()
		}
		if ok {
			fn(typ, data)
		}
	}
	if !ok {
		s.count("tls_bad_hellos", 1)
	}
}
