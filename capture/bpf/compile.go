package bpf

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/net/bpf"
)

// MaxInstructions is the longest program Compile returns: the Linux kernel's limit
// (BPF_MAXINSNS).
const MaxInstructions = 4096

// DefaultSnapLen is what a matching frame keeps when Compile is given no snapshot length.
const DefaultSnapLen = 262144

// Link types Compile accepts (pcap LINKTYPE_ values).
const (
	LinkEthernet = 1
	LinkRaw      = 101
	LinkSLL      = 113
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkSLL2     = 276
)

// Protocol numbers and EtherTypes the primitives test.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoFrag6  = 44
	protoICMPv6 = 58
	protoSCTP   = 132

	etherIPv4 = 0x0800
	etherARP  = 0x0806
	etherRARP = 0x8035
	etherIPv6 = 0x86dd
)

// Compile translates a filter expression (see the package documentation) into a
// classic BPF program for frames of the given link type that accepts a matching frame
// with up to snaplen bytes (DefaultSnapLen when snaplen is not positive). An empty
// expression accepts every frame.
func Compile(expr string, linkType uint32, snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 {
		snaplen = DefaultSnapLen
	}
	l, err := newLayout(linkType)
	if err != nil {
		return nil, err
	}
	n, err := parse(expr, l)
	if err != nil {
		return nil, err
	}
	var g gen
	yes, no := g.label(), g.label()
	if err := g.node(n, yes, no); err != nil {
		return nil, err
	}
	g.place(yes)
	g.emit(item{ins: bpf.RetConstant{Val: uint32(snaplen)}})
	g.place(no)
	g.emit(item{ins: bpf.RetConstant{Val: 0}})
	return g.assemble()
}

// ---- predicate trees ----

type opKind uint8

const (
	opAtom opKind = iota
	opAnd
	opOr
	opNot
	opTrue
	opFalse
)

// cmp is how an atom compares the loaded value with its constant.
type cmp uint8

const (
	cmpEq  cmp = iota
	cmpGt      // value > k
	cmpGe      // value >= k
	cmpSet     // value & k != 0
)

// atom is one test: load size bytes at off (plus X, loaded as 4*(frame[xoff]&0xf),
// when ind), mask it when mask is non-zero, compare with val.
type atom struct {
	size      int // 1, 2 or 4
	off, xoff uint32
	ind       bool
	mask      uint32
	cmp       cmp
	val       uint32
}

type node struct {
	op   opKind
	a, b *node
	at   atom
}

func and(a, b *node) *node {
	switch {
	case a.op == opFalse || b.op == opFalse:
		return &node{op: opFalse}
	case a.op == opTrue:
		return b
	case b.op == opTrue:
		return a
	}
	return &node{op: opAnd, a: a, b: b}
}

func or(a, b *node) *node {
	switch {
	case a.op == opTrue || b.op == opTrue:
		return &node{op: opTrue}
	case a.op == opFalse:
		return b
	case b.op == opFalse:
		return a
	}
	return &node{op: opOr, a: a, b: b}
}

func not(a *node) *node {
	switch a.op {
	case opTrue:
		return &node{op: opFalse}
	case opFalse:
		return &node{op: opTrue}
	}
	return &node{op: opNot, a: a}
}

func test(size int, off uint32, c cmp, val uint32) *node {
	return &node{op: opAtom, at: atom{size: size, off: off, cmp: c, val: val}}
}

func masked(size int, off, mask, val uint32) *node {
	return &node{op: opAtom, at: atom{size: size, off: off, mask: mask, cmp: cmpEq, val: val}}
}

// ---- link layouts ----

// layout says where the link type puts the EtherType and the network header; "vlan"
// moves both 4 bytes on for everything parsed after it.
type layout struct {
	link   uint32
	ethOff int64 // offset of the EtherType; -1 for raw IP
	netOff uint32
}

func newLayout(link uint32) (layout, error) {
	switch link {
	case LinkEthernet:
		return layout{link: link, ethOff: 12, netOff: 14}, nil
	case LinkSLL:
		return layout{link: link, ethOff: 14, netOff: 16}, nil
	case LinkSLL2:
		return layout{link: link, ethOff: 0, netOff: 20}, nil
	case LinkRaw, LinkIPv4, LinkIPv6:
		return layout{link: link, ethOff: -1}, nil
	}
	return layout{}, fmt.Errorf("bpf: link type %d not supported (Ethernet, Linux cooked and raw IP are)", link)
}

// isEther tests the EtherType; on raw IP only IPv4 and IPv6 can match.
func (l *layout) isEther(t uint32) *node {
	if l.ethOff >= 0 {
		return test(2, uint32(l.ethOff), cmpEq, t)
	}
	switch {
	case t == etherIPv4 && l.link == LinkIPv4, t == etherIPv6 && l.link == LinkIPv6:
		return &node{op: opTrue}
	case t == etherIPv4 && l.link == LinkRaw:
		return masked(1, 0, 0xf0, 0x40)
	case t == etherIPv6 && l.link == LinkRaw:
		return masked(1, 0, 0xf0, 0x60)
	}
	return &node{op: opFalse}
}

