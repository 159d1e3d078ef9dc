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
		Covers:  findings.Coverage{Domain: findings.DomainAuthentication, Needs: []findings.Evidence{findings.SeenCredentialUse}},
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

// Check groups credentials by kind and keyed hash (the same secret) and raises a finding
// for each secret that two or more client hosts sent. The fingerprint does not depend on
// the hash, whose key is per store: the Subject is the kind and the sorted servers the
// secret was sent to ("mqtt-password@10.20.0.50:1883"), and the host and port are the
// first of those servers. Two shared secrets of one kind sent to the same servers are one
// finding that lists both, like cleartext-credentials' distinct secrets; a secret that
// starts being sent to a new server is, by that Subject, a new finding.
func (credentialShared) Check(c *rules.Context) {
	type key struct{ kind, hash string }
	type secret struct {
		key
		preview                          string
		protocols, clients, users, where []string
		servers                          []observe.Endpoint
		seen                             observe.Span
		count                            int
	}
	secrets := observe.NewIndex[key, *secret](0)
	for _, cr := range c.Set.Credentials {
		if cr.Hash == "" {
			continue // nothing to compare by
		}
		k := key{cr.Kind, cr.Hash}
		s, _, _ := secrets.Add(k, func() *secret { return &secret{key: k, preview: cr.Preview} })
		s.seen.Add(cr.FirstSeen, cr.LastSeen)
		s.clients = rules.AddSorted(s.clients, cr.Flow.Client.Addr().Unmap().String())
		if i, found := slices.BinarySearchFunc(s.servers, cr.Flow.Server, observe.Endpoint.Compare); !found && len(s.servers) < 64 {
			s.servers = slices.Insert(s.servers, i, cr.Flow.Server)
		}
		if cr.Protocol != "" {
			s.protocols = rules.AddSorted(s.protocols, cr.Protocol)
		}
		if cr.User != "" {
			s.users = rules.AddSorted(s.users, cr.User)
		}
		if cr.Where != "" {
			s.where = rules.AddSorted(s.where, cr.Where)
		}
		s.count += max(cr.Count, 1)
	}
	// One finding per kind and server set, each listing its shared secrets.
	type group struct {
		subject string
		secrets []*secret
	}
	groups := observe.NewIndex[string, *group](0)
	for _, s := range secrets.Items() {
		if len(s.clients) < 2 {
			continue
		}
		subj := s.kind + "@" + strings.Join(endpointStrings(s.servers), ",")
		g, _, _ := groups.Add(subj, func() *group { return &group{subject: subj} })
		g.secrets = append(g.secrets, s)
	}
	for _, g := range groups.Sorted(func(a, b *group) int { return cmp.Compare(a.subject, b.subject) }) {
		subj, ss := g.subject, g.secrets
		slices.SortFunc(ss, func(a, b *secret) int { return cmp.Or(cmp.Compare(a.preview, b.preview), cmp.Compare(a.hash, b.hash)) })
		var clients, users, where, protocols []string
		var seen observe.Span
		count := 0
		secrets := make([]map[string]any, 0, len(ss))
		for _, s := range ss {
			for _, x := range s.clients {
				clients = rules.AddSorted(clients, x)
			}
			for _, x := range s.users {
				users = rules.AddSorted(users, x)
			}
			for _, x := range s.where {
				where = rules.AddSorted(where, x)
			}
			for _, x := range s.protocols {
				protocols = rules.AddSorted(protocols, x)
			}
			seen.Add(s.seen.First, s.seen.Last)
			count += s.count
			secrets = append(secrets, map[string]any{"preview": s.preview, "hash": s.hash, "clients": s.clients, "count": s.count})
		}
		servers := endpointStrings(ss[0].servers)
		host, port := rules.HostPort(ss[0].servers[0])
		ev := map[string]any{
			"kind":        ss[0].kind,
			"protocols":   protocols,
			"clients":     clients,
			"hosts":       len(clients),
			"servers":     servers,
			"preview":     ss[0].preview,
			"hash":        ss[0].hash,
			"count":       count,
			"secrets":     secrets,
			"observed_at": rules.TimeString(seen.First),
			"first_seen":  rules.TimeString(seen.First),
			"last_seen":   rules.TimeString(seen.Last),
		}
		if len(users) > 0 {
			ev["user"] = users
		}
		if len(where) > 0 {
			ev["where"] = where
		}
		what := "the same " + ss[0].kind + " (" + ss[0].preview + ")"
		if len(ss) > 1 {
			what = fmt.Sprintf("%d shared %s secrets", len(ss), ss[0].kind)
		}
		c.Emit(findings.Finding{
			Host:    host,
			Port:    port,
			Subject: subj,
			Message: fmt.Sprintf("%d hosts (%s) sent %s to %s", len(clients), joinFew(clients, 5), what,
				joinFew(servers, 3)),
			Evidence:  ev,
			Time:      seen.First,
			FirstSeen: seen.First,
			LastSeen:  seen.Last,
		})
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
