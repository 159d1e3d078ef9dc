package tftpwire

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/image"
	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/observe"
)

// Dissector is the TFTP datagram dissector.
var Dissector = dissect.DatagramDissector{Name: "tftp", New: New}

// Port is TFTP's request port.
const Port = 69

// Limits on the state one engine keeps.
const (
	MaxRequests  = 256
	MaxTransfers = 256
	// IdleTimeout is how long, in capture time, a request or transfer may wait for its
	// next datagram.
	IdleTimeout = 30 * time.Second
	maxFilename = 512
)

// Opcodes.
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// Request is a read or write request.
type Request struct {
	Write    bool
	Filename string
	Mode     string // "octet", "netascii", "mail", lowercased
	BlkSize  int    // the blksize option asked for, 0 when none
}

// ParseRequest decodes an RRQ or WRQ. ok is false when b is not one.
func ParseRequest(b []byte) (r Request, ok bool) {
	if len(b) < 4 || b[0] != 0 || (b[1] != opRRQ && b[1] != opWRQ) {
		return Request{}, false
	}
	r.Write = b[1] == opWRQ
	fields := b[2:]
	name, fields, ok := cstring(fields)
	if !ok || len(name) == 0 || len(name) > maxFilename {
		return Request{}, false
	}
	mode, fields, ok := cstring(fields)
	if !ok {
		return Request{}, false
	}
	r.Mode = strings.ToLower(string(mode))
	if r.Mode != "octet" && r.Mode != "netascii" && r.Mode != "mail" {
		return Request{}, false
	}
	r.Filename = strings.ToValidUTF8(string(name), "\uFFFD")
	// Options: name and value pairs; only blksize changes how the transfer ends.
	for range 16 {
		k, rest, ok := cstring(fields)
		if !ok {
			break
		}
		v, rest, ok := cstring(rest)
		if !ok {
			break
		}
		fields = rest
		if bytes.EqualFold(k, []byte("blksize")) {
			if n, err := strconv.Atoi(string(v)); err == nil && n >= 8 && n <= 65464 {
				r.BlkSize = n
			}
		}
	}
	return r, true
}

// cstring splits a NUL-terminated field off b.
func cstring(b []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return nil, b, false
	}
	return b[:i], b[i+1:], true
}

// oackBlksize reads the blksize an OACK accepted, 0 when none.
func oackBlksize(b []byte) int {
	for range 16 {
		k, rest, ok := cstring(b)
		if !ok {
			return 0
		}
		v, rest, ok := cstring(rest)
		if !ok {
			return 0
		}
		b = rest
		if bytes.EqualFold(k, []byte("blksize")) {
			if n, err := strconv.Atoi(string(v)); err == nil && n >= 8 && n <= 65464 {
				return n
			}
		}
	}
	return 0
}

type pending struct {
	req    Request
	server netip.Addr
	t      time.Time
}

type pair struct{ client, server netip.AddrPort }

type transfer struct {
	req     Request
	client  netip.AddrPort
	server  netip.AddrPort // the request's endpoint (port 69)
	blksize int
	next    uint16 // next block expected
	bytes   int64
	partial bool
	sum     hash.Hash
	sumDone hash.Hash // sum, moved here by finish
	keep    *updatekeep.Body
	n       int
	prefix  [image.SniffLen]byte
	first   time.Time
	last    time.Time
	done    bool // emitted; kept until it expires so that the last ACK or a repeated last block is still claimed
}

type handler struct {
	ctx      *dissect.DatagramContext
	reqs     map[netip.AddrPort]*pending // by client endpoint
	xfers    map[pair]*transfer
	lastScan time.Time
	services dissect.ServiceLog
}

// New starts the engine's TFTP handler.
func New(ctx *dissect.DatagramContext) dissect.DatagramHandler {
	return &handler{ctx: ctx, reqs: map[netip.AddrPort]*pending{}, xfers: map[pair]*transfer{}}
}

func (h *handler) count(name string) {
	if h.ctx.Count != nil {
		h.ctx.Count(name, 1)
	}
}

// Datagram implements dissect.DatagramHandler.
func (h *handler) Datagram(src, dst netip.AddrPort, _ []byte, b []byte, t time.Time) bool {
	if dst.Port() == Port {
		r, ok := ParseRequest(b)
		if !ok {
			return false
		}
		h.expire(t)
		if _, there := h.reqs[src]; !there && len(h.reqs) >= MaxRequests {
			h.count("tftp_requests_over_cap")
			return true
		}
		h.reqs[src] = &pending{req: r, server: dst.Addr(), t: t}
		return true
	}
	if len(h.xfers) == 0 && len(h.reqs) == 0 {
		return false
	}
	if len(b) < 4 || b[0] != 0 || b[1] < opDATA || b[1] > opOACK {
		return false
	}
	op := b[1]
	// Either side may send the next datagram: find the transfer by its pair first.
	if x := h.xfers[pair{dst, src}]; x != nil { // server to client
		return h.fromServer(x, op, b, t)
	}
	if x := h.xfers[pair{src, dst}]; x != nil { // client to server
		return h.fromClient(x, op, b, t)
	}
	// A server's first answer comes from a fresh port to the requesting client.
	p := h.reqs[dst]
	if p == nil || p.server != src.Addr() {
		return false
	}
	delete(h.reqs, dst)
	h.expire(t)
	if len(h.xfers) >= MaxTransfers {
		h.count("tftp_transfers_over_cap")
		return true
	}
	x := &transfer{req: p.req, client: dst, server: netip.AddrPortFrom(src.Addr(), Port), blksize: 512, next: 1, first: p.t}
	if !p.req.Write {
		x.sum = sha256.New()
		x.keep = h.ctx.Keep.Begin(updatekeep.RoleUnknown)
	}
	h.services.Seen(h.ctx, "tftp", x.server, t)
	h.xfers[pair{dst, src}] = x
	return h.fromServer(x, op, b, t)
}

