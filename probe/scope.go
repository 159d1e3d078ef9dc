package probe

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"slices"
	"sync"
)

// Resolver looks a host name up; the caller supplies it (net.Resolver.LookupNetIP fits)
// so that tests, and sites with their own DNS, decide where names come from.
type Resolver func(ctx context.Context, name string) ([]netip.Addr, error)

// Scope is the set of addresses a probe may touch, and on which ports: the address
// targets less the exclusions, plus each name target's resolved addresses for that name
// only. A target written without a port is probed on the run's port list; one written
// with a port (10.0.0.5:8443, pacs.example:443) on that port alone. It is safe for
// concurrent use; Resolve may run while other goroutines ask Allows.
type Scope struct {
	mu sync.RWMutex

	incl      []span   // merged inclusion blocks written without a port, before exclusions
	exclBase  []span   // merged exclusion blocks from address exclusions, as written
	excl      []span   // exclBase plus resolved exclusion names, widened by widenMapped
	allowed   []span   // incl minus excl: what Allows and Addresses read
	names     []string // name targets not excluded by name, sorted
	exclNames []string // excluded names, sorted; resolved by Resolve
	resolved  map[string][]netip.Addr

	// endpoints holds the addresses written with a port and their ports, ascending and
	// distinct, before exclusions; allowedEnd those of them not excluded, by address.
	endpoints  map[netip.Addr][]uint16
	allowedEnd []hostPorts
	// namePorts holds each name target's ports, ascending and distinct: 0 stands for the
	// run's port list (the name was written without a port).
	namePorts map[string][]uint16

	// The scope admits nothing while either is set: bad for a malformed exclusion (no
	// lookup repairs it), pending while excluded names lack a successful Resolve.
	bad, pending error
}

// span is an inclusive block of addresses of one family.
type span struct{ lo, hi netip.Addr }

// hostPorts is an address and the ports its targets named.
type hostPorts struct {
	addr  netip.Addr
	ports []uint16
}

// The IPv4-mapped block ::ffff:0.0.0.0/96, kept out of IPv6 inclusions because every
// address in it is unmapped to IPv4 before a comparison.
var (
	mappedLo = netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff})
	mappedHi = netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff})
)

// NewScope builds the scope of targets less exclude; exclusions win over inclusions.
// Targets not built by ParseTargets must hold First ≤ Last in one family (and Blocks so
// too) or a Name: a malformed inclusion is ignored (contacting less), and so is a port on
// anything but a single address or a name; a malformed exclusion closes the scope. An
// exclusion's port is ignored: an exclusion removes the whole host.
func NewScope(targets []Target, exclude []Target) *Scope {
	s := &Scope{resolved: map[string][]netip.Addr{}, endpoints: map[netip.Addr][]uint16{}, namePorts: map[string][]uint16{}}
	for _, t := range targets {
		if t.Name != "" {
			if n, ok := normalizeName(t.Name); ok {
				s.namePorts[n] = addPort(s.namePorts[n], t.Port)
			}
			continue
		}
		sps, ok := targetSpans(t)
		switch {
		case !ok:
		case t.Port == 0:
			s.incl = append(s.incl, sps...)
		case len(sps) == 1 && sps[0].lo == sps[0].hi:
			s.endpoints[sps[0].lo] = addPort(s.endpoints[sps[0].lo], t.Port)
		}
	}
	for _, t := range exclude {
		if t.Name != "" {
			n, ok := normalizeName(t.Name)
			if !ok {
				s.bad = fmt.Errorf("probe: exclusion %q is not a valid host name", t.Text)
				continue
			}
			s.exclNames = append(s.exclNames, n)
			continue
		}
		sps, ok := targetSpans(t)
		if !ok {
			s.bad = fmt.Errorf("probe: exclusion %q is not a valid address block", t.Text)
			continue
		}
		s.exclBase = append(s.exclBase, sps...)
	}
	slices.Sort(s.exclNames)
	s.exclNames = slices.Compact(s.exclNames)
	for n := range s.namePorts {
		if _, excluded := slices.BinarySearch(s.exclNames, n); excluded {
			delete(s.namePorts, n)
			continue
		}
		s.names = append(s.names, n)
	}
	slices.Sort(s.names)
	s.incl = mergeSpans(s.incl)
	s.exclBase = mergeSpans(s.exclBase)
	if len(s.exclNames) > 0 {
		s.pending = errors.New("probe: excluded host names are not resolved yet")
	}
	s.setExclusions(widenMapped(s.exclBase))
	return s
}

