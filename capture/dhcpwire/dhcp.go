package dhcpwire

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Dissector is the DHCP datagram dissector.
var Dissector = dissect.DatagramDissector{Name: "dhcp", New: New}

// Limits on what the handler keeps.
const (
	// MaxClients bounds the clients whose self-description is remembered.
	MaxClients = 4096
	// maxText bounds a text option kept (host name, vendor class).
	maxText = 255
)

// DHCP message types (option 53).
const (
	Discover = 1
	Offer    = 2
	Request  = 3
	Decline  = 4
	Ack      = 5
	Nak      = 6
	Release  = 7
	Inform   = 8
)

const (
	headerLen   = 236
	cookie      = 0x63825363
	optPad      = 0
	optEnd      = 255
	optRouter   = 3
	optDNS      = 6
	optHostname = 12
	optReqAddr  = 50
	optLease    = 51
	optOverload = 52
	optMsgType  = 53
	optServerID = 54
	optParams   = 55
	optVendor   = 60
)

// Message is what one DHCP message says.
type Message struct {
	Op           uint8 // 1 request (client), 2 reply (server)
	Type         uint8 // option 53; 0 for plain BOOTP
	MAC          [6]byte
	HasMAC       bool // Ethernet hardware address (htype 1, hlen 6)
	CIAddr       netip.Addr
	YIAddr       netip.Addr
	RequestedIP  netip.Addr // option 50
	ServerID     netip.Addr // option 54
	Hostname     string     // option 12
	VendorClass  string     // option 60
	ParamRequest string     // option 55, comma-separated decimals
	LeaseSeconds uint32     // option 51
	Router       netip.Addr // the first address of option 3: the gateway a server hands out
	DNS          netip.Addr // the first address of option 6
}

// Parse decodes a BOOTP/DHCP message. ok is false when b is not one (short, no cookie).
func Parse(b []byte) (m Message, ok bool) {
	if len(b) < headerLen+4 || binary.BigEndian.Uint32(b[headerLen:]) != cookie || (b[0] != 1 && b[0] != 2) {
		return m, false
	}
	m.Op = b[0]
	if b[1] == 1 && b[2] == 6 {
		m.HasMAC = true
		copy(m.MAC[:], b[28:34])
	}
	m.CIAddr = addr4(b[12:16])
	m.YIAddr = addr4(b[16:20])
	overload := m.options(b[headerLen+4:])
	// Overloaded fields are parsed after the options field (RFC 2132 §9.3): file first,
	// then sname. An overload option inside them is ignored, so this cannot recurse.
	if overload&1 != 0 {
		m.options(b[108:236])
	}
	if overload&2 != 0 {
		m.options(b[44:108])
	}
	return m, true
}

func addr4(b []byte) netip.Addr {
	a := netip.AddrFrom4([4]byte(b))
	if a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}

// options walks one options area and returns the overload option's value, if any.
// Every step moves forward by at least one byte, so the walk ends with the area.
func (m *Message) options(b []byte) (overload uint8) {
	for len(b) > 0 {
		code := b[0]
		if code == optPad {
			b = b[1:]
			continue
		}
		if code == optEnd || len(b) < 2 {
			return overload
		}
		n := int(b[1])
		if len(b) < 2+n {
			return overload // a lying length: keep what came before it
		}
		v := b[2 : 2+n]
		b = b[2+n:]
		switch code {
		case optMsgType:
			if n == 1 {
				m.Type = v[0]
			}
		case optHostname:
			m.Hostname = text(v)
		case optVendor:
			m.VendorClass = text(v)
		case optReqAddr:
			if n == 4 {
				m.RequestedIP = addr4(v)
			}
		case optServerID:
			if n == 4 {
				m.ServerID = addr4(v)
			}
		case optRouter:
			if n >= 4 && n%4 == 0 {
				m.Router = addr4(v[:4])
			}
		case optDNS:
			if n >= 4 && n%4 == 0 {
				m.DNS = addr4(v[:4])
			}
		case optLease:
			if n == 4 {
				m.LeaseSeconds = binary.BigEndian.Uint32(v)
			}
		case optParams:
			var sb strings.Builder
			for i, c := range v {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(strconv.Itoa(int(c)))
			}
			m.ParamRequest = sb.String()
		case optOverload:
			if n == 1 {
				overload = v[0] & 3
			}
		}
	}
	return overload
}

// text keeps a text option: trailing NULs (some stacks count the C terminator) dropped,
// then as observe.Text keeps text from the wire, within maxText bytes.
func text(v []byte) string {
	for len(v) > 0 && v[len(v)-1] == 0 {
		v = v[:len(v)-1]
	}
	return observe.Text(v, maxText)
}

// client is what a client said about itself in its own messages.
type client struct {
	hostname, vendor, params string
}

type handler struct {
	ctx      *dissect.DatagramContext
	clients  map[[6]byte]client
	services dissect.ServiceLog
}

