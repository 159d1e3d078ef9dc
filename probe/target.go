package probe

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Target is one item a user named: a block of addresses (First to Last, inclusive, one
// family), several blocks (an nmap octet pattern), or a host name, with the text it was
// written as so messages can quote it, and the one port it named if it named one.
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
	// Blocks holds, when the item was an nmap octet pattern naming separate blocks
	// (10.0.1,3.1-9), every block in ascending order, First and Last being then the lowest
	// and the highest address; nil when First to Last is the whole target.
	Blocks []Block
	// Port is the one port the item named (host:port, [v6]:port): the target is probed on
	// it alone. Zero means the run's port list. Only a single address or a name has one.
	Port uint16
}

// Block is an inclusive block of addresses of one family.
type Block struct{ First, Last netip.Addr }

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
	ErrInvalidPort     = errors.New("invalid port: want host:port with a port from 1 to 65535")
	ErrPortOnBlock     = errors.New("a port can follow one address or host name only; give a block's ports with --ports")
	ErrURL             = errors.New("a URL is not a target: give its host, with :port to probe that port alone")
	ErrTooManyBlocks   = fmt.Errorf("the octet pattern names more than %d separate blocks; write it as CIDRs or wider ranges", maxOctetBlocks)
)

// maxTargetLen bounds one item; the longest legitimate one is a full IPv6 range.
const maxTargetLen = 300

// maxOctetBlocks bounds the blocks one octet pattern may expand to, as maxTargetLen bounds
// every other item: a Scope holds blocks, never addresses, so a /8 costs one block, and
// 10.0-255.0-255.1-254 (every host part of 10/8 but .0 and .255) costs 65536.
const maxOctetBlocks = 1 << 16

// ParseTargets parses target items: IPv4 and IPv6 addresses, bracketed IPv6 addresses
// ([2001:db8::1]), CIDRs (10.20.0.0/24, 2001:db8::/120), ranges (10.20.1.5-40 for the last
// octet, 10.20.1.5-10.20.2.9 and 2001:db8::1-2001:db8::ff in full), nmap octet patterns
// (10.0.0-3.1-254, 192.168.3-5,7.1, 10.0.0.1,3,5), host names, and a single address or
// name followed by one port (10.0.0.1:8443, pacs.example:443, [2001:db8::1]:443). It
// stops at the first bad item and names it in the error.
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

// SplitTargetList splits arguments that may hold several targets separated by commas
// (10.0.0.1,pacs.example) into target items, trimmed, empty ones dropped. A comma inside
// an nmap octet pattern is not a separator: a piece of digits, dots, dashes (and the
// commas already joined) is joined to the next such piece when it has fewer than three
// dots, its octets not all written yet (192.168.3-5,7.1), or when the next piece has no
// dot, one more value of its last octet (10.0.0.1,3,5). So 10.0.0.1,10.0.0.2 and
// a.example,b.example are two items each, and 10.0.0.1,3,5 is one.
func SplitTargetList(args []string) []string {
	var out []string
	for _, arg := range args {
		joinable := false // the last item of out is an octet pattern still open to a piece
		for piece := range strings.SplitSeq(arg, ",") {
			piece = strings.TrimSpace(piece)
			if piece == "" {
				continue
			}
			octets := strings.Trim(piece, "0123456789.-") == ""
			if joinable && octets {
				last := &out[len(out)-1]
				if strings.Count(*last, ".") < 3 || !strings.ContainsRune(piece, '.') {
					*last += "," + piece
					continue
				}
			}
			out = append(out, piece)
			joinable = octets
		}
	}
	return out
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

// parseTarget classifies one item by its punctuation: "://" is a URL (refused), '['
// opens a bracketed IPv6 address, a single ':' ends a host with a port, '/' is a CIDR,
// more colons are IPv6, a '-' after an IPv4 address is a range, digits, dots, commas and
// dashes otherwise are an nmap octet pattern, and anything else that is not an address
// must be a valid host name.
func parseTarget(item string) (Target, error) {
	s := strings.TrimSpace(item)
	if s == "" {
		return Target{}, ErrEmptyTarget
	}
	if len(s) > maxTargetLen {
		return Target{}, fmt.Errorf("longer than %d bytes", maxTargetLen)
	}
	switch {
	case strings.Contains(s, "://"):
		return Target{}, ErrURL
	case s[0] == '[':
		return parseBracketed(s)
	case strings.Count(s, ":") == 1:
		host, port, _ := strings.Cut(s, ":")
		return withPort(s, host, port)
	}
	return parseBlock(s)
}

// parseBracketed parses [v6] and [v6]:port, the forms URLs and testssl.sh use so that a
// port cannot be mistaken for the address's last group. Brackets hold one address.
func parseBracketed(s string) (Target, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return Target{}, ErrInvalidAddress
	}
	inner, rest := s[1:end], s[end+1:]
	var port uint16
	if rest != "" {
		if rest[0] != ':' {
			return Target{}, ErrInvalidAddress
		}
		p, err := parsePort(rest[1:])
		if err != nil {
			return Target{}, ErrInvalidPort
		}
		port = p
	}
	t, err := parseSingle(Target{Text: s}, inner)
	if err != nil {
		return Target{}, err
	}
	t.Port = port
	return t, nil
}

