package dicomwire

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Limits.
const (
	// MaxAssociatePDU is the largest A-ASSOCIATE-RQ/AC buffered; a larger one is skipped
	// and counted as "dicom_pdu_too_large". (128 presentation contexts with a few transfer
	// syntaxes each stay far below it.)
	MaxAssociatePDU = 256 << 10
	// MaxDetectLength is the largest RQ length Detect accepts as sane.
	MaxDetectLength = 1 << 20

	minAssociate = 68 // fixed part of an A-ASSOCIATE-RQ/AC body
	maxSyntaxes  = 128
	maxUID       = 64
)

// PDU types.
const (
	pduAssociateRQ = 0x01
	pduAssociateAC = 0x02
	pduAssociateRJ = 0x03
	pduPData       = 0x04
	pduReleaseRQ   = 0x05
	pduReleaseRP   = 0x06
	pduAbort       = 0x07
)

// Dissector is the DICOM upper-layer dissector.
var Dissector = dissect.Dissector{Name: "dicom", Detect: Detect, New: New}

// Detect claims a direction that starts with an A-ASSOCIATE-RQ of sane length and
// protocol version 1.
func Detect(first []byte) dissect.Match {
	need := dissect.Match{Verdict: dissect.NeedMore}
	if len(first) == 0 {
		return need
	}
	if first[0] != pduAssociateRQ || len(first) >= 2 && first[1] != 0 {
		return dissect.Match{}
	}
	if len(first) < 6 {
		return need
	}
	n := binary.BigEndian.Uint32(first[2:])
	if n < minAssociate || n > MaxDetectLength {
		return dissect.Match{}
	}
	switch {
	case len(first) < 7:
		return need
	case first[6] != 0:
		return dissect.Match{}
	case len(first) < 8:
		return need
	case first[7] != 1:
		return dissect.Match{}
	}
	return dissect.Match{Verdict: dissect.Yes}
}

// New starts a DICOM stream dissector.
func New(ctx *dissect.Context) dissect.Stream { return &stream{ctx: ctx} }

type half struct {
	hdr     [6]byte
	hn      int
	remain  uint64 // body bytes of the current PDU still to come
	keep    bool   // the body is being buffered
	body    []byte
	stopped bool
	t       time.Time // when the current PDU began
}

type stream struct {
	ctx     *dissect.Context
	dir     [2]half
	assoc   observe.DICOMAssociation
	sawRQ   bool // an RQ (or AC) was parsed into assoc
	result  string
	emitted bool
}

