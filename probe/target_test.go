package probe

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseTargets(t *testing.T) {
	a := netip.MustParseAddr
	p := netip.MustParsePrefix
	tests := []struct {
		in          string
		first, last string // empty for names
		prefix      string // empty when not written as address or CIDR
		name        string
	}{
		{in: "10.20.0.7", first: "10.20.0.7", last: "10.20.0.7", prefix: "10.20.0.7/32"},
		{in: "  10.20.0.7\t", first: "10.20.0.7", last: "10.20.0.7", prefix: "10.20.0.7/32"},
		{in: "2001:db8::1", first: "2001:db8::1", last: "2001:db8::1", prefix: "2001:db8::1/128"},
		{in: "::ffff:10.0.0.1", first: "10.0.0.1", last: "10.0.0.1", prefix: "10.0.0.1/32"},
		{in: "10.20.0.0/24", first: "10.20.0.0", last: "10.20.0.255", prefix: "10.20.0.0/24"},
		{in: "10.20.0.5/24", first: "10.20.0.0", last: "10.20.0.255", prefix: "10.20.0.0/24"},
		{in: "10.20.0.9/32", first: "10.20.0.9", last: "10.20.0.9", prefix: "10.20.0.9/32"},
		{in: "10.20.0.8/31", first: "10.20.0.8", last: "10.20.0.9", prefix: "10.20.0.8/31"},
		{in: "10.0.0.0/8", first: "10.0.0.0", last: "10.255.255.255", prefix: "10.0.0.0/8"},
		{in: "10.16.0.0/12", first: "10.16.0.0", last: "10.31.255.255", prefix: "10.16.0.0/12"},
		{in: "0.0.0.0/0", first: "0.0.0.0", last: "255.255.255.255", prefix: "0.0.0.0/0"},
		{in: "2001:db8::/120", first: "2001:db8::", last: "2001:db8::ff", prefix: "2001:db8::/120"},
		{in: "2001:db8::/61", first: "2001:db8::", last: "2001:db8:0:7:ffff:ffff:ffff:ffff", prefix: "2001:db8::/61"},
		{in: "::ffff:10.0.0.0/104", first: "10.0.0.0", last: "10.255.255.255", prefix: "10.0.0.0/8"},
		{in: "::/0", first: "::", last: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", prefix: "::/0"},
		{in: "10.20.1.5-40", first: "10.20.1.5", last: "10.20.1.40"},
		{in: "10.20.1.5-5", first: "10.20.1.5", last: "10.20.1.5"},
		{in: "10.20.1.0-255", first: "10.20.1.0", last: "10.20.1.255"},
		{in: "10.20.1.5-10.20.2.9", first: "10.20.1.5", last: "10.20.2.9"},
		{in: "::ffff:10.20.1.5-10.20.1.9", first: "10.20.1.5", last: "10.20.1.9"},
		{in: "2001:db8::1-2001:db8::1:0", first: "2001:db8::1", last: "2001:db8::1:0"},
		{in: "10.20.1.5-::ffff:10.20.1.9", first: "10.20.1.5", last: "10.20.1.9"},
		{in: "::1-::ffff:10.0.0.1", first: "::1", last: "::ffff:10.0.0.1"},
		{in: "::ffff:0:0/95", first: "::fffe:0:0", last: "::ffff:255.255.255.255", prefix: "::fffe:0:0/95"},
		{in: "pacs01.radiology.example.org", name: "pacs01.radiology.example.org"},
		{in: "PACS-01.Example.ORG.", name: "pacs-01.example.org"},
		{in: "infusion_gw", name: "infusion_gw"},
		{in: "host-1", name: "host-1"},
		{in: "3com", name: "3com"},
		{in: "10.example", name: "10.example"},
	}
	for _, tt := range tests {
		got, err := ParseTargets([]string{tt.in})
		if err != nil {
			t.Errorf("ParseTargets(%q): %v", tt.in, err)
			continue
		}
		g := got[0]
		if g.Text != strings.TrimSpace(tt.in) {
			t.Errorf("%q: Text = %q", tt.in, g.Text)
		}
		if tt.name != "" {
			if !g.IsName() || g.Name != tt.name || g.First.IsValid() {
				t.Errorf("%q: got %+v, want name %q", tt.in, g, tt.name)
			}
			continue
		}
		if g.IsName() || g.First != a(tt.first) || g.Last != a(tt.last) {
			t.Errorf("%q: got %v-%v name %q, want %s-%s", tt.in, g.First, g.Last, g.Name, tt.first, tt.last)
		}
		if tt.prefix == "" {
			if g.Prefix.IsValid() {
				t.Errorf("%q: range has prefix %v", tt.in, g.Prefix)
			}
		} else if g.Prefix != p(tt.prefix) {
			t.Errorf("%q: Prefix = %v, want %s", tt.in, g.Prefix, tt.prefix)
		}
	}
}

// TestParseTargetsUserSyntax covers the forms testssl.sh, sslscan and nmap users type:
// host:port, bracketed IPv6 with and without a port, and nmap octet patterns. Blocks are
// written first-last; a single block is First and Last with no Blocks.
func TestParseTargetsUserSyntax(t *testing.T) {
	tests := []struct {
		in     string
		blocks []string // first-last of every block, or the one block
		name   string
		port   uint16
	}{
		{in: "127.0.0.1:18443", blocks: []string{"127.0.0.1-127.0.0.1"}, port: 18443},
		{in: "::ffff:10.0.0.1", blocks: []string{"10.0.0.1-10.0.0.1"}},
		{in: "pacs.example:443", name: "pacs.example", port: 443},
		{in: "PACS:2762", name: "pacs", port: 2762},
		{in: "10.0.0.1:65535", blocks: []string{"10.0.0.1-10.0.0.1"}, port: 65535},
		{in: "10.0.0.1-1:443", blocks: []string{"10.0.0.1-10.0.0.1"}, port: 443},
		{in: "[::1]", blocks: []string{"::1-::1"}},
		{in: "[2001:db8::1]:8443", blocks: []string{"2001:db8::1-2001:db8::1"}, port: 8443},
		{in: "[::ffff:10.0.0.7]:443", blocks: []string{"10.0.0.7-10.0.0.7"}, port: 443},
		{in: "[10.0.0.7]", blocks: []string{"10.0.0.7-10.0.0.7"}},
		{in: "10.0.0-3.1-254", blocks: []string{"10.0.0.1-10.0.0.254", "10.0.1.1-10.0.1.254", "10.0.2.1-10.0.2.254", "10.0.3.1-10.0.3.254"}},
		{in: "192.168.3-5,7.1", blocks: []string{"192.168.3.1-192.168.3.1", "192.168.4.1-192.168.4.1", "192.168.5.1-192.168.5.1", "192.168.7.1-192.168.7.1"}},
		{in: "10.0.0.1,3,5", blocks: []string{"10.0.0.1-10.0.0.1", "10.0.0.3-10.0.0.3", "10.0.0.5-10.0.0.5"}},
		{in: "10.0.0.5,1,3-4", blocks: []string{"10.0.0.1-10.0.0.1", "10.0.0.3-10.0.0.5"}},
		{in: "10.0.0.1,2,3", blocks: []string{"10.0.0.1-10.0.0.3"}},
		{in: "10.0.0-3.0-255", blocks: []string{"10.0.0.0-10.0.3.255"}},
		{in: "10.0-255.0-255.0-255", blocks: []string{"10.0.0.0-10.255.255.255"}},
		{in: "0-255.0-255.0-255.0-255", blocks: []string{"0.0.0.0-255.255.255.255"}},
		{in: "10,11.0.0.0-255", blocks: []string{"10.0.0.0-10.0.0.255", "11.0.0.0-11.0.0.255"}},
		{in: "10.1,3.0-255.0-255", blocks: []string{"10.1.0.0-10.1.255.255", "10.3.0.0-10.3.255.255"}},
	}
	for _, tt := range tests {
		got, err := ParseTargets([]string{tt.in})
		if err != nil {
			t.Errorf("ParseTargets(%q): %v", tt.in, err)
			continue
		}
		g := got[0]
		if g.Text != tt.in || g.Port != tt.port || g.Name != tt.name {
			t.Errorf("%q: Text %q Port %d Name %q, want port %d name %q", tt.in, g.Text, g.Port, g.Name, tt.port, tt.name)
		}
		if tt.name != "" {
			continue
		}
		var blocks []string
		if g.Blocks == nil {
			blocks = []string{g.First.String() + "-" + g.Last.String()}
		} else {
			for _, b := range g.Blocks {
				blocks = append(blocks, b.First.String()+"-"+b.Last.String())
			}
			if g.First != g.Blocks[0].First || g.Last != g.Blocks[len(g.Blocks)-1].Last {
				t.Errorf("%q: First-Last %v-%v do not bound the blocks", tt.in, g.First, g.Last)
			}
		}
		if !slices.Equal(blocks, tt.blocks) {
			t.Errorf("%q: blocks %q, want %q", tt.in, blocks, tt.blocks)
		}
	}

	// The largest pattern allowed: every host part of 10/8 but .0 and .255.
	got, err := ParseTargets([]string{"10.0-255.0-255.1-254"})
	if err != nil || len(got[0].Blocks) != maxOctetBlocks {
		t.Fatalf("10.0-255.0-255.1-254: %v, %d blocks", err, len(got[0].Blocks))
	}
	if s := NewScope(got, nil); s.Size() != 65536*254 {
		t.Errorf("its scope holds %d addresses", s.Size())
	}
}

// TestSplitTargetList checks where commas separate targets and where they belong to an
// nmap octet pattern.
func TestSplitTargetList(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"10.0.0.1,10.0.0.2"}, []string{"10.0.0.1", "10.0.0.2"}},
		{[]string{"a.example,b.example"}, []string{"a.example", "b.example"}},
		{[]string{"10.0.0.1,3,5"}, []string{"10.0.0.1,3,5"}},
		{[]string{"192.168.3-5,7.1"}, []string{"192.168.3-5,7.1"}},
		{[]string{"192.168.3-5,7.1,10.0.0.1"}, []string{"192.168.3-5,7.1", "10.0.0.1"}},
		{[]string{"10.0.0.1-5,9,pacs,10.0.1.1"}, []string{"10.0.0.1-5,9", "pacs", "10.0.1.1"}},
		{[]string{"10,11.0.0.1"}, []string{"10,11.0.0.1"}},
		{[]string{"10.0.0.0/24,3"}, []string{"10.0.0.0/24", "3"}},
		{[]string{"pacs,3"}, []string{"pacs", "3"}},
		{[]string{"::1,::2"}, []string{"::1", "::2"}},
		{[]string{"127.0.0.1:443,3"}, []string{"127.0.0.1:443", "3"}},
		{[]string{" 10.0.0.1 , 3 ,, 10.0.0.9 "}, []string{"10.0.0.1,3", "10.0.0.9"}},
		{[]string{"10.0.0.1", "3"}, []string{"10.0.0.1", "3"}}, // separate arguments stay separate
		{[]string{"", ",", "pacs"}, []string{"pacs"}},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := SplitTargetList(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("SplitTargetList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTargetsErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
		is   error
	}{
		{"10.20.0.0/33", `probe: target "10.20.0.0/33": invalid CIDR prefix length`, ErrInvalidPrefix},
		{"2001:db8::/129", `probe: target "2001:db8::/129": invalid CIDR prefix length`, ErrInvalidPrefix},
		{"10.20.0.0/", `probe: target "10.20.0.0/": invalid CIDR prefix length`, ErrInvalidPrefix},
		{"10.20.0.0/-1", `probe: target "10.20.0.0/-1": invalid CIDR prefix length`, ErrInvalidPrefix},
		{"10.20.0.0/024", `probe: target "10.20.0.0/024": invalid CIDR prefix length`, ErrInvalidPrefix},
		{"10.20.0.0/2x", `probe: target "10.20.0.0/2x": invalid CIDR prefix length`, ErrInvalidPrefix},
		{"10.20.0.0/24/8", `probe: target "10.20.0.0/24/8": invalid CIDR prefix length`, ErrInvalidPrefix},
		{"10.20.0.300/24", `probe: target "10.20.0.300/24": invalid CIDR`, ErrInvalidCIDR},
		{"pacs/24", `probe: target "pacs/24": invalid CIDR`, ErrInvalidCIDR},
		{"fe80::1%eth0/64", `probe: target "fe80::1%eth0/64": addresses with a zone are not supported`, ErrZone},
		{"10.20.0.300", `probe: target "10.20.0.300": invalid IP address`, ErrInvalidAddress},
		{"010.20.0.1", `probe: target "010.20.0.1": invalid IP address`, ErrInvalidAddress},
		{"10.20.0", `probe: target "10.20.0": invalid IP address`, ErrInvalidAddress},
		{"12345", `probe: target "12345": invalid IP address`, ErrInvalidAddress},
		{"2001:db8::g", `probe: target "2001:db8::g": invalid IP address`, ErrInvalidAddress},
		{"fe80::1%eth0", `probe: target "fe80::1%eth0": addresses with a zone are not supported`, ErrZone},
		{"10.20.1.40-5", `probe: target "10.20.1.40-5": reversed range: the end is below the start`, ErrReversedRange},
		{"10.20.1.5-256", `probe: target "10.20.1.5-256": invalid range end`, ErrInvalidRange},
		{"10.20.1.5-", `probe: target "10.20.1.5-": invalid range end`, ErrInvalidRange},
		{"10.20.1.5-040", `probe: target "10.20.1.5-040": invalid range end`, ErrInvalidRange},
		{"10.20.1.5-40-50", `probe: target "10.20.1.5-40-50": invalid range end`, ErrInvalidRange},
		{"10.20.1.5-x", `probe: target "10.20.1.5-x": invalid range end`, ErrInvalidRange},
		{"10.20.2.9-10.20.1.5", `probe: target "10.20.2.9-10.20.1.5": reversed range: the end is below the start`, ErrReversedRange},
		{"10.20.1.5-10.20.1", `probe: target "10.20.1.5-10.20.1": invalid range end`, ErrInvalidRange},
		{"10.20.1.5-2001:db8::1", `probe: target "10.20.1.5-2001:db8::1": range ends are of different address families`, ErrMixedRange},
		{"2001:db8::ff-2001:db8::1", `probe: target "2001:db8::ff-2001:db8::1": reversed range: the end is below the start`, ErrReversedRange},
		{"2001:db8::1-ff", `probe: target "2001:db8::1-ff": invalid range end`, ErrInvalidRange},
		{"2001:db8::x-2001:db8::1", `probe: target "2001:db8::x-2001:db8::1": invalid IP address`, ErrInvalidAddress},
		{"fe80::1%eth0-fe80::2", `probe: target "fe80::1%eth0-fe80::2": addresses with a zone are not supported`, ErrZone},
		{"", `probe: target "": empty target`, ErrEmptyTarget},
		{"   ", `probe: target "": empty target`, ErrEmptyTarget},
		{"-host", `probe: target "-host": invalid host name`, ErrInvalidHostName},
		{"host-", `probe: target "host-": invalid host name`, ErrInvalidHostName},
		{"a..b", `probe: target "a..b": invalid host name`, ErrInvalidHostName},
		{"pacs 01", `probe: target "pacs 01": invalid host name`, ErrInvalidHostName},
		{"10.0.0.*", `probe: target "10.0.0.*": invalid host name`, ErrInvalidHostName},
		{"http://pacs", `probe: target "http://pacs": a URL is not a target: give its host, with :port to probe that port alone`, ErrURL},
		{"pacs:0", `probe: target "pacs:0": invalid port: want host:port with a port from 1 to 65535`, ErrInvalidPort},
		{"pacs:", `probe: target "pacs:": invalid port: want host:port with a port from 1 to 65535`, ErrInvalidPort},
		{"10.0.0.1:65536", `probe: target "10.0.0.1:65536": invalid port: want host:port with a port from 1 to 65535`, ErrInvalidPort},
		{"10.0.0.1:0443", `probe: target "10.0.0.1:0443": invalid port: want host:port with a port from 1 to 65535`, ErrInvalidPort},
		{"10.0.0.1:https", `probe: target "10.0.0.1:https": invalid port: want host:port with a port from 1 to 65535`, ErrInvalidPort},
		{"10.0.0.0/24:443", `probe: target "10.0.0.0/24:443": a port can follow one address or host name only; give a block's ports with --ports`, ErrPortOnBlock},
		{"10.0.0.1-9:443", `probe: target "10.0.0.1-9:443": a port can follow one address or host name only; give a block's ports with --ports`, ErrPortOnBlock},
		{"10.0.0.1,3:443", `probe: target "10.0.0.1,3:443": a port can follow one address or host name only; give a block's ports with --ports`, ErrPortOnBlock},
		{"10.0.0.300:443", `probe: target "10.0.0.300:443": invalid IP address`, ErrInvalidAddress},
		{"pacs 01:443", `probe: target "pacs 01:443": invalid host name`, ErrInvalidHostName},
		{"[2001:db8::1", `probe: target "[2001:db8::1": invalid IP address`, ErrInvalidAddress},
		{"[2001:db8::1]443", `probe: target "[2001:db8::1]443": invalid IP address`, ErrInvalidAddress},
		{"[2001:db8::1]:", `probe: target "[2001:db8::1]:": invalid port: want host:port with a port from 1 to 65535`, ErrInvalidPort},
		{"[2001:db8::/64]:443", `probe: target "[2001:db8::/64]:443": invalid IP address`, ErrInvalidAddress},
		{"[pacs]:443", `probe: target "[pacs]:443": invalid IP address`, ErrInvalidAddress},
		{"[fe80::1%eth0]:443", `probe: target "[fe80::1%eth0]:443": addresses with a zone are not supported`, ErrZone},
		{"10.0.0-3.1-300", `probe: target "10.0.0-3.1-300": invalid range end`, ErrInvalidRange},
		{"10.0.3-0.1", `probe: target "10.0.3-0.1": reversed range: the end is below the start`, ErrReversedRange},
		{"10.0.0.1,256", `probe: target "10.0.0.1,256": invalid IP address`, ErrInvalidAddress},
		{"10.0.0.1,,3", `probe: target "10.0.0.1,,3": invalid IP address`, ErrInvalidAddress},
		{"10.0.00.1,3", `probe: target "10.0.00.1,3": invalid IP address`, ErrInvalidAddress},
		{"10.0.0-3.1.5", `probe: target "10.0.0-3.1.5": invalid IP address`, ErrInvalidAddress},
		{"10.0-3.1", `probe: target "10.0-3.1": invalid IP address`, ErrInvalidAddress},
		{"10.0.0-.1", `probe: target "10.0.0-.1": invalid range end`, ErrInvalidRange},
		{"0-255.0-255.0-255.1", `probe: target "0-255.0-255.0-255.1": the octet pattern names more than 65536 separate blocks; write it as CIDRs or wider ranges`, ErrTooManyBlocks},
		{"10.0.0.1-::1", `probe: target "10.0.0.1-::1": range ends are of different address families`, ErrMixedRange},
		{strings.Repeat("a", 64) + ".org", `probe: target "` + strings.Repeat("a", 64) + `.org": invalid host name`, ErrInvalidHostName},
	}
	for _, tt := range tests {
		_, err := ParseTargets([]string{"10.0.0.1", tt.in, "also-never-reached"})
		if err == nil {
			t.Errorf("ParseTargets(%q): no error", tt.in)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseTargets(%q):\n got %s\nwant %s", tt.in, err, tt.want)
		}
		if !errors.Is(err, tt.is) {
			t.Errorf("ParseTargets(%q): error %v is not %v", tt.in, err, tt.is)
		}
		var te *TargetError
		if !errors.As(err, &te) || te.Text != strings.TrimSpace(tt.in) {
			t.Errorf("ParseTargets(%q): not a TargetError naming the item: %#v", tt.in, err)
		}
	}
	long := strings.Repeat("1", 301)
	if _, err := ParseTargets([]string{long}); err == nil || !strings.Contains(err.Error(), "longer than 300 bytes") {
		t.Errorf("overlong item: %v", err)
	}
}

func TestParseTargetFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "targets.txt")
	content := "# radiology\n10.20.0.0/24\n\n   \n10.20.1.5-40   # modalities\npacs.example.org\n#2001:db8::/120\n2001:db8::1\n"
	if err := os.WriteFile(good, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ParseTargetFile(good)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, g := range got {
		texts = append(texts, g.Text)
	}
	want := []string{"10.20.0.0/24", "10.20.1.5-40", "pacs.example.org", "2001:db8::1"}
	if !slices.Equal(texts, want) {
		t.Errorf("got %q, want %q", texts, want)
	}

	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("10.0.0.1\n# c\n\n10.0.0.2\n10.0.0.3\n10.0.0.4\n10.20.0.0/33 # oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = ParseTargetFile(bad)
	wantErr := `probe: ` + bad + `:7: target "10.20.0.0/33": invalid CIDR prefix length`
	if err == nil || err.Error() != wantErr {
		t.Errorf("got %v, want %s", err, wantErr)
	}
	var te *TargetError
	if !errors.As(err, &te) || te.Line != 7 || !errors.Is(err, ErrInvalidPrefix) {
		t.Errorf("error %#v lacks line 7 or reason", err)
	}

	huge := filepath.Join(dir, "huge.txt")
	if err := os.WriteFile(huge, []byte("10.0.0.1\n"+strings.Repeat("a", 70000)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTargetFile(huge); err == nil || !strings.Contains(err.Error(), "huge.txt:2:") {
		t.Errorf("overlong line: %v", err)
	}

	if _, err := ParseTargetFile(filepath.Join(dir, "missing.txt")); err == nil || !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "probe: ") {
		t.Errorf("missing file: %v", err)
	}

	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, []byte("# nothing\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ParseTargetFile(empty); err != nil || len(got) != 0 {
		t.Errorf("empty file: %v, %v", got, err)
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in   string
		want []uint16
	}{
		{"443", []uint16{443}},
		{"443,2575,8443-8445", []uint16{443, 2575, 8443, 8444, 8445}},
		{" 8443 - 8444 , 443 ", []uint16{443, 8443, 8444}},
		{"8443,443,443,8443-8444", []uint16{443, 8443, 8444}},
		{"1,65535", []uint16{1, 65535}},
		{"65534-65535", []uint16{65534, 65535}},
		{"7-7", []uint16{7}},
	}
	for _, tt := range tests {
		got, err := ParsePorts(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParsePorts(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	all, err := ParsePorts("1-65535")
	if err != nil || len(all) != 65535 || all[0] != 1 || all[65534] != 65535 {
		t.Errorf("full range: len %d, %v", len(all), err)
	}

	errs := []struct{ in, want string }{
		{"", "probe: no ports given"},
		{"  ", "probe: no ports given"},
		{"0", `probe: port "0": not a port number between 1 and 65535`},
		{"443,0", `probe: port "0": not a port number between 1 and 65535`},
		{"65536", `probe: port "65536": not a port number between 1 and 65535`},
		{"99999999999999999999", `probe: port "99999999999999999999": not a port number between 1 and 65535`},
		{"-1", `probe: port "-1": missing port number`},
		{"0443", `probe: port "0443": not a port number between 1 and 65535`},
		{"https", `probe: port "https": not a port number between 1 and 65535`},
		{"8445-8443", `probe: port "8445-8443": reversed range: the end is below the start`},
		{"8443-", `probe: port "8443-": missing port number`},
		{"8443-65536", `probe: port "8443-65536": not a port number between 1 and 65535`},
		{"0-10", `probe: port "0-10": not a port number between 1 and 65535`},
		{"1-2-3", `probe: port "1-2-3": not a port number between 1 and 65535`},
		{"443,,80", `probe: port list "443,,80": empty item`},
		{"443,", `probe: port list "443,": empty item`},
	}
	for _, tt := range errs {
		got, err := ParsePorts(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParsePorts(%q) = %v, %v; want error %s", tt.in, got, err, tt.want)
		}
	}
}

func TestDefaultPorts(t *testing.T) {
	if !slices.IsSorted(DefaultPorts) || len(slices.Compact(slices.Clone(DefaultPorts))) != len(DefaultPorts) {
		t.Errorf("DefaultPorts not ascending and distinct: %v", DefaultPorts)
	}
	for _, p := range []uint16{443, 8443, 2575, 2762, 8883, 5671} {
		if !slices.Contains(DefaultPorts, p) {
			t.Errorf("DefaultPorts lacks %d", p)
		}
	}
	// Plain DICOM stays out: see the DefaultPorts comment.
	for _, p := range []uint16{104, 11112} {
		if slices.Contains(DefaultPorts, p) {
			t.Errorf("DefaultPorts holds plain DICOM port %d", p)
		}
	}
}