// New starts the engine's DHCP handler.
func New(ctx *dissect.DatagramContext) dissect.DatagramHandler {
	return &handler{ctx: ctx, clients: map[[6]byte]client{}}
}

func isDHCPPort(p uint16) bool { return p == 67 || p == 68 }

// Datagram implements dissect.DatagramHandler.
func (h *handler) Datagram(src, dst netip.AddrPort, _ []byte, b []byte, t time.Time) bool {
	if !isDHCPPort(dst.Port()) && !isDHCPPort(src.Port()) {
		return false
	}
	m, ok := Parse(b)
	if !ok {
		return false
	}
	if !m.HasMAC {
		h.count("dhcp_non_ethernet")
		return true
	}
	mac := observe.MACString(m.MAC)
	l := observe.DHCPLease{MAC: mac, FirstSeen: t, LastSeen: t, Server: m.ServerID}
	if m.Op == 1 {
		c := client{hostname: m.Hostname, vendor: m.VendorClass, params: m.ParamRequest}
		if o, seen := h.clients[m.MAC]; seen {
			c = merge(c, o)
		}
		if _, seen := h.clients[m.MAC]; seen || len(h.clients) < MaxClients {
			h.clients[m.MAC] = c
		} else {
			h.count("dhcp_clients_not_remembered")
		}
		l.Hostname, l.VendorClass, l.ParamRequest = c.hostname, c.vendor, c.params
		l.Addr = m.RequestedIP
		if !l.Addr.IsValid() {
			l.Addr = m.CIAddr
		}
	} else {
		if src.Port() == 67 {
			h.services.Seen(h.ctx, "dhcp", src, t)
		}
		if !l.Server.IsValid() && src.Addr().Is4() && !src.Addr().IsUnspecified() {
			l.Server = src.Addr()
		}
		c := h.clients[m.MAC]
		l.Hostname, l.VendorClass, l.ParamRequest = c.hostname, c.vendor, c.params
		if m.Hostname != "" && l.Hostname == "" {
			l.Hostname = m.Hostname
		}
		h.reply(m, mac, l.Server, t)
		switch m.Type {
		case Ack:
			l.Addr = m.YIAddr
			if !l.Addr.IsValid() {
				l.Addr = m.CIAddr // an ACK to an INFORM confirms the address in use
			}
			l.Acked = l.Addr.IsValid()
			l.LeaseSeconds = m.LeaseSeconds
		case Offer, 0:
			l.Addr = m.YIAddr
		case Nak:
			l.Server = netip.Addr{}
			h.ctx.Sink.AddDHCP(observe.DHCPLease{MAC: mac, FirstSeen: t, LastSeen: t, Hostname: l.Hostname,
				VendorClass: l.VendorClass, ParamRequest: l.ParamRequest})
			return true
		}
	}
	h.ctx.Sink.AddDHCP(l)
	if l.Hostname != "" && l.Addr.IsValid() && (l.Acked || m.Type == Request || m.Type == Inform) {
		h.ctx.Sink.AddName(observe.HostName{Addr: l.Addr, MAC: mac, Name: l.Hostname, Source: "dhcp",
			FirstSeen: t, LastSeen: t})
	}
	return true
}

// reply records a server's offer, acknowledgement or refusal to one client, with the
// gateway and DNS server it handed out: which servers answer whom is how a rogue one
// is told (rules/intercept, dhcp-rogue). Plain BOOTP replies (no option 53) count as
// offers.
func (h *handler) reply(m Message, mac string, server netip.Addr, t time.Time) {
	r := observe.DHCPReply{Server: server, ClientMAC: mac, FirstSeen: t, LastSeen: t, Count: 1,
		Router: m.Router, DNS: m.DNS}
	switch m.Type {
	case Offer, 0:
		r.Type, r.Offered = observe.DHCPOffer, m.YIAddr
	case Ack:
		r.Type, r.Offered = observe.DHCPAck, m.YIAddr
	case Nak:
		r.Type = observe.DHCPNak
	default:
		return
	}
	if !server.IsValid() {
		h.count("dhcp_reply_without_server")
		return
	}
	h.ctx.Sink.AddDHCPReply(r)
}

// merge fills what a client left out of this message from what it said before.
func merge(c, o client) client {
	if c.hostname == "" {
		c.hostname = o.hostname
	}
	if c.vendor == "" {
		c.vendor = o.vendor
	}
	if c.params == "" {
		c.params = o.params
	}
	return c
}

func (h *handler) count(name string) {
	if h.ctx.Count != nil {
		h.ctx.Count(name, 1)
	}
}

// End implements dissect.DatagramHandler.
// Flush implements dissect.DatagramHandler: leases go to the sink as they complete, so
// only the servers seen are pending.
func (h *handler) Flush(time.Time) { h.services.Flush(h.ctx, "dhcp") }

func (h *handler) End(time.Time) {
	h.services.Flush(h.ctx, "dhcp")
	clear(h.clients)
}
