package dissect

import "net/netip"

// Expectation announces a TCP connection that a control stream has just negotiated and
// that carries no marker of its own, such as an FTP data connection: the engine hands
// the first flow between Client and Listener that shows payload to New, instead of
// offering it to every Detect. An expectation is used once, and forgotten if no such flow
// appears soon (the engine's capture-time limit) or when too many are pending.
type Expectation struct {
	Name     string         // the protocol the flow is dissected as, for counters: "ftp-data"
	Listener netip.AddrPort // the endpoint that accepts the connection
	Client   netip.Addr     // the host that connects to it
	// New starts the stream for the flow. ctx.Flow has the engine's roles: the client is
	// the side that opened the connection.
	New func(ctx *Context) Stream
}
