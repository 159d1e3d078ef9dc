package probe

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseTargets feeds the parser arbitrary target lists (one item per line, split
// again as SplitTargetList splits an argument; inclusions before a "!" line, exclusions
// after). It must never panic, and whatever it accepts must build a Scope whose every
// enumerated address is allowed, lies inside an inclusion, and lies outside every
// exclusion; an address written with a port is allowed on that port unless excluded; and
// the dry-run listing holds as many lines as it counts.
func FuzzParseTargets(f *testing.F) {
	seeds := []string{
		"10.20.0.0/24",
		"10.20.0.0/33",
		"10.20.1.5-40\n10.20.1.5-10.20.2.9\n!\n10.20.1.7",
		"2001:db8::/120\n!\n2001:db8::80-2001:db8::ff",
		"::ffff:10.0.0.0/104\n!\n::ffff:10.0.0.1",
		"10.0.0.0/30\n!\n::/64",
		"::/0\n0.0.0.0/0\n!\n::ffff:0:0/96",
		"255.255.255.254/31\nffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"pacs.example.org\n10.0.0.1\n!\npacs.example.org",
		"fe80::1%eth0\n10.20.1.40-5\n-host\n10.0.0.*",
		"::1-::ffff:10.0.0.5\n!\n::ffff:10.0.0.3",
		"127.0.0.1:18443\n[::1]\n[2001:db8::1]:443\npacs.example:2762",
		"10.0.0-3.1-254\n!\n10.0.1.1-254",
		"192.168.3-5,7.1,10.0.0.1,3,5\n!\n192.168.4.1",
		"10.0-255.0-255.1,254\n!\n10.0.0.0/16",
		"10.0.0.5:443\n10.0.0.5\n10.0.0.4-6\n!\n10.0.0.6",
		"http://pacs\n[fe80::1%eth0]:443\n10.0.0.0/24:443\n10.0.0.1,,3",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		incText, excText, _ := strings.Cut(input, "\n!\n")
		inc, err := ParseTargets(SplitTargetList(strings.Split(incText, "\n")))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "probe: target ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		var exc []Target
		if excText != "" {
			if exc, err = ParseTargets(SplitTargetList(strings.Split(excText, "\n"))); err != nil {
				return
			}
		}
		for _, tg := range append(inc[:len(inc):len(inc)], exc...) {
			if tg.IsName() {
				if tg.First.IsValid() || tg.Last.IsValid() {
					t.Fatalf("name target %q has addresses", tg.Text)
				}
				continue
			}
			if !tg.First.IsValid() || tg.First.BitLen() != tg.Last.BitLen() || tg.Last.Less(tg.First) || tg.First.Is4In6() && tg.Last.Is4In6() {
				t.Fatalf("accepted malformed target %q: %v-%v", tg.Text, tg.First, tg.Last)
			}
			if tg.Port != 0 && (tg.First != tg.Last || tg.Blocks != nil) {
				t.Fatalf("accepted a port on the block %q", tg.Text)
			}
			for i, b := range tg.Blocks {
				if !b.First.Is4() || b.Last.Less(b.First) || b.First.Less(tg.First) || tg.Last.Less(b.Last) ||
					i > 0 && !tg.Blocks[i-1].Last.Less(b.First) {
					t.Fatalf("target %q: malformed or unordered block %v", tg.Text, b)
				}
			}
			if len(tg.Blocks) > maxOctetBlocks {
				t.Fatalf("target %q: %d blocks", tg.Text, len(tg.Blocks))
			}
		}
		s := NewScope(inc, exc)
		if s.Err() != nil {
			// Only excluded names keep a parsed scope closed.
			if !hasName(exc) {
				t.Fatalf("parsed scope closed: %v", s.Err())
			}
			return
		}
		within := func(ts []Target, a netip.Addr) bool {
			for _, tg := range ts {
				if tg.IsName() {
					continue
				}
				blocks := tg.Blocks
				if blocks == nil {
					blocks = []Block{{tg.First, tg.Last}}
				}
				for _, b := range blocks {
					if !a.Less(b.First) && !b.Last.Less(a) {
						return true
					}
				}
			}
			return false
		}
		n := 0
		var prev netip.Addr
		for a := range s.Addresses(512) {
			if !s.Allows(a) {
				t.Fatalf("enumerated %v is not allowed", a)
			}
			if !within(inc, a) {
				t.Fatalf("enumerated %v lies outside every inclusion", a)
			}
			if within(exc, a) {
				t.Fatalf("enumerated %v lies inside an exclusion", a)
			}
			if a.Is4In6() {
				t.Fatalf("enumerated a mapped address %v", a)
			}
			if n > 0 && !prev.Less(a) {
				t.Fatalf("order broken: %v then %v", prev, a)
			}
			prev = a
			n++
		}
		if n > 512 {
			t.Fatalf("limit 512 passed: %d", n)
		}
		if size := s.Size(); size < 512 && uint64(n) != size {
			t.Fatalf("enumerated %d, Size() = %d", n, size)
		}
		for _, e := range exc {
			if !e.IsName() && (s.Allows(e.First) || s.Allows(e.Last) || s.Allows(netip.AddrFrom16(e.First.As16())) ||
				s.AllowsPort(e.First, 443, []uint16{443}) || s.AllowsPort(e.Last, e.Port, nil)) {
				t.Fatalf("excluded %q allowed", e.Text)
			}
		}
		for _, tg := range inc {
			// An IPv6 exclusion over the mapped block ::ffff:0:0/96 excludes the IPv4
			// addresses it maps (Scope widens it so), so the mapped form counts too.
			excluded := within(exc, tg.First) || within(exc, netip.AddrFrom16(tg.First.As16()))
			if !tg.IsName() && tg.Port != 0 && !excluded && !s.AllowsPort(tg.First, tg.Port, nil) {
				t.Fatalf("%q not allowed on its port", tg.Text)
			}
		}
		var list strings.Builder
		sum, err := s.List(&list, []uint16{443, 8443}, 256)
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Count(list.String(), "\n"); !sum.Compact && uint64(lines) != sum.Endpoints {
			t.Fatalf("listed %d lines for %d endpoints", lines, sum.Endpoints)
		}
	})
}

func hasName(ts []Target) bool {
	for _, t := range ts {
		if t.IsName() {
			return true
		}
	}
	return false
}
