package observe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file is medscan's one sanitizer for text that came from somewhere medscan does not
// control: a packet, a certificate, a file, a store someone else wrote. Every producer of
// observations passes such text through Text or Clean, and every output starts from
// Clean before it applies its own escaping (HTML, CSV, SARIF), so the rule is written
// once: what is printable stays as it is, and everything else is shown, never obeyed.

// Clean returns s with every rune that a terminal, a browser or a spreadsheet could act
// on shown as an escape instead: control characters (an ANSI sequence in a certificate
// subject could rewrite a screen) as \x1b, bidirectional overrides, zero-width and other
// format characters, line separators and unassigned code points as \u202e, and bytes
// that are not UTF-8 as \xff. A tab becomes a space. Printable text, in any script,
// passes unchanged and without an allocation.
func Clean(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return cleanFrom(s, i)
		}
	}
	return s
}

// cleanFrom is Clean for a string whose first i bytes are printable ASCII.
func cleanFrom(s string, i int) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	changed := false
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
			changed = true
		case r == '\t':
			b.WriteByte(' ')
			changed = true
		case r != ' ' && !unicode.IsGraphic(r):
			b.WriteString(escapeRune(r))
			changed = true
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	if !changed {
		return s
	}
	return b.String()
}

// escapeRune writes a rune the way Go writes it in a quoted string.
func escapeRune(r rune) string {
	switch {
	case r < 0x80:
		return `\x` + hex2(byte(r))
	case r <= 0xffff:
		return `\u` + pad(strconv.FormatInt(int64(r), 16), 4)
	}
	return `\U` + pad(strconv.FormatInt(int64(r), 16), 8)
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

func pad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// Text makes bytes chosen by a peer safe to keep and show: at most max bytes (cut at a
// character boundary), then Clean, so that a hostile client ID, SNI or header can neither
// bloat the store nor drive a terminal. Clean input costs one copy.
func Text(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
		// Do not leave half a character at the cut: it would read as a broken byte.
		if t := tail(b); !utf8.FullRune(t) {
			b = b[:len(b)-len(t)]
		}
	}
	return Clean(string(b))
}

// tail is the last (possibly incomplete) UTF-8 sequence of b.
func tail(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return b[i:]
		}
	}
	return b
}