// addPort adds p to the ascending, distinct ports.
func addPort(ports []uint16, p uint16) []uint16 {
	i, found := slices.BinarySearch(ports, p)
	if found {
		return ports
	}
	return slices.Insert(ports, i, p)
}

// targetSpans turns an address target into its spans, unmapping and dropping zones so
// that a hand-built Target is held to the same form as a parsed one; false when one of
// them is malformed.
func targetSpans(t Target) ([]span, bool) {
	if len(t.Blocks) == 0 {
		sp, ok := blockSpan(Block{t.First, t.Last})
		return []span{sp}, ok
	}
	out := make([]span, 0, len(t.Blocks))
	for _, b := range t.Blocks {
		sp, ok := blockSpan(b)
		if !ok {
			return nil, false
		}
		out = append(out, sp)
	}
	return out, true
}

// blockSpan checks one block and turns it into a span.
func blockSpan(b Block) (span, bool) {
	lo, hi := unmapPair(b.First.WithZone(""), b.Last.WithZone(""))
	if !lo.IsValid() || !hi.IsValid() || lo.BitLen() != hi.BitLen() || hi.Less(lo) {
		return span{}, false
	}
	return span{lo, hi}, true
}

// widenMapped adds, for every exclusion that covers part of the IPv4-mapped block, the
// IPv4 addresses of that part, so an exclusion written in IPv6 excludes what it names.
func widenMapped(ex []span) []span {
	for _, sp := range ex {
		if sp.lo.Is4() || sp.hi.Less(mappedLo) || mappedHi.Less(sp.lo) {
			continue
		}
		lo, hi := maxAddr(sp.lo, mappedLo), minAddr(sp.hi, mappedHi)
		ex = append(ex, span{lo.Unmap(), hi.Unmap()})
	}
	return mergeSpans(append(ex, span{mappedLo, mappedHi}))
}

// setExclusions installs an exclusion set and recomputes what is allowed; mu must be held
// for writing, or s not yet shared.
func (s *Scope) setExclusions(ex []span) {
	s.excl = ex
	s.allowed = subtractSpans(s.incl, ex)
	var end []hostPorts // a new slice: readers may hold the old one
	for a, ports := range s.endpoints {
		if !inSpans(ex, a) {
			end = append(end, hostPorts{a, ports})
		}
	}
	slices.SortFunc(end, func(x, y hostPorts) int { return x.addr.Compare(y.addr) })
	s.allowedEnd = end
}

// Err reports why the scope currently admits nothing (a malformed exclusion, or an
// excluded host name not yet resolved); nil when it is usable.
func (s *Scope) Err() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed()
}

// closed is Err without the lock; mu must be held.
func (s *Scope) closed() error {
	if s.bad != nil {
		return s.bad
	}
	return s.pending
}

// Allows reports whether a may be contacted as an address target written without a port,
// on the run's port list. Mapped addresses are unmapped and zones dropped first, so
// neither is a way around an exclusion.
func (s *Scope) Allows(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed() == nil && a.IsValid() && inSpans(s.allowed, a)
}

// AllowsPort reports whether a may be contacted on port as an address target: on the
// run's port list ports when a target written without a port holds it, and on the ports
// its targets named otherwise.
func (s *Scope) AllowsPort(a netip.Addr, port uint16, ports []uint16) bool {
	a = a.Unmap().WithZone("")
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed() != nil || !a.IsValid() {
		return false
	}
	if inSpans(s.allowed, a) && slices.Contains(ports, port) {
		return true
	}
	i, found := slices.BinarySearchFunc(s.allowedEnd, a, func(h hostPorts, a netip.Addr) int { return h.addr.Compare(a) })
	return found && slices.Contains(s.allowedEnd[i].ports, port)
}