// withPort parses host, which must be a single address or a name, and port.
func withPort(text, host, port string) (Target, error) {
	p, err := parsePort(port)
	if err != nil {
		return Target{}, ErrInvalidPort
	}
	t, err := parseBlock(host)
	if err != nil {
		return Target{}, err
	}
	if !t.IsName() && (t.First != t.Last || t.Blocks != nil) {
		return Target{}, ErrPortOnBlock
	}
	t.Text, t.Port = text, p
	return t, nil
}

// parseBlock parses an item without a port: an address, CIDR, range, octet pattern or name.
func parseBlock(s string) (Target, error) {
	t := Target{Text: s}
	switch {
	case s == "":
		return Target{}, ErrEmptyTarget
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
	if strings.ContainsAny(s, ",-") && strings.Trim(s, "0123456789.,-") == "" {
		return parseOctets(t, s)
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

// parseOctets parses an nmap octet pattern: four dot-separated octets, each a
// comma-separated list of values and ranges (10.0.0-3.1-254, 192.168.3-5,7.1). Ends may
// not be left out, and values are written as parseDecimal accepts them.
func parseOctets(t Target, s string) (Target, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return Target{}, ErrInvalidAddress
	}
	var sets [4][256]bool
	for i, part := range parts {
		for item := range strings.SplitSeq(part, ",") {
			lo, hi, isRange := strings.Cut(item, "-")
			a, ok := parseDecimal(lo, 255)
			if !ok {
				return Target{}, ErrInvalidAddress
			}
			b := a
			if isRange {
				if b, ok = parseDecimal(hi, 255); !ok {
					return Target{}, ErrInvalidRange
				}
				if b < a {
					return Target{}, ErrReversedRange
				}
			}
			for v := a; v <= b; v++ {
				sets[i][v] = true
			}
		}
	}
	blocks, err := octetBlocks(&sets)
	if err != nil {
		return Target{}, err
	}
	t.First, t.Last = blocks[0].First, blocks[len(blocks)-1].Last
	if len(blocks) > 1 {
		t.Blocks = blocks
	}
	return t, nil
}

// octetBlocks turns per-octet value sets into ascending, disjoint blocks. The octets after
// the last one whose set is not full (0-255) only widen each block, so the count is the
// product of the higher octets' values times that octet's runs, checked before any block
// is made.
func octetBlocks(sets *[4][256]bool) ([]Block, error) {
	full := func(i int) bool { return !slices.Contains(sets[i][:], false) }
	j := 3
	for j >= 0 && full(j) {
		j--
	}
	if j < 0 {
		return []Block{{netip.AddrFrom4([4]byte{}), netip.AddrFrom4([4]byte{255, 255, 255, 255})}}, nil
	}
	var vals [4][]byte
	count := 1
	for i := range j {
		for v := range 256 {
			if sets[i][v] {
				vals[i] = append(vals[i], byte(v))
			}
		}
		count *= len(vals[i])
	}
	type run struct{ lo, hi byte }
	var runs []run
	for v := 0; v < 256; v++ {
		if !sets[j][v] {
			continue
		}
		lo := v
		for v+1 < 256 && sets[j][v+1] {
			v++
		}
		runs = append(runs, run{byte(lo), byte(v)})
	}
	if count*len(runs) > maxOctetBlocks {
		return nil, ErrTooManyBlocks
	}
	out := make([]Block, 0, count*len(runs))
	var walk func(i int, prefix [4]byte)
	walk = func(i int, prefix [4]byte) {
		if i == j {
			for _, r := range runs {
				lo, hi := prefix, prefix
				lo[j], hi[j] = r.lo, r.hi
				for k := j + 1; k < 4; k++ {
					lo[k], hi[k] = 0, 255
				}
				out = append(out, Block{netip.AddrFrom4(lo), netip.AddrFrom4(hi)})
			}
			return
		}
		for _, v := range vals[i] {
			prefix[i] = v
			walk(i+1, prefix)
		}
	}
	walk(0, [4]byte{})
	return out, nil
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
