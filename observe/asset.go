package observe

import (
	"net/netip"
	"time"
)

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
	Addr   netip.Addr `json:"ip"`
	MACs   []string   `json:"macs"`   // sorted, from the host table and the DHCP leases of the address
	Vendor string     `json:"vendor"` // the IEEE registry's organisation for MACs[0], "" when unknown
	// FirstSeen and LastSeen bound the traffic of the address in the scan.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// LeasedAddrs are the other addresses DHCP gave this asset's MACs in the scan: the
	// same device at another address (the inventory keeps one asset per address).
	LeasedAddrs []netip.Addr `json:"leased_ips"`
	Names       []AssetName  `json:"names"`
	// SeenVia are the sensor paths of the tunnels the address's traffic came through
	// (observe.SensorPath), sorted; absent for an address seen only in the clear.
	SeenVia []string `json:"seen_via,omitempty"`

	Kind    string   `json:"kind"`    // one of the Kind constants; "" when the scan was not classified
	Reasons []string `json:"reasons"` // why Kind, strongest first
	Roles   []string `json:"roles"`   // behaviours seen, sorted: "hl7-sender", "dicom-scp", "dhcp-server", ...

	Manufacturer string `json:"manufacturer"` // as visible in the evidence; "" when nothing names one
	Model        string `json:"model"`

	// Evidence, each list sorted and without repeats.
	DHCPVendorClass      []string `json:"dhcp_vendor_class"`     // DHCP option 60
	UserAgents           []string `json:"user_agents"`           // HTTP User-Agent the host sent
	Servers              []string `json:"servers"`               // HTTP Server header the host answered with
	CertSubjects         []string `json:"cert_subjects"`         // subjects of the leaf certificates the host presented (server or client)
	HL7Apps              []string `json:"hl7_apps"`              // sending application^facility of the HL7 messages it sent
	DICOMAETitles        []string `json:"dicom_ae_titles"`       // AE titles it called from or was called by
	DICOMImplementations []string `json:"dicom_implementations"` // "<implementation class UID> <version name>" of its associations
}

// AssetName is one name an asset carries and where it was learned: a HostName source
// ("dhcp", "dns", "mdns", "netbios", "llmnr"), or "tls-sni" for a name clients asked
// the host's TLS server for.
type AssetName struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}
