package inventory

import (
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/observe/oui"
)

// This file reads each kind of observation into the per-address evidence that
// classify.go judges: one function per kind, in the order gather calls them (hosts and
// their MACs first, since routed addresses are told apart by them).

// gatherHosts reads the host table and the DHCP leases into what classifying needs of
// them: how many addresses carry each MAC (a MAC many addresses share is a router's),
// the local subnets, and the DHCP bindings by MAC. It makes a host only for the
// addresses DHCP names: an address of the host table becomes a host when other evidence
// names it (seen), or when the host table alone earns it something to report
// (addLoudHosts), and is otherwise left out of the inventory, a quiet host that package
// findings reports in a compact record. A network swept by a worm holds hundreds of
// thousands of such addresses, and a host each was most of a scan's memory.
func (c *classifier) gatherHosts(set *observe.Set) {
	c.table = set.Hosts
	c.macAddrs = map[string]int{}
	for a, hs := range set.Hosts {
		if !usable(a) {
			continue
		}
		for i, m := range hs.MACs {
			m, ok := canonicalMAC(m)
			if ok && !slices.ContainsFunc(hs.MACs[:i], func(o string) bool { o, _ = canonicalMAC(o); return o == m }) {
				c.macAddrs[m]++
			}
		}
	}
	// DHCP: the server, and the MAC-address bindings over time.
	c.byMAC = map[string][]*observe.DHCPLease{}
	for _, l := range set.DHCP {
		if s := c.get(l.Server); s != nil {
			s.roles["dhcp-server"] = true
			s.dhcpLeases++
		}
		mac, ok := canonicalMAC(l.MAC)
		if ok {
			c.byMAC[mac] = append(c.byMAC[mac], l)
		}
		if l.Acked && ok {
			if h := c.get(l.Addr); h != nil && !slices.Contains(h.a.MACs, mac) {
				h.a.MACs = append(h.a.MACs, mac)
			}
		}
	}
	c.routerMAC = map[string]bool{}
	for m, n := range c.macAddrs {
		if n >= c.opt.RouterMACAddrs {
			c.routerMAC[m] = true
		}
	}
	// The subnets of hosts seen with a MAC of their own.
	c.local = map[netip.Prefix]bool{}
	own := func(m string) bool { return !c.routerMAC[m] }
	for a, hs := range set.Hosts {
		if !usable(a) {
			continue
		}
		for _, m := range hs.MACs {
			if m, ok := canonicalMAC(m); ok && own(m) {
				c.local[subnet(a.Unmap())] = true
				break
			}
		}
	}
	for _, h := range c.hosts {
		if slices.ContainsFunc(h.a.MACs, own) {
			c.local[subnet(h.a.Addr)] = true
		}
	}
}

// entries are the host table's entries of an address: an IPv4 address may also have
// been seen written as IPv4-mapped IPv6 (the inventory keeps one host for both).
func (c *classifier) entries(a netip.Addr) []*observe.Host {
	var out []*observe.Host
	if hs := c.table[a]; hs != nil {
		out = append(out, hs)
	}
	if a.Is4() {
		if hs := c.table[netip.AddrFrom16(a.As16())]; hs != nil {
			out = append(out, hs)
		}
	}
	return out
}

// seen returns the host of an address the scan saw (it has one, or the host table
// holds it), making it; nil for an address seen nowhere else.
func (c *classifier) seen(a netip.Addr) *host {
	a = a.Unmap()
	if h := c.hosts[a]; h != nil {
		return h
	}
	if len(c.entries(a)) > 0 {
		return c.get(a)
	}
	return nil
}

// addLoudHosts makes a host for every address of the host table that has none yet but
// that its host table entry alone gives something to report: seen inside a tunnel or
// carrying one, a DHCP client, or a claim of a kind from its MAC (a maker's registrant,
// a router's interface, a virtual router address). It decides so by settling and
// judging a scratch host exactly as the inventory would, so that what makes an asset
// is decided in one place. The others are quiet.
func (c *classifier) addLoudHosts() {
	for a, hs := range c.table {
		if !usable(a) || c.hosts[a.Unmap()] != nil {
			continue
		}
		if hs.TunnelEndpoint || len(hs.SeenVia) > 0 {
			c.get(a)
			continue
		}
		h := newHost(a.Unmap())
		c.settle(h)
		c.intrinsicOf(h)
		if len(h.roles) > 0 || len(h.names) > 0 || len(h.a.LeasedAddrs) > 0 || len(h.dhcpVC) > 0 ||
			slices.ContainsFunc(h.claims, func(cl claim) bool { return cl.weight > 0 }) {
			c.get(a)
		}
	}
}

