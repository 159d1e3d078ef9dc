package observe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file is medscan's one sanitizer for text that came from somewhere medscan does not
// control: a packet, a certificate, a file, a store someone else wrote. The dissectors
// pass such text through Text or Clean as they make observations, and every output
// starts from Clean (findings.Tidy) before it applies its own escaping (HTML, CSV,
// SARIF), so the rule is written once: what is printable stays as it is, and everything
// else is shown, never obeyed.

// Clean returns s with every rune that a terminal, a browser or a spreadsheet could act
// on shown as an escape instead: control characters (an ANSI sequence in a certificate
// subject could rewrite a screen) as \x1b, bidirectional overrides, zero-width and other
// format characters, line separators and unassigned code points as \u202e, and bytes
// that are not UTF-8 as \xff. A tab becomes a space. Printable text, in any script,
// passes unchanged and without an allocation.
func Clean(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return cleanFrom(s, i, -1)
		}
	}
	return s
}

// cleanFrom is Clean for a string whose first i bytes are printable ASCII, its result
// cut at a character (or escape) boundary to at most max bytes when max >= 0. It copies
// nothing until it meets a character shown otherwise: text in any script that needs no
// escape comes back as it is.
func cleanFrom(s string, i, max int) string {
	for ; i < len(s); i++ {
		piece, n := shown(s[i:])
		if max >= 0 && i+len(piece) > max {
			return s[:i]
		}
		if piece != s[i:i+n] {
			break
		}
		i += n - 1
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		piece, n := shown(s[i:])
		if max >= 0 && b.Len()+len(piece) > max {
			break
		}
		b.WriteString(piece)
		i += n
	}
	return b.String()
}

// shown is how the first character of s is shown, and its length in s.
func shown(s string) (string, int) {
	r, n := utf8.DecodeRuneInString(s)
	switch {
	case r == utf8.RuneError && n <= 1:
		return `\x` + hex2(s[0]), 1
	case r == '\t':
		return " ", n
	case r != ' ' && !unicode.IsGraphic(r):
		return escapeRune(r), n
	}
	return s[:n], n
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

// Text makes bytes chosen by a peer safe to keep and show: cleaned as Clean cleans, and
// at most max bytes long, cut at a character or escape boundary, so that a hostile client
// ID, SNI or header can neither bloat the store nor drive a terminal. Clean input costs
// one copy, of at most the bytes that can show within max.
func Text(b []byte, max int) string {
	for i, c := range b {
		if i >= max {
			return string(b[:max])
		}
		if c < 0x20 || c >= 0x7f {
			// Every byte shows as one byte or more: no more than max bytes (and the
			// character that straddles the cut) can show.
			return cleanFrom(string(b[:min(len(b), max+utf8.UTFMax)]), i, max)
		}
	}
	return string(b)
}