// AllowsNamePort reports whether a may be contacted on port on behalf of the name target
// name: AllowsName, and port one its targets named or, for a name written without a
// port, one of the run's port list ports.
func (s *Scope) AllowsNamePort(name string, a netip.Addr, port uint16, ports []uint16) bool {
	if !s.AllowsName(name, a) {
		return false
	}
	n, _ := normalizeName(name)
	s.mu.RLock()
	named := s.namePorts[n]
	s.mu.RUnlock()
	return slices.Contains(expandPorts(named, ports), port)
}

// expandPorts returns a target's ports, 0 standing for the run's port list ports.
func expandPorts(named, ports []uint16) []uint16 {
	if len(named) == 0 || named[0] != 0 {
		return named
	}
	if len(named) == 1 {
		return ports
	}
	return unionPorts(ports, named[1:])
}

// unionPorts merges two ascending, distinct port lists.
func unionPorts(a, b []uint16) []uint16 {
	out := make([]uint16, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Names returns the host-name targets that exclusions did not remove, sorted.
func (s *Scope) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.names)
}

// Resolve looks up every excluded name, then every name target, with resolve. An
// excluded name's addresses join the exclusions; a name target's addresses, less any
// excluded one, become in scope for that name only. Failures are joined into the error:
// a name target that fails has no addresses, and an excluded name that fails keeps the
// whole scope closed. Calling it again replaces what an earlier call found.
func (s *Scope) Resolve(ctx context.Context, resolve Resolver) error {
	if resolve == nil {
		return errors.New("probe: no resolver given")
	}
	s.mu.RLock()
	exclNames, names, base := s.exclNames, s.names, s.exclBase
	s.mu.RUnlock()

	var errs []error
	ex := slices.Clone(base)
	exclOK := true
	for _, n := range exclNames {
		addrs, err := resolve(ctx, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("probe: resolve excluded name %q: %w", n, err))
			exclOK = false
			continue
		}
		for _, a := range addrs {
			if a = a.Unmap().WithZone(""); a.IsValid() {
				ex = append(ex, span{a, a})
			}
		}
	}
	ex = widenMapped(ex)

	resolved := make(map[string][]netip.Addr, len(names))
	for _, n := range names {
		addrs, err := resolve(ctx, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("probe: resolve %q: %w", n, err))
			continue
		}
		var keep []netip.Addr
		for _, a := range addrs {
			if a = a.Unmap().WithZone(""); a.IsValid() && !inSpans(ex, a) {
				keep = append(keep, a)
			}
		}
		slices.SortFunc(keep, netip.Addr.Compare)
		resolved[n] = slices.Compact(keep)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.setExclusions(ex)
	s.resolved = resolved
	s.pending = nil
	if !exclOK {
		s.pending = errors.New("probe: an excluded host name could not be resolved")
	}
	return errors.Join(errs...)
}

