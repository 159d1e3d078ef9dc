package hl7wire

import (
	"bytes"
	"slices"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Limits on what one message may cost.
const (
	// MaxHeader is the longest MSH segment kept for parsing; the fields medscan reads come
	// first, so a longer one is parsed truncated.
	MaxHeader = 4 << 10
	// MaxMessage is how long a frame may stay open before its end is taken to be lost.
	MaxMessage = 16 << 20

	maxField = 128
	// maxValue bounds the bytes kept of one wanted field (PRT-16, OBX-18, MSA-1) with all
	// its repetitions.
	maxValue = 4 * maxField
)

const (
	startBlock = 0x0b
	endBlock   = 0x1c
)

// Dissector is the HL7 v2 over MLLP dissector.
var Dissector = dissect.Dissector{Name: "hl7-mllp", Detect: Detect, New: New}

// Detect claims a direction whose first bytes open an MLLP frame with an HL7 header
// segment. Either side may speak first, so it never says FromServer.
func Detect(first []byte) dissect.Match {
	if len(first) == 0 {
		return dissect.Match{Verdict: dissect.NeedMore}
	}
	if first[0] != startBlock {
		return dissect.Match{}
	}
	rest := first[1:]
	for _, id := range []string{"MSH", "FHS", "BHS"} {
		k := min(len(rest), len(id))
		if string(rest[:k]) == id[:k] {
			if k == len(id) {
				return dissect.Match{Verdict: dissect.Yes}
			}
			return dissect.Match{Verdict: dissect.NeedMore}
		}
	}
	return dissect.Match{}
}

// New starts an HL7/MLLP stream dissector.
func New(ctx *dissect.Context) dissect.Stream { return &stream{ctx: ctx} }

// mode is what the parser does with the bytes of the current segment.
type mode uint8

const (
	seeking   mode = iota // outside a frame, looking for 0x0B
	segmentID             // collecting the first three bytes of a segment
	skipping              // the rest of a segment that is not kept
	header                // buffering an MSH segment
	field                 // counting the fields of a segment to keep one of them (want)
)

type half struct {
	mode  mode
	first bool // the segment being read is the first of its frame
	id    [3]byte
	idn   int
	hdr   []byte
	size  int // bytes in the open frame
	have  bool
	msg   observe.HL7Message
	cache [7]string // header fields of the previous message, for intern
	// Separators of the current message, from its MSH.
	fs, comp, rep byte
	// In mode field: the segment's kind, the field wanted, the field being read, and the
	// wanted field's bytes (at most maxValue).
	kind      byte // 'D' a device identifier (PRT-16, OBX-18), 'A' MSA-1
	want, idx int
	val       []byte
}

type stream struct {
	ctx *dissect.Context
	dir [2]half
	t   time.Time
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
	s.t = t
	h := &s.dir[dir]
	for len(b) > 0 {
		if h.mode == seeking {
			i := bytes.IndexByte(b, startBlock)
			if i < 0 {
				return
			}
			b = b[i+1:]
			s.open(h)
			continue
		}
		// Inside a frame: find the next byte that matters to the framing or the segments.
		i := 0
		switch h.mode {
		case skipping:
			i = nextSpecial(b)
		case field:
			i = nextSpecial(b)
			if j := bytes.IndexByte(b[:i], h.fs); j >= 0 {
				i = j
			}
			if h.idx == h.want {
				h.val = append(h.val, b[:min(i, maxValue-len(h.val))]...)
			}
		}
		if h.size += i; h.size > MaxMessage {
			s.count("hl7_oversized")
			s.close(h)
			continue
		}
		if i == len(b) {
			return
		}
		c := b[i]
		b = b[i+1:]
		h.size++
		switch c {
		case endBlock:
			s.endSegment(h)
			s.close(h)
		case startBlock:
			s.count("hl7_unterminated")
			s.endSegment(h)
			s.close(h)
			s.open(h)
		case '\r', '\n':
			s.endSegment(h)
		default:
			switch h.mode {
			case segmentID:
				h.id[h.idn] = c
				h.idn++
				if h.idn == 3 {
					s.segment(h)
				}
			case header:
				if len(h.hdr) < MaxHeader {
					h.hdr = append(h.hdr, c)
				}
			case field: // c is the field separator: nothing else stops the search
				if h.idx++; h.idx > h.want {
					s.endField(h)
				}
			}
		}
	}
}

// nextSpecial returns the index of the next segment or frame delimiter in b, or len(b).
// Four vectorised searches, each bounded by the previous hit, beat one byte loop: segment
// content is long and delimiters are rare.
func nextSpecial(b []byte) int {
	n := len(b)
	if i := bytes.IndexByte(b, '\r'); i >= 0 {
		n = i
	}
	for _, c := range [...]byte{'\n', startBlock, endBlock} {
		if i := bytes.IndexByte(b[:n], c); i >= 0 {
			n = i
		}
	}
	return n
}

// open starts a frame after its 0x0B.
func (s *stream) open(h *half) {
	h.mode, h.first, h.idn, h.size = segmentID, true, 0, 0
}

// close ends a frame, emitting its last message.
func (s *stream) close(h *half) {
	s.emit(h)
	h.mode = seeking
}

// segment classifies a segment once its ID is known.
func (s *stream) segment(h *half) {
	id := string(h.id[:]) // no allocation: compared only
	if h.first {
		h.first = false
		if id != "MSH" && id != "FHS" && id != "BHS" {
			s.count("hl7_bad_frame")
			h.mode = seeking
			return
		}
	}
	switch id {
	case "MSH":
		s.emit(h) // a batch: the previous message ends here
		h.hdr = append(h.hdr[:0], "MSH"...)
		h.mode = header
		return
	case "MSA":
		if h.have {
			h.msg.IsAck = true
			s.keepField(h, 'A', 1)
			return
		}
	case "PRT":
		if h.have {
			s.keepField(h, 'D', 16)
			return
		}
	case "OBX":
		if h.have {
			s.keepField(h, 'D', 18)
			return
		}
	case "PID", "PD1", "NK1", "PV1", "PV2", "MRG", "GT1", "IN1", "IN2", "IN3", "ACC":
		if h.have {
			h.msg.PatientSegments++
		}
	}
	h.mode = skipping
}

// keepField starts counting the fields of the segment just identified, to keep field n.
// Only that field's bytes are kept: the fields before it (OBX-5, the observation value,
// above all) stream past by count.
func (s *stream) keepField(h *half, kind byte, n int) {
	h.mode, h.kind, h.want, h.idx, h.val = field, kind, n, 0, h.val[:0]
}

// endField records the kept field once it has ended (at its separator, the segment's end
// or the frame's) and skips the rest of the segment.
func (s *stream) endField(h *half) {
	h.mode = skipping
	v := h.val
	h.val = h.val[:0]
	if len(v) == 0 || !h.have {
		return
	}
	switch h.kind {
	case 'A':
		v = bytes.TrimSpace(component(firstRep(v, h.rep), h.comp, 0))
		switch string(v) {
		case "AA", "AE", "AR", "CA", "CE", "CR":
			if h.msg.AckCode == "" {
				h.msg.AckCode = string(v)
			}
		default:
			s.count("hl7_bad_msa")
		}
	case 'D':
		// Each repetition is one device; its components (identifier, namespace, universal
		// ID, type) are kept together, trailing empty ones dropped.
		for len(v) > 0 {
			r := firstRep(v, h.rep)
			v = v[min(len(r)+1, len(v)):]
			r = bytes.TrimRight(bytes.TrimSpace(r), string(h.comp))
			if len(r) == 0 {
				continue
			}
			d := text(r)
			if len(h.msg.Devices) < observe.MaxHL7Devices && !slices.Contains(h.msg.Devices, d) {
				h.msg.Devices = append(h.msg.Devices, d)
			}
		}
	}
}

// endSegment handles a segment terminator.
func (s *stream) endSegment(h *half) {
	switch h.mode {
	case header:
		s.parseMSH(h)
	case field:
		s.endField(h)
	}
	if h.mode != seeking {
		h.mode, h.idn = segmentID, 0
	}
}

// emit hands the current message to the sink.
func (s *stream) emit(h *half) {
	switch h.mode {
	case header:
		s.parseMSH(h) // a frame that ended inside its MSH
	case field:
		s.endField(h) // a frame cut inside a kept field: what arrived of it
	}
	if !h.have {
		return
	}
	s.ctx.Sink.AddHL7(h.msg)
	h.have = false
	h.msg = observe.HL7Message{}
}

// parseMSH reads the header fields out of the buffered MSH segment.
func (s *stream) parseMSH(h *half) {
	hdr := h.hdr
	h.hdr = h.hdr[:0]
	h.mode = skipping
	if len(hdr) < 8 {
		s.count("hl7_bad_msh")
		return
	}
	fs := hdr[3]
	// MSH-2, the encoding characters, runs from after the separator to the next one.
	enc := hdr[4:]
	if i := bytes.IndexByte(enc, fs); i >= 0 {
		enc = enc[:i]
	}
	comp, rep := byte('^'), byte('~')
	if len(enc) >= 1 {
		comp = enc[0]
	}
	if len(enc) >= 2 {
		rep = enc[1]
	}
	if fs == comp || fs == '\r' || fs == '\n' || fs == rep {
		s.count("hl7_bad_msh")
		return
	}
	h.fs, h.comp, h.rep = fs, comp, rep
	// fields[k] is MSH-(k+1): MSH-1 is the separator itself.
	var fields [12][]byte
	rest := hdr[4:]
	for k := 1; k < len(fields) && rest != nil; k++ {
		if i := bytes.IndexByte(rest, fs); i >= 0 {
			fields[k], rest = rest[:i], rest[i+1:]
		} else {
			fields[k], rest = rest, nil
		}
	}
	m := observe.HL7Message{Flow: s.ctx.Flow, FirstSeen: s.t, LastSeen: s.t, Count: 1}
	m.SendingApp = h.intern(0, hd(fields[2], comp, rep))
	m.SendingFacility = h.intern(1, hd(fields[3], comp, rep))
	m.ReceivingApp = h.intern(2, hd(fields[4], comp, rep))
	m.ReceivingFacility = h.intern(3, hd(fields[5], comp, rep))
	typ := firstRep(fields[8], rep)
	m.MessageType = h.intern(4, component(typ, comp, 0))
	m.TriggerEvent = h.intern(5, component(typ, comp, 1))
	m.Version = h.intern(6, component(firstRep(fields[11], rep), comp, 0))
	m.IsAck = m.MessageType == "ACK"
	h.msg, h.have = m, true
}

// hd picks from an HD field the namespace ID, else the universal ID.
func hd(f []byte, comp, rep byte) []byte {
	f = firstRep(f, rep)
	if v := component(f, comp, 0); len(bytes.TrimSpace(v)) > 0 {
		return v
	}
	return component(f, comp, 1)
}

// intern returns text(v), reusing the string the previous message of this direction had
// in the same field: an interface repeats its header, so steady traffic allocates little.
func (h *half) intern(slot int, v []byte) string {
	if c := h.cache[slot]; c == string(v) {
		return c
	}
	h.cache[slot] = text(v)
	return h.cache[slot]
}

func firstRep(f []byte, rep byte) []byte {
	if i := bytes.IndexByte(f, rep); i >= 0 {
		return f[:i]
	}
	return f
}

// component returns the n-th (0-based) component of a field.
func component(f []byte, comp byte, n int) []byte {
	for ; n > 0; n-- {
		i := bytes.IndexByte(f, comp)
		if i < 0 {
			return nil
		}
		f = f[i+1:]
	}
	if i := bytes.IndexByte(f, comp); i >= 0 {
		f = f[:i]
	}
	return f
}

// text copies a short field, trimmed, bounded and with control bytes replaced.
func text(b []byte) string {
	return observe.Text(bytes.TrimSpace(b), maxField)
}

// Gap implements dissect.Stream.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if dir > dissect.ServerToClient || n <= 0 {
		return
	}
	h := &s.dir[dir]
	if h.mode == seeking {
		return
	}
	s.count("hl7_gap")
	s.close(h)
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return false }

// End implements dissect.Stream.
func (s *stream) End(time.Time) {
	for i := range s.dir {
		h := &s.dir[i]
		if h.mode != seeking {
			s.count("hl7_unterminated")
			s.close(h)
		}
	}
}
