package oui

import (
	"os"
	"strings"
	"sync"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name, mac, want string
	}{
		// The ward fixture's hosts (fixtures/ward/hosts.go), in the forms a report holds.
		{"ward gateway Cisco HSRP", "00:00:0c:07:ac:14", "Cisco Systems, Inc"},
		{"ward servers VMware", "00:50:56:8a:10:10", "VMware, Inc."},
		{"ward PACS Dell", "b0:83:fe:4c:21:30", "Dell Inc."},
		{"ward pump Baxter", "58:42:e4:3a:7c:11", "Baxter International Inc"},
		{"ward monitor Philips", "00:09:fb:5d:a2:21", "Philips Patient Monitoring"},
		{"ward lab analyzer Roche", "b8:78:79:0e:41:31", "Roche Diagnostics GmbH"},
		{"ward CT GE", "44:4b:5d:12:c0:05", "GE Healthcare"},
		{"ward workstation Dell", "f8:bc:12:6a:03:10", "Dell Inc."},
		{"ward biomed HP", "3c:d9:2b:71:03:50", "Hewlett Packard"},
		{"upper case with dashes", "00-50-56-8A-10-10", "VMware, Inc."},
		{"Cisco dotted", "0000.0c07.ac14", "Cisco Systems, Inc"},
		{"bare hex", "005056c00008", "VMware, Inc."},
		{"surrounding space", " 00:50:56:8a:10:10\n", "VMware, Inc."},
		{"EUI-64 by its first bytes", "00:50:56:ff:fe:8a:10:10", "VMware, Inc."},
		// 70:B3:D5 is the IEEE's own MA-L, sold in 36-bit MA-S blocks: the block's
		// buyer, not the IEEE, must be named.
		{"MA-S block", "70:b3:d5:f2:f1:23", "TELEPLATFORMS"},
		{"MA-S parent only", "70:b3:d5:00:00:00" /* block 70B3D5000 */, lookupBlock(t, "70B3D5000", "IEEE Registration Authority")},
		{"MA-M block", "74:1a:e0:90:00:01", "Private"},
		{"IAB block", "00:50:c2:00:0f:ff", lookupBlock(t, "0050C2000", "")},
		{"block assigned twice", "08:00:30:00:00:01", "NETWORK RESEARCH CORPORATION / ROYAL MELBOURNE INST OF TECH / CERN"},
		{"locally administered", "02:42:ac:11:00:02", LocallyAdministered},
		{"locally administered random", "da:a1:19:00:00:01", LocallyAdministered},
		{"multicast", "01:00:5e:00:00:fb", ""},
		{"IPv6 multicast", "33:33:00:00:00:01", ""},
		{"broadcast", "ff:ff:ff:ff:ff:ff", ""},
		{"all zeros: no MAC (loopback, cooked captures), not Xerox", "00:00:00:00:00:00", ""},
		{"another Xerox address still is", "00:00:00:12:34:56", "XEROX CORPORATION"},
		{"empty", "", ""},
		{"too short", "00:50:56", ""},
		{"not hex", "00:50:56:8a:10:zz", ""},
		{"bare hex, one short", "005056c0000", ""},
		{"mixed separators", "00:50-56:8a:10:10", ""},
		{"an IP address", "10.20.0.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Lookup(tt.mac); got != tt.want {
				t.Errorf("Lookup(%q) = %q, want %q", tt.mac, got, tt.want)
			}
		})
	}
}

// lookupBlock returns the table's name for a 9-digit prefix, or fallback when the table
// has none and fallback is set: it lets a case name a block by its registry entry rather
// than repeat it.
func lookupBlock(t *testing.T, prefix, fallback string) string {
	t.Helper()
	tb, err := get()
	if err != nil {
		t.Fatal(err)
	}
	var v uint64
	for _, c := range prefix {
		v = v<<4 | uint64(strings.IndexRune("0123456789ABCDEF", c))
	}
	if s, ok := tb.s36[v]; ok {
		return s
	}
	if fallback == "" {
		t.Fatalf("block %s not in the table", prefix)
	}
	return fallback
}