func (l *layout) isIPv4() *node { return l.isEther(etherIPv4) }
func (l *layout) isIPv6() *node { return l.isEther(etherIPv6) }

func (l *layout) v4Proto(p uint32) *node { return test(1, l.netOff+9, cmpEq, p) }

// v6Proto tests the IPv6 next header, looking behind one fragment header as tcpdump does.
func (l *layout) v6Proto(p uint32) *node {
	return or(test(1, l.netOff+6, cmpEq, p),
		and(test(1, l.netOff+6, cmpEq, protoFrag6), test(1, l.netOff+40, cmpEq, p)))
}

// ipProto is an IP protocol over IPv4 or IPv6.
func (l *layout) ipProto(p uint32) *node {
	return or(and(l.isIPv4(), l.v4Proto(p)), and(l.isIPv6(), l.v6Proto(p)))
}

// vlan tests for a VLAN tag (with the given ID when id >= 0) and shifts the layout;
// the parser allows it on Ethernet only.
func (l *layout) vlan(id int64) *node {
	off := uint32(l.ethOff)
	n := or(test(2, off, cmpEq, 0x8100), or(test(2, off, cmpEq, 0x88a8), test(2, off, cmpEq, 0x9100)))
	if id >= 0 {
		n = and(n, masked(2, off+2, 0x0fff, uint32(id)))
	}
	l.ethOff += 4
	l.netOff += 4
	return n
}

// net tests an address prefix in the source or destination (or either) of IPv4, ARP
// and RARP, or IPv6.
func (l *layout) net(pfx netip.Prefix, d dir) *node {
	a := pfx.Addr()
	if a.Is4() {
		v := binary.BigEndian.Uint32(a.AsSlice())
		mask := ^uint32(0)
		if pfx.Bits() < 32 {
			mask = ^(^uint32(0) >> pfx.Bits())
		}
		word := func(off uint32) *node {
			if mask == ^uint32(0) {
				return test(4, off, cmpEq, v)
			}
			return masked(4, off, mask, v)
		}
		pick := func(src, dst uint32) *node {
			switch d {
			case dirSrc:
				return word(src)
			case dirDst:
				return word(dst)
			}
			return or(word(src), word(dst))
		}
		ip := and(l.isIPv4(), pick(l.netOff+12, l.netOff+16))
		arp := and(or(l.isEther(etherARP), l.isEther(etherRARP)), pick(l.netOff+14, l.netOff+24))
		return or(ip, arp)
	}
	b := a.As16()
	addr := func(off uint32) *node {
		n := &node{op: opTrue}
		for i := range 4 {
			bits := min(max(pfx.Bits()-32*i, 0), 32)
			if bits == 0 {
				break
			}
			v := binary.BigEndian.Uint32(b[4*i:])
			if bits == 32 {
				n = and(n, test(4, off+uint32(4*i), cmpEq, v))
			} else {
				n = and(n, masked(4, off+uint32(4*i), ^(^uint32(0)>>bits), v))
			}
		}
		return n
	}
	var n *node
	switch d {
	case dirSrc:
		n = addr(l.netOff + 8)
	case dirDst:
		n = addr(l.netOff + 24)
	default:
		n = or(addr(l.netOff+8), addr(l.netOff+24))
	}
	return and(l.isIPv6(), n)
}

// port tests a transport port within lo..hi for the given protocols, on IPv4 (skipping
// non-first fragments, reading the header length) and on IPv6 (after the fixed header).
func (l *layout) port(protos []uint32, d dir, lo, hi uint32) *node {
	inRange := func(a atom) *node {
		if lo == hi {
			a.cmp, a.val = cmpEq, lo
			return &node{op: opAtom, at: a}
		}
		ge, gt := a, a
		ge.cmp, ge.val = cmpGe, lo
		gt.cmp, gt.val = cmpGt, hi
		return and(&node{op: opAtom, at: ge}, not(&node{op: opAtom, at: gt}))
	}
	ports := func(src, dst atom) *node {
		switch d {
		case dirSrc:
			return inRange(src)
		case dirDst:
			return inRange(dst)
		}
		return or(inRange(src), inRange(dst))
	}
	anyOf := func(off uint32) *node {
		n := &node{op: opFalse}
		for _, p := range protos {
			n = or(n, test(1, off, cmpEq, p))
		}
		return n
	}
	v6 := and(and(l.isIPv6(), anyOf(l.netOff+6)),
		ports(atom{size: 2, off: l.netOff + 40}, atom{size: 2, off: l.netOff + 42}))
	notFrag := not(&node{op: opAtom, at: atom{size: 2, off: l.netOff + 6, cmp: cmpSet, val: 0x1fff}})
	v4 := and(and(and(l.isIPv4(), anyOf(l.netOff+9)), notFrag),
		ports(atom{size: 2, ind: true, xoff: l.netOff, off: l.netOff},
			atom{size: 2, ind: true, xoff: l.netOff, off: l.netOff + 2}))
	return or(v6, v4)
}

