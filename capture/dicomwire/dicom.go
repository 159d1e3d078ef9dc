package dicomwire

import (
	"bytes"
	"encoding/binary"
	"slices"
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
	return dissect.Match{Verdict: dissect.Yes, FromClient: true} // only the association's requester sends it
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

	// Inside a P-DATA-TF body: the PDV item being read (header bytes, fragment bytes to
	// come, whether it carries a data set and is its last fragment), and pdvBad when the
	// rest of the PDU cannot be followed.
	pdvHdr           [6]byte
	pdvHn            int
	pdvRemain        uint32
	pdvData, pdvLast bool
	pdvBad           bool
	// The data set stream being scanned for patient tags: the last eight bytes (the most
	// recent lowest), how many of them are valid, and whether pixel data has begun.
	win   uint64
	winN  int
	pixel bool
}

type stream struct {
	ctx      *dissect.Context
	dir      [2]half
	assoc    observe.DICOMAssociation
	sawRQ    bool // an RQ (or AC) was parsed into assoc
	sawAC    bool // an AC's presentation context results were counted
	result   string
	terminal bool // the association is over: rejected, released or aborted
	emitted  bool
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
		} else if h.hdr[0] == pduPData {
			s.pdata(h, b[:k])
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
	if typ == pduPData {
		s.assoc.PDataPDUs++
		s.assoc.PDataBytes += int64(n)
		h.pdvHn, h.pdvRemain, h.pdvBad = 0, 0, false
	}
	if typ == pduAssociateRQ || typ == pduAssociateAC {
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
		if s.terminal {
			h.keep = false
			s.emit() // the end came first (the engine delivered the directions unevenly)
			return
		}
	case pduAssociateAC:
		if h.keep {
			s.associate(h.body, h.t, false)
		}
		s.answer("accepted", h.t, false)
	case pduAssociateRJ:
		s.answer("rejected", h.t, true)
	case pduReleaseRQ:
		s.answer("released", h.t, false)
	case pduReleaseRP:
		s.answer("released", h.t, true)
	case pduAbort:
		s.answer("aborted", h.t, true)
	case pduPData:
		if h.pdvHn != 0 || h.pdvRemain != 0 {
			s.count("dicom_bad_pdv") // a PDV may not span PDUs (PS3.8 9.3.5)
			h.resetScan()
		}
		if s.ctx.Count != nil {
			s.ctx.Count("dicom_pdata_pdus", 1)
		}
	}
	h.keep = false
	h.body = h.body[:0]
}

// answer records how the association went and, once it is over, emits it unless its
// request is still arriving. A release only follows an acceptance (or an answer not
// captured); an abort overrides an acceptance or a release in progress, not a rejection.
func (s *stream) answer(result string, t time.Time, terminal bool) {
	switch result {
	case "released":
		if s.result == "" || s.result == "accepted" {
			s.result = result
		}
	case "aborted":
		if s.result != "rejected" {
			s.result = result
		}
	default:
		if s.result == "" {
			s.result = result
		}
	}
	if s.assoc.FirstSeen.IsZero() {
		s.assoc.FirstSeen = t
	}
	if !terminal {
		return
	}
	s.terminal = true
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
	if len(a.AbstractSyntaxes) > 0 {
		a.AbstractSyntaxNames = make([]string, len(a.AbstractSyntaxes))
		for i, uid := range a.AbstractSyntaxes {
			a.AbstractSyntaxNames[i] = Name(uid)
		}
	}
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
	if rq || !s.sawRQ {
		// An AC repeats the request's AE titles: they are taken from it only when the RQ
		// was not seen.
		a.FirstSeen = t
		a.CalledAE = aeTitle(body[4:20])
		a.CallingAE = aeTitle(body[20:36])
		s.sawRQ = true
	}
	if !rq {
		if s.sawAC {
			return
		}
		s.sawAC = true
	}
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
		case 0x21: // presentation context (AC): id, reserved, result, reserved, sub-items
			if rq || len(v) < 4 {
				continue
			}
			if v[2] == 0 {
				a.AcceptedContexts++
			} else {
				a.RejectedContexts++ // 1 user, 2 no reason, 3 abstract, 4 transfer syntax
			}
		case 0x50: // user information
			if !rq {
				continue // the acceptor's implementation is not the requestor's
			}
			s.subItems(v, func(st byte, sv []byte) {
				switch st {
				case 0x52:
					a.ImplClassUID = uidText(sv)
				case 0x54:
					s.role(sv)
				case 0x55:
					a.ImplVersion = uidText(sv)
				}
			})
		}
	}
}

