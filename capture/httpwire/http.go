package httpwire

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/lines"
	"github.com/medscan/medscan/observe"
)

// Limits on what one message may cost; past them the excess is counted and ignored.
const (
	// MaxLine is the longest start or header line kept; longer lines are skipped and
	// counted as "http_oversized_headers".
	MaxLine = 16 << 10
	// MaxHeaders is how many header lines of one message are examined beyond the framing
	// headers; the rest are skipped and counted as "http_oversized_headers".
	MaxHeaders = 256
	// MaxPending is how many requests may wait for their responses; beyond it the oldest is
	// emitted without one.
	MaxPending = 64

	maxField      = 512 // longest Host, path, User-Agent, content type or Server kept
	maxQueryKeys  = 32
	maxAPIHeaders = 8
	maxCreds      = 16 // credentials taken from one message
)

// Dissector is the HTTP/1.x dissector.
var Dissector = dissect.Dissector{Name: "http", Detect: Detect, New: New}

var methods = [...]string{"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE"}

// Detect claims a direction that starts with a request line (client side) or a status
// line (server side).
func Detect(first []byte) dissect.Match {
	if len(first) == 0 {
		return dissect.Match{Verdict: dissect.NeedMore}
	}
	more := false
	for _, m := range methods {
		switch {
		case len(first) > len(m):
			if string(first[:len(m)]) == m && first[len(m)] == ' ' {
				return dissect.Match{Verdict: dissect.Yes, FromClient: true}
			}
		case string(first) == (m + " ")[:len(first)]:
			more = true
		}
	}
	const status = "HTTP/1."
	if len(first) >= len(status) {
		if string(first[:len(status)]) == status {
			return dissect.Match{Verdict: dissect.Yes, FromServer: true}
		}
	} else if string(first) == status[:len(first)] {
		more = true
	}
	if more {
		return dissect.Match{Verdict: dissect.NeedMore}
	}
	return dissect.Match{Verdict: dissect.No}
}

// New starts an HTTP stream dissector.
func New(ctx *dissect.Context) dissect.Stream {
	s := &stream{ctx: ctx, paired: true}
	s.dir[0].client = true
	s.dir[0].lines.Max, s.dir[1].lines.Max = MaxLine, MaxLine
	return s
}

// state is where a direction is in the message grammar.
type state uint8

const (
	stStart     state = iota // expecting a start line (or resynchronising)
	stHeaders                // header lines until the blank line
	stBody                   // skipping remain bytes of a Content-Length body
	stChunkSize              // expecting a chunk-size line
	stChunkData              // skipping remain bytes of chunk data
	stChunkEnd               // expecting the CRLF after chunk data
	stTrailer                // trailer lines until the blank line
	stClosed                 // the rest of the direction is a body read until close, or a tunnel
)

// half is the parsing state of one direction.
type half struct {
	client  bool
	st      state
	syncing bool // looking for a start line after garbage or a gap; counted once per episode
	lines   lines.Buffer
	remain  uint64 // body or chunk bytes still to skip

	// The message whose headers are being read.
	msg      observe.HTTPRequest
	headers  int
	oversize bool // this message was already counted as oversized
	creds    int
	length   int64 // Content-Length, -1 when absent, -2 when invalid
	chunked  bool
	teOther  bool // a Transfer-Encoding other than chunked
	encoded  bool // a response with a Content-Encoding other than identity
	gzip     bool // ... and that Content-Encoding is gzip alone (decoded when the body is kept)
	head     bool // the request this response answers was HEAD
	connect  bool // ... was CONNECT
	status   int
	t        time.Time
	cache    [numSlots]string
}

type stream struct {
	ctx     *dissect.Context
	dir     [2]half
	pending []observe.HTTPRequest // complete requests awaiting their responses, in order
	paired  bool                  // false after a gap: requests and responses are emitted apart
	tunnel  bool
	dl      download // the 2xx response whose body is being examined for an image
	keep    keeping  // the body being kept for the code-signing examination (image.go)
	// gzipBody says the response being answered is under Content-Encoding: gzip alone, a
	// coding the update keeper decodes.
	gzipBody bool

	// The target of the latest CONNECT request; a 2xx answer to a CONNECT hands the flow
	// off (dissect.Handoff) with it as the tunnel's target (dissect.Tunnel). A client
	// waits for that answer before it sends into the tunnel, so the latest CONNECT is
	// the one answered.
	connectTo connectTarget
	handoff   bool
	rest      int     // bytes after the CONNECT's answer at the end of the delivery that held it
	rb        reqBody // the request body being read for credentials
	// Requests ever queued into pending, and ever taken out of it: a request's ordinal
	// less popped is its index there while it waits.
	queued, popped uint64
}

