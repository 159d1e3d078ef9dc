package capture

import (
	"net/netip"
	"time"

	"github.com/medscan/medscan/observe"
)

const (
	// maxHosts bounds the host table, as the Set bounds its hosts; addresses beyond it
	// are counted, not kept.
	maxHosts = observe.MaxHosts
	// maxMACsPerHost bounds the MACs kept per address (a router fronts many).
	maxMACsPerHost = 8
)

// hostEntry is what the engine learned about one address before Finish hands it over.
type hostEntry struct {
	first, last time.Time
	macs        [maxMACsPerHost][6]byte
	nmac        int
	// via indexes the engine's sensor paths (tunnelState.list) the address was seen
	// inside since the last flush.
	via  [maxHostVia]uint16
	nvia uint8
	// packets and bytes count what the address sent (network-layer lengths) since the
	// last flush: a host seen only as a source is reported by them, not by a full asset.
	packets, bytes uint64
}

// hostTable records every address seen, cheaply: one map update per address per
// packet, flushed into the Set at Finish instead of a sink call per packet.
type hostTable struct {
	m map[netip.Addr]*hostEntry
	// One-entry caches: consecutive packets usually come from the same conversation.
	lastSrc, lastDst   netip.Addr
	lastSrcE, lastDstE *hostEntry
}

func (h *hostTable) init() { h.m = make(map[netip.Addr]*hostEntry, 256) }

func (h *hostTable) entry(a netip.Addr, ts time.Time, e *Engine) *hostEntry {
	he := h.m[a]
	if he == nil {
		if len(h.m) >= maxHosts {
			e.cnt[cHostsNotRecorded]++
			return nil
		}
		he = &hostEntry{first: ts, last: ts}
		h.m[a] = he
		return he
	}
	if ts.Before(he.first) {
		he.first = ts
	}
	if ts.After(he.last) {
		he.last = ts
	}
	return he
}

// see records a source address, the n network-layer bytes it sent and, when the frame
// had one, its source MAC.
func (h *hostTable) see(a netip.Addr, mac []byte, n int, ts time.Time, e *Engine) {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return
	}
	var he *hostEntry
	if h.lastSrcE != nil && a == h.lastSrc {
		he = h.lastSrcE
		if ts.After(he.last) {
			he.last = ts
		}
	} else {
		he = h.entry(a, ts, e)
		if he == nil {
			return
		}
		h.lastSrc, h.lastSrcE = a, he
	}
	he.packets++
	he.bytes += uint64(n)
	if len(mac) != 6 || mac[0]&1 != 0 || (mac[0]|mac[1]|mac[2]|mac[3]|mac[4]|mac[5]) == 0 {
		// Group and all-zero (Linux loopback) addresses name no interface.
		return
	}
	m := [6]byte(mac)
	for i := range he.nmac {
		if he.macs[i] == m {
			return
		}
	}
	if he.nmac < maxMACsPerHost {
		he.macs[he.nmac] = m
		he.nmac++
	}
}

// seeDst records a destination address: it exists, though this frame says nothing of its MAC.
func (h *hostTable) seeDst(a netip.Addr, ts time.Time, e *Engine) {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a == broadcast4 {
		return
	}
	if h.lastDstE != nil && a == h.lastDst {
		if ts.After(h.lastDstE.last) {
			h.lastDstE.last = ts
		}
		return
	}
	if he := h.entry(a, ts, e); he != nil {
		h.lastDst, h.lastDstE = a, he
	}
}

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// flush hands every host to the set and empties the table; paths names the sensor
// paths the entries' via index.
func (h *hostTable) flush(set *observe.Set, paths []string) {
	for a, he := range h.m {
		for _, v := range he.via[:he.nvia] {
			set.AddHostVia(a, paths[v], he.last)
		}
		if he.nmac == 0 {
			set.AddHost(a, "", he.first)
		}
		for i := range he.nmac {
			set.AddHost(a, observe.MACString(he.macs[i]), he.first)
		}
		set.AddHost(a, "", he.last)
		if he.packets != 0 {
			set.AddHostTraffic(a, he.packets, he.bytes, he.last)
		}
	}
	clear(h.m)
	h.lastSrcE, h.lastDstE = nil, nil
}
