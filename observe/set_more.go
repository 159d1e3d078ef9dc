package observe

import (
	"strconv"
	"strings"
)

// Caps on the inventory collections, so that a hostile or enormous capture (a DNS
// server's traffic, a DHCP starvation attack) cannot exhaust memory; past them,
// observations are only counted.
const (
	MaxNames     = 100000
	MaxDHCP      = 50000
	MaxTransfers = 20000
)

// AddName implements Sink.
func (s *Set) AddName(n HostName) {
	if n.Count == 0 {
		n.Count = 1
	}
	if n.LastSeen.IsZero() {
		n.LastSeen = n.FirstSeen
	}
	key := n.Addr.String() + "|" + n.Name + "|" + n.Source
	if o := s.nameIdx[key]; o != nil {
		o.Count += n.Count
		if o.MAC == "" {
			o.MAC = n.MAC
		}
		span(&o.FirstSeen, &o.LastSeen, n.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, n.LastSeen)
		return
	}
	if len(s.Names) >= MaxNames {
		s.count("names_not_kept", 1)
		return
	}
	p := new(HostName)
	*p = n
	s.nameIdx[key] = p
	s.Names = append(s.Names, p)
}

// AddDHCP implements Sink. Exchanges of one client that agree on address, name and
// vendor class are one lease; an ACK marks the lease acknowledged.
func (s *Set) AddDHCP(l DHCPLease) {
	if l.Count == 0 {
		l.Count = 1
	}
	if l.LastSeen.IsZero() {
		l.LastSeen = l.FirstSeen
	}
	key := strings.Join([]string{l.MAC, l.Addr.String(), l.Hostname, l.VendorClass}, "|")
	if o := s.dhcpIdx[key]; o != nil {
		o.Count += l.Count
		o.Acked = o.Acked || l.Acked
		if !o.Server.IsValid() {
			o.Server = l.Server
		}
		if o.ParamRequest == "" {
			o.ParamRequest = l.ParamRequest
		}
		if l.LeaseSeconds != 0 {
			o.LeaseSeconds = l.LeaseSeconds
		}
		span(&o.FirstSeen, &o.LastSeen, l.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, l.LastSeen)
		return
	}
	if len(s.DHCP) >= MaxDHCP {
		s.count("dhcp_not_kept", 1)
		return
	}
	p := new(DHCPLease)
	*p = l
	s.dhcpIdx[key] = p
	s.DHCP = append(s.DHCP, p)
}

// AddTransfer implements Sink.
func (s *Set) AddTransfer(t FileTransfer) {
	if t.Count == 0 {
		t.Count = 1
	}
	if t.LastSeen.IsZero() {
		t.LastSeen = t.FirstSeen
	}
	key := strings.Join([]string{t.Flow.Client.Addr().String(), t.Flow.Server.Addr().String(), t.Protocol,
		strconv.FormatBool(t.Upload), t.Path, t.SHA256, strconv.FormatInt(t.Bytes, 10)}, "|")
	if o := s.xferIdx[key]; o != nil {
		o.Count += t.Count
		span(&o.FirstSeen, &o.LastSeen, t.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, t.LastSeen)
		return
	}
	if len(s.Transfers) >= MaxTransfers {
		s.count("transfers_not_kept", 1)
		return
	}
	p := new(FileTransfer)
	*p = t
	s.xferIdx[key] = p
	s.Transfers = append(s.Transfers, p)
}

// AddProbe implements Sink. A port probed twice (a target named both by address and by
// name) keeps the more informative result: a TLS profile beats none, an open port beats
// a failure; connections add up.
func (s *Set) AddProbe(p ProbeEndpoint) {
	if o := s.prbIdx[p.Server]; o != nil {
		conns := o.Connections + p.Connections
		if probeRank(p) > probeRank(*o) {
			*o = p
		}
		o.Connections = conns
		return
	}
	n := new(ProbeEndpoint)
	*n = p
	s.prbIdx[p.Server] = n
	s.Probes = append(s.Probes, n)
}

func probeRank(p ProbeEndpoint) int {
	switch {
	case p.TLS != nil:
		return 3
	case p.Outcome == ProbeOpen || p.Outcome == ProbeTLS:
		return 2
	case p.Outcome == ProbeSkipped:
		return 0
	}
	return 1
}

// AddProbeHost implements Sink; accounts of the same host add up.
func (s *Set) AddProbeHost(h ProbeHost) {
	o := s.ProbeHosts[h.Addr]
	if o == nil {
		n := h
		s.ProbeHosts[h.Addr] = &n
		return
	}
	o.Connections += h.Connections
	o.Failures += h.Failures
	o.BackedOff = o.BackedOff || h.BackedOff
	if o.Name == "" {
		o.Name = h.Name
	}
	if h.Skipped == "" {
		o.Skipped = ""
	}
	if !h.First.IsZero() && (o.First.IsZero() || h.First.Before(o.First)) {
		o.First = h.First
	}
	if h.Last.After(o.Last) {
		o.Last = h.Last
	}
}