// connectTarget is where a CONNECT request asked to be connected.
type connectTarget struct {
	addr netip.Addr
	name string
	port uint16
	ok   bool
}

// parseConnect reads a CONNECT request's authority-form target: "host:port",
// "10.0.0.9:443" or "[2001:db8::7]:443".
func parseConnect(tg []byte) connectTarget {
	c := bytes.LastIndexByte(tg, ':')
	if c <= 0 {
		return connectTarget{}
	}
	host, p := tg[:c], tg[c+1:]
	if host[0] == '[' {
		if len(host) < 3 || host[len(host)-1] != ']' {
			return connectTarget{}
		}
		host = host[1 : len(host)-1]
		if bytes.IndexByte(host, ':') < 0 {
			return connectTarget{}
		}
	} else if bytes.IndexByte(host, ':') >= 0 {
		return connectTarget{}
	}
	port, ok := decimal(p)
	if !ok || port <= 0 || port > 65535 || len(p) > 5 {
		return connectTarget{}
	}
	addr, name, ok := dissect.TunnelHost(host)
	if !ok {
		return connectTarget{}
	}
	return connectTarget{addr: addr, name: name, port: uint16(port), ok: true}
}

func (s *stream) count(name string) {
	if s.ctx.Count != nil {
		s.ctx.Count(name, 1)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if dir > dissect.ServerToClient {
		return
	}
	h := &s.dir[dir]
	for len(b) > 0 {
		switch h.st {
		case stClosed:
			if s.handoff {
				// The rest of this delivery, after the CONNECT's answer, is the tunnel's
				// first bytes (a server's banner merged into one segment): the engine
				// offers them to detection (dissect.HandoffRest).
				s.rest = len(b)
				return
			}
			if !h.client {
				s.bodyData(b)
			}
			return
		case stBody, stChunkData:
			n := uint64(len(b))
			if n > h.remain {
				n = h.remain
			}
			if !h.client && (s.dl.active || s.keep.body != nil) {
				s.bodyData(b[:n])
			} else if h.client && s.rb.active {
				s.reqBodyData(b[:n])
			}
			h.remain -= n
			b = b[n:]
			if h.remain == 0 {
				if h.st == stBody {
					s.endMessage(h)
				} else {
					h.st = stChunkEnd
				}
			}
			continue
		}
		line, rest, ok, long := h.lines.Next(b)
		if !ok {
			return
		}
		b = rest
		s.line(h, line, long, t)
	}
}

// line advances one direction by one complete line.
func (s *stream) line(h *half, line []byte, long bool, t time.Time) {
	switch h.st {
	case stStart:
		if long {
			s.lost(h)
			return
		}
		if len(line) == 0 {
			return // stray CRLF between messages is allowed
		}
		if h.client {
			s.requestLine(h, line, t)
		} else {
			s.statusLine(h, line, t)
		}
	case stHeaders:
		if long {
			s.oversized(h)
			return
		}
		if len(line) == 0 {
			s.endHeaders(h)
			return
		}
		s.header(h, line)
	case stChunkSize:
		n, ok := chunkSize(line)
		if long || !ok {
			s.badBody(h)
			return
		}
		if n == 0 {
			h.st = stTrailer
			return
		}
		h.remain, h.st = n, stChunkData
	case stChunkEnd:
		if long || len(line) != 0 {
			s.badBody(h)
			return
		}
		h.st = stChunkSize
	case stTrailer:
		if !long && len(line) == 0 {
			s.endMessage(h)
		}
	}
}

// lost notes a line that cannot start a message: the direction resynchronises.
func (s *stream) lost(h *half) {
	if !h.syncing {
		h.syncing = true
		s.count("http_resync")
	}
}

func (s *stream) oversized(h *half) {
	if !h.oversize {
		h.oversize = true
		s.count("http_oversized_headers")
	}
}

// begin resets the per-message state.
func (h *half) begin(t time.Time) {
	h.msg = observe.HTTPRequest{}
	h.headers, h.oversize, h.creds = 0, false, 0
	h.length, h.chunked, h.teOther, h.encoded, h.gzip = -1, false, false, false, false
	h.head, h.connect = false, false
	h.status = 0
	h.t = t
	h.st = stHeaders
	h.syncing = false
}

func (s *stream) requestLine(h *half, line []byte, t time.Time) {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		s.lost(h)
		return
	}
	method := methodName(line[:sp])
	rest := line[sp+1:]
	sp2 := bytes.LastIndexByte(rest, ' ')
	if method == "" || sp2 <= 0 {
		s.lost(h)
		return
	}
	target, version := rest[:sp2], rest[sp2+1:]
	if !requestVersion(version) {
		s.lost(h)
		return
	}
	h.begin(t)
	h.msg.Method = method
	h.msg.FirstSeen, h.msg.LastSeen, h.msg.Count = t, t, 1
	h.msg.Flow = s.ctx.Flow
	s.target(h, bytes.TrimSpace(target))
	if method == "CONNECT" {
		s.connectTo = parseConnect(bytes.TrimSpace(target))
	}
}

