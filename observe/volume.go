package observe

import (
	"net/netip"
	"time"
)

// Volume is the TCP traffic of one client host with one server port, as the capture
// engine counted it when each connection ended: connections, packets (both directions)
// and TCP payload bytes. It is what a data flow's volume rests on; the rest of a flow
// (what it carried, its protection) comes from the other observations.
type Volume struct {
	// Flow names the conversation as the other observations do (a proxy's tunnel by its
	// target, see Flow); the client's port is zero, since the connections of a client
	// from any of its ports add up.
	Flow        Flow      `json:"-"`
	Connections int       `json:"connections"`
	Packets     uint64    `json:"packets"`
	Bytes       uint64    `json:"bytes"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// MaxVolumes bounds the volumes a Set keeps: one per client host and server port.
const MaxVolumes = 100000

// volumeKey names a volume without building a string: AddVolume runs once per TCP
// connection, and a dense capture has millions.
type volumeKey struct {
	client      netip.Addr
	server, via Endpoint
	target      string
}

// AddVolume adds one connection's (or a merged set's) counts to the volume of its client
// host and server; beyond MaxVolumes the volume is counted as not kept.
func (s *Set) AddVolume(v Volume) {
	if s.vols.Max == 0 {
		s.vols.Max = MaxVolumes
	}
	if v.Connections == 0 {
		v.Connections = 1
	}
	if v.LastSeen.IsZero() {
		v.LastSeen = v.FirstSeen
	}
	v.Flow.Client = netip.AddrPortFrom(v.Flow.Client.Addr(), 0)
	key := volumeKey{client: v.Flow.Client.Addr(), server: v.Flow.Server, via: v.Flow.Via, target: v.Flow.Target}
	keep(s, &s.vols, &s.Volumes, "volumes"+notKeptSuffix, key, &v, func(o *Volume, v Volume) {
		o.Connections += v.Connections
		o.Packets += v.Packets
		o.Bytes += v.Bytes
		Widen(&o.FirstSeen, &o.LastSeen, v.FirstSeen, v.LastSeen)
	})
}
