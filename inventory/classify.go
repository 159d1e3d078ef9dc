package inventory

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/medscan/medscan/observe"
)

// Options tune the classifier; the zero value is the default.
type Options struct {
	// MinSources is how many distinct hosts must send a host HL7 or DICOM before its
	// sending on makes it middleware; 0 means DefaultMinSources.
	MinSources int
	// RouterMACAddrs is how many addresses must share a MAC before it is taken for a
	// router's; 0 means DefaultRouterMACAddrs.
	RouterMACAddrs int
}

// The defaults of Options.
const (
	DefaultMinSources     = 2
	DefaultRouterMACAddrs = 4
)

// Evidence weights. Behaviour on this network outweighs what a name or a registry says,
// and middleware outweighs everything (see the package documentation).
const (
	wMiddleware  = 100
	wVirtualMAC  = 80 // HSRP or VRRP virtual MAC: a gateway address by construction
	wBehaviour   = 60 // sending observations, storing images, serving DHCP or DNS, receiving from middleware
	wMaker       = 50 // a medical maker named by registry, vendor class, User-Agent or certificate
	wServes      = 40 // a listener that medical devices report to
	wBrowser     = 40 // browser User-Agent, Windows' DHCP vendor class
	wDeviceWord  = 30 // a word naming medical equipment
	wNetMaker    = 30 // a network maker's interface
	wMQTTClient  = 25
	wWeakHint    = 15 // NetBIOS name, PC maker's interface on a client-only host
	maxEvidence  = 16 // entries kept per evidence list of an asset
	maxNames     = 16
	maxListed    = 4 // addresses quoted in one reason before "and N more"
	maxQuoteRune = 80
)

// kindOrder breaks ties between kinds of equal weight, most specific first.
var kindOrder = []string{observe.KindMiddleware, observe.KindMedicalDevice, observe.KindClinicalServer,
	observe.KindInfrastructure, observe.KindWorkstation}

// claim is one piece of evidence for a kind.
type claim struct {
	kind   string
	weight int
	reason string
}

// host gathers what the Set says about one address before it is judged.
type host struct {
	a           *observe.Asset
	routed      bool // every MAC of the address is a router's, and the address is not on a local subnet
	routerIface int  // for a router's own address: how many addresses its MAC carries
	roles       map[string]bool
	claims      []claim

	names                                       map[observe.AssetName]bool
	dhcpVC, ua, srv, certs, hl7Apps, aes, impls map[string]bool
	implUIDs                                    map[string]string // implementation class UID -> version name
	hl7From                                     map[netip.Addr]map[string]bool
	hl7Recv                                     map[string]bool // receiving applications (MSH-5) addressed here
	hl7To                                       map[netip.AddrPort]map[string]bool
	dicomFrom                                   map[netip.Addr]map[string]bool // SCU -> storage/other classes
	dicomTo                                     map[netip.AddrPort]map[string]bool
	httpFrom, tlsFrom, mqttFrom                 map[netip.Addr]bool
	httpTo, tlsTo, mqttTo                       map[netip.AddrPort]bool
	httpPaths                                   map[string]bool // "POST /api/v1/vitals" served
	fhirServed                                  map[string]bool
	dhcpLeases                                  int
	netbios                                     bool
	firmwareServed                              bool
}

func newHost(a netip.Addr) *host {
	return &host{a: &observe.Asset{Addr: a}, roles: map[string]bool{}, names: map[observe.AssetName]bool{}}
}

// classifier is one Classify call's state.
type classifier struct {
	opt   Options
	hosts map[netip.Addr]*host
	fleet *observe.Fleet // other sites' observations (Set.Fleet); nil: this scan alone
	// What gatherHosts learned of the host table and the leases, which settle and
	// addLoudHosts read: the table itself, how many addresses carry each MAC, the MACs
	// taken for routers', the local subnets and the leases by MAC.
	table     map[netip.Addr]*observe.Host
	macAddrs  map[string]int
	routerMAC map[string]bool
	local     map[netip.Prefix]bool
	byMAC     map[string][]*observe.DHCPLease
}

