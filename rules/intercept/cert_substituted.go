package intercept

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(certSubstituted{}) }

// certSubstituted flags a TLS server that presents, within the window, a key that is
// suspect (self-signed, or, when the policy names trust anchors, not chaining to them)
// beside a key that is not: what an intercepting proxy answering for the server looks
// like to the clients it catches. Keys are compared per server endpoint and per server
// name asked for (SNI), so a name answered from another address counts too.
//
// Several keys that all chain (a load balancer's nodes, each with its own certificate
// from the site CA) are not a sign; nor is a suspect key replaced for good by a trusted
// one (a device moved onto the site PKI); nor are several suspect keys alone (a device
// that makes itself a new self-signed certificate at each boot), since nothing then
// says which is the server's own.
type certSubstituted struct{}

func (certSubstituted) Meta() rules.Meta {
	return rules.Meta{
		ID:      "tls-cert-substituted",
		Owner:   findings.OwnerNetwork,
		Risk:    findings.RiskPatientData,
		Covers:  findings.Coverage{Domain: findings.DomainInterception, Needs: []findings.Evidence{findings.SeenCertificates}},
		Title:   "TLS server presented a substituted key to some clients",
		Default: findings.High,
		Rationale: "An attacker who intercepts TLS between a device and its middleware or EHR must answer " +
			"with a key of their own, since they do not hold the server's; the certificate they present is " +
			"self-signed or issued by their own CA, not the site's. The same server showing a trusted key to " +
			"some clients and such a key to others, or to one client at another time, is the trace. Clients " +
			"that accepted the substitute did not validate the chain, and everything they sent through it " +
			"(results, credentials, firmware) was readable and changeable.",
		Remediation: "Find where the clients that saw the substituted key reach the network (switch port, " +
			"ARP and DHCP state, DNS answers for the server's name) and look for the device answering with the " +
			"key; remove it. Make the clients validate the server's chain against the site's trust anchors and, " +
			"where they can, pin the server's key, so that a substitute is refused instead of used.",
		References: []string{
			"NIST SP 800-52 Rev. 2, §3.5 (server certificate validation)",
			"MITRE ATT&CK T1557 (Adversary-in-the-Middle)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
		},
	}
}

// presentedKey is one leaf key as one server (endpoint or name) presented it.
type presentedKey struct {
	spki    string
	leaf    *observe.Certificate
	chain   []observe.CertRef
	server  observe.Endpoint // the endpoint that presented it (the first seen, for a name group)
	clients map[string]bool
	first   time.Time
	last    time.Time
	suspect string // why the key is suspect; "" when it is not
	count   int
}

