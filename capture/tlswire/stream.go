package tlswire

import (
	"bytes"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Bounds on what one flow may make the dissector keep.
const (
	maxHandshake = 256 << 10 // one handshake message (a certificate chain is rarely over 16 KiB)
	maxCerts     = 32        // certificates kept from one Certificate message
	maxCAs       = 64        // distinguished names kept from a CertificateRequest
	maxAlerts    = 8
	maxALPN      = 16
	maxListItems = 512 // suites, groups or versions kept from one hello
)

// Direction states.
const (
	open      uint8 = iota // parsing records
	encrypted              // past ChangeCipherSpec (or TLS 1.3 keys): nothing more to read
	stopped                // gave up: a gap, garbage or a bound exceeded
)

// half is the parsing state of one direction.
type half struct {
	rec     []byte // an incomplete record, header included
	hs      []byte // incomplete handshake message bytes carried across records
	state   uint8
	records int  // complete records seen; an SSLv2 header is only accepted first
	v2      bool // the direction began with an SSLv2 record, so later ones may be SSLv2 too
}

// stream follows one flow's handshake. It implements dissect.Stream.
type stream struct {
	ctx  *dissect.Context
	half [2]half
	sess observe.TLSSession

	serverChain, clientChain [][]byte
	staple                   []byte // a stapled OCSP response, read at emit
	clientSID, serverSID     []byte

	offered13  bool // the client listed TLS 1.3 in supported_versions
	tls13      bool // a ServerHello or HelloRetryRequest selected TLS 1.3
	final13    bool // a TLS 1.3 ServerHello that is not a HelloRetryRequest
	pskOK      bool // the server accepted a TLS 1.3 pre-shared key
	sawSHD     bool // ServerHelloDone: a full (not abbreviated) TLS <= 1.2 handshake
	serverCCS  bool
	sawSSLv2SH bool

	first, last time.Time
	now         time.Time
	emitted     bool
	finished    bool // nothing more can be learned, whether or not a session was emitted
}

// New starts a stream dissector for one flow.
func New(ctx *dissect.Context) dissect.Stream {
	return &stream{ctx: ctx}
}

func (s *stream) count(name string, n uint64) {
	if s.ctx != nil && s.ctx.Count != nil {
		s.ctx.Count(name, n)
	}
}

// Data implements dissect.Stream.
func (s *stream) Data(dir dissect.Direction, b []byte, t time.Time) {
	if s.finished || dir > dissect.ServerToClient {
		return
	}
	h := &s.half[dir]
	if h.state != open {
		return
	}
	s.now = t
	s.last = t
	s.feed(dir, b)
	s.settle()
}

// Gap implements dissect.Stream. TLS has no resynchronisation point that a passive
// observer can trust, so the direction is given up.
func (s *stream) Gap(dir dissect.Direction, n int) {
	if s.finished || dir > dissect.ServerToClient {
		return
	}
	if s.half[dir].state == open {
		s.count("tls_gaps", 1)
		s.stop(dir)
	}
	s.settle()
}

// Done implements dissect.Stream.
func (s *stream) Done() bool { return s.finished }

// End implements dissect.Stream.
func (s *stream) End(t time.Time) {
	if s.finished {
		return
	}
	if s.last.IsZero() {
		s.last = t
	}
	s.emit()
	s.finished = true
	s.half = [2]half{}
}

// stop gives up a direction and frees its buffers.
func (s *stream) stop(dir dissect.Direction) {
	h := &s.half[dir]
	h.state = stopped
	h.rec, h.hs = nil, nil
}

// encrypt marks a direction as past the point where records are readable.
func (s *stream) encrypt(dir dissect.Direction) {
	h := &s.half[dir]
	if h.state == open {
		h.state = encrypted
	}
	h.rec, h.hs = nil, nil
}

// settle emits the session once neither direction can tell anything more.
func (s *stream) settle() {
	if s.half[0].state == open || s.half[1].state == open {
		return
	}
	s.emit()
	s.finished = true
}

// emit hands the session to the sink once, when a hello or a certificate was seen.
func (s *stream) emit() {
	if s.emitted {
		return
	}
	s.emitted = true
	t := &s.sess
	if !t.SawClientHello && !t.SawServerHello && len(s.serverChain) == 0 && len(s.clientChain) == 0 {
		s.count("tls_flows_without_handshake", 1)
		return
	}
	if s.ctx == nil || s.ctx.Sink == nil {
		return
	}
	t.Flow = s.ctx.Flow
	t.Source = s.ctx.Source
	t.Count = 1
	t.FirstSeen = s.first
	if t.FirstSeen.IsZero() {
		t.FirstSeen = s.last
	}
	t.LastSeen = s.last
	t.CertsEncrypted = t.Version == 0x0304
	if t.Version != 0 && t.Version < 0x0304 && t.Version != 0x0002 {
		// Resumption in TLS <= 1.2: the server echoed the client's session ID, or went
		// straight from ServerHello to ChangeCipherSpec (a ticket accepted).
		echoed := len(s.clientSID) > 0 && bytes.Equal(s.clientSID, s.serverSID)
		abbreviated := s.serverCCS && !s.sawSHD && len(s.serverChain) == 0
		t.Resumed = echoed || abbreviated
	} else if t.Version == 0x0304 {
		t.Resumed = s.pskOK
	}
	if s.staple != nil {
		t.OCSPStaple = ReadStaple(s.staple, s.serverChain)
	}
	s.ctx.Sink.AddTLS(*t, s.serverChain, s.clientChain)
}

// hello notes the time of the first hello.
func (s *stream) hello() {
	if s.first.IsZero() {
		s.first = s.now
	}
}

// feed splits a direction's bytes into records, buffering an incomplete one.
func (s *stream) feed(dir dissect.Direction, b []byte) {
	h := &s.half[dir]
	for len(b) > 0 && h.state == open {
		if len(h.rec) > 0 {
			// Complete the buffered record a few bytes at a time: first its header,
			// then its body.
			total := s.recordLen(h, h.rec)
			if total < 0 {
				return
			}
			need := 5
			if total > 0 {
				need = total
			} else if h.rec[0]&0x80 != 0 {
				need = 2
			}
			take := min(need-len(h.rec), len(b))
			h.rec = append(h.rec, b[:take]...)
			b = b[take:]
			if total == 0 {
				continue
			}
			if len(h.rec) == total {
				rec := h.rec
				h.rec = h.rec[:0]
				s.record(dir, rec)
				if h.state == open && len(h.rec) == 0 {
					h.rec = rec[:0] // keep the buffer for the next split record
				}
			}
			continue
		}
		total := s.recordLen(h, b)
		if total < 0 {
			return
		}
		if total == 0 || total > len(b) {
			h.rec = append(h.rec, b...)
			return
		}
		s.record(dir, b[:total])
		b = b[total:]
	}
}

// recordLen returns the full length of the record starting at b, header included; 0
// when more bytes are needed to know; -1 (after giving up the direction) when b does not
// start a record.
func (s *stream) recordLen(h *half, b []byte) int {
	if b[0]&0x80 != 0 && (h.records == 0 || h.v2) {
		if len(b) < 2 {
			return 0
		}
		n := int(b[0]&0x7f)<<8 | int(b[1])
		if n < 3 {
			return s.badRecord(h)
		}
		return 2 + n
	}
	if b[0] < recChangeCipherSpec || b[0] > recHeartbeat {
		return s.badRecord(h)
	}
	if len(b) >= 2 && b[1] != 3 {
		return s.badRecord(h)
	}
	if len(b) < 5 {
		return 0
	}
	n := int(b[3])<<8 | int(b[4])
	if n > maxRecord {
		return s.badRecord(h)
	}
	return 5 + n
}

func (s *stream) badRecord(h *half) int {
	s.count("tls_bad_records", 1)
	h.state = stopped
	h.rec, h.hs = nil, nil
	return -1
}

// record handles one complete record.
func (s *stream) record(dir dissect.Direction, rec []byte) {
	h := &s.half[dir]
	h.records++
	if rec[0]&0x80 != 0 {
		// recordLen only lets an SSLv2 header through first, or after a first one.
		switch {
		case h.records == 1:
			h.v2 = true
			s.sslv2(dir, rec[2:])
		case dir == dissect.ClientToServer && s.sawSSLv2SH:
			s.sslv2MasterKey(rec[2:])
		}
		return
	}
	if dir == dissect.ClientToServer && s.final13 {
		// The client's flight after a TLS 1.3 ServerHello is encrypted, whatever its
		// outer record type; it marks the end of what can be seen.
		s.encrypt(dir)
		return
	}
	body := rec[5:]
	switch rec[0] {
	case recHandshake:
		s.handshake(dir, body)
	case recChangeCipherSpec:
		s.changeCipherSpec(dir)
	case recAlert:
		s.alert(dir, body)
	case recApplicationData:
		if dir == dissect.ClientToServer && s.offered13 && !s.sess.SawServerHello {
			return // 0-RTT early data: the second ClientHello after a retry is still in clear
		}
		s.encrypt(dir)
	}
}

func (s *stream) changeCipherSpec(dir dissect.Direction) {
	switch {
	case s.tls13:
		// TLS 1.3 middlebox-compatibility CCS: it changes nothing.
	case dir == dissect.ClientToServer && s.offered13 && !s.sess.SawServerHello:
		// Sent right after a ClientHello offering early data; the handshake goes on.
	default:
		if dir == dissect.ServerToClient {
			s.serverCCS = true
		}
		s.encrypt(dir)
	}
}

func (s *stream) alert(dir dissect.Direction, body []byte) {
	if len(body)%2 != 0 {
		// Not a cleartext alert (or a fragment of one, which no real stack sends).
		s.count("tls_bad_alerts", 1)
		return
	}
	for i := 0; i+1 < len(body) && len(s.sess.Alerts) < maxAlerts; i += 2 {
		s.sess.Alerts = append(s.sess.Alerts, observe.Alert{
			FromServer: dir == dissect.ServerToClient, Level: body[i], Description: body[i+1]})
	}
}

// handshake reassembles handshake messages across records.
func (s *stream) handshake(dir dissect.Direction, body []byte) {
	h := &s.half[dir]
	if len(h.hs) == 0 {
		rest := s.messages(dir, body)
		if h.state == open && len(rest) > 0 {
			h.hs = append(h.hs, rest...)
		}
		return
	}
	h.hs = append(h.hs, body...)
	rest := s.messages(dir, h.hs)
	if h.state != open || len(rest) == len(h.hs) {
		// Nothing consumed: no compaction, or a message sent in many tiny records would
		// cost a copy of the whole buffer per record.
		return
	}
	n := copy(h.hs, rest)
	h.hs = h.hs[:n]
}

// messages dispatches the complete handshake messages in b and returns the incomplete
// tail.
func (s *stream) messages(dir dissect.Direction, b []byte) []byte {
	h := &s.half[dir]
	for len(b) >= 4 {
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n > maxHandshake {
			s.count("tls_handshake_too_large", 1)
			s.stop(dir)
			return nil
		}
		if len(b) < 4+n {
			return b
		}
		s.message(dir, b[0], b[4:4+n])
		b = b[4+n:]
		if h.state != open {
			return nil
		}
	}
	return b
}

func (s *stream) message(dir dissect.Direction, typ uint8, body []byte) {
	fromServer := dir == dissect.ServerToClient
	switch {
	case typ == hsClientHello && !fromServer:
		s.clientHello(body)
	case typ == hsServerHello && fromServer:
		s.serverHello(body)
	case typ == hsCertificate:
		s.certificate(dir, body)
	case typ == hsServerKeyExchange && fromServer:
		s.serverKeyExchange(body)
	case typ == hsCertificateRequest && fromServer:
		s.certificateRequest(body)
	case typ == hsCertificateStatus && fromServer:
		s.certificateStatus(body)
	case typ == hsServerHelloDone && fromServer:
		s.sawSHD = true
	}
}