// requestVersion accepts a request's HTTP/1.x version as servers do: "HTTP/1.1",
// "HTTP/1.0", and the odd ones real devices send and servers answer ("HTTP/1.0.8" from a
// weather station): "HTTP/1." then a digit, then up to seven digits and dots.
func requestVersion(v []byte) bool {
	if len(v) < 8 || len(v) > 15 || string(v[:7]) != "HTTP/1." || v[7] < '0' || v[7] > '9' {
		return false
	}
	for _, c := range v[8:] {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// methodName returns the interned method, or "" for a token that is not a method.
func methodName(m []byte) string {
	for _, k := range methods {
		if string(m) == k {
			return k
		}
	}
	// Extension methods (WebDAV's PROPFIND, ...) are tokens of upper-case letters.
	if len(m) > 20 {
		return ""
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return ""
		}
	}
	return string(m)
}

// target records the path and query parameter names, and hides secret parameter values.
func (s *stream) target(h *half, tg []byte) {
	// An absolute-form target (to a proxy) names the host itself.
	if i := bytes.Index(tg, []byte("://")); i > 0 && i < 10 {
		auth := tg[i+3:]
		end := bytes.IndexAny(auth, "/?#")
		if end < 0 {
			end = len(auth)
		}
		host := auth[:end]
		if at := bytes.LastIndexByte(host, '@'); at >= 0 {
			// user:password@host in the URL is a credential too.
			userinfo := host[:at]
			host = host[at+1:]
			if c := bytes.IndexByte(userinfo, ':'); c >= 0 {
				s.credential(h, "url-userinfo", "url", clip(unescape(userinfo[:c], false)), unescape(userinfo[c+1:], false))
			}
		}
		h.msg.HostHeader = clip(host)
		tg = auth[end:]
		if len(tg) == 0 {
			tg = []byte("/")
		}
	}
	if i := bytes.IndexByte(tg, '#'); i >= 0 {
		tg = tg[:i]
	}
	path, query := tg, []byte(nil)
	if i := bytes.IndexByte(tg, '?'); i >= 0 {
		path, query = tg[:i], tg[i+1:]
	}
	h.msg.Path = clip(path)
	for len(query) > 0 {
		var kv []byte
		if i := bytes.IndexByte(query, '&'); i >= 0 {
			kv, query = query[:i], query[i+1:]
		} else {
			kv, query = query, nil
		}
		if len(kv) == 0 {
			continue
		}
		k, v := kv, []byte(nil)
		if i := bytes.IndexByte(kv, '='); i >= 0 {
			k, v = kv[:i], kv[i+1:]
		}
		if len(k) == 0 {
			continue
		}
		if len(k) > 64 {
			k = k[:64]
		}
		name := clip(unescape(k, true))
		if len(h.msg.QueryKeys) < maxQueryKeys && !contains(h.msg.QueryKeys, name) {
			h.msg.QueryKeys = append(h.msg.QueryKeys, name)
		}
		if len(v) > 0 && observe.IsSecretQueryKey(name) {
			s.credential(h, "url-secret", name, "", unescape(v, true))
		}
	}
}

func (s *stream) statusLine(h *half, line []byte, t time.Time) {
	// HTTP/1.x SP 3DIGIT [SP reason]
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || (line[7] != '0' && line[7] != '1') || line[8] != ' ' {
		s.lost(h)
		return
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			s.lost(h)
			return
		}
		code = code*10 + int(c-'0')
	}
	if len(line) > 12 && line[12] != ' ' || code < 100 {
		s.lost(h)
		return
	}
	h.begin(t)
	h.status = code
	h.msg.Status = code
	// What the request was decides whether this response has a body.
	if s.paired && len(s.pending) > 0 {
		switch s.pending[0].Method {
		case "HEAD":
			h.head = true
		case "CONNECT":
			h.connect = true
		}
	}
}