func (h *handler) fromServer(x *transfer, op byte, b []byte, t time.Time) bool {
	x.last = t
	if x.done {
		return true
	}
	switch op {
	case opOACK:
		if n := oackBlksize(b[2:]); n > 0 {
			x.blksize = n
		}
	case opERROR:
		h.finish(x, true)
	case opDATA:
		if !x.req.Write {
			h.data(x, b, t)
		}
	case opACK:
		if x.req.Write && x.sum == nil {
			x.sum = sha256.New()
			x.keep = h.ctx.Keep.Begin(updatekeep.RoleUnknown)
		}
	}
	return true
}

func (h *handler) fromClient(x *transfer, op byte, b []byte, t time.Time) bool {
	x.last = t
	if x.done {
		return true
	}
	switch op {
	case opERROR:
		h.finish(x, true)
	case opDATA:
		if x.req.Write {
			if x.sum == nil {
				x.sum = sha256.New()
				x.keep = h.ctx.Keep.Begin(updatekeep.RoleUnknown)
			}
			h.data(x, b, t)
		}
	}
	return true
}

// data takes one DATA block: in order it is hashed, a repeat is ignored, one past a
// missing block makes the transfer partial. A block shorter than the block size ends it.
func (h *handler) data(x *transfer, b []byte, t time.Time) {
	blk := binary.BigEndian.Uint16(b[2:])
	p := b[4:]
	switch d := blk - x.next; {
	case d == 0:
	case d >= 0x8000: // behind: a retransmission
		h.count("tftp_duplicate_blocks")
		return
	default:
		if !x.partial {
			h.count("tftp_gaps")
		}
		x.partial = true
	}
	x.next = blk + 1
	x.bytes += int64(len(p))
	if !x.partial {
		x.sum.Write(p)
		x.keep.Write(p)
	}
	if x.n < len(x.prefix) {
		x.n += copy(x.prefix[x.n:], p)
	}
	if len(p) < x.blksize {
		h.finish(x, x.partial)
	}
}

// finish emits a transfer once. An aborted or gappy transfer is partial.
func (h *handler) finish(x *transfer, partial bool) {
	if x.done {
		return
	}
	x.done = true
	x.sum, x.sumDone = nil, x.sum
	if x.bytes == 0 && x.sumDone == nil {
		h.keepEnd(x, true, "")
		return
	}
	// The file name leaves the dissector as a template: it can name a patient.
	path := observe.PathTemplate(x.req.Filename)
	ft := observe.FileTransfer{
		Flow: observe.Flow{Client: x.client, Server: x.server}, FirstSeen: x.first, LastSeen: x.last,
		Protocol: "tftp", Upload: x.req.Write, Path: path,
		URL:   observe.TransferURL("tftp", x.server, path),
		Bytes: x.bytes, Partial: partial,
	}
	if !partial && x.sumDone != nil {
		var d [sha256.Size]byte
		ft.SHA256 = hex.EncodeToString(x.sumDone.Sum(d[:0]))
	}
	ft.Kind = image.PathKind(x.req.Filename)
	if ft.Kind == "" {
		ft.Kind, _ = image.Magic(x.prefix[:x.n], true)
	}
	h.ctx.Sink.AddTransfer(ft)
	h.keepEnd(x, partial, ft.Kind)
}

// keepEnd hands a finished transfer's bytes to the keeper, or drops them when blocks
// were lost or the transfer was aborted.
func (h *handler) keepEnd(x *transfer, partial bool, kind string) {
	if partial {
		x.keep.Drop(updatekeep.CountGap)
	} else {
		// The device that received the file: the client for a read, the server for a write.
		to := x.client.Addr()
		if x.req.Write {
			to = x.server.Addr()
		}
		x.keep.Finish(updatekeep.Meta{Protocol: "tftp", Server: x.server, Client: to, Path: x.req.Filename, Kind: kind,
			Time: x.first})
	}
	x.keep = nil
}

// expire drops requests and transfers idle for longer than IdleTimeout, at most once a
// second of capture time.
func (h *handler) expire(t time.Time) {
	if t.Sub(h.lastScan) < time.Second {
		return
	}
	h.lastScan = t
	for k, p := range h.reqs {
		if t.Sub(p.t) > IdleTimeout {
			delete(h.reqs, k)
			h.count("tftp_requests_unanswered")
		}
	}
	for k, x := range h.xfers {
		if t.Sub(x.last) > IdleTimeout {
			if !x.done {
				h.count("tftp_transfers_expired")
				h.finish(x, true)
			}
			delete(h.xfers, k)
		}
	}
}

// End implements dissect.DatagramHandler.
// Flush implements dissect.DatagramHandler: transfers under way stay (their blocks are
// still coming); finished ones went to the sink already; the servers seen go now.
func (h *handler) Flush(time.Time) { h.services.Flush(h.ctx, "tftp") }

func (h *handler) End(time.Time) {
	var left []*transfer
	for _, x := range h.xfers {
		if !x.done {
			left = append(left, x)
		}
	}
	slices.SortFunc(left, func(a, b *transfer) int { return a.first.Compare(b.first) })
	for _, x := range left {
		h.finish(x, true)
	}
	clear(h.reqs)
	clear(h.xfers)
	h.services.Flush(h.ctx, "tftp")
}