// settle gives a host what the host table and the DHCP leases say of its address: when
// it was seen, its MACs and their registrant, whether it is routed (every MAC a
// router's) or a router's own interface, and the evidence its MACs carry from DHCP.
func (c *classifier) settle(h *host) {
	for _, hs := range c.entries(h.a.Addr) {
		observe.Widen(&h.a.FirstSeen, &h.a.LastSeen, hs.FirstSeen, hs.LastSeen)
		for _, v := range hs.SeenVia {
			if !slices.Contains(h.a.SeenVia, v) {
				h.a.SeenVia = append(h.a.SeenVia, v)
			}
		}
		slices.Sort(h.a.SeenVia)
		if hs.TunnelEndpoint {
			// The outer address of a tunnel the sensor's traffic came through: the
			// hosts inside are the clinical network, this one only carries them.
			h.roles["tunnel-endpoint"] = true
		}
		for _, m := range hs.MACs {
			m, ok := canonicalMAC(m)
			if ok && !slices.Contains(h.a.MACs, m) {
				h.a.MACs = append(h.a.MACs, m)
			}
		}
	}
	slices.Sort(h.a.MACs)
	if len(h.a.MACs) > 0 {
		h.a.Vendor = oui.Lookup(h.a.MACs[0])
		h.routed = !slices.ContainsFunc(h.a.MACs, func(m string) bool { return !c.routerMAC[m] })
	}
	if h.routed && c.local[subnet(h.a.Addr)] {
		// The router's own address: on a local subnet, with the MAC every routed
		// address carries.
		h.routed, h.routerIface = false, c.macAddrs[h.a.MACs[0]]
	}
	if h.routed {
		return
	}
	for _, m := range h.a.MACs {
		for _, l := range c.byMAC[m] {
			h.roles["dhcp-client"] = true
			add(&h.dhcpVC, short(l.VendorClass))
			if l.Hostname != "" && len(h.names) < maxNames {
				h.names[observe.AssetName{Name: short(l.Hostname), Source: "dhcp"}] = true
			}
			if l.Acked && usable(l.Addr) && l.Addr != h.a.Addr && !slices.Contains(h.a.LeasedAddrs, l.Addr) {
				h.a.LeasedAddrs = append(h.a.LeasedAddrs, l.Addr)
			}
		}
	}
	slices.SortFunc(h.a.LeasedAddrs, netip.Addr.Compare)
}

// gatherNames reads the names hosts carry.
func (c *classifier) gatherNames(set *observe.Set) {
	for _, n := range set.Names {
		// Names only name addresses seen otherwise: a DNS answer about a host far away
		// does not make it part of this network.
		h := c.seen(n.Addr)
		if h == nil || n.Name == "" {
			continue
		}
		if len(h.names) < maxNames {
			h.names[observe.AssetName{Name: short(n.Name), Source: n.Source}] = true
		}
		if n.Source == "netbios" {
			h.netbios = true
		}
	}
}

// gatherServices reads the listening ports and what they spoke.
func (c *classifier) gatherServices(set *observe.Set) {
	for _, v := range set.Services {
		// A TCP server answered a handshake, so it is a host; a UDP "server" may be a
		// broadcast address a datagram was sent to, so it only adds to a known host.
		h := c.seen(v.Server.Addr())
		if v.Transport == "tcp" {
			h = c.get(v.Server.Addr())
		}
		if h == nil {
			continue
		}
		switch v.Protocol {
		case "hl7-mllp":
			h.roles["hl7-receiver"] = true
		case "dicom":
			h.roles["dicom-scp"] = true
		case "mqtt":
			h.roles["mqtt-broker"] = true
		case "http":
			h.roles["http-server"] = true
		case "tls":
			h.roles["tls-server"] = true
		case "dns":
			h.roles["dns-server"] = true
		case "dhcp":
			h.roles["dhcp-server"] = true
		case "snmp":
			h.roles["snmp-agent"] = true
		}
	}
}