func (certSubstituted) Check(c *rules.Context) {
	var v *lint.Verifier
	if c.Policy.Anchors != nil {
		v = lint.NewVerifier(c.Set, c.Policy.Anchors)
	}
	// Group the leaf keys of every observable server flight by endpoint and by name.
	groups := map[string]map[string]*presentedKey{}
	var order []string
	add := func(group string, s *observe.TLSSession, leaf *observe.Certificate) {
		g := groups[group]
		if g == nil {
			g = map[string]*presentedKey{}
			groups[group] = g
			order = append(order, group)
		}
		spki := leaf.Facts.SPKISHA256
		k := g[spki]
		if k == nil {
			k = &presentedKey{spki: spki, leaf: leaf, chain: s.ServerChain, server: s.Flow.Server, clients: map[string]bool{},
				first: s.FirstSeen, last: s.LastSeen}
			k.suspect = suspicion(v, leaf, s)
			g[spki] = k
		}
		observe.Widen(&k.first, &k.last, s.FirstSeen, s.LastSeen)
		k.clients[findings.AddrText(s.Flow.Client.Addr())] = true
		k.count += max(s.Count, 1)
	}
	for _, s := range c.Set.TLSSessions {
		if s.CertsEncrypted || len(s.ServerChain) == 0 {
			continue
		}
		leaf := c.Set.Certificates[s.ServerChain[0]]
		if leaf == nil || leaf.Facts == nil || leaf.Facts.SPKISHA256 == "" {
			continue
		}
		host, port := rules.HostPort(s.Flow.Server)
		add("endpoint "+findings.Target(host, port)+" "+s.Flow.Target, s, leaf)
		if s.SNI != "" {
			add("name "+strings.ToLower(s.SNI), s, leaf)
		}
	}
	kinds := assetKinds(c.Set)
	for _, name := range order {
		keys := slices.SortedFunc(maps.Values(groups[name]), func(a, b *presentedKey) int {
			return cmp.Or(a.first.Compare(b.first), cmp.Compare(a.spki, b.spki))
		})
		if len(keys) < 2 {
			continue
		}
		for _, bad := range keys {
			if bad.suspect == "" {
				continue
			}
			var good []*presentedKey
			for _, k := range keys {
				// The suspect key must show up while, or after, a trusted one was in use:
				// a suspect key replaced for good by a trusted one is a migration.
				if k.suspect == "" && near(bad.first, bad.last, k.first, k.last) && !bad.last.Before(k.first) {
					good = append(good, k)
				}
			}
			if len(good) == 0 {
				continue
			}
			c.Emit(substitution(name, bad, good, keys, kinds))
		}
	}
}

// suspicion says why a leaf is suspect: self-signed, or outside the site's anchors.
func suspicion(v *lint.Verifier, leaf *observe.Certificate, s *observe.TLSSession) string {
	if leaf.Facts.SelfSigned {
		return "self-signed"
	}
	if v != nil {
		if verdict := v.Verify(s.ServerChain, s.FirstSeen); !verdict.Trusted {
			return "does not chain to a site trust anchor: " + verdict.Reason
		}
	}
	return ""
}

func substitution(group string, bad *presentedKey, good, all []*presentedKey, kinds map[string]string) findings.Finding {
	host, port := rules.HostPort(bad.server)
	kind := kinds[host]
	var goodNames []string
	for _, g := range good {
		goodNames = append(goodNames, g.spki[:min(16, len(g.spki))])
	}
	f := findings.Finding{
		Host: host, Port: port, Subject: bad.spki,
		Severity: severityFor(kind),
		Message: fmt.Sprintf("%s presented key %s (%s, %s) to %s, beside trusted key %s: a substituted certificate, as an intercepting proxy presents",
			findings.Target(host, port), bad.spki[:min(16, len(bad.spki))], bad.leaf.Facts.Subject, bad.suspect,
			strings.Join(listed(sortedKeys(bad.clients)), ", "), strings.Join(goodNames, ", ")),
		Time: bad.first, FirstSeen: bad.first, LastSeen: bad.last,
		Evidence: map[string]any{
			"grouped_by":   group,
			"suspect_spki": bad.spki,
			"reason":       bad.suspect,
			"clients":      listed(sortedKeys(bad.clients)),
			"keys":         keyEvidence(all),
			"window_hours": int(window / time.Hour),
		},
	}
	if kind != "" {
		f.Evidence["server_kind"] = kind
	}
	return f
}

func keyEvidence(keys []*presentedKey) []any {
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		host, port := rules.HostPort(k.server)
		out = append(out, map[string]any{
			"spki_sha256":  k.spki,
			"cert_sha256":  k.leaf.SHA256.String(),
			"subject":      k.leaf.Facts.Subject,
			"issuer":       k.leaf.Facts.Issuer,
			"self_signed":  k.leaf.Facts.SelfSigned,
			"suspect":      k.suspect,
			"server":       findings.Target(host, port),
			"clients":      listed(sortedKeys(k.clients)),
			"client_count": len(k.clients),
			"sessions":     k.count,
			"first_seen":   ts(k.first),
			"last_seen":    ts(k.last),
		})
	}
	return out
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
