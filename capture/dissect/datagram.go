package dissect

import (
	"net/netip"
	"time"

	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/observe"
)

// DatagramContext is what a datagram dissector needs besides bytes. One context, and one
// handler, serve every datagram of an engine, so a handler may keep state across
// datagrams (a TFTP transfer continues on ports its request only announced).
type DatagramContext struct {
	Sink    observe.Sink
	Secrets *observe.SecretHasher // masks and hashes credentials; never keep the clear text
	Source  observe.Source
	// Count adds n to a named counter (malformed messages, state dropped at a cap).
	Count func(name string, n uint64)
	// Keep, when not nil, takes the bytes of update images and their signatures (see
	// Context.Keep).
	Keep *updatekeep.Keeper
}

// DatagramHandler receives the UDP datagrams of one engine. Implementations are parsers
// of untrusted bytes: they never panic, bound every table they keep, and expire state on
// the capture clock (the t of the datagrams), never the wall clock.
type DatagramHandler interface {
	// Datagram offers one datagram after IP reassembly: its endpoints, the source MAC
	// when the frame carried one (nil otherwise), its payload and capture time. It
	// returns true when the datagram was this protocol's; the engine then offers it to
	// no later dissector. srcMAC and b are only valid during the call. A handler must
	// reject what it does not want cheaply and without allocating: most datagrams are
	// nobody's.
	Datagram(src, dst netip.AddrPort, srcMAC []byte, b []byte, t time.Time) bool
	// Flush hands the sink what the handler has learned and would otherwise hold until
	// End (services seen, credentials gathered), keeping the state that later datagrams
	// still need (a transfer under way, a client's request awaiting its answer). A long
	// live capture calls it at every checkpoint, so that the store is never more than a
	// checkpoint behind.
	Flush(t time.Time)
	// End is called once, when the engine finishes: the handler emits what it still holds
	// (a transfer cut short, services seen) and forgets everything.
	End(t time.Time)
}

// DatagramDissector describes one protocol carried over UDP.
type DatagramDissector struct {
	Name string // the service protocol it names: "dhcp", "dns", "mdns", "llmnr", "netbios-ns", "snmp", "tftp"
	// New starts the engine's handler for this protocol.
	New func(ctx *DatagramContext) DatagramHandler
}

// MaxServices bounds the servers a ServiceLog holds between flushes.
const MaxServices = 4096

// ServiceLog collects the servers a datagram handler saw and hands them to the sink once
// each at End: a Service per datagram would cost the sink a key per packet. Past
// MaxServices entries a server goes to the sink at once.
type ServiceLog struct {
	m map[netip.AddrPort]*[2]time.Time
}

// Seen records that server answered (or was asked, for a protocol whose server rarely
// answers on the capture) at t.
func (l *ServiceLog) Seen(ctx *DatagramContext, protocol string, server netip.AddrPort, t time.Time) {
	if p := l.m[server]; p != nil {
		if t.Before(p[0]) {
			p[0] = t
		}
		if t.After(p[1]) {
			p[1] = t
		}
		return
	}
	if len(l.m) >= MaxServices {
		ctx.Sink.AddService(observe.Service{Server: server, Transport: "udp", Protocol: protocol,
			FirstSeen: t, LastSeen: t, Source: ctx.Source})
		return
	}
	if l.m == nil {
		l.m = make(map[netip.AddrPort]*[2]time.Time)
	}
	l.m[server] = &[2]time.Time{t, t}
}

// Flush hands every server to the sink and empties the log.
func (l *ServiceLog) Flush(ctx *DatagramContext, protocol string) {
	for s, p := range l.m {
		ctx.Sink.AddService(observe.Service{Server: s, Transport: "udp", Protocol: protocol,
			FirstSeen: p[0], LastSeen: p[1], Source: ctx.Source})
	}
	clear(l.m)
}
