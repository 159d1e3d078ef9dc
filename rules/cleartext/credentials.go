package cleartext

import (
	"cmp"
	"fmt"
	"slices"

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
		Covers:  findings.Coverage{Domain: findings.DomainCleartext, Needs: []findings.Evidence{findings.SeenCredentialExchange}},
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskCredentials,
		Title:   "Credential sent in clear",
		Default: findings.High,
		Rationale: "A password, token, API key or community string sent without encryption can be read by " +
			"anyone on the path and replayed; device credentials are often shared by a whole fleet and " +
			"rarely rotated, so one capture opens many devices.",
		Remediation: "Move the service to TLS (HTTPS, MQTT over TLS, FTPS/SFTP, IMAPS/POP3S, SNMPv3 with " +
			"privacy; for databases, directories and XMPP, require TLS before login: MySQL/MariaDB " +
			"require_secure_transport, PostgreSQL hostssl, LDAP StartTLS or LDAPS, XMPP " +
			"c2s_require_encryption), then rotate the exposed credential; prefer per-device credentials.",
		References: []string{
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security) and 164.312(d) (authentication)",
			"RFC 7617, §4 (Basic authentication is only secure over TLS); RFC 6750, §5.3 (bearer tokens require TLS)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
			"NIST SP 800-52 Rev. 2, §1 (protecting data in transit)",
		},
	}
}

// Check raises one finding per server and kind of credential, listing every distinct
// secret (by preview and keyed hash) and who sent it. The fingerprint does not depend on
// the hash, whose key differs between key files: the same exposure is the same finding in any store,
// which baselines and CI gates rely on.
func (credentials) Check(c *rules.Context) {
	type key struct {
		server observe.Endpoint
		kind   string
	}
	type secret struct {
		preview, hash  string
		users, clients []string
		count          int
	}
	type agg struct {
		k                     key
		protocol              string
		seen                  observe.Span
		clients, users, where []string
		secrets               []*secret
		count                 int
	}
	groups := observe.NewIndex[key, *agg](0)
	for _, cr := range c.Set.Credentials {
		k := key{cr.Flow.Server, cr.Kind}
		a, _, _ := groups.Add(k, func() *agg { return &agg{k: k, protocol: cr.Protocol} })
		a.seen.Add(cr.FirstSeen, cr.LastSeen)
		client := cr.Flow.Client.Addr().Unmap().String()
		a.clients = rules.AddSorted(a.clients, client)
		if cr.User != "" {
			a.users = rules.AddSorted(a.users, cr.User)
		}
		if cr.Where != "" {
			a.where = rules.AddSorted(a.where, cr.Where)
		}
		a.count += max(cr.Count, 1)
		i := slices.IndexFunc(a.secrets, func(s *secret) bool { return s.hash == cr.Hash })
		if i < 0 {
			a.secrets = append(a.secrets, &secret{preview: cr.Preview, hash: cr.Hash})
			i = len(a.secrets) - 1
		}
		sc := a.secrets[i]
		sc.clients = rules.AddSorted(sc.clients, client)
		if cr.User != "" {
			sc.users = rules.AddSorted(sc.users, cr.User)
		}
		sc.count += max(cr.Count, 1)
	}
	for _, a := range groups.Sorted(func(a, b *agg) int {
		return cmp.Or(a.k.server.Compare(b.k.server), cmp.Compare(a.k.kind, b.k.kind))
	}) {
		k := a.k
		host, port := rules.HostPort(k.server)
		slices.SortFunc(a.secrets, func(x, y *secret) int { return cmp.Compare(x.hash, y.hash) })
		// A login whose response is a salted digest (a MySQL scramble, a PostgreSQL MD5
		// response) comes without a secret: the user name went in clear, no password did.
		a.secrets = slices.DeleteFunc(a.secrets, func(sc *secret) bool { return sc.hash == "" })
		secrets := make([]map[string]any, 0, len(a.secrets))
		for _, sc := range a.secrets {
			e := map[string]any{"preview": sc.preview, "hash": sc.hash, "clients": sc.clients, "count": sc.count}
			if len(sc.users) > 0 {
				e["users"] = sc.users
			}
			secrets = append(secrets, e)
		}
		ev := map[string]any{
			"kind":             k.kind,
			"protocol":         a.protocol,
			"count":            a.count,
			"clients":          a.clients,
			"distinct_secrets": len(a.secrets),
			"secrets":          secrets,
		}
		if len(a.users) > 0 {
			ev["user"] = a.users
		}
		if len(a.where) > 0 {
			ev["where"] = a.where
		}
		who := ""
		if len(a.users) > 0 {
			who = " for user " + joinOr(a.users, "")
		}
		what := "a login whose response is a salted digest, not the password"
		switch {
		case len(a.secrets) == 1:
			what = a.secrets[0].preview
		case len(a.secrets) > 1:
			what = fmt.Sprintf("%d distinct secrets", len(a.secrets))
		}
		c.Emit(rules.Observed(a.seen, findings.Finding{
			Host:    host,
			Port:    port,
			Subject: k.kind,
			Message: fmt.Sprintf("%s received a credential in clear (%s%s) from %s: %s",
				k.server, k.kind, who, joinOr(a.clients, "?"), what),
			Evidence: ev,
		}))
	}
}