// header handles one header line of the current message.
func (s *stream) header(h *half, line []byte) {
	c := bytes.IndexByte(line, ':')
	if c <= 0 || line[0] == ' ' || line[0] == '\t' {
		return // obsolete folding or junk: nothing of interest
	}
	name, value := line[:c], bytes.TrimSpace(line[c+1:])
	// Framing headers are always honoured, whatever the count, or the stream desynchronises.
	switch {
	case lines.EqualFold(name, "content-length"):
		n, ok := decimal(value)
		switch {
		case !ok:
			h.length = -2
		case h.length >= 0 && h.length != n:
			h.length = -2 // conflicting lengths: a smuggling attempt or a broken peer
		case h.length != -2:
			h.length = n
		}
		return
	case lines.EqualFold(name, "transfer-encoding"):
		last := value
		if i := bytes.LastIndexByte(value, ','); i >= 0 {
			last = bytes.TrimSpace(value[i+1:])
		}
		if lines.EqualFold(last, "chunked") {
			h.chunked, h.teOther = true, false
		} else if !lines.EqualFold(last, "identity") {
			h.chunked, h.teOther = false, true
		}
		return
	}
	h.headers++
	if h.headers > MaxHeaders {
		s.oversized(h)
		return
	}
	// One lowercase copy of the name on the stack serves every comparison below.
	var buf [64]byte
	if len(name) > len(buf) {
		if h.client && apiKeyHeader(name) {
			s.apiKey(h, name, value)
		}
		return
	}
	ln := buf[:len(name)]
	for i, c := range name {
		ln[i] = lines.Lower(c)
	}
	if !h.client {
		switch string(ln) {
		case "server":
			h.msg.Server = h.intern(slotServer, value)
		case "content-type":
			h.msg.RespContentType = h.intern(slotType, value)
		case "content-encoding":
			// Several codings (in one header or several) are not decoded: only gzip alone.
			gz := lines.EqualFold(value, "gzip") || lines.EqualFold(value, "x-gzip")
			h.gzip = gz && !h.encoded
			h.encoded = h.encoded || !lines.EqualFold(value, "identity")
		case "application-url":
			h.msg.Descriptor = observe.DescriptorDIAL // DIAL 2.2 §5.4: only a DIAL server sends it
		}
		return
	}
	switch string(ln) {
	case "host":
		if h.msg.HostHeader == "" {
			h.msg.HostHeader = h.intern(slotHost, value)
		}
	case "user-agent":
		h.msg.UserAgent = h.intern(slotAgent, value)
	case "content-type":
		h.msg.ContentType = h.intern(slotType, value)
	case "cookie":
		h.msg.HasCookie = true
	case "authorization":
		scheme := s.authorization(h, "Authorization", value)
		if h.msg.AuthScheme == "" {
			h.msg.AuthScheme = scheme
		}
	case "proxy-authorization":
		s.authorization(h, "Proxy-Authorization", value)
	case "accept", "accept-encoding", "accept-language", "connection", "cache-control", "date", "referer",
		"origin", "pragma", "if-modified-since", "if-none-match", "keep-alive", "expect", "content-encoding":
		// Common and never secret: skip the substring search.
	default:
		if apiKeyLower(ln) {
			s.apiKey(h, name, value)
		}
	}
}

