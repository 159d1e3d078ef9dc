package probe

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Target is one item a user named: a block of addresses (First to Last, inclusive, one
// family) or a host name, with the text it was written as so messages can quote it.
type Target struct {
	// Text is the item as the user wrote it (trimmed of surrounding space).
	Text string
	// Name is the host name, lower-cased and without a trailing dot; empty for address targets.
	Name string
	// Prefix is set when the item was an address or a CIDR; a single address is a /32 or /128.
	Prefix netip.Prefix
	// First is the lowest address of an address target. An IPv4 target is held as IPv4
	// even when written in its ::ffff: form; only an IPv6 range or CIDR that crosses into
	// the mapped block keeps a mapped end, and NewScope cuts that block from inclusions.
	First netip.Addr
	// Last is the highest address of an address target, inclusive, of First's family.
	Last netip.Addr
}

// IsName reports whether the target is a host name, to be resolved before it is probed.
func (t Target) IsName() bool { return t.Name != "" }

// String returns the target as the user wrote it.
func (t Target) String() string { return t.Text }

// TargetError says which target item could not be parsed and why; File and Line are set
// when the item came from a target file.
type TargetError struct {
	File string // the target file, as the caller named it; empty for items given directly
	Line int    // the 1-based line in File; zero for items given directly
	Text string // the offending item
	Err  error  // the reason
}

// Error renders `probe: target "x": reason`, prefixed by file and line when there are any.
func (e *TargetError) Error() string {
	if e.File != "" {
		if e.Text == "" {
			return fmt.Sprintf("probe: %s:%d: %v", e.File, e.Line, e.Err)
		}
		return fmt.Sprintf("probe: %s:%d: target %q: %v", e.File, e.Line, e.Text, e.Err)
	}
	return fmt.Sprintf("probe: target %q: %v", e.Text, e.Err)
}

// Unwrap returns the reason, so callers can test it with errors.Is.
func (e *TargetError) Unwrap() error { return e.Err }

// The reasons a target is refused; TargetError wraps one of them.
var (
	ErrEmptyTarget     = errors.New("empty target")
	ErrInvalidAddress  = errors.New("invalid IP address")
	ErrZone            = errors.New("addresses with a zone are not supported")
	ErrInvalidCIDR     = errors.New("invalid CIDR")
	ErrInvalidPrefix   = errors.New("invalid CIDR prefix length")
	ErrInvalidRange    = errors.New("invalid range end")
	ErrReversedRange   = errors.New("reversed range: the end is below the start")
	ErrMixedRange      = errors.New("range ends are of different address families")
	ErrInvalidHostName = errors.New("invalid host name")
)

// maxTargetLen bounds one item; the longest legitimate one is a full IPv6 range.
const maxTargetLen = 300

// ParseTargets parses target items: IPv4 and IPv6 addresses, CIDRs (10.20.0.0/24,
// 2001:db8::/120), ranges (10.20.1.5-40 for the last octet, 10.20.1.5-10.20.2.9 and
// 2001:db8::1-2001:db8::ff in full) and host names. It stops at the first bad item and
// names it in the error.
func ParseTargets(items []string) ([]Target, error) {
	out := make([]Target, 0, len(items))
	for _, it := range items {
		t, err := parseTarget(it)
		if err != nil {
			return nil, &TargetError{Text: strings.TrimSpace(it), Err: err}
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseTargetFile reads targets one per line; '#' starts a comment, blank lines are
// skipped, and an error names the file and line.
func ParseTargetFile(path string) ([]Target, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	defer f.Close()
	var out []Target
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		t, err := parseTarget(text)
		if err != nil {
			return nil, &TargetError{File: path, Line: line, Text: text, Err: err}
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		// The scanner fails on a line longer than its buffer, or on a read error; either
		// way the line after the last one read is the one at fault.
		return nil, &TargetError{File: path, Line: line + 1, Err: err}
	}
	return out, nil
}

// parseTarget classifies one item by its punctuation: '/' is a CIDR, ':' is IPv6, a '-'
// after an IPv4 address is a range, and anything else that is not an address must be a
// valid host name.
func parseTarget(item string) (Target, error) {
	s := strings.TrimSpace(item)
	if s == "" {
		return Target{}, ErrEmptyTarget
	}
	if len(s) > maxTargetLen {
		return Target{}, fmt.Errorf("longer than %d bytes", maxTargetLen)
	}
	t := Target{Text: s}
	switch {
	case strings.ContainsRune(s, '/'):
		p, err := parseCIDR(s)
		if err != nil {
			return Target{}, err
		}
		t.Prefix = p
		t.First, t.Last = prefixBounds(p)
		return t, nil
	case strings.ContainsRune(s, ':'):
		if lo, hi, ok := strings.Cut(s, "-"); ok {
			return parseFullRange(t, lo, hi)
		}
		return parseSingle(t, s)
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		if a, err := netip.ParseAddr(lo); err == nil && a.Is4() {
			if strings.ContainsRune(hi, '.') {
				return parseFullRange(t, lo, hi)
			}
			return parseShortRange(t, a, hi)
		}
	}
	if looksNumeric(s) {
		return parseSingle(t, s)
	}
	name, ok := normalizeName(s)
	if !ok {
		return Target{}, ErrInvalidHostName
	}
	t.Name = name
	return t, nil
}

// parseSingle parses one address, unmapping an IPv4-mapped IPv6 address.
func parseSingle(t Target, s string) (Target, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Target{}, ErrInvalidAddress
	}
	if a.Zone() != "" {
		return Target{}, ErrZone
	}
	a = a.Unmap()
	t.Prefix = netip.PrefixFrom(a, a.BitLen())
	t.First, t.Last = a, a
	return t, nil
}

// parseCIDR parses addr/bits by hand so that the error says which half is wrong. Host
// bits may be set (10.20.0.5/24 means 10.20.0.0/24, as in nmap and ipcalc).
func parseCIDR(s string) (netip.Prefix, error) {
	as, bs, _ := strings.Cut(s, "/")
	a, err := netip.ParseAddr(as)
	if err != nil {
		if strings.ContainsRune(as, '%') {
			return netip.Prefix{}, ErrZone
		}
		return netip.Prefix{}, ErrInvalidCIDR
	}
	if a.Zone() != "" {
		return netip.Prefix{}, ErrZone
	}
	bits, ok := parseDecimal(bs, a.BitLen())
	if !ok {
		return netip.Prefix{}, ErrInvalidPrefix
	}
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// parseFullRange parses first-last with both ends written in full.
func parseFullRange(t Target, lo, hi string) (Target, error) {
	a, err := netip.ParseAddr(lo)
	if err != nil {
		return Target{}, ErrInvalidAddress
	}
	b, err := netip.ParseAddr(hi)
	if err != nil {
		return Target{}, ErrInvalidRange
	}
	if a.Zone() != "" || b.Zone() != "" {
		return Target{}, ErrZone
	}
	a, b = unmapPair(a, b)
	if a.BitLen() != b.BitLen() {
		return Target{}, ErrMixedRange
	}
	if b.Less(a) {
		return Target{}, ErrReversedRange
	}
	t.First, t.Last = a, b
	return t, nil
}

// unmapPair unmaps a range end written as an IPv4-mapped address when the other end is
// IPv4 too (mapped or not), so ::ffff:10.0.0.1-10.0.0.9 is an IPv4 range. A mapped end
// facing a native IPv6 end stays IPv6: the range then crosses into the mapped block,
// which NewScope cuts from inclusions and turns into IPv4 for exclusions.
func unmapPair(a, b netip.Addr) (netip.Addr, netip.Addr) {
	if (a.Is4() || a.Is4In6()) && (b.Is4() || b.Is4In6()) {
		return a.Unmap(), b.Unmap()
	}
	return a, b
}

// parseShortRange parses 10.20.1.5-40: the end replaces the last octet.
func parseShortRange(t Target, a netip.Addr, hi string) (Target, error) {
	n, ok := parseDecimal(hi, 255)
	if !ok {
		return Target{}, ErrInvalidRange
	}
	b4 := a.As4()
	if n < int(b4[3]) {
		return Target{}, ErrReversedRange
	}
	b4[3] = byte(n)
	t.First, t.Last = a, netip.AddrFrom4(b4)
	return t, nil
}

// parseDecimal accepts 0..max written in decimal without sign or leading zeros, since a
// leading zero reads as octal to some tools and the user's intent is then unclear.
func parseDecimal(s string, max int) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}

// looksNumeric reports whether the item's last dot-separated label is all digits: such an
// item is a (possibly bad) IPv4 address, never a host name, since no top-level domain is
// numeric.
func looksNumeric(s string) bool {
	s = strings.TrimSuffix(s, ".")
	last := s[strings.LastIndexByte(s, '.')+1:]
	if last == "" {
		return false
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

// normalizeName validates a DNS host name (letters, digits, hyphens and underscores,
// which Windows hosts in hospitals often carry; labels of 1 to 63 bytes not starting or
// ending with a hyphen; at most 253 bytes) and lower-cases it without a trailing dot.
func normalizeName(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return "", false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			default:
				return "", false
			}
		}
	}
	if looksNumeric(s) {
		return "", false
	}
	return strings.ToLower(s), true
}

// prefixBounds returns the first and last address of a masked prefix.
func prefixBounds(p netip.Prefix) (netip.Addr, netip.Addr) {
	first := p.Addr()
	if first.Is4() {
		b := first.As4()
		for i := range b {
			b[i] |= hostMask(p.Bits(), i)
		}
		return first, netip.AddrFrom4(b)
	}
	b := first.As16()
	for i := range b {
		b[i] |= hostMask(p.Bits(), i)
	}
	return first, netip.AddrFrom16(b)
}

// hostMask returns the host-bit mask of byte i of an address under a prefix of bits.
func hostMask(bits, i int) byte {
	switch n := bits - 8*i; {
	case n <= 0:
		return 0xff
	case n >= 8:
		return 0
	default:
		return 0xff >> n
	}
}
