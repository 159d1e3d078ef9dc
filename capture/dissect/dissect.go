// Package dissect is the contract between the capture engine and the protocol
// dissectors: how a dissector claims a stream from its first bytes, and how it is fed
// reassembled bytes. Dissectors are parsers of untrusted bytes: they never panic, never
// allocate in proportion to a length field they have not checked, and give up quietly
// (counting why) on garbage.
package dissect

import (
	"net/netip"
	"time"

	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/observe"
)

// Direction is which way bytes travel within a flow.
type Direction uint8

// The two directions of a flow.
const (
	ClientToServer Direction = 0
	ServerToClient Direction = 1
)

// Reverse returns the other direction.
func (d Direction) Reverse() Direction { return d ^ 1 }

// Verdict is a dissector's answer to the first bytes of a stream direction.
type Verdict uint8

// The verdicts a Detect function can give.
const (
	No       Verdict = iota // not this protocol
	NeedMore                // too few bytes to tell; ask again with more
	Yes                     // this protocol
)

// Match is what Detect says about the first bytes of one direction.
type Match struct {
	Verdict Verdict
	// FromServer is true when the bytes can only have come from the server (a TLS
	// ServerHello, an FTP "220" banner). The engine then corrects a flow whose roles it
	// guessed wrongly, as it must for a capture that starts mid-stream or holds one side.
	FromServer bool
	// FromClient is true when the bytes can only have come from the client (an HTTP
	// request line, a TLS ClientHello, an MQTT CONNECT). The engine trusts it over the
	// port order it guessed from: a client on a lower port than its server is real
	// (a capture that starts mid-stream, a service on a high port).
	FromClient bool
}

// Context is what a stream dissector needs besides bytes.
type Context struct {
	Flow    observe.Flow // client and server as the engine understands them
	Sink    observe.Sink
	Secrets *observe.SecretHasher // masks and hashes credentials; never keep the clear text
	Source  observe.Source
	// Count adds n to a named counter (bad records, gaps, resynchronisations).
	Count func(name string, n uint64)
	// Expect registers a connection the stream negotiated (see Expectation); it reports
	// false when the engine will not track it. Nil when the engine offers no such
	// service: a dissector then simply does not follow the connection.
	Expect func(x Expectation) bool
	// Keep, when not nil, takes the bytes of update images and of the signatures and
	// manifests beside them (package updatekeep), for the code-signing examination.
	Keep *updatekeep.Keeper
}

// Service is the TCP service of the context's flow, as the engine records it (through
// a proxy's tunnel when the flow has one), for a stream that adds what the server said
// of itself (observe.Service Software, StartTLS).
func (c *Context) Service(protocol string, t time.Time) observe.Service {
	v := observe.Service{Server: c.Flow.Server, Transport: "tcp", Protocol: protocol, Source: c.Source,
		FirstSeen: t, LastSeen: t}
	if c.Flow.Via.IsValid() {
		v.Via, v.Target = c.Flow.Via.String(), c.Flow.Target
	}
	return v
}

// Stream receives the reassembled bytes of one flow, both directions.
type Stream interface {
	// Data delivers the next in-order bytes of one direction, stamped with the capture
	// time of the packet that completed them. b is only valid during the call.
	Data(dir Direction, b []byte, t time.Time)
	// Gap says n bytes of dir were lost (a segment the capture missed). A dissector
	// resynchronises if its framing allows, or stops parsing that direction.
	Gap(dir Direction, n int)
	// Done reports that the dissector has learned all it wants: the engine may stop
	// reassembling this flow and free its buffers.
	Done() bool
	// End is called once, when the flow closes, times out or the capture ends. A
	// dissector emits what it has not emitted yet (a handshake cut short).
	End(t time.Time)
}

// Dissector describes one protocol.
type Dissector struct {
	Name string // the service protocol it names: "tls", "http", "mqtt", "hl7-mllp", "dicom", "ftp", "pop3", "imap", "smtp", "mysql", "postgresql", "ldap", "xmpp", "telnet"
	// Detect looks at the first bytes seen in one direction. It must be cheap: it runs on
	// every new stream until some dissector says Yes or all say No.
	Detect func(first []byte) Match
	// New starts a stream dissector for a flow that Detect claimed.
	New func(ctx *Context) Stream
}

// Handoff is implemented by the streams of protocols that upgrade in place (STARTTLS in
// SMTP, IMAP, POP3, LDAP and XMPP, AUTH TLS in FTP, the SSL requests of MySQL and
// PostgreSQL). When Done reports true and Handoff returns true,
// the engine does not ignore the rest of the flow: it ends this stream and offers the
// flow's next bytes to every Detect again, so the TLS that follows is dissected as if the
// flow had begun with it (client and server roles are kept). The bytes of the Data call
// in which the stream became done count as consumed: a dissector hands off only at the
// end of the answer that allows the upgrade, which is where the peer's TLS begins, since
// a client waits for that answer before it sends its ClientHello.
type Handoff interface {
	Handoff() bool
}

// HandoffRest is implemented by a Handoff stream whose upgrade can begin inside a chunk
// rather than at its end. A MySQL client sends its ClientHello right after its SSL
// Request, without waiting for an answer, so both can arrive in one segment. Rest reports
// how many bytes at the end of the Data call on which the stream became done came after
// the upgrade point; the engine offers them to detection as the next bytes of that
// direction. A value outside 0..len(chunk) is ignored.
type HandoffRest interface {
	Rest() int
}

// Tunnel is implemented by the handing-off streams of proxies (HTTP CONNECT, SOCKS4/4a/5):
// the bytes after the handoff are a conversation with the tunnel's target, not with the
// proxy. When Handoff returns true, the engine asks TunnelTarget for the target the
// client named and the proxy agreed to: an address (addr valid) or a host name (name
// non-empty, at most 255 bytes), and its port. The streams after the handoff then see a
// Context.Flow whose Server is the target (the proxy's endpoint when it is named by host
// name, with Flow.Target holding "name:port") and whose Via is the proxy; ok false
// leaves the flow as it was.
type Tunnel interface {
	TunnelTarget() (addr netip.Addr, name string, port uint16, ok bool)
}

// MaxTargetName is the longest host name a tunnel's target may have (a DNS name's limit,
// and the most SOCKS5's one-byte length can say).
const MaxTargetName = 255

// TunnelHost reads a tunnel target's host as a client named it: an IP address (IPv6
// bare, without brackets) or a host name of letters, digits, '-', '_' and '.', at most
// MaxTargetName bytes. Anything else (control bytes, spaces, an empty name) is refused,
// so no wire byte a reader could be fooled by reaches a record. A name is lowercased.
func TunnelHost(b []byte) (addr netip.Addr, name string, ok bool) {
	if len(b) == 0 || len(b) > MaxTargetName {
		return netip.Addr{}, "", false
	}
	if a, err := netip.ParseAddr(string(b)); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}, "", false
		}
		return a.Unmap(), "", true
	}
	n := make([]byte, len(b))
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return netip.Addr{}, "", false
		}
		n[i] = c
	}
	return netip.Addr{}, string(n), true
}
