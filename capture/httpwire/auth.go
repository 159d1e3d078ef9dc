package httpwire

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"unicode/utf16"

	"github.com/medscan/medscan/capture/internal/lines"
)

// apiKeyNames are headers that carry an API key or token whatever their spelling.
var apiKeyNames = [...]string{
	"x-api-key", "api-key", "x-api-token", "x-auth-token", "x-access-token", "private-token",
	"x-token", "ocp-apim-subscription-key", "x-functions-key",
}

// apiKeyHeader reports whether a header name (other than Authorization, Cookie and the
// framing headers, handled before) carries a secret.
func apiKeyHeader(name []byte) bool {
	return apiKeyLower(bytes.ToLower(name))
}

// apiKeyLower is apiKeyHeader for a name already lowercased.
func apiKeyLower(ln []byte) bool {
	for _, k := range apiKeyNames {
		if string(ln) == k {
			return true
		}
	}
	if bytes.Contains(ln, []byte("csrf")) || bytes.Contains(ln, []byte("xsrf")) {
		return false // anti-forgery tokens, not credentials
	}
	return bytes.Contains(ln, []byte("api-key")) || bytes.Contains(ln, []byte("api_key")) ||
		bytes.Contains(ln, []byte("apikey")) || bytes.Contains(ln, []byte("secret")) || bytes.Contains(ln, []byte("token"))
}

// authorization emits the credential of an Authorization or Proxy-Authorization value and
// returns its scheme (canonical spelling for the well-known ones).
func (s *stream) authorization(h *half, where string, v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	sp := bytes.IndexAny(v, " \t")
	if sp < 0 || !schemeToken(v[:sp]) {
		// A bare token with no scheme: the whole value is the secret, and it must not be
		// mistaken for a scheme name (that would print it).
		s.credential(h, "http-bare-token", where, "", v)
		return "bare"
	}
	raw, token := v[:sp], bytes.TrimSpace(v[sp+1:])
	scheme := canonicalScheme(raw)
	kind := "http-" + lowerString(scheme)
	switch kind {
	case "http-basic":
		dec, err := decodeBase64(token)
		if err != nil {
			s.credential(h, kind, where, "", token)
			break
		}
		user, pass := "", dec
		if i := bytes.IndexByte(dec, ':'); i >= 0 {
			user, pass = clip(dec[:i]), dec[i+1:]
		}
		s.credential(h, kind, where, user, pass)
		clear(dec) // the decoded password does not linger
	case "http-digest":
		user, _ := digestParam(token, "username")
		secret, ok := digestParam(token, "response")
		if !ok {
			secret = token
		}
		s.credential(h, kind, where, clip(user), secret)
	case "http-ntlm", "http-negotiate":
		s.credential(h, kind, where, ntlmUser(token), token)
	default:
		s.credential(h, kind, where, "", token)
	}
	return scheme
}

// schemeToken reports whether b looks like an auth-scheme name: a short token of letters,
// digits and '-', '_', '.'. A long or odd first word is more likely a secret than a scheme.
func schemeToken(b []byte) bool {
	if len(b) == 0 || len(b) > 24 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

var knownSchemes = [...]string{"Basic", "Bearer", "Digest", "NTLM", "Negotiate", "AWS4-HMAC-SHA256", "HOBA", "Mutual", "SCRAM-SHA-256", "Token", "OAuth"}

func canonicalScheme(b []byte) string {
	for _, k := range knownSchemes {
		if lines.EqualFold(b, k) {
			return k
		}
	}
	return string(b)
}

func lowerString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lines.Lower(c)
	}
	return string(b)
}

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(b []byte) ([]byte, error) {
	b = bytes.TrimRight(b, "=")
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
	n, err := base64.RawStdEncoding.Decode(out, b)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// digestParam finds name=value or name="value" in a Digest credentials list.
func digestParam(list []byte, name string) ([]byte, bool) {
	for len(list) > 0 {
		list = bytes.TrimLeft(list, " \t,")
		eq := bytes.IndexByte(list, '=')
		if eq <= 0 {
			return nil, false
		}
		key := bytes.TrimSpace(list[:eq])
		rest := bytes.TrimLeft(list[eq+1:], " \t")
		var val []byte
		if len(rest) > 0 && rest[0] == '"' {
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			if end > len(rest) {
				end = len(rest)
			}
			val = rest[1:end]
			if end < len(rest) {
				end++
			}
			list = rest[end:]
		} else {
			end := bytes.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val = bytes.TrimSpace(rest[:end])
			list = rest[end:]
		}
		if lines.EqualFold(key, name) {
			return val, true
		}
	}
	return nil, false
}

// ntlmUser returns "domain\user" from an NTLM AUTHENTICATE message (type 3), possibly
// wrapped in SPNEGO, or "" when the token holds none. The user name is not a secret and
// says which account leaked.
func ntlmUser(token []byte) string {
	if len(token) > 8<<10 {
		return ""
	}
	msg, err := decodeBase64(token)
	if err != nil {
		return ""
	}
	i := bytes.Index(msg, []byte("NTLMSSP\x00"))
	if i < 0 {
		return ""
	}
	msg = msg[i:]
	if len(msg) < 64 || binary.LittleEndian.Uint32(msg[8:]) != 3 {
		return ""
	}
	unicode := binary.LittleEndian.Uint32(msg[60:])&1 != 0
	field := func(off int) string {
		n := int(binary.LittleEndian.Uint16(msg[off:]))
		at := int(binary.LittleEndian.Uint32(msg[off+4:]))
		if n == 0 || n > 256 || at < 0 || at > len(msg) || n > len(msg)-at {
			return ""
		}
		b := msg[at : at+n]
		if !unicode {
			return clip(b)
		}
		u := make([]uint16, len(b)/2)
		for j := range u {
			u[j] = binary.LittleEndian.Uint16(b[2*j:])
		}
		return clip([]byte(string(utf16.Decode(u))))
	}
	user := field(36)
	if user == "" {
		return ""
	}
	if dom := field(28); dom != "" {
		return dom + `\` + user
	}
	return user
}

// unescape percent-decodes b (and '+' as space in a query), leaving bad escapes as they
// are. It allocates only when there is something to decode.
func unescape(b []byte, plus bool) []byte {
	if bytes.IndexByte(b, '%') < 0 && (!plus || bytes.IndexByte(b, '+') < 0) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '%' && i+2 < len(b) && unhex(b[i+1]) >= 0 && unhex(b[i+2]) >= 0:
			out = append(out, byte(unhex(b[i+1])<<4|unhex(b[i+2])))
			i += 2
		case c == '+' && plus:
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
