package dnswire

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Dissector is the DNS, mDNS, LLMNR and NetBIOS name service datagram dissector.
var Dissector = dissect.DatagramDissector{Name: "dns", New: New}

// Ports of the name services.
const (
	PortDNS     = 53
	PortMDNS    = 5353
	PortLLMNR   = 5355
	PortNetBIOS = 137
)

// Limits on the work one datagram may cost.
const (
	// MaxRecords is how many resource records of a message are read.
	MaxRecords = 64
	// maxJumps bounds the compression pointers followed in one name.
	maxJumps = 16
	// maxName is the longest name in presentation form (RFC 1035 §2.3.4, plus dots).
	maxName = 255
)

// Resource record types used.
const (
	typeA    = 1
	typeNB   = 32 // NetBIOS general name service resource record (RFC 1002 §4.2.1.3)
	typePTR  = 12
	typeAAAA = 28
	typeSRV  = 33
)

// Record is one resource record that ties a name to something: an address (A, AAAA,
// NB) or another name (SRV target, PTR).
type Record struct {
	Name   string
	Type   uint16
	Addr   netip.Addr // A, AAAA, NB (the first address)
	Target string     // SRV target, PTR domain name
	Group  bool       // NB: a group name
}

// Message is the part of a name service message this package uses.
type Message struct {
	ID       uint16
	Response bool
	Opcode   uint8
	Records  []Record // answers, authority and additional records, in order
}

// header reads the fixed header and says whether it is plausible: a handful of
// questions and records at most 16-bit counts of which none can fit in less than
// their minimum size.
func header(b []byte) (qd, rr int, ok bool) {
	if len(b) < 12 {
		return 0, 0, false
	}
	qd = int(binary.BigEndian.Uint16(b[4:]))
	rr = int(binary.BigEndian.Uint16(b[6:])) + int(binary.BigEndian.Uint16(b[8:])) + int(binary.BigEndian.Uint16(b[10:]))
	// A question takes at least 5 bytes, a record at least 11.
	if qd*5+rr*11 > len(b)-12 {
		return 0, 0, false
	}
	return qd, rr, true
}

// Parse decodes a DNS-format message (DNS, mDNS, LLMNR, NetBIOS NS). netbios selects the
// NetBIOS reading of names and of NB records. ok is false when b is not such a message.
// recs is reused for the records.
func Parse(b []byte, netbios bool, recs []Record) (m Message, ok bool) {
	qd, rr, ok := header(b)
	if !ok {
		return m, false
	}
	m.ID = binary.BigEndian.Uint16(b)
	m.Response = b[2]&0x80 != 0
	m.Opcode = (b[2] >> 3) & 0xf
	m.Records = recs[:0]
	off := 12
	var buf [maxName]byte
	for range min(qd, MaxRecords) {
		_, next, ok := readName(b, off, buf[:0])
		if !ok || next+4 > len(b) {
			return m, false
		}
		off = next + 4
	}
	if qd > MaxRecords {
		return m, true
	}
	for range min(rr, MaxRecords) {
		name, next, ok := readName(b, off, buf[:0])
		if !ok || next+10 > len(b) {
			return m, len(m.Records) > 0
		}
		typ := binary.BigEndian.Uint16(b[next:])
		n := int(binary.BigEndian.Uint16(b[next+8:]))
		rd := next + 10
		if rd+n > len(b) {
			return m, len(m.Records) > 0
		}
		off = rd + n
		data := b[rd : rd+n]
		r := Record{Type: typ}
		switch {
		case typ == typeA && n == 4 && !netbios:
			r.Addr = netip.AddrFrom4([4]byte(data))
		case typ == typeAAAA && n == 16 && !netbios:
			r.Addr = netip.AddrFrom16([16]byte(data))
		case typ == typeNB && netbios && n >= 6:
			r.Group = data[0]&0x80 != 0
			r.Addr = netip.AddrFrom4([4]byte(data[2:6]))
		case (typ == typeSRV && n > 6 || typ == typePTR) && !netbios:
			start := rd
			if typ == typeSRV {
				start += 6 // priority, weight, port
			}
			var tb [maxName]byte
			t, end, ok := readName(b[:rd+n], start, tb[:0])
			if !ok || end > rd+n {
				continue
			}
			r.Target = observe.Clean(strings.ToLower(string(t)))
		default:
			continue
		}
		if netbios {
			nb, ok := netbiosName(name)
			if !ok {
				continue
			}
			r.Name = nb
		} else {
			r.Name = observe.Clean(strings.ToLower(string(name)))
		}
		m.Records = append(m.Records, r)
	}
	return m, true
}

