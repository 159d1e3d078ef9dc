package httpwire

import (
	"bytes"
	"sync/atomic"
	"unicode/utf8"

	"github.com/medscan/medscan/observe"
)

// Request bodies: the first MaxBodyScan bytes of a form (application/x-www-form-urlencoded)
// or JSON body (a JSON media type, or no Content-Type and a body that starts with '{') are
// read for password-like fields (observe.IsSecretBodyKey). Each such field's value becomes
// a Credential ("form-field" or "json-field", Where = the field's name), hidden as every
// other secret is; the request keeps the field names (BodySecretKeys), never a value, and
// nothing else of the body is kept.

// MaxBodyScan is how many leading bytes of a request body are read for credentials; the
// rest is skipped, as every body is, and the cut is counted as "http_body_scan_truncated".
// A login form or JSON login is a few hundred bytes.
const MaxBodyScan = 8 << 10

// MaxBodyHeld caps the bytes all request body windows of the process hold at once, so
// that a capture of many flows each stalled inside a posted body cannot hold 8 KiB per
// flow: past it a body is not read, and that is counted as "http_body_scan_skipped".
const MaxBodyHeld = 32 << 20

// bodyHeld is what the windows of bodies being read hold now, across every stream.
var bodyHeld atomic.Int64

const (
	maxBodyDepth = 8  // JSON objects and arrays nested deeper are skipped, not read
	maxBodyKeys  = 8  // password-like field names kept per request
	maxKeyLen    = 64 // longer field names are no program's field names: not credentials
)

// Kinds of request body that are read.
const (
	bodyNone uint8 = iota
	bodyForm
	bodyJSON
	bodySniff // no Content-Type: read as JSON when it starts with '{'
)

// reqBody is the request body being read on a flow (one at a time: a client sends one
// request after the other).
type reqBody struct {
	active bool
	kind   uint8
	// win holds the body's first bytes, grown as they come (a login is a few hundred
	// bytes), at most MaxBodyScan; it is dropped when the body ends.
	win  []byte
	over bool // the body went on past the window, or the window could not grow
	// Where the request's record is: held here until the body ends (after a gap, when
	// requests are emitted as soon as they are known), or queued among the pending
	// requests as the ordinal-th request ever queued.
	held    bool
	rec     observe.HTTPRequest
	ordinal uint64
}

// bodyKind says whether and how a request body of the given Content-Type is read.
func bodyKind(ct string) uint8 {
	if ct == "" {
		return bodySniff
	}
	mt := observe.MediaType(ct)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return bodyForm
	case mt == "application/json", mt == "text/json", len(mt) > 5 && mt[len(mt)-5:] == "+json":
		return bodyJSON
	}
	return bodyNone
}

// queueRequest queues (or emits) a request whose headers have ended, and starts reading
// its body when it has one worth reading (body: a body follows the headers).
func (s *stream) queueRequest(h *half, body bool) {
	kind := bodyNone
	if body {
		kind = bodyKind(h.msg.ContentType)
	}
	if kind == bodyNone {
		s.queue(h.msg)
		return
	}
	b := &s.rb
	*b = reqBody{active: true, kind: kind}
	if s.paired {
		s.queue(h.msg)
		b.ordinal = s.queued - 1
	} else {
		b.held, b.rec = true, h.msg
	}
}

// reqBodyData takes request body bytes (de-chunked) while a body is read.
func (s *stream) reqBodyData(p []byte) {
	b := &s.rb
	if !b.active || b.over {
		return
	}
	if b.kind == bodySniff {
		if t := bytes.TrimLeft(b.win, " \t\r\n"); len(t) == 0 {
			if t = bytes.TrimLeft(p, " \t\r\n"); len(t) > 0 && t[0] != '{' {
				b.kind = bodyNone // not a JSON object: nothing to read
			}
		}
	}
	if b.kind == bodyNone {
		return
	}
	k := min(len(p), MaxBodyScan-len(b.win))
	if k > 0 && bodyHeld.Add(int64(k)) > MaxBodyHeld {
		bodyHeld.Add(-int64(k))
		b.over = true
		s.count("http_body_scan_skipped")
		return
	}
	b.win = append(b.win, p[:k]...)
	if k < len(p) {
		b.over = true
		s.count("http_body_scan_truncated")
	}
}

// reqBodyEnd reads the body collected so far (lost: the body was cut by a capture gap,
// bad chunking or the end of the capture), reports its credentials, and puts the names
// of its password-like fields on its request.
func (s *stream) reqBodyEnd(lost bool) {
	b := &s.rb
	if !b.active {
		return
	}
	b.active = false
	h := &s.dir[0]
	var keys []string
	if lost {
		s.count("http_body_scan_lost")
	}
	if b.kind == bodySniff {
		if t := bytes.TrimLeft(b.win, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			b.kind = bodyNone // without a Content-Type, only a JSON object is read
		}
	}
	if b.kind != bodyNone && len(b.win) > 0 {
		// A window that ends early (cut, or lost) may end inside a value: the last field
		// is then not read, since a part of a secret would hash to nothing useful.
		final := !lost && !b.over
		scan := scanForm
		if b.kind != bodyForm {
			scan = scanJSON
		}
		scan(b.win, final, func(name, value []byte) bool {
			n := clip(name)
			if len(keys) < maxBodyKeys && !contains(keys, n) {
				keys = append(keys, n)
			}
			kind := "form-field"
			if b.kind != bodyForm {
				kind = "json-field"
			}
			s.credential(h, kind, n, "", value)
			return h.creds < maxCreds
		})
	}
	clear(b.win) // the secrets do not linger in freed memory
	bodyHeld.Add(-int64(len(b.win)))
	b.win = nil
	switch {
	case b.held:
		b.rec.BodySecretKeys = keys
		b.held = false
		s.queue(b.rec)
		b.rec = observe.HTTPRequest{}
	case len(keys) == 0:
	case b.ordinal >= s.popped:
		s.pending[b.ordinal-s.popped].BodySecretKeys = keys
	default:
		// The server answered before the body ended, and the record left with its
		// response: the credentials are reported, the record does not name them.
		s.count("http_body_keys_late")
	}
}

