package observe

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// HostName is a name a host was seen to carry, and where it came from. Names are what
// a security team recognises a device by ("PUMP-ICU-07"), so every source that ties a
// name to an address is kept, each under its own Source.
type HostName struct {
	Addr      netip.Addr `json:"ip"`  // the host named
	MAC       string     `json:"mac"` // when the source ties the name to hardware (DHCP), else ""
	Name      string     `json:"name"`
	Source    string     `json:"source"` // "dhcp", "dns", "mdns", "netbios", "llmnr"
	Count     int        `json:"count"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
}

// DHCPLease is what DHCP said about one client hardware address: the address it was
// given and how the client described itself. Leases tie a MAC to an IP over time, which
// is how an asset stays one asset when its address changes.
type DHCPLease struct {
	MAC          string     `json:"mac"`           // client hardware address (chaddr), lowercase, colon separated
	Addr         netip.Addr `json:"ip"`            // assigned (yiaddr of an ACK), else requested (option 50) or in use (ciaddr); invalid when none
	Server       netip.Addr `json:"server"`        // the DHCP server (option 54 or the reply's source)
	Hostname     string     `json:"hostname"`      // option 12
	VendorClass  string     `json:"vendor_class"`  // option 60, e.g. "MSFT 5.0", "udhcp 1.30.1", a device maker's string
	ParamRequest string     `json:"param_request"` // option 55 as comma-separated decimals: a DHCP fingerprint of the client's stack
	Acked        bool       `json:"acked"`         // a server acknowledged Addr
	LeaseSeconds uint32     `json:"lease_seconds"` // option 51 of the ACK, 0 when unknown
	Count        int        `json:"count"`
	FirstSeen    time.Time  `json:"first_seen"`
	LastSeen     time.Time  `json:"last_seen"`
}

// FileTransfer is a file moved in clear over FTP or TFTP (HTTP bodies are described
// by HTTPRequest). Like HTTP bodies, the file itself is never kept: its size, digest
// and kind are.
type FileTransfer struct {
	Flow     Flow   `json:"-"`        // the client is the host that asked for the transfer
	Protocol string `json:"protocol"` // "ftp", "tftp"
	Upload   bool   `json:"upload"`   // the client sent the file (STOR, WRQ); false when it fetched it
	// Path is the template of the path the request named, and URL is
	// ftp://server/template or tftp://server/template: file names can name patients
	// (an export "SMITH_JOHN_20260101.dcm"), so they are templated like HTTP paths
	// (PathTemplate), keeping a software image's extension.
	Path      string    `json:"path"`
	URL       string    `json:"url"`
	Bytes     int64     `json:"bytes"`   // bytes seen
	SHA256    string    `json:"sha256"`  // lowercase hex, "" when Partial
	Kind      string    `json:"kind"`    // as HTTPRequest.BodyKind: "elf", "pe", "uimage", "ihex", "gzip", "tar", "zip", "ext:.bin", ...; "" when not an image
	Partial   bool      `json:"partial"` // part of the file was lost in the capture
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Shape is what tells one transfer from another between the same two hosts (whatever
// ports the transfer moved to): the protocol, the direction, the path template, and the
// file's digest and size. Transfers of one shape are kept once, with their count.
func (t *FileTransfer) Shape() string {
	return strings.Join([]string{t.Protocol, strconv.FormatBool(t.Upload), t.Path, t.SHA256,
		strconv.FormatInt(t.Bytes, 10)}, "|")
}

// TransferURL is a transfer's URL as the FTP and TFTP dissectors write it: the server in
// brackets when IPv6, an FTP server's port when it is not 21 (a TFTP transfer moves to
// another port, so none), and the path template under the root (TFTP file names are
// often relative: "fw.bin").
func TransferURL(protocol string, server Endpoint, path string) string {
	a := server.Addr().Unmap()
	host := a.String()
	if a.Is6() {
		host = "[" + host + "]"
	}
	if protocol == "ftp" && server.Port() != 21 && server.Port() != 0 {
		host += ":" + strconv.Itoa(int(server.Port()))
	}
	return protocol + "://" + host + "/" + strings.TrimPrefix(path, "/")
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