func (s *stream) count(name string) {
	if s.ctx.Count != nil {
		s.ctx.Count(name, 1)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if dir > dissect.ServerToClient || s.emitted {
		return
	}
	h := &s.dir[dir]
	for len(b) > 0 && !h.stopped && !s.emitted {
		if h.hn < len(h.hdr) {
			if h.hn == 0 {
				h.t = t
			}
			k := copy(h.hdr[h.hn:], b)
			h.hn += k
			b = b[k:]
			if h.hn < len(h.hdr) {
				return
			}
			s.begin(dir, h)
			if h.stopped || h.remain > 0 {
				continue
			}
			s.finish(dir, h)
			continue
		}
		k := uint64(len(b))
		if k > h.remain {
			k = h.remain
		}
		if h.keep {
			h.body = append(h.body, b[:k]...)
		}
		b = b[k:]
		h.remain -= k
		if h.remain == 0 {
			s.finish(dir, h)
		}
	}
}

// begin examines a PDU header and decides whether its body is kept.
func (s *stream) begin(dir dissect.Direction, h *half) {
	typ := h.hdr[0]
	n := binary.BigEndian.Uint32(h.hdr[2:])
	valid := typ >= pduAssociateRQ && typ <= pduAbort
	if dir == dissect.ClientToServer && (typ == pduAssociateAC || typ == pduAssociateRJ) ||
		dir == dissect.ServerToClient && typ == pduAssociateRQ {
		valid = false
	}
	if !valid {
		s.count("dicom_bad_pdu")
		h.stopped = true
		return
	}
	h.remain = uint64(n)
	h.keep = false
	h.body = h.body[:0]
	if typ == pduAssociateRQ || (typ == pduAssociateAC && !s.sawRQ) {
		if n > MaxAssociatePDU {
			s.count("dicom_pdu_too_large")
		} else {
			h.keep = true
		}
	}
}

// finish handles a complete PDU.
func (s *stream) finish(dir dissect.Direction, h *half) {
	typ := h.hdr[0]
	h.hn = 0
	switch typ {
	case pduAssociateRQ:
		if h.keep {
			s.associate(h.body, h.t, true)
		}
		if s.result != "" {
			h.keep = false
			s.emit() // the answer came first (the engine delivered the directions unevenly)
			return
		}
	case pduAssociateAC:
		if h.keep {
			s.associate(h.body, h.t, false)
		}
		s.answer("accepted", h.t)
	case pduAssociateRJ:
		s.answer("rejected", h.t)
	case pduAbort:
		s.answer("aborted", h.t)
	case pduPData:
		if s.ctx.Count != nil {
			s.ctx.Count("dicom_pdata_pdus", 1)
		}
	}
	h.keep = false
	h.body = h.body[:0]
}

// answer records the result and emits the association unless its request is still
// arriving.
func (s *stream) answer(result string, t time.Time) {
	if s.result == "" {
		s.result = result
	}
	if s.assoc.FirstSeen.IsZero() {
		s.assoc.FirstSeen = t
	}
	c := &s.dir[dissect.ClientToServer]
	if s.partialRQ() && !c.stopped {
		return // the RQ's end is still to come: emit when it completes, or at End
	}
	s.takePartial()
	s.emit()
}

// partialRQ reports whether the client direction holds the start of an RQ not yet parsed.
func (s *stream) partialRQ() bool {
	c := &s.dir[dissect.ClientToServer]
	return c.hn == len(c.hdr) && c.hdr[0] == pduAssociateRQ && c.keep && c.remain > 0
}

// takePartial parses what arrived of an RQ that will not complete (a gap, the end).
func (s *stream) takePartial() {
	if !s.partialRQ() {
		return
	}
	c := &s.dir[dissect.ClientToServer]
	s.count("dicom_truncated")
	s.associate(c.body, c.t, true)
	c.keep = false
}

func (s *stream) emit() {
	if s.emitted {
		return
	}
	s.emitted = true
	a := s.assoc
	a.Flow = s.ctx.Flow
	a.Result = s.result
	s.ctx.Sink.AddDICOM(a)
	s.dir[0].body, s.dir[1].body = nil, nil
}

// associate parses an A-ASSOCIATE-RQ or -AC body (possibly cut short) into s.assoc.
func (s *stream) associate(body []byte, t time.Time, rq bool) {
	if len(body) < minAssociate {
		s.count("dicom_bad_pdu")
		return
	}
	if binary.BigEndian.Uint16(body) != 1 {
		s.count("dicom_bad_version")
	}
	a := &s.assoc
	if !rq && s.sawRQ {
		return
	}
	a.FirstSeen = t
	a.CalledAE = aeTitle(body[4:20])
	a.CallingAE = aeTitle(body[20:36])
	s.sawRQ = true
	items := body[minAssociate:]
	for len(items) >= 4 {
		typ := items[0]
		n := int(binary.BigEndian.Uint16(items[2:]))
		if n > len(items)-4 {
			s.count("dicom_bad_item")
			break
		}
		v := items[4 : 4+n]
		items = items[4+n:]
		switch typ {
		case 0x10: // application context: PS3.7 defines exactly one
			if string(bytes.Trim(v, " \x00")) != "1.2.840.10008.3.1.1.1" {
				s.count("dicom_unknown_app_context")
			}
		case 0x20: // presentation context (RQ): id, 3 reserved, sub-items
			if !rq || len(v) < 4 {
				continue
			}
			s.subItems(v[4:], func(st byte, sv []byte) {
				if st == 0x30 && len(a.AbstractSyntaxes) < maxSyntaxes {
					uid := uidText(sv)
					for _, x := range a.AbstractSyntaxes {
						if x == uid {
							return
						}
					}
					a.AbstractSyntaxes = append(a.AbstractSyntaxes, uid)
				}
			})
		case 0x50: // user information
			if !rq {
				continue // the acceptor's implementation is not the requestor's
			}
			s.subItems(v, func(st byte, sv []byte) {
				switch st {
				case 0x52:
					a.ImplClassUID = uidText(sv)
				case 0x55:
					a.ImplVersion = uidText(sv)
				}
			})
		}
	}
}

// subItems walks sub-items (type, reserved, 2-byte length), checking every length.
func (s *stream) subItems(b []byte, f func(typ byte, v []byte)) {
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n > len(b)-4 {
			s.count("dicom_bad_item")
			return
		}
		f(b[0], b[4:4+n])
		b = b[4+n:]
	}
}

// aeTitle trims an AE title's space (and NUL) padding.
func aeTitle(b []byte) string { return observe.Text(bytes.Trim(b, " \x00"), 16) }

// uidText trims a UID's padding and bounds it.
func uidText(b []byte) string {
	return observe.Text(bytes.Trim(b, " \x00"), maxUID)
}

// Gap implements dissect.Stream.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 || s.emitted {
		return
	}
	h := &s.dir[dir]
	if h.stopped {
		return
	}
	if h.hn == len(h.hdr) && !h.keep && uint64(n) < h.remain {
		h.remain -= uint64(n) // inside a skipped body: still in step
		return
	}
	s.count("dicom_gap")
	h.stopped = true
}

// Done implements dissect.Stream.
func (s *stream) Done() bool {
	return s.emitted || s.dir[0].stopped && s.dir[1].stopped
}

// End implements dissect.Stream.
func (s *stream) End(t time.Time) {
	if s.emitted {
		return
	}
	s.takePartial()
	if s.sawRQ || s.result != "" {
		s.emit()
	}
	s.dir[0].body, s.dir[1].body = nil, nil
}
