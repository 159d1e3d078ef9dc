package cleartext

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(credentialShared{}) }

// credentialShared flags a secret that several client hosts send: a credential
// hard-coded in a fleet's firmware or configuration.
type credentialShared struct{}

func (credentialShared) Meta() rules.Meta {
	return rules.Meta{
		ID:      "credential-shared",
		Covers:  findings.Coverage{Domain: findings.DomainAuthentication, Needs: []findings.Evidence{findings.SeenSharedCredentialUse}},
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskSharedSecrets,
		Title:   "Same credential used by several hosts",
		Default: findings.High,
		Rationale: "One password or API key on a whole fleet (every monitor on a ward, every pump of a model) is " +
			"usually hard-coded: it cannot be rotated for one device, revoking it stops them all, the server " +
			"cannot tell the devices apart in its audit trail, and whoever reads it from one device or one " +
			"capture can impersonate all of them.",
		Remediation: "Give each device its own credential (or better, its own certificate for mutual TLS), " +
			"provisioned at enrolment and rotatable; then rotate the shared secret, which must be treated as known.",
		References: []string{
			"HIPAA Security Rule, 45 CFR 164.312(d) (person or entity authentication) and 164.312(a)(2)(i) (unique user identification)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication: no hard-coded credentials)",
			"OWASP API Security Top 10 2023, API2 (broken authentication)",
		},
	}
}

