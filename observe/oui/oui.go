package oui

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// LocallyAdministered is what Lookup returns for an address whose U/L bit is set: no
// manufacturer assigned it (randomised phone and laptop addresses, virtual NICs, HSRP
// of some stacks), so no registry can name one.
const LocallyAdministered = "(locally administered)"

//go:embed oui.tsv.gz
var tableGz []byte

// table is the decompressed registry: one map per prefix length, keyed by the prefix's
// bits (24, 28 or 36 of them).
type table struct {
	header      string // the first header line: source, version and date
	s24, s28    map[uint64]string
	s36         map[uint64]string
	prefixCount int
}

var (
	loadOnce sync.Once
	loaded   *table
	loadErr  error
)

// get decompresses the embedded table on first use: most runs of medscan that never
// render an inventory do not pay for it.
func get() (*table, error) {
	loadOnce.Do(func() { loaded, loadErr = parse(tableGz) })
	return loaded, loadErr
}

// Preload decompresses the embedded table now, if no lookup has yet. Lookup does so on
// first use anyway; a caller that knows it will look addresses up later (a scan's
// classification) calls Preload on a core that would otherwise wait, so that the table
// (about 60 ms of one core) is not built on the scan's critical path.
func Preload() { _, _ = get() }

// parse reads the generator's output (see gen/main.go for the format).
func parse(gz []byte) (*table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("oui: embedded table: %w", err)
	}
	t := &table{s24: map[uint64]string{}, s28: map[uint64]string{}, s36: map[uint64]string{}}
	names := map[string]string{} // one copy of each organisation's name
	sc := bufio.NewScanner(zr)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			if t.header == "" {
				t.header = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			}
			continue
		}
		prefix, name, ok := strings.Cut(line, "\t")
		if !ok || name == "" {
			return nil, fmt.Errorf("oui: embedded table line %d: want PREFIX<TAB>NAME", n)
		}
		v, err := strconv.ParseUint(prefix, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("oui: embedded table line %d: prefix %q: %w", n, prefix, err)
		}
		if s, ok := names[name]; ok {
			name = s
		} else {
			names[name] = name
		}
		switch len(prefix) {
		case 6:
			t.s24[v] = name
		case 7:
			t.s28[v] = name
		case 9:
			t.s36[v] = name
		default:
			return nil, fmt.Errorf("oui: embedded table line %d: prefix %q is not 6, 7 or 9 hex digits", n, prefix)
		}
		t.prefixCount++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("oui: embedded table: %w", err)
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("oui: embedded table: %w", err)
	}
	if t.prefixCount == 0 || t.header == "" {
		return nil, fmt.Errorf("oui: embedded table is empty or has no header")
	}
	return t, nil
}

// Lookup returns the organisation the IEEE assigned mac's prefix to, trying the 36-bit
// (MA-S, IAB), then the 28-bit (MA-M), then the 24-bit (MA-L) block, or "" when mac is
// not a hardware address, is a group (multicast or broadcast) address, or its prefix
// is unassigned. It returns LocallyAdministered when the U/L bit is set. mac is in any
// form net.ParseMAC accepts ("00:1b:c5:…", "00-1B-C5-…", "001b.c5…"), or 12 bare hex
// digits; EUI-64 and InfiniBand addresses are looked up by their first bytes too.
func Lookup(mac string) string {
	b, ok := parseMAC(mac)
	if !ok {
		return ""
	}
	// A group address names a set of receivers, not a device, so it has no vendor;
	// the I/G bit is tested first because broadcast has both bits set.
	if b[0]&0x01 != 0 {
		return ""
	}
	if b[0]&0x02 != 0 {
		return LocallyAdministered
	}
	// The all-zero address is what loopback and cooked captures carry for "no MAC"; its
	// OUI (Xerox's, from 1980) would name a vendor that is not there.
	if b == [6]byte{} {
		return ""
	}
	t, err := get()
	if err != nil {
		return ""
	}
	v := uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
	if s, ok := t.s36[v>>12]; ok {
		return s
	}
	if s, ok := t.s28[v>>20]; ok {
		return s
	}
	return t.s24[v>>24]
}

// parseMAC returns mac's first six bytes.
func parseMAC(mac string) ([6]byte, bool) {
	var b [6]byte
	mac = strings.TrimSpace(mac)
	if len(mac) == 12 {
		if _, err := hex.Decode(b[:], []byte(mac)); err == nil {
			return b, true
		}
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) < 6 {
		return b, false
	}
	copy(b[:], hw)
	return b, true
}