func TestUnassignedPrefix(t *testing.T) {
	// Find a 24-bit prefix nobody holds, so that "" for an unknown vendor is tested
	// against the data rather than against a guess.
	tb, err := get()
	if err != nil {
		t.Fatal(err)
	}
	for p := uint64(0x000000); p < 0x1000000; p += 4 { // universal, individual prefixes only
		if _, ok := tb.s24[p]; ok {
			continue
		}
		mac := []byte{byte(p >> 16), byte(p >> 8), byte(p), 0x12, 0x34, 0x56}
		if got := Lookup(colonHex(mac)); got != "" {
			t.Fatalf("Lookup of unassigned prefix %06X = %q, want \"\"", p, got)
		}
		return
	}
	t.Fatal("every prefix is assigned")
}

// colonHex formats b as a report does: lower-case hex pairs joined by colons.
func colonHex(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(':')
		}
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

func TestTable(t *testing.T) {
	tb, err := get()
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.s24) < 30000 || len(tb.s28) < 4000 || len(tb.s36) < 9000 {
		t.Errorf("table holds %d/%d/%d 24/28/36-bit prefixes; the generator lost some", len(tb.s24), len(tb.s28), len(tb.s36))
	}
	for p := range tb.s24 {
		if byte(p>>16)&0x03 != 0 {
			t.Errorf("table holds group or local prefix %06X", p)
		}
	}
	// doc.go states the data's version and date; they must be the table's.
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ieee-data package, version 20220827.1", "2022-08-27"} {
		if !strings.Contains(string(doc), want) {
			t.Fatalf("doc.go lacks %q", want)
		}
	}
	if !strings.Contains(tb.header, "ieee-data 20220827.1 ") || !strings.Contains(tb.header, "2022-08-27") {
		t.Fatalf("table header %q does not match the version and date in doc.go", tb.header)
	}
	if len(tableGz) > 1<<20 {
		t.Errorf("embedded table is %d bytes; keep it under 1 MiB", len(tableGz))
	}
}

func TestParseRejectsBrokenTables(t *testing.T) {
	for _, tt := range []struct {
		name string
		gz   []byte
	}{
		{"not gzip", []byte("000000\tX\n")},
		{"no tab", gzipped(t, "# h\n000000 X\n")},
		{"bad prefix length", gzipped(t, "# h\n0000\tX\n")},
		{"bad hex", gzipped(t, "# h\n00000G\tX\n")},
		{"no header", gzipped(t, "000000\tX\n")},
		{"empty", gzipped(t, "# h\n")},
	} {
		if _, err := parse(tt.gz); err == nil {
			t.Errorf("%s: parse accepted it", tt.name)
		}
	}
	if _, err := parse(gzipped(t, "# h\n000000\tX\n")); err != nil {
		t.Errorf("parse of a minimal table: %v", err)
	}
}

func TestLookupConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := Lookup("00:50:56:8a:10:10"); got != "VMware, Inc." {
				t.Errorf("concurrent Lookup = %q", got)
			}
		})
	}
	wg.Wait()
}

func BenchmarkLookup(b *testing.B) {
	Lookup("00:00:00:00:00:00") // load outside the timing
	macs := []string{"00:50:56:8a:10:10", "70:b3:d5:f2:f1:23", "58-42-E4-3A-7C-11", "02:42:ac:11:00:02", "12:34"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Lookup(macs[i%len(macs)])
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"00:50:56:8a:10:10", "0000.0c07.ac14", "005056c00008", "ff:ff:ff:ff:ff:ff", "", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, mac string) {
		got := Lookup(mac)
		if strings.ContainsAny(got, "\t\n") {
			t.Fatalf("Lookup(%q) = %q holds a tab or newline", mac, got)
		}
		if _, ok := parseMAC(mac); !ok && got != "" {
			t.Fatalf("Lookup(%q) = %q for an unparsable address", mac, got)
		}
	})
}