// apiKey records an API-key header's name and hides its value.
func (s *stream) apiKey(h *half, name, value []byte) {
	n := clip(name)
	if len(h.msg.APIKeyHeaders) < maxAPIHeaders && !contains(h.msg.APIKeyHeaders, n) {
		h.msg.APIKeyHeaders = append(h.msg.APIKeyHeaders, n)
	}
	if len(value) > 0 {
		s.credential(h, "api-key-header", n, "", value)
	}
}

// Slots of the per-direction cache of repeated header values.
const (
	slotHost = iota
	slotAgent
	slotType
	slotServer
	numSlots
)

// intern returns a string for a header value, reusing the previous one when a keep-alive
// flow repeats it (as it nearly always does), so steady traffic allocates little.
func (h *half) intern(slot int, v []byte) string {
	if c := h.cache[slot]; c == string(v) || (len(v) > maxField && c == string(v[:maxField])) {
		return c
	}
	h.cache[slot] = clip(v)
	return h.cache[slot]
}

// endHeaders decides how the body of the message is framed.
func (s *stream) endHeaders(h *half) {
	if h.client {
		switch {
		case h.chunked:
			h.st = stChunkSize
		case h.teOther || h.length == -2:
			// No way to find the end of this body: drop the request's framing and look for
			// the next request line.
			s.queue(h.msg)
			h.st = stStart
			s.lost(h)
			return
		case h.length > 0:
			h.remain, h.st = uint64(h.length), stBody
		default:
			h.st = stStart
		}
		s.queueRequest(h, h.st != stStart)
		return
	}
	// Response.
	code := h.status
	if code >= 100 && code < 200 && code != 101 {
		h.st = stStart // interim: the final response follows
		return
	}
	body, tunnel := true, false
	switch {
	case code == 101 || (h.connect && code >= 200 && code < 300):
		body, tunnel = false, true
	case h.head || code == 204 || code == 304:
		h.st, body = stStart, false
	case h.chunked:
		h.st = stChunkSize
	case h.teOther || h.length == -2 || h.length == -1:
		h.st = stClosed // the body runs to the end of the connection
	case h.length > 0:
		h.remain, h.st = uint64(h.length), stBody
	default:
		h.st, body = stStart, false
	}
	s.gzipBody = h.gzip && !h.teOther
	s.answer(h.msg, body, h.encoded || h.teOther)
	if tunnel {
		// What a CONNECT tunnel carries is offered to detection again (TLS, or HTTP to
		// the target); a 101 upgrade's WebSocket or h2c frames are not.
		s.handoff = h.connect && code != 101
		s.startTunnel()
	}
}

// endMessage returns a direction to its start once a body has ended.
func (s *stream) endMessage(h *half) {
	h.st = stStart
	if !h.client {
		s.bodyEnd(false)
	} else {
		s.reqBodyEnd(false)
	}
}

// badBody handles chunked framing that does not parse.
func (s *stream) badBody(h *half) {
	s.count("http_bad_chunk")
	if h.client {
		s.reqBodyEnd(true)
		h.st = stStart
		s.lost(h)
		return
	}
	h.st = stClosed
	s.bodyEnd(true)
}

func (s *stream) startTunnel() {
	s.tunnel = true
	s.dir[0].st, s.dir[1].st = stClosed, stClosed
}

// queue records a complete request until its response arrives.
func (s *stream) queue(r observe.HTTPRequest) {
	if !s.paired {
		s.emit(r)
		return
	}
	if len(s.pending) >= MaxPending {
		s.emit(s.pending[0])
		n := copy(s.pending, s.pending[1:])
		s.pending = s.pending[:n]
		s.popped++
		s.count("http_unanswered_dropped")
	}
	s.pending = append(s.pending, r)
	s.queued++
}

