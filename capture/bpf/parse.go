package bpf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Limits on what Compile accepts, so that no expression costs more than a bounded
// amount of work and memory.
const (
	MaxExpressionBytes = 8 << 10
	maxDepth           = 64
)

// token is one word or operator of an expression, with its 1-based byte position.
type token struct {
	text string
	pos  int
}

// lex splits an expression into words and the operators ( ) ! && ||.
func lex(expr string) ([]token, error) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '!':
			toks = append(toks, token{expr[i : i+1], i + 1})
			i++
		case c == '&' || c == '|':
			if i+1 >= len(expr) || expr[i+1] != c {
				return nil, fmt.Errorf("bpf: position %d: unexpected %q (use %q)", i+1, string(c), string([]byte{c, c}))
			}
			toks = append(toks, token{expr[i : i+2], i + 1})
			i += 2
		case isWordByte(c):
			j := i
			for j < len(expr) && isWordByte(expr[j]) {
				j++
			}
			toks = append(toks, token{expr[i:j], i + 1})
			i = j
		default:
			return nil, fmt.Errorf("bpf: position %d: unexpected character %q", i+1, string(rune(c)))
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '/' || c == '-' || c == '_'
}

// parser turns tokens into a predicate tree, lowering each primitive to loads and
// comparisons for the link type as it goes (so that "vlan" can shift what follows).
type parser struct {
	toks  []token
	i     int
	end   int // position just past the expression, for errors at its end
	depth int
	l     layout
}

func (p *parser) peek(k int) string {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k].text
	}
	return ""
}

func (p *parser) pos() int {
	if p.i < len(p.toks) {
		return p.toks[p.i].pos
	}
	return p.end
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("bpf: position %d: "+format, append([]any{p.pos()}, args...)...)
}

// found describes the current token for an error message.
func (p *parser) found() string {
	if p.i >= len(p.toks) {
		return "end of expression"
	}
	return strconv.Quote(p.toks[p.i].text)
}

func (p *parser) parseOr() (*node, error) {
	a, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peek(0) == "or" || p.peek(0) == "||" {
		p.i++
		b, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		a = or(a, b)
	}
	return a, nil
}

func (p *parser) parseAnd() (*node, error) {
	a, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.peek(0) == "and" || p.peek(0) == "&&" {
		p.i++
		b, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		a = and(a, b)
	}
	return a, nil
}

func (p *parser) parseUnary() (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf("expression nested more than %d deep", maxDepth)
	}
	switch p.peek(0) {
	case "not", "!":
		p.i++
		a, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return not(a), nil
	case "(":
		p.i++
		a, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.peek(0) != ")" {
			return nil, p.errf("expected \")\", found %s", p.found())
		}
		p.i++
		return a, nil
	}
	return p.primitive()
}

// dir is a src/dst qualifier.
type dir uint8

const (
	dirAny dir = iota
	dirSrc
	dirDst
)

func (p *parser) primitive() (*node, error) {
	if p.i >= len(p.toks) {
		return nil, p.errf("expected a primitive, found end of expression")
	}
	w := p.peek(0)
	switch w {
	case ")", "and", "or", "&&", "||":
		return nil, p.errf("expected a primitive, found %s", p.found())
	case "tcp", "udp":
		proto := uint32(protoTCP)
		if w == "udp" {
			proto = protoUDP
		}
		if k := p.peek(1); k == "port" || k == "portrange" || (k == "src" || k == "dst") && (p.peek(2) == "port" || p.peek(2) == "portrange") {
			p.i++
			return p.qualified([]uint32{proto})
		}
		p.i++
		return p.l.ipProto(proto), nil
	case "icmp":
		p.i++
		return and(p.l.isIPv4(), p.l.v4Proto(protoICMP)), nil
	case "icmp6":
		p.i++
		return and(p.l.isIPv6(), p.l.v6Proto(protoICMPv6)), nil
	case "ip", "ip6":
		p.i++
		if p.peek(0) == "proto" {
			p.i++
			n, err := p.number(255, "a protocol number")
			if err != nil {
				return nil, err
			}
			if w == "ip" {
				return and(p.l.isIPv4(), p.l.v4Proto(n)), nil
			}
			return and(p.l.isIPv6(), p.l.v6Proto(n)), nil
		}
		if w == "ip" {
			return p.l.isIPv4(), nil
		}
		return p.l.isIPv6(), nil
	case "arp":
		p.i++
		return p.l.isEther(etherARP), nil
	case "vlan":
		if p.l.link != LinkEthernet {
			return nil, p.errf("vlan needs the Ethernet link type")
		}
		p.i++
		id := int64(-1)
		if t := p.peek(0); t != "" && t[0] >= '0' && t[0] <= '9' {
			n, err := p.number(4095, "a VLAN ID")
			if err != nil {
				return nil, err
			}
			id = int64(n)
		}
		return p.l.vlan(id), nil
	}
	return p.qualified([]uint32{protoTCP, protoUDP, protoSCTP})
}