// gatherTLS reads who spoke TLS to whom, and the names clients asked for.
func (c *classifier) gatherTLS(set *observe.Set) {
	for _, t := range set.TLSSessions {
		if t.Source == observe.SourceActive {
			// The client of an active handshake is medscan itself: the server is an
			// asset, the prober is not, and neither "talks to" the other.
			if sv := c.get(t.Flow.Server.Addr()); sv != nil {
				sv.roles["tls-server"] = true
				if t.SNI != "" && len(sv.names) < maxNames {
					sv.names[observe.AssetName{Name: short(t.SNI), Source: "tls-sni"}] = true
				}
			}
			continue
		}
		if t.Flow.Target != "" {
			// A target the client named by host name behind a proxy (observe.Flow): the
			// server's address is unknown, and the proxy's is not the server's; its name
			// and certificate are no evidence about the proxy.
			if cl := c.get(t.Flow.Client.Addr()); cl != nil {
				cl.roles["tls-client"] = true
			}
			continue
		}
		cl, sv := c.get(t.Flow.Client.Addr()), c.get(t.Flow.Server.Addr())
		if cl == nil || sv == nil {
			continue
		}
		cl.roles["tls-client"] = true
		sv.roles["tls-server"] = true
		mark(&cl.tlsTo, t.Flow.Server)
		mark(&sv.tlsFrom, cl.a.Addr)
		if t.SNI != "" && len(sv.names) < maxNames {
			sv.names[observe.AssetName{Name: short(t.SNI), Source: "tls-sni"}] = true
		}
	}
}

// gatherCertificates reads the subjects of the leaf certificates hosts presented.
func (c *classifier) gatherCertificates(set *observe.Set) {
	for _, cert := range set.Certificates {
		if cert.Facts == nil || cert.Facts.Subject == "" {
			continue
		}
		for _, sg := range cert.Seen {
			if sg.Position != 0 || sg.Target != "" { // a target named behind a proxy is not the proxy
				continue
			}
			if h := c.get(sg.Endpoint.Addr()); h != nil {
				add(&h.certs, short(cert.Facts.Subject))
			}
		}
	}
}

// gatherHTTP reads who spoke HTTP to whom, browsers and servers, FHIR and firmware.
func (c *classifier) gatherHTTP(set *observe.Set) {
	for _, r := range set.HTTP {
		cl, sv := c.get(r.Flow.Client.Addr()), c.get(r.Flow.Server.Addr())
		if cl == nil || sv == nil {
			continue
		}
		cl.roles["http-client"] = true
		sv.roles["http-server"] = true
		mark(&cl.httpTo, r.Flow.Server)
		mark(&sv.httpFrom, cl.a.Addr)
		add(&cl.ua, short(r.UserAgent))
		add(&sv.srv, short(r.Server))
		shape := short(r.Method + " " + r.Path) // the path is a template: no record's identifier

		add(&sv.httpPaths, shape)
		if r.API == observe.APIFHIR {
			sv.roles["fhir-server"] = true
			cl.roles["fhir-client"] = true
			add(&sv.fhirServed, shape)
		}
		if r.BodyKind != "" {
			sv.roles["update-server"] = true
			sv.firmwareServed = true
		}
	}
}

// gatherTransfers reads the servers that served software images over FTP or TFTP.
func (c *classifier) gatherTransfers(set *observe.Set) {
	for _, t := range set.Transfers {
		if sv := c.get(t.Flow.Server.Addr()); sv != nil && !t.Upload && t.Kind != "" {
			sv.roles["update-server"] = true
			sv.firmwareServed = true
		}
	}
}

