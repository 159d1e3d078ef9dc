package probe

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func mustTargets(t testing.TB, items ...string) []Target {
	t.Helper()
	ts, err := ParseTargets(items)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func collect(s *Scope, limit int) []netip.Addr {
	var out []netip.Addr
	for a := range s.Addresses(limit) {
		out = append(out, a)
	}
	return out
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func TestScopeAllows(t *testing.T) {
	s := NewScope(
		mustTargets(t, "10.20.0.0/24", "10.20.1.5-40", "10.30.0.1", "2001:db8::/120", "2001:db8:1::1-2001:db8:1::3", "pacs.example.org"),
		mustTargets(t, "10.20.0.128/25", "10.20.1.7", "2001:db8::80-2001:db8::ff"),
	)
	tests := []struct {
		addr string
		want bool
	}{
		{"10.20.0.0", true}, // network address of the /24: included, see doc.go
		{"10.20.0.1", true},
		{"10.20.0.127", true},
		{"10.20.0.128", false}, // excluded
		{"10.20.0.255", false}, // excluded (and broadcast)
		{"10.20.1.4", false},
		{"10.20.1.5", true},
		{"10.20.1.6", true},
		{"10.20.1.7", false}, // excluded
		{"10.20.1.40", true},
		{"10.20.1.41", false},
		{"10.30.0.1", true},
		{"10.30.0.2", false},
		{"10.19.255.255", false},
		{"192.168.1.1", false},
		{"::ffff:10.20.0.1", true},
		{"::ffff:10.20.0.200", false}, // mapped form of an excluded address
		{"::ffff:10.20.1.7", false},
		{"2001:db8::1", true},
		{"2001:db8::7f", true},
		{"2001:db8::80", false},
		{"2001:db8::100", false},
		{"2001:db8:1::2", true},
		{"2001:db8:1::4", false},
		{"::a14:1", false}, // IPv4-compatible form of 10.20.0.1 is IPv6, not in scope
		{"fe80::1%eth0", false},
	}
	for _, tt := range tests {
		if got := s.Allows(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Allows(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if s.Allows(netip.Addr{}) {
		t.Error("the zero Addr is allowed")
	}
	if got := s.Names(); !slices.Equal(got, []string{"pacs.example.org"}) {
		t.Errorf("Names() = %q", got)
	}
	if got, want := s.Size(), uint64(128+36-1+1+128+3); got != want {
		t.Errorf("Size() = %d, want %d", got, want)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
}

func TestScopeZone(t *testing.T) {
	s := NewScope(mustTargets(t, "fe80::/120"), mustTargets(t, "fe80::5"))
	if !s.Allows(netip.MustParseAddr("fe80::1%eth0")) {
		t.Error("a zone hid an in-scope address")
	}
	if s.Allows(netip.MustParseAddr("fe80::5%eth0")) {
		t.Error("a zone is a way around an exclusion")
	}
}

func TestExclusionPrecedence(t *testing.T) {
	tests := []struct {
		name      string
		incl, exc []string
		want      []string
	}{
		{"exclusion equals inclusion", []string{"10.0.0.0/30"}, []string{"10.0.0.0/30"}, nil},
		{"exclusion wider", []string{"10.0.0.4-6"}, []string{"10.0.0.0/24"}, nil},
		{"exclusion at both ends", []string{"10.0.0.0/29"}, []string{"10.0.0.0", "10.0.0.7"}, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}},
		{"exclusion in the middle", []string{"10.0.0.0/30"}, []string{"10.0.0.1-2"}, []string{"10.0.0.0", "10.0.0.3"}},
		{"exclusion spanning two inclusions", []string{"10.0.0.0-3", "10.0.0.8-11"}, []string{"10.0.0.2-10.0.0.9"}, []string{"10.0.0.0", "10.0.0.1", "10.0.0.10", "10.0.0.11"}},
		{"included twice, excluded once", []string{"10.0.0.1", "10.0.0.0/31"}, []string{"10.0.0.1"}, []string{"10.0.0.0"}},
		{"mapped exclusion", []string{"10.0.0.0/30"}, []string{"::ffff:10.0.0.2"}, []string{"10.0.0.0", "10.0.0.1", "10.0.0.3"}},
		{"IPv6 exclusion covering the mapped block", []string{"10.0.0.0/30"}, []string{"::/64"}, nil},
		{"IPv6 range exclusion over part of the mapped block", []string{"10.0.0.0/30"}, []string{"::1-::ffff:10.0.0.1"}, []string{"10.0.0.2", "10.0.0.3"}},
		{"IPv6 range exclusion crossing the mapped block", []string{"10.0.0.0/30"}, []string{"::fffe:0:0-::1:0:0:0"}, nil},
		{"IPv6 inclusion covering the mapped block adds no IPv4", []string{"::fffe:ffff:fffe-::ffff:0:3", "0.0.0.1"}, []string{"::ffff:0:3"}, []string{"0.0.0.1", "::fffe:ffff:fffe", "::fffe:ffff:ffff"}},
		{"IPv6 range ending in the mapped block", []string{"::fffe:ffff:fffe-::ffff:10.0.0.1"}, nil, []string{"::fffe:ffff:fffe", "::fffe:ffff:ffff"}},
		{"IPv6 range starting in the mapped block", []string{"::ffff:255.255.255.254-::1:0:0:1"}, nil, []string{"::1:0:0:0", "::1:0:0:1"}},
		{"IPv4 exclusion leaves IPv6 alone", []string{"2001:db8::/126"}, []string{"0.0.0.0/0"}, []string{"2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"}},
		{"edge of the IPv4 space", []string{"255.255.255.254/31"}, []string{"255.255.255.254"}, []string{"255.255.255.255"}},
		{"edge of the IPv6 space", []string{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126"}, []string{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, []string{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewScope(mustTargets(t, tt.incl...), mustTargets(t, tt.exc...))
			got := collect(s, 100)
			want := addrs(tt.want...)
			if !slices.Equal(got, want) {
				t.Errorf("enumerated %v, want %v", got, want)
			}
			if s.Size() != uint64(len(want)) {
				t.Errorf("Size() = %d, want %d", s.Size(), len(want))
			}
		})
	}
}

func TestHugeRangesLazy(t *testing.T) {
	s := NewScope(mustTargets(t, "10.0.0.0/8"), nil)
	if s.Size() != 1<<24 {
		t.Errorf("Size() = %d", s.Size())
	}
	got := collect(s, 1000)
	if len(got) != 1000 || got[0] != netip.MustParseAddr("10.0.0.0") || got[999] != netip.MustParseAddr("10.0.3.231") {
		t.Errorf("got %d addresses, %v..%v", len(got), got[0], got[len(got)-1])
	}
	if n := len(collect(s, 0)); n != 0 {
		t.Errorf("limit 0 yielded %d", n)
	}
	if n := len(collect(s, -5)); n != 0 {
		t.Errorf("negative limit yielded %d", n)
	}

	// Enumerating the whole IPv4 space up to a limit allocates nothing per address.
	all := NewScope(mustTargets(t, "0.0.0.0/0", "::/0"), nil)
	allocs := testing.AllocsPerRun(5, func() {
		n := 0
		for range all.Addresses(100000) {
			n++
		}
		if n != 100000 {
			t.Fatalf("yielded %d", n)
		}
	})
	if allocs > 4 {
		t.Errorf("enumeration allocates %v times", allocs)
	}
	if all.Size() != math.MaxUint64 {
		t.Errorf("Size() of everything = %d, want saturation", all.Size())
	}
	if got := NewScope(mustTargets(t, "0.0.0.0/0"), nil).Size(); got != 1<<32 {
		t.Errorf("Size() of 0.0.0.0/0 = %d", got)
	}
	if got := NewScope(mustTargets(t, "2001:db8::/64"), nil).Size(); got != math.MaxUint64 {
		t.Errorf("Size() of a /64 = %d, want saturation", got)
	}
	if got := NewScope(mustTargets(t, "2001:db8::/65"), nil).Size(); got != 1<<63 {
		t.Errorf("Size() of a /65 = %d", got)
	}

	// Stopping early works: the iterator honours a false from yield.
	n := 0
	for range s.Addresses(1 << 30) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("break after 3 saw %d", n)
	}
}

func TestStableOrder(t *testing.T) {
	items := []string{"2001:db8::/126", "10.0.0.8-10", "10.0.0.0/30", "2001:db8::2-2001:db8::5", "10.0.0.2"}
	a := collect(NewScope(mustTargets(t, items...), nil), 100)
	rev := slices.Clone(items)
	slices.Reverse(rev)
	b := collect(NewScope(mustTargets(t, rev...), nil), 100)
	want := addrs("10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.8", "10.0.0.9", "10.0.0.10",
		"2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4", "2001:db8::5")
	if !slices.Equal(a, want) || !slices.Equal(b, want) {
		t.Errorf("order:\n%v\n%v\nwant %v", a, b, want)
	}
}

// TestScopeProperty compares the scope with a brute-force model over a small universe:
// random inclusions and exclusions, every address of the universe checked.
func TestScopeProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base4 := netip.MustParseAddr("10.0.0.0").As4()
	base6 := netip.MustParseAddr("2001:db8::").As16()
	addr := func(v6 bool, n int) netip.Addr {
		if v6 {
			b := base6
			b[14], b[15] = byte(n>>8), byte(n)
			return netip.AddrFrom16(b)
		}
		b := base4
		b[2], b[3] = byte(n>>8), byte(n)
		return netip.AddrFrom4(b)
	}
	const universe = 1024
	randomItem := func() string {
		v6 := rng.IntN(2) == 0
		lo := rng.IntN(universe)
		switch rng.IntN(4) {
		case 0:
			if rng.IntN(3) == 0 && !v6 {
				return "::ffff:" + addr(false, lo).String() // mapped form
			}
			return addr(v6, lo).String()
		case 1:
			bits := 32 - rng.IntN(10)
			if v6 {
				bits = 128 - rng.IntN(10)
			}
			return netip.PrefixFrom(addr(v6, lo), bits).String()
		case 2:
			hi := lo + rng.IntN(200)
			if hi >= universe {
				hi = universe - 1
			}
			return addr(v6, lo).String() + "-" + addr(v6, hi).String()
		default:
			if v6 {
				return addr(true, lo).String()
			}
			last := addr(false, lo).As4()[3]
			return addr(false, lo).String() + "-" + itoa(int(last)+rng.IntN(256-int(last)))
		}
	}
	in := func(ts []Target, a netip.Addr) bool {
		for _, t := range ts {
			if !a.Less(t.First) && !t.Last.Less(a) {
				return true
			}
		}
		return false
	}
	for round := range 300 {
		var incl, excl []string
		for range 1 + rng.IntN(5) {
			incl = append(incl, randomItem())
		}
		for range rng.IntN(5) {
			excl = append(excl, randomItem())
		}
		it, et := mustTargets(t, incl...), mustTargets(t, excl...)
		s := NewScope(it, et)
		var want []netip.Addr
		for _, v6 := range []bool{false, true} {
			for n := range universe {
				a := addr(v6, n)
				w := in(it, a) && !in(et, a)
				if s.Allows(a) != w {
					t.Fatalf("round %d: incl %q excl %q: Allows(%v) = %v, want %v", round, incl, excl, a, !w, w)
				}
				if w {
					want = append(want, a)
				}
			}
		}
		got := collect(s, 1<<20)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: incl %q excl %q: enumerated %d addresses, want %d", round, incl, excl, len(got), len(want))
		}
		if s.Size() != uint64(len(want)) {
			t.Fatalf("round %d: Size() = %d, want %d", round, s.Size(), len(want))
		}
		// No excluded address, in any form, is allowed.
		for _, e := range et {
			for _, a := range []netip.Addr{e.First, e.Last} {
				if s.Allows(a) || (a.Is4() && s.Allows(netip.AddrFrom16(a.As16()))) {
					t.Fatalf("round %d: excluded %v allowed", round, a)
				}
			}
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// fakeDNS resolves from a table; names absent from it fail.
func fakeDNS(table map[string][]string) Resolver {
	return func(_ context.Context, name string) ([]netip.Addr, error) {
		ss, ok := table[name]
		if !ok {
			return nil, errors.New("no such host")
		}
		return addrs(ss...), nil
	}
}

func TestScopeNames(t *testing.T) {
	dns := map[string][]string{
		"pacs.example.org": {"10.9.0.5", "::ffff:10.9.0.6", "10.20.0.9", "10.9.0.5", "2001:db8::5"},
		"ris.example.org":  {"10.9.0.7"},
		"mirth":            {"10.9.0.8"},
	}
	s := NewScope(mustTargets(t, "10.20.0.0/24", "PACS.example.org.", "ris.example.org", "gone.example.org"), mustTargets(t, "10.20.0.9", "2001:db8::/64"))
	err := s.Resolve(context.Background(), fakeDNS(dns))
	if err == nil || !strings.Contains(err.Error(), `probe: resolve "gone.example.org": no such host`) {
		t.Errorf("Resolve error = %v", err)
	}
	if got, want := s.Resolved("pacs.example.org"), addrs("10.9.0.5", "10.9.0.6"); !slices.Equal(got, want) {
		t.Errorf("Resolved(pacs) = %v, want %v (excluded and duplicate addresses dropped, mapped unmapped)", got, want)
	}
	tests := []struct {
		name, addr string
		want       bool
	}{
		{"pacs.example.org", "10.9.0.5", true},
		{"PACS.Example.org.", "10.9.0.6", true},
		{"pacs.example.org", "::ffff:10.9.0.5", true},
		{"pacs.example.org", "10.20.0.9", false}, // excluded, whatever resolves to it
		{"pacs.example.org", "2001:db8::5", false},
		{"pacs.example.org", "10.9.0.7", false}, // ris's address, not pacs's
		{"ris.example.org", "10.9.0.7", true},
		{"gone.example.org", "10.9.0.5", false},
		{"mirth", "10.9.0.8", false}, // not a target
		{"bad name!", "10.9.0.5", false},
	}
	for _, tt := range tests {
		if got := s.AllowsName(tt.name, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("AllowsName(%s, %s) = %v, want %v", tt.name, tt.addr, got, tt.want)
		}
	}
	// Resolved addresses are in scope for their name only, never as bare addresses.
	if s.Allows(netip.MustParseAddr("10.9.0.5")) {
		t.Error("a resolved address is allowed as a bare address")
	}
	for a := range s.Addresses(1000) {
		if a == netip.MustParseAddr("10.9.0.5") {
			t.Error("a resolved address is enumerated")
		}
	}
	if s.Resolve(context.Background(), nil) == nil {
		t.Error("a nil resolver is accepted")
	}
}

func TestScopeExcludedNames(t *testing.T) {
	dns := map[string][]string{
		"pacs.example.org": {"10.20.0.9", "10.9.0.9"},
		"ris.example.org":  {"10.20.0.10"},
	}
	s := NewScope(mustTargets(t, "10.20.0.0/24", "pacs.example.org", "ris.example.org"), mustTargets(t, "Pacs.Example.Org"))
	if got := s.Names(); !slices.Equal(got, []string{"ris.example.org"}) {
		t.Errorf("Names() = %q: an excluded name stayed", got)
	}
	// Closed until the excluded name is resolved: no one knows which addresses to avoid.
	if s.Err() == nil || s.Allows(netip.MustParseAddr("10.20.0.1")) || len(collect(s, 10)) != 0 || s.Size() != 0 {
		t.Error("scope with an unresolved excluded name is open")
	}
	// A failed lookup of the excluded name keeps it closed.
	if err := s.Resolve(context.Background(), fakeDNS(map[string][]string{"ris.example.org": {"10.20.0.10"}})); err == nil {
		t.Error("no error for an unresolvable excluded name")
	}
	if s.Err() == nil || s.Allows(netip.MustParseAddr("10.20.0.1")) || s.AllowsName("ris.example.org", netip.MustParseAddr("10.20.0.10")) {
		t.Error("scope opened although an excluded name failed to resolve")
	}
	if err := s.Resolve(context.Background(), fakeDNS(dns)); err != nil {
		t.Fatal(err)
	}
	if s.Err() != nil {
		t.Errorf("Err() = %v after a full resolve", s.Err())
	}
	if s.Allows(netip.MustParseAddr("10.20.0.9")) {
		t.Error("the excluded name's address is allowed")
	}
	if !s.Allows(netip.MustParseAddr("10.20.0.8")) || s.Size() != 255 {
		t.Errorf("rest of the /24 lost: Size() = %d", s.Size())
	}
	if !s.AllowsName("ris.example.org", netip.MustParseAddr("10.20.0.10")) {
		t.Error("ris lost")
	}
	// A later failing resolve closes the scope again rather than forgetting the exclusion.
	if err := s.Resolve(context.Background(), fakeDNS(nil)); err == nil || s.Allows(netip.MustParseAddr("10.20.0.8")) {
		t.Error("a failed re-resolve left the scope open")
	}
}

func TestScopeMalformedTargets(t *testing.T) {
	a := netip.MustParseAddr
	good := mustTargets(t, "10.0.0.0/30")
	// A hand-built inclusion that is malformed is ignored: contacting less.
	s := NewScope(append(good, Target{Text: "rev", First: a("10.0.0.9"), Last: a("10.0.0.5")}, Target{Text: "mixed", First: a("10.0.0.9"), Last: a("2001:db8::1")}, Target{}), nil)
	if s.Size() != 4 || s.Err() != nil {
		t.Errorf("Size() = %d, Err() = %v", s.Size(), s.Err())
	}
	// A hand-built malformed exclusion closes the scope: never skipped silently.
	for _, bad := range []Target{{Text: "rev", First: a("10.0.0.2"), Last: a("10.0.0.1")}, {Text: "zero"}, {Text: "badname", Name: "bad name"}} {
		s := NewScope(good, []Target{bad})
		if s.Err() == nil || s.Allows(a("10.0.0.1")) || len(collect(s, 10)) != 0 {
			t.Errorf("exclusion %+v: scope open", bad)
		}
		s.Resolve(context.Background(), fakeDNS(nil))
		if s.Err() == nil || s.Allows(a("10.0.0.1")) {
			t.Errorf("exclusion %+v: Resolve opened the scope", bad)
		}
	}
	// A hand-built mapped or zoned exclusion is held to the parsed form.
	s = NewScope(good, []Target{{Text: "m", First: a("::ffff:10.0.0.1"), Last: a("::ffff:10.0.0.1")}, {Text: "z", First: a("10.0.0.2"), Last: a("10.0.0.2")}})
	if got := collect(s, 10); !slices.Equal(got, addrs("10.0.0.0", "10.0.0.3")) {
		t.Errorf("enumerated %v", got)
	}
}
