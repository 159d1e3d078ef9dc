package observe

import "net/netip"

// The kinds of asset package inventory decides, from the most specific evidence it has.
const (
	KindMedicalDevice  = "medical-device"
	KindMiddleware     = "middleware"      // collects devices' data and sends it on (interface engines, gateways)
	KindClinicalServer = "clinical-server" // EHR, PACS, FHIR servers, device data collectors
	KindWorkstation    = "workstation"
	KindInfrastructure = "infrastructure" // DHCP, DNS, routers, managed network gear
	KindUnknown        = "unknown"
)

// Asset is one address's place in the inventory: what it is (Kind), why medscan thinks
// so (Reasons, in plain words), what it was seen doing (Roles), and the evidence that
// names it. It is built from a Set's observations by package inventory and is only
// ever derived, never observed directly.
type Asset struct {
	Addr   netip.Addr
	MACs   []string // sorted, from the host table and the DHCP leases of the address
	Vendor string   // the IEEE registry's organisation for MACs[0], "" when unknown
	// LeasedAddrs are the other addresses DHCP gave this asset's MACs in the scan: the
	// same device at another address (the inventory keeps one asset per address).
	LeasedAddrs []netip.Addr
	Names       []AssetName

	Kind    string   // one of the Kind constants
	Reasons []string // why Kind, strongest first
	Roles   []string // behaviours seen, sorted: "hl7-sender", "dicom-scp", "dhcp-server", ...

	Manufacturer string // as visible in the evidence; "" when nothing names one
	Model        string

	// Evidence, each list sorted and without repeats.
	DHCPVendorClass      []string // DHCP option 60
	UserAgents           []string // HTTP User-Agent the host sent
	Servers              []string // HTTP Server header the host answered with
	CertSubjects         []string // subjects of the leaf certificates the host presented (server or client)
	HL7Apps              []string // sending application^facility of the HL7 messages it sent
	DICOMAETitles        []string // AE titles it called from or was called by
	DICOMImplementations []string // "<implementation class UID> <version name>" of its associations
}

// AssetName is one name an asset carries and where it was learned: a HostName source
// ("dhcp", "dns", "mdns", "netbios", "llmnr"), or "tls-sni" for a name clients asked
// the host's TLS server for.
type AssetName struct {
	Name   string
	Source string
}
