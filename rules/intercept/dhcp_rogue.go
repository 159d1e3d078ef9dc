package intercept

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(dhcpRogue{}) }

// dhcpRogue flags DHCP servers that answer the same clients as another server: two
// servers whose offers, acknowledgements or refusals reach one client are on that
// client's segment together. Servers that answer disjoint clients (one per VLAN of a
// trunk capture) are not compared. Of the servers that share clients, the one that
// answered the most clients (then the earliest) is taken for the segment's own, and
// every other is flagged, with what each handed out, so that a responder can tell.
type dhcpRogue struct{}

func (dhcpRogue) Meta() rules.Meta {
	return rules.Meta{
		ID:      "dhcp-rogue",
		Owner:   findings.OwnerNetwork,
		Risk:    findings.RiskPatientData,
		Covers:  findings.Coverage{Domain: findings.DomainInterception, Needs: []findings.Evidence{findings.SeenDHCPReplies}},
		Title:   "More than one DHCP server answers the clients of a segment",
		Default: findings.High,
		Rationale: "A client takes the first DHCP offer it hears, and with it its gateway and DNS servers. A rogue " +
			"DHCP server on the segment (a misconfigured device, or an attacker's) hands clients a gateway or DNS " +
			"server of its choosing and puts itself in the middle of everything they send; a device given a wrong " +
			"address may also stop reporting. Offers or acknowledgements from two servers to the same clients are " +
			"the trace.",
		Remediation: "Identify the second server (its address and the router and DNS it hands out are in the " +
			"evidence; the switch's MAC table names its port) and shut it off. Turn on DHCP snooping on the " +
			"clinical VLANs so that only the uplink to the site's DHCP servers may answer; if two servers are " +
			"meant to serve the segment (a failover pair), suppress the finding for them.",
		References: []string{
			"MITRE ATT&CK T1557.003 (DHCP Spoofing)",
			"RFC 2131 (DHCP), §4.4.1 (client selection of an offer)",
			"NIST SP 800-82 Rev. 3, §6.2 (network segmentation and monitoring)",
		},
	}
}

// dhcpServer is what one server did: whom it answered, and what it handed out.
type dhcpServer struct {
	addr                  string
	clients               map[string]bool
	routers, dns, offered map[string]bool
	offers, acks, naks    int
	first, last           time.Time
}

func (dhcpRogue) Check(c *rules.Context) {
	servers := map[string]*dhcpServer{}
	byClient := map[string]map[string]bool{}
	for _, r := range c.Set.DHCPReplies {
		a := findings.AddrText(r.Server)
		s := servers[a]
		if s == nil {
			s = &dhcpServer{addr: a, clients: map[string]bool{}, routers: map[string]bool{}, dns: map[string]bool{},
				offered: map[string]bool{}, first: r.FirstSeen, last: r.LastSeen}
			servers[a] = s
		}
		observe.Widen(&s.first, &s.last, r.FirstSeen, r.LastSeen)
		s.clients[r.ClientMAC] = true
		if r.Router.IsValid() {
			s.routers[r.Router.String()] = true
		}
		if r.DNS.IsValid() {
			s.dns[r.DNS.String()] = true
		}
		if r.Offered.IsValid() {
			s.offered[r.Offered.String()] = true
		}
		switch r.Type {
		case observe.DHCPOffer:
			s.offers += r.Count
		case observe.DHCPAck:
			s.acks += r.Count
		case observe.DHCPNak:
			s.naks += r.Count
		}
		if byClient[r.ClientMAC] == nil {
			byClient[r.ClientMAC] = map[string]bool{}
		}
		byClient[r.ClientMAC][a] = true
	}
	// Group the servers that share a client (union-find over the server addresses).
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		for parent[x] != "" && parent[x] != x {
			x = parent[x]
		}
		return x
	}
	for _, mac := range slices.Sorted(maps.Keys(byClient)) {
		srv := slices.Sorted(maps.Keys(byClient[mac]))
		for _, s := range srv[1:] {
			if a, b := find(srv[0]), find(s); a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
	}
	groups := map[string][]*dhcpServer{}
	for a, s := range servers {
		groups[find(a)] = append(groups[find(a)], s)
	}
	for _, root := range slices.Sorted(maps.Keys(groups)) {
		g := groups[root]
		if len(g) < 2 {
			continue
		}
		slices.SortFunc(g, func(a, b *dhcpServer) int {
			return cmp.Or(cmp.Compare(len(b.clients), len(a.clients)), a.first.Compare(b.first), cmp.Compare(a.addr, b.addr))
		})
		ev := make([]any, 0, len(g))
		for _, s := range g {
			ev = append(ev, map[string]any{
				"server": s.addr, "clients": listed(sortedKeys(s.clients)), "client_count": len(s.clients),
				"offers": s.offers, "acks": s.acks, "naks": s.naks,
				"routers": listed(sortedKeys(s.routers)), "dns": listed(sortedKeys(s.dns)),
				"offered":    listed(sortedKeys(s.offered)),
				"first_seen": ts(s.first), "last_seen": ts(s.last),
			})
		}
		own := g[0]
		for _, s := range g[1:] {
			var shared []string
			for m := range s.clients {
				if own.clients[m] || len(byClient[m]) > 1 {
					shared = append(shared, m)
				}
			}
			slices.Sort(shared)
			msg := fmt.Sprintf("DHCP server %s answered %d client(s) that %s also answered (%s)", s.addr, len(shared), own.addr,
				strings.Join(listed(shared), ", "))
			if gw := sortedKeys(s.routers); len(gw) > 0 && !slices.Equal(gw, sortedKeys(own.routers)) {
				msg += fmt.Sprintf(", handing out gateway %s where %s hands out %s", strings.Join(gw, ", "), own.addr,
					cmp.Or(strings.Join(sortedKeys(own.routers), ", "), "none"))
			}
			c.Emit(findings.Finding{
				Host:    s.addr,
				Message: msg + ": a second DHCP server on the segment",
				Time:    s.first, FirstSeen: s.first, LastSeen: s.last,
				Evidence: map[string]any{
					"segment_server": own.addr,
					"clients":        listed(shared),
					"servers":        ev,
				},
			})
		}
	}
}