// role records an SCU/SCP role selection sub-item (PS3.7 D.3.3.4): the SOP class UID's
// length and value, then the SCU and SCP role bytes.
func (s *stream) role(v []byte) {
	a := &s.assoc
	if len(v) < 2 {
		s.count("dicom_bad_item")
		return
	}
	n := int(binary.BigEndian.Uint16(v))
	if n > len(v)-4 {
		s.count("dicom_bad_item")
		return
	}
	r := uidText(v[2 : 2+n])
	switch scu, scp := v[2+n] == 1, v[3+n] == 1; {
	case scu && scp:
		r += ":SCU+SCP"
	case scu:
		r += ":SCU"
	case scp:
		r += ":SCP"
	default:
		r += ":none"
	}
	if len(a.Roles) < maxSyntaxes && !slices.Contains(a.Roles, r) {
		a.Roles = append(a.Roles, r)
	}
}

// pdata follows the PDV items (PS3.8 9.3.5) of a P-DATA-TF body as its bytes stream past,
// and scans the data set fragments (not the commands) for patient attributes.
func (s *stream) pdata(h *half, b []byte) {
	for len(b) > 0 && !h.pdvBad {
		if h.pdvRemain == 0 {
			k := copy(h.pdvHdr[h.pdvHn:], b)
			h.pdvHn += k
			b = b[k:]
			if h.pdvHn < len(h.pdvHdr) {
				return
			}
			h.pdvHn = 0
			n := binary.BigEndian.Uint32(h.pdvHdr[:])
			if n < 2 {
				s.count("dicom_bad_pdv")
				h.pdvBad = true
				h.resetScan()
				return
			}
			h.pdvRemain = n - 2
			h.pdvData = h.pdvHdr[5]&1 == 0
			h.pdvLast = h.pdvHdr[5]&2 != 0
			if h.pdvRemain > 0 {
				continue
			}
		}
		k := min(uint32(len(b)), h.pdvRemain)
		if h.pdvData && !h.pixel {
			s.assoc.PatientAttributes += h.scan(b[:k])
		}
		b = b[k:]
		if h.pdvRemain -= k; h.pdvRemain == 0 && h.pdvLast && h.pdvData {
			h.resetScan() // the data set is complete: the next one starts afresh
		}
	}
}

// Patient-level tags and the pixel data tag as they open an element in little endian:
// group and element, each 2 bytes little endian.
const (
	tagPatientName      = 0x10001000 // (0010,0010)
	tagPatientID        = 0x10002000 // (0010,0020)
	tagPatientBirthDate = 0x10003000 // (0010,0030)
	tagPixelData        = 0xe07f1000 // (7FE0,0010)
)

// scan counts the patient attributes that end in b. An element counts when its tag is
// one of the three patient tags and what follows is either the expected explicit VR (PN,
// LO, DA) with a non-zero length, or an implicit-VR 32-bit length that is non-zero, even
// and below 64 KiB: an empty value (a query's return key) carries no patient data. The
// last eight bytes carry over, so an element split across PDVs or PDUs still counts.
// Scanning stops at the pixel data element, which follows the patient module in a data
// set's ascending tag order and whose bytes would otherwise give false matches.
func (h *half) scan(b []byte) int {
	n := 0
	for _, c := range b {
		h.win = h.win<<8 | uint64(c)
		if h.winN < 8 {
			h.winN++
		}
		if h.winN >= 4 && uint32(h.win) == tagPixelData {
			h.pixel = true
			return n
		}
		if h.winN < 8 {
			continue
		}
		tag, vr, l := uint32(h.win>>32), uint16(h.win>>16), uint16(h.win)
		var want uint16
		switch tag {
		case tagPatientName:
			want = 'P'<<8 | 'N'
		case tagPatientID:
			want = 'L'<<8 | 'O'
		case tagPatientBirthDate:
			want = 'D'<<8 | 'A'
		default:
			continue
		}
		if vr == want {
			if l != 0 {
				n++
			}
		} else if l == 0 && vr != 0 && vr&0x100 == 0 {
			n++ // implicit: length bytes vr (low byte first) and l; vr&0x100 tests the low byte's parity
		}
	}
	return n
}

// resetScan forgets the data set being scanned.
func (h *half) resetScan() {
	h.win, h.winN, h.pixel = 0, 0, false
	h.pdvHn, h.pdvRemain = 0, 0
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
		if h.hdr[0] == pduPData {
			h.pdvBad = true // but the PDV items of the rest of this PDU are lost
			h.resetScan()
		}
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