// scanForm calls yield with the name and decoded value of each password-like field of an
// application/x-www-form-urlencoded body, until yield returns false. A bracketed name
// ("user[password]", as Rails and PHP forms nest them) is judged by its innermost part.
// When final is false the body was cut, and its last field, which may be cut too, is
// not read.
func scanForm(body []byte, final bool, yield func(name, value []byte) bool) {
	if !final {
		i := bytes.LastIndexByte(body, '&')
		if i < 0 {
			return
		}
		body = body[:i]
	}
	for len(body) > 0 {
		var kv []byte
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			kv, body = body[:i], body[i+1:]
		} else {
			kv, body = body, nil
		}
		eq := bytes.IndexByte(kv, '=')
		if eq <= 0 || eq == len(kv)-1 || eq > 3*maxKeyLen {
			continue
		}
		name := unescape(kv[:eq], true)
		if i := bytes.LastIndexByte(name, '['); i >= 0 && len(name) > i+1 && name[len(name)-1] == ']' {
			name = name[i+1 : len(name)-1]
		}
		if !observe.IsSecretBodyKey(string(name)) {
			continue
		}
		if !yield(name, unescape(kv[eq+1:], true)) {
			return
		}
	}
}

// scanJSON calls yield with the name and decoded value of each password-like member of
// the JSON objects in body (at most maxBodyDepth deep), until yield returns false. A
// member's value counts when it is a non-empty string or a number (a PIN); an object
// under a password-like name is read for its own members. The scan is tolerant: it stops
// at the first byte that cannot continue JSON, having yielded what came before, and a
// string or number that runs to the end of a body that is not final is not read.
func scanJSON(body []byte, final bool, yield func(name, value []byte) bool) {
	var stack [maxBodyDepth]byte
	depth, deep := 0, 0 // deep counts containers nested beyond the stack, which are skipped
	var key []byte
	wantKey := false
	i := 0
	for i < len(body) {
		c := body[i]
		if depth == 0 && c != '{' && c != '[' && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return // only an object or an array holds members
		}
		inObj := deep == 0 && depth > 0 && stack[depth-1] == '{'
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ':':
			i++
		case c == ',':
			wantKey = inObj
			key = nil
			i++
		case c == '{' || c == '[':
			if deep > 0 || depth == maxBodyDepth {
				deep++
			} else {
				stack[depth] = c
				depth++
			}
			wantKey, key = c == '{' && deep == 0, nil
			i++
		case c == '}' || c == ']':
			switch {
			case deep > 0:
				deep--
			case depth > 0 && stack[depth-1] == c-2: // '{'+2 == '}', '['+2 == ']'
				depth--
			default:
				return // unbalanced: not JSON
			}
			if depth == 0 && deep == 0 {
				return // the top-level value ended
			}
			wantKey, key = false, nil
			i++
		case c == '"':
			end, ok := stringEnd(body, i+1)
			if !ok {
				return // cut inside a string
			}
			raw := body[i+1 : end]
			i = end + 1
			if deep > 0 {
				continue
			}
			if inObj && wantKey {
				key, wantKey = nil, false
				if len(raw) <= 6*maxKeyLen {
					if k, ok := jsonUnescape(raw); ok && len(k) <= maxKeyLen {
						key = k
					}
				}
				continue
			}
			if inObj && key != nil && len(raw) > 0 && observe.IsSecretBodyKey(string(key)) {
				if v, ok := jsonUnescape(raw); ok && len(v) > 0 && !yield(key, v) {
					return
				}
			}
			key = nil
		case c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z':
			j := i
			for j < len(body) && (body[j] == '-' || body[j] == '+' || body[j] == '.' ||
				body[j] >= '0' && body[j] <= '9' || body[j] >= 'a' && body[j] <= 'z' || body[j] == 'E') {
				j++
			}
			if j == len(body) && !final {
				return // a literal cut by the window
			}
			lit := body[i:j]
			i = j
			if deep == 0 && inObj && key != nil && (lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9') &&
				observe.IsSecretBodyKey(string(key)) && !yield(key, lit) {
				return
			}
			key = nil
		default:
			return // not JSON
		}
	}
}

// stringEnd returns the index of the quote that ends the JSON string whose contents start
// at i, honouring backslash escapes; ok is false when the body ends first.
func stringEnd(b []byte, i int) (int, bool) {
	for i < len(b) {
		switch b[i] {
		case '\\':
			i += 2
		case '"':
			return i, true
		default:
			i++
		}
	}
	return 0, false
}

// jsonUnescape decodes a JSON string's contents (RFC 8259 §7), so that a secret hashes
// alike however it was escaped. ok is false for a malformed escape. It allocates only
// when there is an escape.
func jsonUnescape(raw []byte) ([]byte, bool) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, true
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(raw) {
			return nil, false
		}
		i++
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw, i+1)
			if !ok {
				return nil, false
			}
			i += 4
			if r >= 0xd800 && r < 0xdc00 && i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if lo, ok := hex4(raw, i+3); ok && lo >= 0xdc00 && lo < 0xe000 {
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
					i += 6
				}
			}
			out = utf8.AppendRune(out, r) // a lone surrogate becomes U+FFFD
		default:
			return nil, false
		}
	}
	return out, true
}

// hex4 reads the four hex digits of a \u escape at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		d := unhex(c)
		if d < 0 {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