// ---- code generation ----

type label int

// item is an instruction with symbolic jump targets, or a label's place.
type item struct {
	ins    bpf.Instruction
	jt, jf label // a conditional jump's targets (ins is a bpf.JumpIf)
	ja     label // an unconditional jump's target (ins is a bpf.Jump)
	at     label // when non-zero: this item only marks where label at is
}

type gen struct {
	items  []item
	labels int
	size   int // instructions so far, to stop runaway expressions early
}

func (g *gen) label() label { g.labels++; return label(g.labels) }

func (g *gen) place(l label) { g.items = append(g.items, item{at: l}) }

func (g *gen) emit(it item) { g.items = append(g.items, it); g.size++ }

var errTooLong = fmt.Errorf("bpf: expression compiles to more than %d instructions", MaxInstructions)

// node emits code that jumps to yes when n holds and to no otherwise.
func (g *gen) node(n *node, yes, no label) error {
	if g.size > MaxInstructions {
		return errTooLong
	}
	switch n.op {
	case opTrue:
		g.emit(item{ins: bpf.Jump{}, ja: yes})
	case opFalse:
		g.emit(item{ins: bpf.Jump{}, ja: no})
	case opNot:
		return g.node(n.a, no, yes)
	case opAnd:
		mid := g.label()
		if err := g.node(n.a, mid, no); err != nil {
			return err
		}
		g.place(mid)
		return g.node(n.b, yes, no)
	case opOr:
		mid := g.label()
		if err := g.node(n.a, yes, mid); err != nil {
			return err
		}
		g.place(mid)
		return g.node(n.b, yes, no)
	case opAtom:
		a := n.at
		if a.ind {
			// ldxb 4*([xoff]&0xf): the IPv4 header length.
			g.emit(item{ins: bpf.LoadMemShift{Off: a.xoff}})
			g.emit(item{ins: bpf.LoadIndirect{Off: a.off, Size: a.size}})
		} else {
			g.emit(item{ins: bpf.LoadAbsolute{Off: a.off, Size: a.size}})
		}
		if a.mask != 0 {
			g.emit(item{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: a.mask}})
		}
		cond := bpf.JumpEqual
		switch a.cmp {
		case cmpGt:
			cond = bpf.JumpGreaterThan
		case cmpGe:
			cond = bpf.JumpGreaterOrEqual
		case cmpSet:
			cond = bpf.JumpBitsSet
		}
		g.emit(item{ins: bpf.JumpIf{Cond: cond, Val: a.val}, jt: yes, jf: no})
	}
	return nil
}

// assemble resolves labels into jump offsets. A conditional jump reaches at most 255
// instructions on; a farther target gets a pair of unconditional jumps right after it.
func (g *gen) assemble() ([]bpf.RawInstruction, error) {
	items := g.items
	for {
		pos := map[label]int{}
		n := 0
		for _, it := range items {
			if it.at != 0 {
				pos[it.at] = n
			} else {
				n++
			}
		}
		if n > MaxInstructions {
			return nil, errTooLong
		}
		fixed := true
		idx := 0
		for i, it := range items {
			if it.at != 0 {
				continue
			}
			if it.jt != 0 && (pos[it.jt]-idx-1 > 255 || pos[it.jf]-idx-1 > 255) {
				lt, lf := g.label(), g.label()
				tramp := []item{
					{at: lt}, {ins: bpf.Jump{}, ja: it.jt},
					{at: lf}, {ins: bpf.Jump{}, ja: it.jf},
				}
				items[i].jt, items[i].jf = lt, lf
				items = append(items[:i+1], append(tramp, items[i+1:]...)...)
				fixed = false
				break
			}
			idx++
		}
		if !fixed {
			continue
		}
		out := make([]bpf.RawInstruction, 0, n)
		for _, it := range items {
			if it.at != 0 {
				continue
			}
			here := len(out)
			ins := it.ins
			switch {
			case it.jt != 0:
				j := ins.(bpf.JumpIf)
				j.SkipTrue, j.SkipFalse = uint8(pos[it.jt]-here-1), uint8(pos[it.jf]-here-1)
				ins = j
			case it.ja != 0:
				ins = bpf.Jump{Skip: uint32(pos[it.ja] - here - 1)}
			}
			ri, err := ins.Assemble()
			if err != nil {
				return nil, fmt.Errorf("bpf: assemble: %w", err)
			}
			out = append(out, ri)
		}
		return out, nil
	}
}