// Check finds the secrets (by kind and keyed hash) that two or more client hosts sent,
// wherever they sent them, and raises one finding per server and kind, like
// cleartext-credentials: its Subject is the kind, so its identity (rule, server, kind)
// does not depend on the hash, whose key differs between key files, nor on which other servers the
// secret reached. Two shared secrets of one kind sent to one server are one finding that
// lists both. Its clients are the hosts that sent a shared secret to this server, the
// ones a later scan must see again to tell whether they still share it.
func (credentialShared) Check(c *rules.Context) {
	type secretKey struct{ kind, hash string }
	type secret struct {
		secretKey
		preview string
		clients []string // every host that sent it, to any server
		// elsewhere are the clients of other sites that sent it (observe.Fleet), as
		// "10.30.0.7 (site south)", and sites every site it was sent at, this one's too.
		elsewhere, sites []string
		servers          []observe.Endpoint
		count            int
	}
	type groupKey struct {
		server observe.Endpoint
		kind   string
	}
	type group struct {
		groupKey
		secrets                          []*secret // the shared secrets sent to the server, in order of arrival
		clients, users, where, protocols []string
		seen                             observe.Span
		count                            int
	}
	secrets := observe.NewIndex[secretKey, *secret](0)
	for _, cr := range c.Set.Credentials {
		if cr.Hash == "" {
			continue // nothing to compare by
		}
		sk := secretKey{cr.Kind, cr.Hash}
		s, _, _ := secrets.Add(sk, func() *secret { return &secret{secretKey: sk, preview: cr.Preview} })
		s.clients = rules.AddSorted(s.clients, cr.Flow.Client.Addr().Unmap().String())
		if i, found := slices.BinarySearchFunc(s.servers, cr.Flow.Server, observe.Endpoint.Compare); !found && len(s.servers) < 64 {
			s.servers = slices.Insert(s.servers, i, cr.Flow.Server)
		}
		s.count += max(cr.Count, 1)
	}
	// Other sites' clients of the same secrets (hashed under the same key file: the
	// store compares only those), so that one hard-coded secret across the fleet is seen
	// even where each site has one device using it.
	if fl := c.Set.Fleet; fl != nil {
		for _, fc := range fl.Credentials {
			s, ok := secrets.Get(secretKey{fc.Kind, fc.Hash})
			if !ok {
				continue
			}
			s.elsewhere = rules.AddSorted(s.elsewhere, fc.Client+" (site "+observe.SiteName(fc.Site)+")")
			if len(s.sites) == 0 {
				s.sites = []string{fl.Site}
			}
			s.sites = rules.AddSorted(s.sites, fc.Site)
		}
	}
	// A second pass, now that it is known which secrets are shared: who sent them where.
	groups := observe.NewIndex[groupKey, *group](0)
	for _, cr := range c.Set.Credentials {
		s, ok := secrets.Get(secretKey{cr.Kind, cr.Hash})
		if !ok || len(s.clients)+len(s.elsewhere) < 2 {
			continue
		}
		gk := groupKey{cr.Flow.Server, cr.Kind}
		g, _, _ := groups.Add(gk, func() *group { return &group{groupKey: gk} })
		if !slices.Contains(g.secrets, s) {
			g.secrets = append(g.secrets, s)
		}
		g.clients = rules.AddSorted(g.clients, cr.Flow.Client.Addr().Unmap().String())
		g.seen.Add(cr.FirstSeen, cr.LastSeen)
		g.count += max(cr.Count, 1)
		if cr.Protocol != "" {
			g.protocols = rules.AddSorted(g.protocols, cr.Protocol)
		}
		if cr.User != "" {
			g.users = rules.AddSorted(g.users, cr.User)
		}
		if cr.Where != "" {
			g.where = rules.AddSorted(g.where, cr.Where)
		}
	}
	for _, g := range groups.Sorted(func(a, b *group) int {
		return cmp.Or(a.server.Compare(b.server), cmp.Compare(a.kind, b.kind))
	}) {
		ss := g.secrets
		slices.SortFunc(ss, func(a, b *secret) int { return cmp.Or(cmp.Compare(a.preview, b.preview), cmp.Compare(a.hash, b.hash)) })
		var hosts, sites []string
		var servers []observe.Endpoint
		list := make([]map[string]any, 0, len(ss))
		for _, s := range ss {
			for _, x := range s.clients {
				hosts = rules.AddSorted(hosts, x)
			}
			for _, x := range s.elsewhere {
				hosts = rules.AddSorted(hosts, x)
			}
			for _, x := range s.sites {
				sites = rules.AddSorted(sites, x)
			}
			for _, ep := range s.servers {
				if i, found := slices.BinarySearchFunc(servers, ep, observe.Endpoint.Compare); !found {
					servers = slices.Insert(servers, i, ep)
				}
			}
			entry := map[string]any{"preview": s.preview, "hash": s.hash, "clients": s.clients, "count": s.count}
			if len(s.elsewhere) > 0 {
				entry["clients_elsewhere"] = s.elsewhere
			}
			list = append(list, entry)
		}
		host, port := rules.HostPort(g.server)
		here := findings.Target(host, port)
		ev := map[string]any{
			"kind":      g.kind,
			"protocols": g.protocols,
			"clients":   g.clients,
			"hosts":     len(hosts),
			"shared_by": hosts,
			"servers":   endpointStrings(servers),
			"preview":   ss[0].preview,
			"hash":      ss[0].hash,
			"count":     g.count,
			"secrets":   list,
		}
		if len(g.users) > 0 {
			ev["user"] = g.users
		}
		if len(g.where) > 0 {
			ev["where"] = g.where
		}
		if len(sites) > 1 {
			ev["sites"] = sites
		}
		what := "the same " + g.kind + " (" + ss[0].preview + ")"
		if len(ss) > 1 {
			what = fmt.Sprintf("%d shared %s secrets", len(ss), g.kind)
		}
		msg := fmt.Sprintf("%d hosts (%s) sent %s to %s", len(g.clients), joinFew(g.clients, 5), what, here)
		if len(g.clients) < len(hosts) {
			them := "it"
			if len(ss) > 1 {
				them = "them"
			}
			msg = fmt.Sprintf("%s sent %s to %s; %d hosts in all share %s (%s)", joinFew(g.clients, 5), what, here,
				len(hosts), them, joinFew(hosts, 5))
		}
		if len(sites) > 1 {
			names := make([]string, len(sites))
			for i, s := range sites {
				names[i] = observe.SiteName(s)
			}
			msg += "; across sites " + strings.Join(names, ", ")
		}
		c.Emit(rules.Observed(g.seen, findings.Finding{
			Host:     host,
			Port:     port,
			Subject:  g.kind,
			Message:  msg,
			Evidence: ev,
		}))
	}
}

// endpointStrings renders endpoints as "10.20.0.50:1883", IPv4-mapped addresses unmapped.
func endpointStrings(eps []observe.Endpoint) []string {
	out := make([]string, len(eps))
	for i, ep := range eps {
		out[i] = netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port()).String()
	}
	return out
}