// answer pairs a final response with the oldest waiting request. The pair is emitted at
// once unless the response has a body that may be an image (body: it has one; encoded: it
// is compressed or otherwise transformed), which is emitted when the body is settled.
func (s *stream) answer(resp observe.HTTPRequest, body, encoded bool) {
	if !s.paired || len(s.pending) == 0 {
		resp.Flow = s.ctx.Flow
		resp.FirstSeen, resp.LastSeen, resp.Count = s.dir[1].t, s.dir[1].t, 1
		if !body || !s.holdResponse(resp, encoded) {
			s.emit(resp)
		}
		return
	}
	r := s.pending[0]
	// Shift rather than reslice, so the backing array is reused for the flow's lifetime.
	n := copy(s.pending, s.pending[1:])
	s.pending[n] = observe.HTTPRequest{}
	s.pending = s.pending[:n]
	s.popped++
	r.Status, r.Server, r.RespContentType, r.Descriptor = resp.Status, resp.Server, resp.RespContentType, resp.Descriptor
	if !body || !s.holdResponse(r, encoded) {
		s.emit(r)
	}
}

// flush emits the requests still waiting, without responses.
func (s *stream) flush() {
	for i, r := range s.pending {
		s.emit(r)
		s.pending[i] = observe.HTTPRequest{}
	}
	s.popped += uint64(len(s.pending))
	s.pending = s.pending[:0]
}

// Gap implements dissect.Stream.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 {
		return
	}
	h := &s.dir[dir]
	if h.st == stClosed {
		if !h.client {
			s.bodyLost() // a body read until close goes on after the loss
		}
		return
	}
	if h.client {
		s.reqBodyEnd(true) // a request body with a hole is read no further
	}
	s.count("http_gap")
	if h.st == stBody && uint64(n) < h.remain {
		h.remain -= uint64(n) // the loss fell inside a body of known length
		if !h.client {
			s.bodyLost()
		}
		return
	}
	if !h.client {
		s.bodyEnd(true) // emitted before the waiting requests that follow it
	}
	// The lost bytes may have held requests or responses: stop pairing for good.
	if s.paired {
		s.paired = false
		s.flush()
	}
	h.lines.Reset()
	h.st = stStart
	h.syncing = true
	s.count("http_resync")
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.tunnel }

// Handoff implements dissect.Handoff: true once a CONNECT was answered 2xx, so that the
// bytes in the tunnel are offered to detection again.
func (s *stream) Handoff() bool { return s.handoff }

// Rest implements dissect.HandoffRest.
func (s *stream) Rest() int { return s.rest }

// TunnelTarget implements dissect.Tunnel: the host and port the answered CONNECT named.
func (s *stream) TunnelTarget() (netip.Addr, string, uint16, bool) {
	t := s.connectTo
	return t.addr, t.name, t.port, s.handoff && t.ok
}

// End implements dissect.Stream.
func (s *stream) End(time.Time) {
	// A body read until close ends here; any other body still open was cut short.
	s.bodyEnd(s.dir[1].st != stClosed)
	s.reqBodyEnd(true)
	s.flush()
}

// credential hides one secret and emits it.
func (s *stream) credential(h *half, kind, where, user string, secret []byte) {
	if h.creds >= maxCreds {
		return
	}
	h.creds++
	preview, hash := s.ctx.Secrets.Hide(secret)
	s.ctx.Sink.AddCredential(observe.Credential{
		Flow: s.ctx.Flow, FirstSeen: h.t, LastSeen: h.t, Count: 1,
		Protocol: "http", Kind: kind, Where: where, User: user,
		Preview: preview, Hash: hash,
	})
}

// chunkSize parses a chunk-size line (hex, optional extensions).
func chunkSize(line []byte) (uint64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n uint64
	for _, c := range line {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// decimal parses a non-negative Content-Length of at most 18 digits.
func decimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// clip copies at most maxField bytes into a string, replacing control bytes, so that a
// hostile header cannot bloat the inventory or corrupt a report.
func clip(b []byte) string {
	return observe.Text(b, maxField)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// emit hands one request, paired with its response when there was one, to the sink:
// the one place a request leaves the dissector. It is classified while the raw path is
// still at hand, and its path replaced by its template (observe.HTTPRequest.AsEmitted),
// so that no identifier a path carries (a record number, a patient's name) is ever kept,
// shown or stored.
func (s *stream) emit(r observe.HTTPRequest) { s.ctx.Sink.AddHTTP(r.AsEmitted()) }
