package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
)

// portsDialled returns the distinct ports dialled on h, ascending.
func (l *dialLog) portsDialled(h netip.Addr) []uint16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []uint16
	for _, d := range l.dials {
		if d.ap.Addr() == h {
			out = append(out, d.ap.Port())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestRunTargetPorts runs a scan whose targets name ports and checks, from the dials
// themselves, that a target written with a port is contacted on that port alone, that an
// address written both ways gets the run's ports and its own, that a name with a port is
// probed there only, and that an exclusion removes a host written with a port.
func TestRunTargetPorts(t *testing.T) {
	hosts := loopHosts(31, 32, 33, 34)
	rs := newRecServer(t, modeHTTP, hosts, 3)
	p0, p1, p2 := rs.ports[0], rs.ports[1], rs.ports[2]
	s := NewScope(mustTargets(t,
		"127.0.0.31",
		fmt.Sprintf("127.0.0.31:%d", p2),
		fmt.Sprintf("127.0.0.32:%d", p1),
		fmt.Sprintf("pump.example:%d", p2),
		fmt.Sprintf("127.0.0.34:%d", p0),
	), mustTargets(t, "127.0.0.34"))
	if err := s.Resolve(context.Background(), fakeDNS(map[string][]string{"pump.example": {"127.0.0.33"}})); err != nil {
		t.Fatal(err)
	}
	log := newDialLog(t, hosts[:3]...) // a dial to 127.0.0.34 fails the test
	set := observe.NewSet()
	cfg := Config{Profile: ProfileInventory, Ports: []uint16{p0}, Pause: -1, Rate: -1, Timeouts: fastTimeouts, DialContext: log.dial}
	st, err := Run(context.Background(), s, cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Addr][]uint16{hosts[0]: {p0, p2}, hosts[1]: {p1}, hosts[2]: {p2}, hosts[3]: nil}
	for h, ports := range want {
		if got := log.portsDialled(h); !slices.Equal(got, ports) {
			t.Errorf("%s: dialled ports %v, want %v", h, got, ports)
		}
	}
	if st.Hosts != 3 || st.Ports != 4 {
		t.Errorf("stats %+v: want 3 hosts and 4 ports", st)
	}
	for _, ap := range set.Probes {
		if !slices.Contains(want[ap.Server.Addr()], ap.Server.Port()) {
			t.Errorf("probe result for %s, which no target named", ap.Server)
		}
	}

	// The dialer holds the line too: a port a target did not name is refused before any
	// connect, for an address and for a name.
	cfg = cfg.withDefaults()
	for _, c := range []struct {
		addr netip.Addr
		name string
		port uint16
	}{{hosts[1], "", p0}, {hosts[1], "", p2}, {hosts[2], "pump.example", p0}, {hosts[0], "", p1}} {
		n := len(log.dialsTo(c.addr))
		d := newHostDialer(&cfg, s, newLimiter(-1), c.addr, c.name, nil)
		if _, err := d.Dial(context.Background(), c.port); !errors.Is(err, ErrOutOfScope) {
			t.Errorf("dial %s:%d as %q: %v, want ErrOutOfScope", c.addr, c.port, c.name, err)
		}
		if len(log.dialsTo(c.addr)) != n {
			t.Errorf("dial %s:%d as %q reached DialContext", c.addr, c.port, c.name)
		}
	}
}

// TestScopeAllowsPort checks AllowsPort and AllowsNamePort against targets with and
// without ports, exclusions of every form, and a closed scope.
func TestScopeAllowsPort(t *testing.T) {
	a := netip.MustParseAddr
	run := []uint16{443, 8443}
	s := NewScope(mustTargets(t, "10.0.0.0/30", "10.0.0.2:2575", "10.0.1.9:11112", "[2001:db8::1]:636",
		"10.0.2-3.1,5", "10.0.4.4:443", "pacs.example", "pacs.example:2762", "ris.example:4443"),
		mustTargets(t, "10.0.0.3", "10.0.3.5", "10.0.4.4", "[2001:db8::2]"))
	if err := s.Resolve(context.Background(), fakeDNS(map[string][]string{
		"pacs.example": {"10.9.0.1"}, "ris.example": {"10.9.0.2", "10.0.3.5"},
	})); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		port uint16
		want bool
	}{
		{"10.0.0.1", 443, true},
		{"10.0.0.1", 2575, false}, // named for 10.0.0.2 only
		{"10.0.0.2", 2575, true},
		{"10.0.0.2", 8443, true}, // also in the /30
		{"10.0.0.3", 443, false}, // excluded
		{"10.0.1.9", 11112, true},
		{"10.0.1.9", 443, false}, // written with a port: that port alone
		{"::ffff:10.0.1.9", 11112, true},
		{"2001:db8::1", 636, true},
		{"2001:db8::1", 443, false},
		{"10.0.2.1", 443, true},
		{"10.0.2.5", 8443, true},
		{"10.0.2.3", 443, false},
		{"10.0.3.5", 443, false}, // excluded
		{"10.0.4.4", 443, false}, // excluded, although written with a port
		{"10.9.0.1", 443, false}, // a name's address is not an address target
	}
	for _, tt := range tests {
		if got := s.AllowsPort(a(tt.addr), tt.port, run); got != tt.want {
			t.Errorf("AllowsPort(%s, %d) = %v, want %v", tt.addr, tt.port, got, tt.want)
		}
	}
	names := []struct {
		name, addr string
		port       uint16
		want       bool
	}{
		{"pacs.example", "10.9.0.1", 443, true},
		{"pacs.example", "10.9.0.1", 2762, true},
		{"pacs.example", "10.9.0.1", 2575, false},
		{"ris.example", "10.9.0.2", 4443, true},
		{"ris.example", "10.9.0.2", 443, false},  // written with a port only
		{"ris.example", "10.0.3.5", 4443, false}, // excluded address
		{"ris.example", "10.9.0.1", 4443, false}, // another name's address
	}
	for _, tt := range names {
		if got := s.AllowsNamePort(tt.name, a(tt.addr), tt.port, run); got != tt.want {
			t.Errorf("AllowsNamePort(%s, %s, %d) = %v, want %v", tt.name, tt.addr, tt.port, got, tt.want)
		}
	}
	closed := NewScope(mustTargets(t, "10.0.0.2:2575"), mustTargets(t, "gone.example"))
	if closed.AllowsPort(a("10.0.0.2"), 2575, run) {
		t.Error("a closed scope allows an endpoint")
	}
	// A hand-built port on a block is ignored: contacting less.
	odd := NewScope([]Target{{Text: "b", First: a("10.0.0.1"), Last: a("10.0.0.9"), Port: 443}}, nil)
	if odd.AllowsPort(a("10.0.0.1"), 443, run) || odd.plan(run).hosts != 0 {
		t.Error("a port on a hand-built block was honoured")
	}
}

// TestList checks the dry run's two forms against a scope of every kind of target.
func TestList(t *testing.T) {
	s := NewScope(mustTargets(t, "10.0.0.4-6", "10.0.0.5:2575", "10.0.0.1:8443", "10.0.0.9:443",
		"[2001:db8::1]:636", "pacs.example", "ris.example:4443"),
		mustTargets(t, "10.0.0.6"))
	if err := s.Resolve(context.Background(), fakeDNS(map[string][]string{
		"pacs.example": {"10.9.0.1"}, "ris.example": {"10.9.0.2", "10.9.0.3"},
	})); err != nil {
		t.Fatal(err)
	}
	run := []uint16{443, 8443}
	var b strings.Builder
	sum, err := s.List(&b, run, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := `10.0.0.1:8443
10.0.0.4:443
10.0.0.4:8443
10.0.0.5:443
10.0.0.5:2575
10.0.0.5:8443
10.0.0.9:443
[2001:db8::1]:636
10.9.0.1:443 pacs.example
10.9.0.1:8443 pacs.example
10.9.0.2:4443 ris.example
10.9.0.3:4443 ris.example
`
	if b.String() != want {
		t.Errorf("List:\n%s\nwant:\n%s", b.String(), want)
	}
	if sum != (ListSummary{Hosts: 8, Endpoints: 12}) {
		t.Errorf("summary %+v", sum)
	}
	if n := strings.Count(want, "\n"); uint64(n) != sum.Endpoints {
		t.Errorf("summary counts %d pairs, listed %d", sum.Endpoints, n)
	}

	b.Reset()
	sum, err = s.List(&b, run, 11)
	if err != nil {
		t.Fatal(err)
	}
	want = `10.0.0.4-10.0.0.5 443,8443
10.0.0.1 8443
10.0.0.5 2575
10.0.0.9 443
2001:db8::1 636
10.9.0.1 443,8443 pacs.example
10.9.0.2 4443 ris.example
10.9.0.3 4443 ris.example
`
	if b.String() != want || !sum.Compact || sum.Endpoints != 12 {
		t.Errorf("compact List (%+v):\n%s\nwant:\n%s", sum, b.String(), want)
	}

	// A huge scope lists in a few lines and counts without enumerating.
	b.Reset()
	sum, err = NewScope(mustTargets(t, "10.0.0.0/8", "0-255.0-255.0-255.0-255"), nil).List(&b, DefaultPorts, 1000)
	if err != nil || !sum.Compact || sum.Hosts != 1<<32 || sum.Endpoints != uint64(len(DefaultPorts))<<32 || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("whole IPv4 space: %+v, %v:\n%s", sum, err, b.String())
	}
	// A closed scope lists nothing.
	b.Reset()
	if sum, _ := NewScope(mustTargets(t, "10.0.0.1"), mustTargets(t, "gone.example")).List(&b, run, 10); sum.Hosts != 0 || b.Len() != 0 {
		t.Errorf("closed scope listed %q (%+v)", b.String(), sum)
	}
}
