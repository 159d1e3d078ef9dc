package probe

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultPorts are the TCP ports probed when the user names none, in ascending order.
// Each is there because a TLS service is registered or conventional on it in clinical
// networks, and a TLS ClientHello is harmless to the listeners usually found there:
//
//   - 443, 8443, 4443, 9443: HTTPS and its alternates; device web consoles, vendor
//     portals, and FHIR servers, which have no port of their own and live on these.
//   - 2575: the IANA port for HL7; interface engines serve MLLP, and MLLP over TLS, on it.
//   - 6661: the conventional MLLP listener of interface engines (Mirth Connect, Rhapsody,
//     Cloverleaf). 6662 and upwards are per-channel increments with no convention behind
//     them, so they are left to the site (--ports). These listeners are server software
//     that discards bytes before an MLLP start block, and knowing whether one speaks TLS
//     is what the passive cleartext-hl7 finding lacks.
//   - 2762: DICOM over TLS (IANA dicom-tls, DICOM PS3.15 Annex B).
//   - 8883: MQTT over TLS, used by device telemetry.
//   - 5671: AMQP over TLS, used by middleware and device gateways.
//   - 636: LDAPS, which modalities and pumps use to authenticate their users; it is TLS
//     from the first byte, so a ClientHello is exactly what it expects.
//
// Left out on purpose: 104 and 11112 (plain DICOM). A plain DICOM listener reads a
// ClientHello as a malformed PDU, and the modalities that run those listeners are the
// devices least tolerant of malformed input; passive capture already sees cleartext DICOM.
// A site that runs DICOM TLS on 11112 adds it with --ports.
var DefaultPorts = []uint16{443, 636, 2575, 2762, 4443, 5671, 6661, 8443, 8883, 9443}

// ErrNoPorts is returned by ParsePorts for an empty specification.
var ErrNoPorts = errors.New("probe: no ports given")

// ParsePorts parses a port list such as "443,2575,8443-8445" into ascending, distinct
// ports. Port 0, ports above 65535, reversed ranges and empty items are errors naming the
// item.
func ParsePorts(spec string) ([]uint16, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, ErrNoPorts
	}
	var seen [65536 / 64]uint64
	n := 0
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("probe: port list %q: empty item", spec)
		}
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := parsePort(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("probe: port %q: %w", item, err)
		}
		b := a
		if isRange {
			if b, err = parsePort(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("probe: port %q: %w", item, err)
			}
			if b < a {
				return nil, fmt.Errorf("probe: port %q: reversed range: the end is below the start", item)
			}
		}
		for p := int(a); p <= int(b); p++ {
			if seen[p/64]&(1<<(p%64)) == 0 {
				seen[p/64] |= 1 << (p % 64)
				n++
			}
		}
	}
	out := make([]uint16, 0, n)
	for p := 1; p < 65536; p++ {
		if seen[p/64]&(1<<(p%64)) != 0 {
			out = append(out, uint16(p))
		}
	}
	return out, nil
}

// parsePort accepts 1..65535 in decimal; leading zeros are refused as in target ranges.
func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("missing port number")
	}
	if len(s) > 5 || (len(s) > 1 && s[0] == '0') {
		return 0, errors.New("not a port number between 1 and 65535")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a port number between 1 and 65535")
		}
		n = n*10 + int(s[i]-'0')
	}
	if n == 0 || n > 65535 {
		return 0, errors.New("not a port number between 1 and 65535")
	}
	return uint16(n), nil
}