// gatherMQTT reads the MQTT clients and brokers.
func (c *classifier) gatherMQTT(set *observe.Set) {
	for _, m := range set.MQTT {
		cl, sv := c.get(m.Flow.Client.Addr()), c.get(m.Flow.Server.Addr())
		if cl == nil || sv == nil {
			continue
		}
		cl.roles["mqtt-client"] = true
		sv.roles["mqtt-broker"] = true
		mark(&cl.mqttTo, m.Flow.Server)
		mark(&sv.mqttFrom, cl.a.Addr)
	}
}

// gatherHL7 reads who sent HL7 to whom, and of which types.
func (c *classifier) gatherHL7(set *observe.Set) {
	for _, m := range set.HL7 {
		cl, sv := c.get(m.Flow.Client.Addr()), c.get(m.Flow.Server.Addr())
		if cl == nil || sv == nil {
			continue
		}
		app := m.SendingApp
		if m.SendingFacility != "" {
			app += "^" + m.SendingFacility
		}
		if m.IsAck {
			// The acknowledging side is the receiver (see the package documentation).
			sv.roles["hl7-receiver"] = true
			add(&sv.hl7Apps, short(app))
			continue
		}
		cl.roles["hl7-sender"] = true
		sv.roles["hl7-receiver"] = true
		add(&cl.hl7Apps, short(app))
		typ := short(m.MessageType)
		if m.TriggerEvent != "" {
			typ += "^" + short(m.TriggerEvent)
		}
		addTo(&sv.hl7From, cl.a.Addr, typ)
		if m.ReceivingApp != "" {
			add(&sv.hl7Recv, short(m.ReceivingApp))
		}
		addTo(&cl.hl7To, m.Flow.Server, typ)
	}
}

// gatherDICOM reads who associated with whom over DICOM, with what classes and stacks.
func (c *classifier) gatherDICOM(set *observe.Set) {
	for _, d := range set.DICOM {
		cl, sv := c.get(d.Flow.Client.Addr()), c.get(d.Flow.Server.Addr())
		if cl == nil || sv == nil {
			continue
		}
		cl.roles["dicom-scu"] = true
		sv.roles["dicom-scp"] = true
		add(&cl.aes, short(d.CallingAE))
		add(&sv.aes, short(d.CalledAE))
		if d.ImplClassUID != "" || d.ImplVersion != "" {
			add(&cl.impls, short(strings.TrimSpace(d.ImplClassUID+" "+d.ImplVersion)))
			if cl.implUIDs == nil {
				cl.implUIDs = map[string]string{}
			}
			if len(cl.implUIDs) < maxEvidence {
				cl.implUIDs[short(d.ImplClassUID)] = short(d.ImplVersion)
			}
		}
		names := d.AbstractSyntaxNames
		if len(names) == 0 {
			names = d.AbstractSyntaxes
		}
		if len(names) == 0 {
			addTo(&sv.dicomFrom, cl.a.Addr, "")
			addTo(&cl.dicomTo, d.Flow.Server, "")
		}
		for _, n := range names {
			addTo(&sv.dicomFrom, cl.a.Addr, short(n))
			addTo(&cl.dicomTo, d.Flow.Server, short(n))
		}
	}
}

// gatherCredentials reads the SNMP agents that communities were sent to.
func (c *classifier) gatherCredentials(set *observe.Set) {
	for _, cr := range set.Credentials {
		if cr.Protocol != "snmp" {
			continue
		}
		if sv := c.get(cr.Flow.Server.Addr()); sv != nil {
			sv.roles["snmp-agent"] = true
		}
	}
}

// canonicalMAC is a hardware address as every reason and lookup spells it (lower-case,
// colon-separated), or false for a string that is not one: the host table and DHCP
// leases are filled from the wire or a store, and a reason quotes the MAC verbatim.
func canonicalMAC(m string) (string, bool) {
	if canonical(m) {
		return m, true // the common case, without an allocation: the capture writes them so
	}
	hw, err := net.ParseMAC(m)
	if err != nil || len(hw) != 6 {
		return "", false
	}
	return hw.String(), true
}

// canonical is true for a MAC already spelt as canonicalMAC spells it.
func canonical(m string) bool {
	if len(m) != 17 {
		return false
	}
	for i := range len(m) {
		ch := m[i]
		if i%3 == 2 {
			if ch != ':' {
				return false
			}
		} else if (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			return false
		}
	}
	return true
}
