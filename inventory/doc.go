// Package inventory turns what a scan observed into an inventory of assets: for each
// address, what kind of thing it is (medical device, middleware, clinical server,
// workstation, infrastructure, unknown), the reasons in plain words, the behaviours
// seen (roles), and the names, maker and model the traffic revealed.
//
// It reads an observe.Set after the capture is read and the certificates are examined
// (lint fills the subjects it quotes), and writes Set.Assets; it judges nothing about
// risk. gather.go reads each kind of observation into per-address evidence, one function
// per kind; classify.go weighs the evidence into a kind with its reasons. What an HTTP
// request was (FHIR, another API) is the dissector's decision (observe.HTTPRequest.API),
// and a reason quotes its path template, never a path. Rules and the active prober read the kinds, so a wrong kind is costly: every
// kind comes with its reasons, and a reason quotes the evidence (a flow, an OUI
// registrant, a vendor class) so that a reader can check it.
//
// # How a kind is decided
//
// Each piece of evidence is a claim for one kind with a weight. Behaviour weighs most,
// because it is what the host does on this network: middleware is recognised only by
// behaviour (it receives HL7 or DICOM from at least two hosts and sends on to other
// hosts: HL7, DICOM, HTTP or TLS), and outweighs everything, so that an interface
// engine running on a medical maker's appliance is still middleware. Sending HL7
// observations (ORU, OUL), storing images as a DICOM SCU or querying a worklist make a
// medical device; so does a medical maker named by the IEEE registry, a DHCP vendor
// class, a User-Agent or a certificate subject (a small curated table, makers.go).
// Clinical servers are recognised by whom they serve: receiving from middleware, FHIR,
// a DICOM SCP that stores images, an HL7 listener, a broker or API that medical devices
// report to. Infrastructure is DHCP and DNS service, HSRP/VRRP virtual MACs and network
// makers' interfaces; workstations are browsers, Windows' DHCP vendor class, NetBIOS
// names, and PC makers' interfaces on hosts that only act as clients. The kind with the
// highest total wins (ties in a fixed order); its reasons come first, strongest first,
// followed by the strongest reason of each losing kind, marked as such, so that
// conflicting evidence is visible rather than hidden.
//
// # Assets and addresses
//
// The inventory keeps one asset per address that did something it can say more about:
// that is how every other part of a report is keyed, and it is deterministic. An address
// the host table alone knows, and that earns nothing from it (no tunnel, no DHCP lease,
// no claim from its MAC: a source of a sweep, a host only ever sent to), gets no asset:
// package findings lists it as a quiet host, a compact record of its MACs, times and
// what it sent, because a worm sweeping a /16 would otherwise make most of a scan's
// memory, store and report out of empty assets. Whether an address is quiet is decided
// by settling and judging it as any host (addLoudHosts), so that the rule lives in one
// place. A set Classify never ran on has no quiet hosts: every address is an asset
// without a kind. DHCP ties a MAC to its addresses over time, so an
// asset's MACs include those DHCP gave its address, and the evidence that a device
// carries with it (DHCP host name and vendor class) follows its MAC to every address
// it held in the scan; LeasedAddrs lists the others. A MAC seen for many addresses
// (Options.RouterMACAddrs) is a router's, because routed traffic carries the router's
// MAC: its registrant is not evidence for the addresses behind the router. The one of
// those addresses that lies on a local subnet (a /24 or /64 where other hosts were seen
// with MACs of their own) is the router's own interface, and is infrastructure.
//
// HL7 direction: over MLLP the side that opened the connection sends the messages and
// the other answers with ACKs, so a message that is not an ACK is the client's and an
// ACK is the server's.
package inventory
