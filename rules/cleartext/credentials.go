package cleartext

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(credentials{}) }

// credentials flags every credential seen in clear.
type credentials struct{}

func (credentials) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cleartext-credentials",
		Title:   "Credential sent in clear",
		Default: findings.High,
		Rationale: "A password, token, API key or community string sent without encryption can be read by " +
			"anyone on the path and replayed; device credentials are often shared by a whole fleet and " +
			"rarely rotated, so one capture opens many devices.",
		Remediation: "Move the service to TLS (HTTPS, MQTT over TLS, FTPS/SFTP, IMAPS/POP3S, SNMPv3 with " +
			"privacy), then rotate the exposed credential; prefer per-device credentials.",
		References: []string{
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security) and 164.312(d) (authentication)",
			"RFC 7617, §4 (Basic authentication is only secure over TLS); RFC 6750, §5.3 (bearer tokens require TLS)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
			"NIST SP 800-52 Rev. 2, §1 (protecting data in transit)",
		},
	}
}

func (credentials) Check(c *rules.Context) {
	type key struct {
		server     observe.Endpoint
		kind, hash string
	}
	type agg struct {
		k                     key
		protocol, preview     string
		first, last           time.Time
		clients, users, where []string
		count                 int
	}
	idx := map[key]*agg{}
	var order []key
	for _, cr := range c.Set.Credentials {
		k := key{cr.Flow.Server, cr.Kind, cr.Hash}
		a := idx[k]
		if a == nil {
			a = &agg{k: k, protocol: cr.Protocol, preview: cr.Preview, first: cr.FirstSeen, last: cr.LastSeen}
			idx[k] = a
			order = append(order, k)
		}
		if cr.FirstSeen.Before(a.first) {
			a.first = cr.FirstSeen
		}
		if cr.LastSeen.After(a.last) {
			a.last = cr.LastSeen
		}
		a.clients = rules.AddSorted(a.clients, cr.Flow.Client.Addr().Unmap().String())
		if cr.User != "" {
			a.users = rules.AddSorted(a.users, cr.User)
		}
		if cr.Where != "" {
			a.where = rules.AddSorted(a.where, cr.Where)
		}
		a.count += max(cr.Count, 1)
	}
	slices.SortFunc(order, func(a, b key) int {
		return cmp.Or(a.server.Compare(b.server), cmp.Compare(a.kind, b.kind), cmp.Compare(a.hash, b.hash))
	})
	for _, k := range order {
		a := idx[k]
		host, port := rules.HostPort(k.server)
		who := ""
		if len(a.users) > 0 {
			who = " for user " + joinOr(a.users, "")
		}
		ev := map[string]any{
			"kind":        k.kind,
			"protocol":    a.protocol,
			"preview":     a.preview,
			"hash":        k.hash,
			"count":       a.count,
			"clients":     a.clients,
			"observed_at": rules.TimeString(a.first),
			"first_seen":  rules.TimeString(a.first),
			"last_seen":   rules.TimeString(a.last),
		}
		if len(a.users) > 0 {
			ev["user"] = a.users
		}
		if len(a.where) > 0 {
			ev["where"] = a.where
		}
		c.Emit(findings.Finding{
			Host:    host,
			Port:    port,
			Subject: k.kind + ":" + k.hash,
			Message: fmt.Sprintf("%s received a credential in clear (%s%s) from %s: %s",
				k.server, k.kind, who, joinOr(a.clients, "?"), a.preview),
			Evidence:  ev,
			Time:      a.first,
			FirstSeen: a.first,
			LastSeen:  a.last,
		})
	}
}
