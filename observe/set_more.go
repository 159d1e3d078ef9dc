package observe

import (
	"strings"
)

// AddName implements Sink.
func (s *Set) AddName(n HostName) {
	tally(&n.Count, n.FirstSeen, &n.LastSeen)
	key := n.Addr.String() + "|" + n.Name + "|" + n.Source
	keep(s, &s.names, &s.Names, "names"+notKeptSuffix, key, &n, func(o *HostName, n HostName) {
		o.Count += n.Count
		if o.MAC == "" {
			o.MAC = n.MAC
		}
		Widen(&o.FirstSeen, &o.LastSeen, n.FirstSeen, n.LastSeen)
	})
}

// AddDHCP implements Sink. Exchanges of one client that agree on address, name and
// vendor class are one lease; an ACK marks the lease acknowledged.
func (s *Set) AddDHCP(l DHCPLease) {
	tally(&l.Count, l.FirstSeen, &l.LastSeen)
	key := strings.Join([]string{l.MAC, l.Addr.String(), l.Hostname, l.VendorClass}, "|")
	keep(s, &s.dhcp, &s.DHCP, "dhcp"+notKeptSuffix, key, &l, func(o *DHCPLease, l DHCPLease) {
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
		Widen(&o.FirstSeen, &o.LastSeen, l.FirstSeen, l.LastSeen)
	})
}

// AddTransfer implements Sink.
func (s *Set) AddTransfer(t FileTransfer) {
	tally(&t.Count, t.FirstSeen, &t.LastSeen)
	key := t.Flow.Client.Addr().String() + "|" + t.Flow.Server.Addr().String() + "|" + t.Shape()
	keep(s, &s.xfers, &s.Transfers, "transfers"+notKeptSuffix, key, &t, func(o *FileTransfer, t FileTransfer) {
		o.Count += t.Count
		Widen(&o.FirstSeen, &o.LastSeen, t.FirstSeen, t.LastSeen)
	})
}

// AddProbe implements Sink. A port probed twice (a target named both by address and by
// name) keeps the more informative result: a TLS profile beats none, an open port beats
// a failure; connections add up.
func (s *Set) AddProbe(p ProbeEndpoint) {
	keep(s, &s.prbs, &s.Probes, "probes"+notKeptSuffix, p.Server, &p, func(o *ProbeEndpoint, p ProbeEndpoint) {
		conns, fails := o.Connections+p.Connections, o.Failures+p.Failures
		var kinds map[string]int
		AddFailures(&kinds, o.FailureKinds)
		AddFailures(&kinds, p.FailureKinds)
		if probeRank(p) > probeRank(*o) {
			*o = p
		}
		o.Connections, o.Failures, o.FailureKinds = conns, fails, kinds
	})
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
		if len(s.ProbeHosts) >= MaxProbeHosts {
			s.count(probeHostsNotKept, 1)
			return
		}
		n := h
		n.FailureKinds = nil
		AddFailures(&n.FailureKinds, h.FailureKinds)
		s.ProbeHosts[h.Addr] = &n
		return
	}
	o.Connections += h.Connections
	o.Failures += h.Failures
	AddFailures(&o.FailureKinds, h.FailureKinds)
	o.BackedOff = o.BackedOff || h.BackedOff
	if o.Name == "" {
		o.Name = h.Name
	}
	if h.Skipped == "" {
		o.Skipped = ""
	}
	Widen(&o.First, &o.Last, h.First, h.Last)
}
