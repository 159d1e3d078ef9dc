package probe

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// plan is what a run over a scope contacts, in the order Run contacts it; Run and List
// both read it, so a dry run lists exactly what a scan would probe.
type plan struct {
	addrs iter.Seq[hostJob] // address targets in scope, ascending, each with its ports
	names []hostJob         // name targets at every address they resolved to, by name
	hosts uint64            // jobs in all, saturating
	// endpoints counts address:port pairs in all, saturating.
	endpoints uint64

	allowed []span      // the scope's blocks probed on the run's port list
	end     []hostPorts // addresses written with a port, not excluded
}

// plan returns the scope's hosts with their ports, ports being the run's port list (the
// ports of targets written without one). A closed scope plans nothing.
func (s *Scope) plan(ports []uint16) plan {
	s.mu.RLock()
	closed, allowed, end := s.closed(), s.allowed, s.allowedEnd
	var names []hostJob
	if closed == nil {
		for _, n := range s.names {
			ps := expandPorts(s.namePorts[n], ports)
			for _, a := range s.resolved[n] {
				names = append(names, hostJob{addr: a, name: n, ports: ps})
			}
		}
	}
	s.mu.RUnlock()
	if closed != nil {
		return plan{addrs: func(func(hostJob) bool) {}}
	}

	p := plan{names: names, allowed: allowed, end: end}
	var size uint64
	for _, sp := range allowed {
		size = addSat(size, spanSize(sp))
	}
	p.hosts = size
	p.endpoints = mulSat(size, uint64(len(ports)))
	for _, h := range end {
		if !inSpans(allowed, h.addr) {
			p.hosts = addSat(p.hosts, 1)
			p.endpoints = addSat(p.endpoints, uint64(len(h.ports)))
		} else {
			p.endpoints = addSat(p.endpoints, uint64(len(unionPorts(ports, h.ports))-len(ports)))
		}
	}
	for _, j := range names {
		p.hosts = addSat(p.hosts, 1)
		p.endpoints = addSat(p.endpoints, uint64(len(j.ports)))
	}

	// The blocks are walked lazily, and the few addresses written with a port merged in
	// as the walk passes them, so that each address is one job with all its ports.
	p.addrs = func(yield func(hostJob) bool) {
		k := 0
		for _, sp := range allowed {
			for a := sp.lo; ; a = a.Next() {
				for ; k < len(end) && end[k].addr.Less(a); k++ {
					if !yield(hostJob{addr: end[k].addr, ports: end[k].ports}) {
						return
					}
				}
				ps := ports
				if k < len(end) && end[k].addr == a {
					ps = unionPorts(ports, end[k].ports)
					k++
				}
				if !yield(hostJob{addr: a, ports: ps}) {
					return
				}
				if a == sp.hi {
					break
				}
			}
		}
		for ; k < len(end); k++ {
			if !yield(hostJob{addr: end[k].addr, ports: end[k].ports}) {
				return
			}
		}
	}
	return p
}

// ListSummary is List's account of what it listed.
type ListSummary struct {
	Hosts     uint64 // hosts (an address, or a name at one of its addresses), saturating
	Endpoints uint64 // address:port pairs, saturating
	// Compact is set when there were more than the limit of pairs, and List wrote one
	// line per block instead of one per pair.
	Compact bool
}

// List writes what Run over s on the port list ports would contact, in Run's order, and
// contacts nothing: one line per address:port ("10.0.0.1:443", "[2001:db8::1]:443"),
// followed by the name for a name target's address ("10.9.0.5:443 pacs.example"). When
// there are more than limit pairs it writes instead one line per block and its ports
// ("10.0.0.0-10.0.255.255 443,636,8443"), then one per address written with a port and
// one per name target's address, so the output stays as small as the targets written.
// Names are listed at the addresses the last Resolve found.
func (s *Scope) List(w io.Writer, ports []uint16, limit int) (ListSummary, error) {
	p := s.plan(ports)
	sum := ListSummary{Hosts: p.hosts, Endpoints: p.endpoints, Compact: p.endpoints > uint64(max(limit, 0))}
	bw := bufio.NewWriter(w)
	line := func(a netip.Addr, port uint16, name string) {
		bw.WriteString(netip.AddrPortFrom(a, port).String())
		if name != "" {
			bw.WriteString(" " + name)
		}
		bw.WriteByte('\n')
	}
	if !sum.Compact {
		for j := range p.addrs {
			for _, port := range j.ports {
				line(j.addr, port, "")
			}
		}
		for _, j := range p.names {
			for _, port := range j.ports {
				line(j.addr, port, j.name)
			}
		}
		return sum, bw.Flush()
	}
	all := portList(ports)
	for _, sp := range p.allowed {
		if sp.lo == sp.hi {
			fmt.Fprintf(bw, "%s %s\n", sp.lo, all)
		} else {
			fmt.Fprintf(bw, "%s-%s %s\n", sp.lo, sp.hi, all)
		}
	}
	for _, h := range p.end {
		fmt.Fprintf(bw, "%s %s\n", h.addr, portList(h.ports))
	}
	for _, j := range p.names {
		fmt.Fprintf(bw, "%s %s %s\n", j.addr, portList(j.ports), j.name)
	}
	return sum, bw.Flush()
}

// portList writes ports as --ports takes them.
func portList(ports []uint16) string {
	var b strings.Builder
	for i, p := range ports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(p)))
	}
	return b.String()
}

func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func mulSat(a, b uint64) uint64 {
	if b != 0 && a > math.MaxUint64/b {
		return math.MaxUint64
	}
	return a * b
}
