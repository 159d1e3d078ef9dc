package lint

import (
	encasn1 "encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// attrNames are the attribute types RFC 4514 §3 names (plus STREET and UID, which
// Python cryptography also names); every other type is written as a dotted OID. Keeping
// exactly this set makes the strings match the corpus oracle byte for byte.
var attrNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.6":                    "C",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

// Additional string tags not named by cryptobyte/asn1.
const (
	tagNumericString   = asn1.Tag(18)
	tagGraphicString   = asn1.Tag(25)
	tagVisibleString   = asn1.Tag(26)
	tagUniversalString = asn1.Tag(28)
	tagBMPString       = asn1.Tag(30)
)

// rfc4514 renders a DER Name (header included) as an RFC 4514 string. A malformed name
// renders as far as it could be read, so evidence still shows something recognisable.
func rfc4514(name []byte) (string, bool) {
	in := cryptobyte.String(name)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) {
		return "", false
	}
	var rdns []string
	ok := true
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, asn1.SET) {
			ok = false
			break
		}
		var parts []string
		for !set.Empty() {
			var atv cryptobyte.String
			var oid encasn1.ObjectIdentifier
			var val cryptobyte.String
			var tag asn1.Tag
			if !set.ReadASN1(&atv, asn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) {
				ok = false
				break
			}
			full := atv
			if !atv.ReadAnyASN1(&val, &tag) {
				ok = false
				break
			}
			typ := oid.String()
			if n, found := attrNames[typ]; found {
				typ = n
			}
			parts = append(parts, typ+"="+attrValue(tag, val, full))
		}
		if len(parts) > 0 {
			rdns = append(rdns, strings.Join(parts, "+"))
		}
	}
	// RFC 4514 §2.1: the last RDN of the sequence comes first.
	for i, j := 0, len(rdns)-1; i < j; i, j = i+1, j-1 {
		rdns[i], rdns[j] = rdns[j], rdns[i]
	}
	return strings.Join(rdns, ","), ok
}

// attrValue decodes a string value and escapes it; a value that is not a string is
// written as '#' and the hex of its DER, as RFC 4514 §2.4 prescribes.
func attrValue(tag asn1.Tag, val cryptobyte.String, full cryptobyte.String) string {
	var s string
	switch tag {
	case asn1.UTF8String, asn1.PrintableString, asn1.IA5String, tagNumericString,
		tagVisibleString, asn1.GeneralString, tagGraphicString:
		s = printableString(val)
	case asn1.T61String:
		// T.61 in practice carries Latin-1.
		r := make([]rune, len(val))
		for i, b := range val {
			r[i] = rune(b)
		}
		s = string(r)
	case tagBMPString:
		u := make([]uint16, len(val)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(val[2*i:])
		}
		s = string(utf16.Decode(u))
	case tagUniversalString:
		r := make([]rune, len(val)/4)
		for i := range r {
			r[i] = rune(binary.BigEndian.Uint32(val[4*i:]))
		}
		s = strings.ToValidUTF8(string(r), "\uFFFD")
	default:
		return "#" + hex.EncodeToString(full)
	}
	return escapeValue(s)
}

// escapeValue escapes an attribute value per RFC 4514 §2.4, in the same way as Python
// cryptography (which the corpus oracle uses): special characters get a backslash, NUL
// becomes \00, and a leading '#' or space and a trailing space are escaped.
func escapeValue(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '"', '+', ',', ';', '<', '>':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\00`)
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	if out[0] == '#' || out[0] == ' ' {
		out = `\` + out
	}
	if out[len(out)-1] == ' ' {
		out = out[:len(out)-1] + `\ `
	}
	return out
}