// Resolved returns the addresses in scope for the name target name, as the last Resolve
// found them less exclusions, in ascending order.
func (s *Scope) Resolved(name string) []netip.Addr {
	n, ok := normalizeName(name)
	if !ok {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed() != nil {
		return nil
	}
	return slices.Clone(s.resolved[n])
}

// AllowsName reports whether a may be contacted on behalf of the name target name: a must
// be one of the addresses the name resolved to, and not excluded.
func (s *Scope) AllowsName(name string, a netip.Addr) bool {
	n, ok := normalizeName(name)
	if !ok {
		return false
	}
	a = a.Unmap().WithZone("")
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed() != nil || !a.IsValid() || inSpans(s.excl, a) {
		return false
	}
	_, found := slices.BinarySearchFunc(s.resolved[n], a, netip.Addr.Compare)
	return found
}

// Addresses enumerates the addresses in scope of the address targets written without a
// port, ascending with IPv4 first, yielding at most limit of them (none when limit ≤ 0).
// It walks the blocks lazily, so a /8 costs no memory; names are not included (see
// Resolved), nor addresses written with a port (Run probes those on that port).
func (s *Scope) Addresses(limit int) iter.Seq[netip.Addr] {
	s.mu.RLock()
	allowed, closed := s.allowed, s.closed()
	s.mu.RUnlock()
	return func(yield func(netip.Addr) bool) {
		if closed != nil {
			return
		}
		n := 0
		for _, sp := range allowed {
			for a := sp.lo; ; a = a.Next() {
				if n >= limit || !yield(a) {
					return
				}
				n++
				if a == sp.hi {
					break
				}
			}
		}
	}
}

// Size returns the number of addresses Addresses would enumerate without a limit,
// saturating at math.MaxUint64, so a caller can ask "are you sure" before a large scan.
func (s *Scope) Size() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed() != nil {
		return 0
	}
	var total uint64
	for _, sp := range s.allowed {
		n := spanSize(sp)
		if total > math.MaxUint64-n {
			return math.MaxUint64
		}
		total += n
	}
	return total
}

// spanSize counts a span's addresses, saturating.
func spanSize(sp span) uint64 {
	if sp.lo.Is4() {
		lo, hi := sp.lo.As4(), sp.hi.As4()
		return uint64(be32(hi)) - uint64(be32(lo)) + 1
	}
	lo, hi := sp.lo.As16(), sp.hi.As16()
	loH, loL := be64(lo[:8]), be64(lo[8:])
	hiH, hiL := be64(hi[:8]), be64(hi[8:])
	var borrow uint64
	if hiL < loL {
		borrow = 1
	}
	if hiH-loH-borrow != 0 || hiL-loL == math.MaxUint64 {
		return math.MaxUint64
	}
	return hiL - loL + 1
}

func be32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

// inSpans reports whether a lies in one of the sorted, disjoint spans.
func inSpans(spans []span, a netip.Addr) bool {
	i, _ := slices.BinarySearchFunc(spans, a, func(sp span, a netip.Addr) int {
		if sp.hi.Less(a) {
			return -1
		}
		return 0
	})
	return i < len(spans) && !a.Less(spans[i].lo)
}

// mergeSpans sorts spans and joins those that overlap or touch, within a family.
func mergeSpans(in []span) []span {
	if len(in) == 0 {
		return nil
	}
	in = slices.Clone(in)
	slices.SortFunc(in, func(x, y span) int { return x.lo.Compare(y.lo) })
	out := in[:1]
	for _, sp := range in[1:] {
		cur := &out[len(out)-1]
		next := cur.hi.Next()
		if sp.lo.BitLen() == cur.hi.BitLen() && (!next.IsValid() || !next.Less(sp.lo)) {
			if cur.hi.Less(sp.hi) {
				cur.hi = sp.hi
			}
			continue
		}
		out = append(out, sp)
	}
	return out
}

// subtractSpans returns inc less ex; both sorted and merged.
func subtractSpans(inc, ex []span) []span {
	var out []span
	j := 0
	for _, sp := range inc {
		for j < len(ex) && ex[j].hi.Less(sp.lo) {
			j++
		}
		lo, whole := sp.lo, true
		for k := j; k < len(ex) && !sp.hi.Less(ex[k].lo); k++ {
			e := ex[k]
			if lo.Less(e.lo) {
				out = append(out, span{lo, e.lo.Prev()})
			}
			if !e.hi.Less(sp.hi) {
				whole = false
				break
			}
			lo = e.hi.Next()
		}
		if whole {
			out = append(out, span{lo, sp.hi})
		}
	}
	return out
}

func minAddr(a, b netip.Addr) netip.Addr {
	if b.Less(a) {
		return b
	}
	return a
}

func maxAddr(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return b
	}
	return a
}
