package observe

import (
	"net/netip"
	"time"
)

// HostName is a name a host was seen to carry, and where it came from. Names are what
// a security team recognises a device by ("PUMP-ICU-07"), so every source that ties a
// name to an address is kept, each under its own Source.
type HostName struct {
	Addr      netip.Addr // the host named
	MAC       string     // when the source ties the name to hardware (DHCP), else ""
	Name      string
	Source    string // "dhcp", "dns", "mdns", "netbios", "llmnr"
	FirstSeen time.Time
	LastSeen  time.Time
	Count     int
}

// DHCPLease is what DHCP said about one client hardware address: the address it was
// given and how the client described itself. Leases tie a MAC to an IP over time, which
// is how an asset stays one asset when its address changes.
type DHCPLease struct {
	MAC          string     // client hardware address (chaddr), lowercase, colon separated
	Addr         netip.Addr // assigned (yiaddr of an ACK), else requested (option 50) or in use (ciaddr); invalid when none
	Server       netip.Addr // the DHCP server (option 54 or the reply's source)
	Hostname     string     // option 12
	VendorClass  string     // option 60, e.g. "MSFT 5.0", "udhcp 1.30.1", a device maker's string
	ParamRequest string     // option 55 as comma-separated decimals: a DHCP fingerprint of the client's stack
	Acked        bool       // a server acknowledged Addr
	LeaseSeconds uint32     // option 51 of the ACK, 0 when unknown
	FirstSeen    time.Time
	LastSeen     time.Time
	Count        int
}

// FileTransfer is a file moved in clear over FTP or TFTP (HTTP bodies are described
// by HTTPRequest). Like HTTP bodies, the file itself is never kept: its size, digest
// and kind are.
type FileTransfer struct {
	Flow      Flow // the client is the host that asked for the transfer
	FirstSeen time.Time
	LastSeen  time.Time
	Count     int
	Protocol  string // "ftp", "tftp"
	Upload    bool   // the client sent the file (STOR, WRQ); false when it fetched it
	Path      string // as named in the request
	URL       string // ftp://server/path or tftp://server/path
	Bytes     int64  // bytes seen
	SHA256    string // lowercase hex, "" when Partial
	Kind      string // as HTTPRequest.BodyKind: "elf", "pe", "uimage", "ihex", "gzip", "tar", "zip", "ext:.bin", ...; "" when not an image
	Partial   bool   // part of the file was lost in the capture
}

// MACString renders a hardware address the way every observation holds one: lowercase
// hex, colon separated.
func MACString(m [6]byte) string {
	const hexdig = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexdig[c>>4], hexdig[c&0xf])
	}
	return string(b)
}