// qualified parses [src|dst] host/net/port/portrange/ADDR, for the given transport
// protocols of a port.
func (p *parser) qualified(protos []uint32) (*node, error) {
	d := dirAny
	switch p.peek(0) {
	case "src":
		d = dirSrc
		p.i++
	case "dst":
		d = dirDst
		p.i++
	}
	switch w := p.peek(0); w {
	case "host":
		p.i++
		a, err := p.addr()
		if err != nil {
			return nil, err
		}
		return p.l.net(netip.PrefixFrom(a, a.BitLen()), d), nil
	case "net":
		p.i++
		pfx, err := p.prefix()
		if err != nil {
			return nil, err
		}
		return p.l.net(pfx, d), nil
	case "port":
		p.i++
		n, err := p.number(65535, "a port number")
		if err != nil {
			return nil, err
		}
		return p.l.port(protos, d, n, n), nil
	case "portrange":
		p.i++
		lo, hi, err := p.portRange()
		if err != nil {
			return nil, err
		}
		return p.l.port(protos, d, lo, hi), nil
	case "":
		return nil, p.errf("expected a primitive, found end of expression")
	default:
		if len(protos) == 3 { // no tcp/udp before: an address may stand alone
			if _, err := netip.ParsePrefix(w); err == nil {
				pfx, err := p.prefix()
				if err != nil {
					return nil, err
				}
				return p.l.net(pfx, d), nil
			}
			if a, err := netip.ParseAddr(w); err == nil && a.Zone() == "" {
				p.i++
				return p.l.net(netip.PrefixFrom(a, a.BitLen()), d), nil
			}
		}
		if d != dirAny || len(protos) != 3 {
			return nil, p.errf("expected host, net, port or portrange, found %s", p.found())
		}
		return nil, p.errf("unknown primitive %s", p.found())
	}
}

func (p *parser) addr() (netip.Addr, error) {
	w := p.peek(0)
	if w == "" {
		return netip.Addr{}, p.errf("expected an IP address, found end of expression")
	}
	a, err := netip.ParseAddr(w)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, p.errf("expected an IPv4 or IPv6 address, found %s (host names are not accepted)", p.found())
	}
	p.i++
	return a, nil
}

func (p *parser) prefix() (netip.Prefix, error) {
	w := p.peek(0)
	if w == "" {
		return netip.Prefix{}, p.errf("expected a network (ADDR/LEN), found end of expression")
	}
	pfx, err := netip.ParsePrefix(w)
	if err != nil {
		a, aerr := netip.ParseAddr(w)
		if aerr != nil || a.Zone() != "" {
			return netip.Prefix{}, p.errf("expected a network (ADDR/LEN), found %s", p.found())
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.Addr().Zone() != "" {
		return netip.Prefix{}, p.errf("expected a network (ADDR/LEN), found %s", p.found())
	}
	if pfx.Masked() != pfx {
		return netip.Prefix{}, p.errf("network %s has host bits set (did you mean %s?)", p.found(), pfx.Masked())
	}
	p.i++
	return pfx, nil
}

// number parses a decimal number up to limit.
func (p *parser) number(limit uint32, what string) (uint32, error) {
	w := p.peek(0)
	n, err := strconv.ParseUint(w, 10, 32)
	if w == "" || err != nil || n > uint64(limit) {
		if w != "" && err != nil && (strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) >= 0) && what == "a port number" {
			return 0, p.errf("expected a port number, found %s (service names are not accepted)", p.found())
		}
		return 0, p.errf("expected %s (0-%d), found %s", what, limit, p.found())
	}
	p.i++
	return uint32(n), nil
}

func (p *parser) portRange() (lo, hi uint32, err error) {
	w := p.peek(0)
	a, b, ok := strings.Cut(w, "-")
	x, err1 := strconv.ParseUint(a, 10, 16)
	y, err2 := strconv.ParseUint(b, 10, 16)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, p.errf("expected a port range A-B, found %s", p.found())
	}
	if x > y {
		x, y = y, x // tcpdump accepts either order
	}
	p.i++
	return uint32(x), uint32(y), nil
}

// parse parses a whole expression.
func parse(expr string, l layout) (*node, error) {
	if len(expr) > MaxExpressionBytes {
		return nil, fmt.Errorf("bpf: expression of %d bytes is longer than %d", len(expr), MaxExpressionBytes)
	}
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return &node{op: opTrue}, nil
	}
	p := &parser{toks: toks, end: len(expr) + 1, l: l}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		if p.peek(0) == ")" {
			return nil, p.errf("unbalanced \")\"")
		}
		return nil, p.errf("expected and, or or the end, found %s", p.found())
	}
	return n, nil
}