// usable is true for an address that can be an asset: unicast and specified.
func usable(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// get returns the host of a, creating it; nil for an address that cannot be an asset.
func (c *classifier) get(a netip.Addr) *host {
	if !usable(a) {
		return nil
	}
	a = a.Unmap()
	h := c.hosts[a]
	if h == nil {
		h = newHost(a)
		c.hosts[a] = h
	}
	return h
}

// Classify builds the inventory of set: one asset per address seen, each with a kind
// and the reasons for it, in address order. It stores the result in set.Assets too.
func Classify(set *observe.Set, opt Options) []*observe.Asset {
	if opt.MinSources <= 0 {
		opt.MinSources = DefaultMinSources
	}
	if opt.RouterMACAddrs <= 0 {
		opt.RouterMACAddrs = DefaultRouterMACAddrs
	}
	c := &classifier{opt: opt, hosts: map[netip.Addr]*host{}, fleet: set.Fleet}
	c.gather(set)
	c.intrinsic()
	middleware := c.middleware()
	c.relations(middleware)
	out := make([]*observe.Asset, 0, len(c.hosts))
	for _, h := range c.hosts {
		c.decide(h)
		out = append(out, h.a)
	}
	slices.SortFunc(out, func(x, y *observe.Asset) int { return x.Addr.Compare(y.Addr) })
	set.Assets = out
	return out
}

// add puts v into a bounded evidence set, making the set on first use: most hosts
// have most kinds of evidence empty.
func add(m *map[string]bool, v string) {
	if v == "" || len(*m) >= maxEvidence {
		return
	}
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[v] = true
}

// addTo adds v to the set of k in m, making either on first use.
func addTo[K comparable](m *map[K]map[string]bool, k K, v string) {
	if *m == nil {
		*m = map[K]map[string]bool{}
	}
	s := (*m)[k]
	if s == nil {
		s = map[string]bool{}
		(*m)[k] = s
	}
	add(&s, v)
}

// mark sets k in m, making m on first use.
func mark[K comparable](m *map[K]bool, k K) {
	if *m == nil {
		*m = map[K]bool{}
	}
	(*m)[k] = true
}

// gather reads the Set into per-address evidence, one kind of observation at a time
// (gather.go), then settles each host's evidence lists.
func (c *classifier) gather(set *observe.Set) {
	c.gatherHosts(set)
	c.gatherNames(set)
	c.gatherServices(set)
	c.gatherTLS(set)
	c.gatherCertificates(set)
	c.gatherHTTP(set)
	c.gatherTransfers(set)
	c.gatherMQTT(set)
	c.gatherHL7(set)
	c.gatherDICOM(set)
	c.gatherCredentials(set)
	c.addLoudHosts()
	for _, h := range c.hosts {
		c.settle(h)
	}
	for _, h := range c.hosts {
		h.a.DHCPVendorClass = keys(h.dhcpVC)
		h.a.UserAgents = keys(h.ua)
		h.a.Servers = keys(h.srv)
		h.a.CertSubjects = keys(h.certs)
		h.a.HL7Apps = keys(h.hl7Apps)
		h.a.DICOMAETitles = keys(h.aes)
		h.a.DICOMImplementations = keys(h.impls)
		h.a.Roles = keys(h.roles)
		h.a.Names = sortedNames(h.names)
	}
}

// nameSources orders names: what the host calls itself first.
var nameSources = []string{"dhcp", "netbios", "mdns", "llmnr", "dns", "tls-sni"}

func sortedNames(m map[observe.AssetName]bool) []observe.AssetName {
	out := make([]observe.AssetName, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	rank := func(s string) int {
		if i := slices.Index(nameSources, s); i >= 0 {
			return i
		}
		return len(nameSources)
	}
	slices.SortFunc(out, func(x, y observe.AssetName) int {
		return cmp.Or(cmp.Compare(rank(x.Source), rank(y.Source)), cmp.Compare(x.Source, y.Source), cmp.Compare(x.Name, y.Name))
	})
	return out
}

func keys[K cmp.Ordered, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (h *host) claim(kind string, weight int, format string, args ...any) {
	h.claims = append(h.claims, claim{kind: kind, weight: weight, reason: fmt.Sprintf(format, args...)})
}

// serverRoles are the roles of a host that answers others.
func (h *host) serves() bool {
	for r := range h.roles {
		if strings.HasSuffix(r, "-server") || strings.HasSuffix(r, "-scp") || strings.HasSuffix(r, "-receiver") ||
			strings.HasSuffix(r, "-broker") || strings.HasSuffix(r, "-agent") {
			return true
		}
	}
	return false
}

// intrinsic adds the claims each host earns by itself (intrinsicOf).
func (c *classifier) intrinsic() {
	for _, h := range c.hosts {
		c.intrinsicOf(h)
	}
}

// intrinsicOf adds the claims a host earns by itself: makers named, protocols spoken.
func (c *classifier) intrinsicOf(h *host) {
	macVendor := h.a.Vendor
	if h.routed {
		h.claim(observe.KindUnknown, 0, "MAC %s is used by %d or more addresses (a router's): the address is routed and its registrant names the router",
			h.a.MACs[0], c.opt.RouterMACAddrs)
		macVendor = ""
	}
	if name, _ := matchMaker(medicalMakers, macVendor); name != "" {
		h.claim(observe.KindMedicalDevice, wMaker, "OUI %s registered to %s, a medical device maker", prefix(h.a.MACs[0]), quote(macVendor))
	}
	for _, vc := range h.a.DHCPVendorClass {
		if name, _ := matchMaker(medicalMakers, vc); name != "" {
			h.claim(observe.KindMedicalDevice, wMaker, "DHCP vendor class %s names %s", quote(vc), name)
		} else if w := matchDeviceWord(vc); w != "" {
			h.claim(observe.KindMedicalDevice, wDeviceWord, "DHCP vendor class %s names medical equipment (%s)", quote(vc), w)
		} else if strings.HasPrefix(vc, "MSFT") {
			h.claim(observe.KindWorkstation, wBrowser, "DHCP vendor class %s (Windows)", quote(vc))
		}
	}
	for _, ua := range h.a.UserAgents {
		if name, _ := matchMaker(medicalMakers, ua); name != "" {
			h.claim(observe.KindMedicalDevice, wMaker, "HTTP User-Agent %s names %s", quote(ua), name)
		} else if w := matchDeviceWord(ua); w != "" {
			h.claim(observe.KindMedicalDevice, wDeviceWord, "HTTP User-Agent %s names medical equipment (%s)", quote(ua), w)
		} else if strings.HasPrefix(ua, "Mozilla/") {
			h.claim(observe.KindWorkstation, wBrowser, "browser User-Agent %s", quote(ua))
		}
	}
	for _, s := range h.a.CertSubjects {
		if name, _ := matchMaker(medicalMakers, s); name != "" {
			h.claim(observe.KindMedicalDevice, wMaker, "certificate subject %s names %s", quote(s), name)
		} else if w := matchDeviceWord(s); w != "" {
			h.claim(observe.KindMedicalDevice, wDeviceWord, "certificate subject %s names medical equipment (%s)", quote(s), w)
		}
	}
	for _, uid := range keys(h.implUIDs) {
		if name := dicomMaker(uid); name != "" && h.roles["dicom-scu"] {
			h.claim(observe.KindMedicalDevice, wMaker, "DICOM implementation class UID %s is under %s's root", uid, name)
		}
	}
	for _, to := range keys2(h.hl7To) {
		if typ := observationTypes(h.hl7To[to]); typ != "" {
			h.claim(observe.KindMedicalDevice, wBehaviour, "sends HL7 %s to %s", typ, to)
		}
	}
	for _, to := range keys2(h.dicomTo) {
		cls := h.dicomTo[to]
		if st := pick(cls, isImageStorage); st != "" {
			h.claim(observe.KindMedicalDevice, wBehaviour, "stores images on %s as a DICOM SCU (%s%s)", to, st, aeOf(h))
		} else if wl := pick(cls, func(s string) bool { return strings.Contains(s, "Worklist") }); wl != "" {
			h.claim(observe.KindMedicalDevice, wServes, "queries a modality worklist on %s (%s%s)", to, wl, aeOf(h))
		}
	}
	if len(h.mqttTo) > 0 {
		h.claim(observe.KindMedicalDevice, wMQTTClient, "MQTT telemetry client of %s", listPorts(keys2(h.mqttTo)))
	}
	if n := h.dhcpLeases; n > 0 {
		word := "leases"
		if n == 1 {
			word = "lease"
		}
		h.claim(observe.KindInfrastructure, wBehaviour, "DHCP server (%d %s seen)", n, word)
	} else if h.roles["dhcp-server"] {
		h.claim(observe.KindInfrastructure, wBehaviour, "DHCP server")
	}
	if h.roles["dns-server"] {
		h.claim(observe.KindInfrastructure, wBehaviour, "DNS server")
	}
	if h.roles["tunnel-endpoint"] {
		// A hint only: a hypervisor's VTEP may also run a clinical service whose
		// behaviour says more.
		h.claim(observe.KindInfrastructure, wNetMaker, "outer endpoint of a tunnel the sensor opened (ERSPAN source, VTEP or tunnel router), not a host inside it")
	}
	if n := h.routerIface; n > 0 {
		h.claim(observe.KindInfrastructure, wBehaviour, "its MAC %s carries %d addresses, the others outside the local subnets: a router's interface",
			h.a.MACs[0], n)
	}
	if !h.routed && len(h.a.MACs) > 0 {
		if m := h.a.MACs[0]; isVirtualRouterMAC(m) {
			h.claim(observe.KindInfrastructure, wVirtualMAC, "MAC %s is an HSRP/VRRP virtual router address (a gateway)", m)
		}
	}
	if net, _ := matchMaker(networkMakers, macVendor); net != "" {
		if h.roles["snmp-agent"] {
			h.claim(observe.KindInfrastructure, wMaker, "SNMP agent on an interface registered to %s (network gear)", quote(macVendor))
		} else {
			h.claim(observe.KindInfrastructure, wNetMaker, "OUI %s registered to %s, a network equipment maker", prefix(h.a.MACs[0]), quote(macVendor))
		}
	}
	if h.netbios {
		h.claim(observe.KindWorkstation, wWeakHint, "announces a NetBIOS name")
	}
	if pc, _ := matchMaker(pcMakers, macVendor); pc != "" && !h.serves() && len(h.roles) > 0 {
		h.claim(observe.KindWorkstation, wWeakHint, "only a client, on an interface registered to %s (a PC maker)", quote(macVendor))
	}
}

// middleware finds the hosts that receive HL7 or DICOM from several hosts and send on
// to others, and claims middleware for them.
func (c *classifier) middleware() map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	for _, h := range c.hosts {
		sources := map[netip.Addr]bool{}
		var what []string
		for a, types := range h.hl7From {
			sources[a] = true
			for t := range types {
				what = append(what, "HL7 "+t)
			}
		}
		for a := range h.dicomFrom {
			sources[a] = true
			what = append(what, "DICOM")
		}
		elsewhere, sites := c.sendersElsewhere(h)
		if len(sources)+len(elsewhere) < c.opt.MinSources {
			continue
		}
		var onward []string
		note := func(to netip.AddrPort, how string) {
			if !sources[to.Addr()] {
				onward = append(onward, to.String()+" ("+how+")")
			}
		}
		for to := range h.hl7To {
			note(to, "HL7")
		}
		for to := range h.dicomTo {
			note(to, "DICOM")
		}
		for to := range h.httpTo {
			note(to, "HTTP")
		}
		for to := range h.tlsTo {
			note(to, "TLS")
		}
		for to := range h.mqttTo {
			note(to, "MQTT")
		}
		if len(onward) == 0 {
			continue
		}
		slices.Sort(what)
		slices.Sort(onward)
		out[h.a.Addr] = true
		if len(elsewhere) == 0 {
			h.claim(observe.KindMiddleware, wMiddleware, "receives %s from %d hosts (%s) and sends on to %s",
				strings.Join(slices.Compact(what), ", "), len(sources), listAddrs(keys3(sources)), listStrings(slices.Compact(onward)))
			continue
		}
		from := make([]string, 0, len(sources)+len(elsewhere))
		for _, a := range keys3(sources) {
			from = append(from, a.String())
		}
		from = append(from, elsewhere...)
		h.claim(observe.KindMiddleware, wMiddleware, "receives %s from %d hosts (%s) and sends on to %s; across sites %s",
			strings.Join(slices.Compact(what), ", "), len(from), listStrings(from), listStrings(slices.Compact(onward)),
			strings.Join(sites, ", "))
	}
	return out
}

// sendersElsewhere are the clients of other sites (Set.Fleet) that sent HL7 or DICOM to
// h's address, addressed to an application or AE title h was sent here too (an address
// alone is not one host across sites, whose networks are numbered alike), as
// "10.24.1.7 (site west)", sorted; and the sites involved, this one's included.
func (c *classifier) sendersElsewhere(h *host) (from, sites []string) {
	if c.fleet == nil {
		return nil, nil
	}
	addr := h.a.Addr.String()
	for _, s := range c.fleet.Senders {
		if s.Server != addr {
			continue
		}
		if !(s.Protocol == "hl7" && h.hl7Recv[short(s.App)] || s.Protocol == "dicom" && h.aes[short(s.App)]) {
			continue
		}
		from = append(from, s.Client+" (site "+observe.SiteName(s.Site)+")")
		sites = append(sites, observe.SiteName(s.Site))
	}
	if len(from) == 0 {
		return nil, nil
	}
	sites = append(sites, observe.SiteName(c.fleet.Site))
	slices.Sort(from)
	slices.Sort(sites)
	return slices.Compact(from), slices.Compact(sites)
}

// relations adds the claims that depend on the peers' kinds: servers of middleware and
// of medical devices.
func (c *classifier) relations(middleware map[netip.Addr]bool) {
	provisional := map[netip.Addr]string{}
	for a, h := range c.hosts {
		provisional[a], _ = h.winner()
	}
	for _, h := range c.hosts {
		// Receiving from middleware, by any protocol.
		from := map[netip.Addr]string{}
		for a := range h.hl7From {
			from[a] = "HL7"
		}
		for a := range h.dicomFrom {
			from[a] = "DICOM"
		}
		for a := range h.httpFrom {
			from[a] = "HTTP"
		}
		for a := range h.tlsFrom {
			if from[a] == "" {
				from[a] = "TLS"
			}
		}
		for a := range h.mqttFrom {
			from[a] = "MQTT"
		}
		for _, a := range keys3(from) {
			if middleware[a] && a != h.a.Addr {
				h.claim(observe.KindClinicalServer, wBehaviour, "receives from %s (middleware) over %s", a, from[a])
			}
		}
		if len(h.fhirServed) > 0 {
			h.claim(observe.KindClinicalServer, wBehaviour, "FHIR server (%s)", listStrings(keys(h.fhirServed)))
		}
		var storedFrom []netip.Addr
		var classes []string
		for a, cls := range h.dicomFrom {
			if st := pick(cls, isImageStorage); st != "" {
				storedFrom = append(storedFrom, a)
				classes = append(classes, st)
			}
		}
		if len(storedFrom) > 0 {
			slices.SortFunc(storedFrom, netip.Addr.Compare)
			slices.Sort(classes)
			h.claim(observe.KindClinicalServer, wBehaviour, "DICOM SCP storing images from %s (%s): a PACS or archive",
				listAddrs(storedFrom), strings.Join(slices.Compact(classes), ", "))
		}
		if len(h.hl7From) > 0 {
			var types []string
			for _, ts := range h.hl7From {
				types = append(types, keys(ts)...)
			}
			slices.Sort(types)
			h.claim(observe.KindClinicalServer, wServes, "receives HL7 %s from %s", strings.Join(slices.Compact(types), ", "),
				listAddrs(keys3(h.hl7From)))
		}
		devices := func(m map[netip.Addr]bool) []netip.Addr {
			var out []netip.Addr
			for a := range m {
				if provisional[a] == observe.KindMedicalDevice && a != h.a.Addr {
					out = append(out, a)
				}
			}
			slices.SortFunc(out, netip.Addr.Compare)
			return out
		}
		if d := devices(h.mqttFrom); len(d) > 0 {
			h.claim(observe.KindClinicalServer, wServes, "MQTT broker for %s (%s)", nDevices(len(d)), listAddrs(d))
		}
		if d := devices(h.httpFrom); len(d) > 0 {
			h.claim(observe.KindClinicalServer, wServes, "HTTP service (%s) for %s (%s)",
				listStrings(keys(h.httpPaths)), nDevices(len(d)), listAddrs(d))
		}
		if d := devices(h.tlsFrom); len(d) > 0 && len(devices(h.httpFrom)) == 0 && len(devices(h.mqttFrom)) == 0 {
			h.claim(observe.KindClinicalServer, wServes, "TLS service for %s (%s)", nDevices(len(d)), listAddrs(d))
		}
	}
}

// nDevices is "1 medical device" or "n medical devices".
func nDevices(n int) string {
	if n == 1 {
		return "1 medical device"
	}
	return strconv.Itoa(n) + " medical devices"
}

// winner returns the kind with the highest total weight, and that total; middleware,
// recognised by behaviour, wins whatever else was claimed.
func (h *host) winner() (string, int) {
	total := map[string]int{}
	for _, cl := range h.claims {
		total[cl.kind] += cl.weight
	}
	if w := total[observe.KindMiddleware]; w > 0 {
		return observe.KindMiddleware, w
	}
	best, bestW := observe.KindUnknown, 0
	for _, k := range kindOrder {
		if total[k] > bestW {
			best, bestW = k, total[k]
		}
	}
	return best, bestW
}

// decide sets the asset's kind, reasons, manufacturer and model.
func (c *classifier) decide(h *host) {
	kind, _ := h.winner()
	a := h.a
	a.Kind = kind
	claims := slices.Clone(h.claims)
	slices.SortStableFunc(claims, func(x, y claim) int { return cmp.Compare(y.weight, x.weight) })
	for _, cl := range claims {
		if cl.kind == kind || cl.kind == observe.KindUnknown {
			a.Reasons = append(a.Reasons, cl.reason)
		}
	}
	for _, k := range kindOrder {
		if k == kind {
			continue
		}
		for _, cl := range claims {
			if cl.kind == k && cl.weight > 0 {
				a.Reasons = append(a.Reasons, "outweighed: "+cl.reason+" (suggests "+k+")")
				break
			}
		}
	}
	if len(a.Reasons) == 0 {
		if len(a.Roles) > 0 {
			a.Reasons = append(a.Reasons, "seen only as "+strings.Join(a.Roles, ", ")+": nothing that tells what it is")
		} else {
			a.Reasons = append(a.Reasons, "seen on the network, doing nothing that tells what it is")
		}
	}
	a.Manufacturer, a.Model = makerModel(h, kind)
}

// makerModel reads the manufacturer and model from the most specific evidence: a DHCP
// vendor class, a User-Agent product, a DICOM implementation, a certificate, the OUI.
func makerModel(h *host, kind string) (maker, model string) {
	a := h.a
	for _, vc := range a.DHCPVendorClass {
		if name, _ := matchMaker(medicalMakers, vc); name != "" {
			return name, vc
		}
	}
	for _, ua := range a.UserAgents {
		if name, _ := matchMaker(medicalMakers, ua); name != "" {
			return name, uaProduct(ua)
		}
	}
	for _, uid := range keys(h.implUIDs) {
		if name := dicomMaker(uid); name != "" && h.roles["dicom-scu"] {
			return name, h.implUIDs[uid]
		}
	}
	for _, s := range a.CertSubjects {
		if name, _ := matchMaker(medicalMakers, s); name != "" {
			return name, ""
		}
	}
	vendor := a.Vendor
	if h.routed {
		vendor = ""
	}
	if name, _ := matchMaker(medicalMakers, vendor); name != "" {
		model = ""
		if kind == observe.KindMedicalDevice && len(a.UserAgents) == 1 && !strings.HasPrefix(a.UserAgents[0], "Mozilla/") {
			model = uaProduct(a.UserAgents[0])
		}
		return name, model
	}
	return "", ""
}

// uaProduct is a User-Agent's first product token, "name version": the device's own
// software names it ("IntelliVue-MX450/M.00.03 (bm-0021)" gives "IntelliVue-MX450 M.00.03").
func uaProduct(ua string) string {
	tok, _, _ := strings.Cut(strings.TrimSpace(ua), " ")
	name, ver, _ := strings.Cut(tok, "/")
	return strings.TrimSpace(name + " " + ver)
}

// observationTypes lists the HL7 message types in types that carry observations from
// equipment (ORU results and alarms, OUL laboratory results), "" when none.
func observationTypes(types map[string]bool) string {
	var out []string
	for _, t := range keys(types) {
		if strings.HasPrefix(t, "ORU") || strings.HasPrefix(t, "OUL") {
			out = append(out, t)
		}
	}
	return strings.Join(out, ", ")
}

func isImageStorage(s string) bool {
	return strings.Contains(s, "Image Storage") || strings.Contains(s, "Waveform Storage")
}

// pick returns the first of a set's sorted values that ok accepts, or "".
func pick(m map[string]bool, ok func(string) bool) string {
	for _, v := range keys(m) {
		if ok(v) {
			return v
		}
	}
	return ""
}

func aeOf(h *host) string {
	if len(h.a.DICOMAETitles) == 0 {
		return ""
	}
	return ", AE " + strings.Join(h.a.DICOMAETitles, "/")
}

// isVirtualRouterMAC is true for HSRP (00:00:0c:07:ac:xx, 00:00:0c:9f:fx:xx) and VRRP
// (00:00:5e:00:01:xx, 00:00:5e:00:02:xx) virtual MACs, which only gateways use.
func isVirtualRouterMAC(m string) bool {
	m = strings.ToLower(m)
	return strings.HasPrefix(m, "00:00:0c:07:ac:") || strings.HasPrefix(m, "00:00:0c:9f:f") ||
		strings.HasPrefix(m, "00:00:5e:00:01:") || strings.HasPrefix(m, "00:00:5e:00:02:")
}

// subnet is the /24 (IPv4) or /64 (IPv6) an address is in: the subnet a host shares
// with its neighbours when the capture says nothing of netmasks.
func subnet(a netip.Addr) netip.Prefix {
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p
}

func prefix(mac string) string {
	if len(mac) >= 8 {
		return mac[:8]
	}
	return mac
}

func keys2[V any](m map[netip.AddrPort]V) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, netip.AddrPort.Compare)
	return out
}

func keys3[V any](m map[netip.Addr]V) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

func listAddrs(v []netip.Addr) string {
	s := make([]string, len(v))
	for i, a := range v {
		s[i] = a.String()
	}
	return listStrings(s)
}

func listPorts(v []netip.AddrPort) string {
	s := make([]string, len(v))
	for i, a := range v {
		s[i] = a.String()
	}
	return listStrings(s)
}

// listStrings joins at most maxListed items, saying how many more there were.
func listStrings(v []string) string {
	if len(v) <= maxListed {
		return strings.Join(v, ", ")
	}
	return strings.Join(v[:maxListed], ", ") + " and " + strconv.Itoa(len(v)-maxListed) + " more"
}

// short is text from the wire as the inventory quotes it: cleaned as every text from the
// wire is (observe.Clean), and cut to maxQuoteRune runes.
func short(s string) string {
	s = strings.TrimSpace(observe.Clean(s))
	if utf8.RuneCountInString(s) <= maxQuoteRune {
		return s
	}
	return string([]rune(s)[:maxQuoteRune]) + "…"
}

// quote puts a string from the network between single quotes for a reason.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuoteRune {
		s = short(s)
	}
	return "'" + s + "'"
}