// readName decodes the possibly compressed name at off into dst (dotted, no final dot)
// and returns the offset after it in the original message. Pointers must point strictly
// before the label that holds them, and at most maxJumps are followed.
func readName(b []byte, off int, dst []byte) (name []byte, next int, ok bool) {
	next = -1
	jumps := 0
	limit := off // a pointer must land before this
	for {
		if off >= len(b) {
			return nil, 0, false
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if next < 0 {
					next = off + 1
				}
				return dst, next, true
			}
			if off+1+l > len(b) || len(dst)+l+1 > maxName {
				return nil, 0, false
			}
			if len(dst) > 0 {
				dst = append(dst, '.')
			}
			dst = append(dst, b[off+1:off+1+l]...)
			off += 1 + l
		case 0xc0:
			if off+2 > len(b) || jumps >= maxJumps {
				return nil, 0, false
			}
			p := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if p >= limit {
				return nil, 0, false
			}
			if next < 0 {
				next = off + 2
			}
			jumps++
			off, limit = p, p
		default: // 0x40, 0x80: extended and reserved label types
			return nil, 0, false
		}
	}
}

// netbiosName decodes a first-level encoded NetBIOS name (RFC 1001 §14.1): 32 letters
// 'A'..'P', two per byte, then an optional scope after a dot. The 16th byte is the
// suffix (service type) and the name is padded with spaces; both are dropped.
func netbiosName(enc []byte) (string, bool) {
	if i := indexByte(enc, '.'); i >= 0 {
		enc = enc[:i]
	}
	if len(enc) != 32 {
		return "", false
	}
	var raw [16]byte
	for i := range 16 {
		hi, lo := enc[2*i]-'A', enc[2*i+1]-'A'
		if hi > 15 || lo > 15 {
			return "", false
		}
		raw[i] = hi<<4 | lo
	}
	n := raw[:15]
	for len(n) > 0 && (n[len(n)-1] == ' ' || n[len(n)-1] == 0) {
		n = n[:len(n)-1]
	}
	if len(n) == 0 || n[0] == '*' {
		return "", false // the wildcard name of node status queries
	}
	for _, c := range n {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	return observe.Clean(string(n)), true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

type handler struct {
	ctx      *dissect.DatagramContext
	recs     []Record
	services [4]dissect.ServiceLog // dns, mdns, llmnr, netbios-ns
}

// New starts the engine's name service handler.
func New(ctx *dissect.DatagramContext) dissect.DatagramHandler {
	return &handler{ctx: ctx, recs: make([]Record, 0, MaxRecords)}
}

var serviceNames = [4]string{"dns", "mdns", "llmnr", "netbios-ns"}

// Datagram implements dissect.DatagramHandler.
func (h *handler) Datagram(src, dst netip.AddrPort, _ []byte, b []byte, t time.Time) bool {
	var kind int
	switch sp, dp := src.Port(), dst.Port(); {
	case sp == PortDNS:
		kind = 0
	case dp == PortDNS:
		// A query names nothing; it is DNS all the same.
		_, _, ok := header(b)
		return ok && b[2]&0x80 == 0
	case sp == PortMDNS || dp == PortMDNS:
		kind = 1
	case sp == PortLLMNR || dp == PortLLMNR:
		kind = 2
	case sp == PortNetBIOS || dp == PortNetBIOS:
		kind = 3
	default:
		return false
	}
	netbios := kind == 3
	m, ok := Parse(b, netbios, h.recs)
	h.recs = m.Records[:0]
	if !ok {
		return false
	}
	if m.Response && (kind == 0 || kind == 2 || kind == 3) {
		h.services[kind].Seen(h.ctx, serviceNames[kind], src, t)
	}
	if kind == 1 && src.Port() == PortMDNS && m.Response {
		h.services[kind].Seen(h.ctx, serviceNames[kind], src, t)
	}
	source := [4]string{"dns", "mdns", "llmnr", "netbios"}[kind]
	switch {
	case netbios:
		// Registrations (opcode 5), refreshes (8, 9) and overwrite demands carry the
		// name in a request; positive responses answer with it.
		if !m.Response && m.Opcode != 5 && m.Opcode != 8 && m.Opcode != 9 {
			return true
		}
	case !m.Response:
		return true // a question names nothing
	}
	for _, r := range m.Records {
		if !r.Addr.IsValid() || r.Addr.IsUnspecified() || r.Group || r.Name == "" {
			continue
		}
		h.name(r.Addr, r.Name, source, t)
		if kind == 1 {
			// Service instances whose SRV target is this host name it too.
			for _, s := range m.Records {
				if s.Type == typeSRV && s.Target == r.Name {
					if inst := instance(s.Name); inst != "" {
						h.name(r.Addr, inst, source, t)
					}
				}
			}
		}
	}
	return true
}

// instance is the instance label of a DNS-SD service name ("monitor 3._http._tcp.local"
// names "monitor 3").
func instance(name string) string {
	i := strings.Index(name, "._")
	if i <= 0 {
		return ""
	}
	return name[:i]
}

func (h *handler) name(a netip.Addr, name, source string, t time.Time) {
	h.ctx.Sink.AddName(observe.HostName{Addr: a.Unmap(), Name: name, Source: source, FirstSeen: t, LastSeen: t})
}

// End implements dissect.DatagramHandler.
// Flush implements dissect.DatagramHandler: names go to the sink as they are read, so
// only the servers seen are pending.
func (h *handler) Flush(time.Time) {
	for i := range h.services {
		h.services[i].Flush(h.ctx, serviceNames[i])
	}
}

func (h *handler) End(t time.Time) { h.Flush(t) }
