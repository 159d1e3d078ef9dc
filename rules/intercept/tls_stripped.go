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

func init() { rules.Register(tlsStripped{}) }

// tlsStripped flags a server whose STARTTLS comes and goes: its capability list (SMTP,
// IMAP or POP3) names STARTTLS in some sessions and not in others, or one client's sessions with it were
// upgraded to TLS at some times and refused or left in clear at others. A server
// configured to offer STARTTLS to some networks only shows the first shape; it is named
// in docs/interception.md as a false positive to rule out.
type tlsStripped struct{}

func (tlsStripped) Meta() rules.Meta {
	return rules.Meta{
		ID:      "tls-stripped",
		Owner:   findings.OwnerNetwork,
		Risk:    findings.RiskPatientData,
		Covers:  findings.Coverage{Domain: findings.DomainInterception, Needs: []findings.Evidence{findings.SeenStartTLSGreetings}},
		Title:   "STARTTLS offered in some sessions, missing in others",
		Default: findings.High,
		Rationale: "STARTTLS is negotiated in clear: a server lists it among its capabilities (SMTP's EHLO reply, IMAP's " +
			"CAPABILITY, POP3's CAPA, where it is called STLS) and the client asks for it. Someone in the middle can delete it from the list, or answer the client's request with an error, " +
			"and a client that falls back to clear text (as most mail clients and devices that send reports by " +
			"mail do) then sends its messages and credentials readable to them. The same server offering TLS to " +
			"some sessions and not to others, or one client upgrading sometimes and not at other times, is the trace.",
		Remediation: "Check the path between the clients that saw no STARTTLS and the server (a proxy, a firewall's " +
			"SMTP inspection, which some vendors ship removing STARTTLS, an ARP or DHCP sign on the segment). " +
			"Make the clients require TLS (no fall-back to clear text: Postfix smtp_tls_security_level=encrypt, " +
			"MTA-STS or DANE between mail servers; a mail client's or device's \"STARTTLS required\" setting for IMAP " +
			"and POP3), or use implicit TLS (port 465, 993, 995).",
		References: []string{
			"RFC 3207 (SMTP Service Extension for Secure SMTP over TLS), §6 (security considerations)",
			"RFC 2595 (Using TLS with IMAP, POP3 and ACAP), §2.1 (the STARTTLS and STLS commands)",
			"RFC 8314 (Cleartext Considered Obsolete: Use of TLS for Email Submission and Access)",
			"MITRE ATT&CK T1557 (Adversary-in-the-Middle)",
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
		},
	}
}

// greetingSide is one shape of the server's answer (offered or not; one outcome) with
// the clients that saw it and when.
type greetingSide struct {
	clients     map[string]bool
	count       int
	first, last time.Time
}

func (s *greetingSide) add(g *observe.StartTLSGreeting) {
	if s.clients == nil {
		s.clients, s.first, s.last = map[string]bool{}, g.FirstSeen, g.LastSeen
	}
	s.clients[findings.AddrText(g.Flow.Client.Addr())] = true
	s.count += max(g.Count, 1)
	observe.Widen(&s.first, &s.last, g.FirstSeen, g.LastSeen)
}

func (s *greetingSide) evidence() map[string]any {
	return map[string]any{"clients": listed(sortedKeys(s.clients)), "client_count": len(s.clients), "sessions": s.count,
		"first_seen": ts(s.first), "last_seen": ts(s.last)}
}

func (tlsStripped) Check(c *rules.Context) {
	type server struct {
		ep       observe.Endpoint
		target   string
		protocol string
		offered  [2]greetingSide          // [not offered, offered]
		outcomes map[string]*greetingSide // by outcome, over every client
		pairs    map[string]map[string]bool
	}
	servers := map[string]*server{}
	for _, g := range c.Set.Greetings {
		host, port := rules.HostPort(g.Flow.Server)
		key := findings.Target(host, port) + "|" + g.Flow.Target + "|" + g.Protocol
		s := servers[key]
		if s == nil {
			s = &server{ep: g.Flow.Server, target: g.Flow.Target, protocol: g.Protocol, outcomes: map[string]*greetingSide{},
				pairs: map[string]map[string]bool{}}
			servers[key] = s
		}
		i := 0
		if g.Offered {
			i = 1
		}
		s.offered[i].add(g)
		if s.outcomes[g.Outcome] == nil {
			s.outcomes[g.Outcome] = &greetingSide{}
		}
		s.outcomes[g.Outcome].add(g)
		client := findings.AddrText(g.Flow.Client.Addr())
		if s.pairs[client] == nil {
			s.pairs[client] = map[string]bool{}
		}
		s.pairs[client][g.Outcome] = true
	}
	for _, key := range slices.Sorted(maps.Keys(servers)) {
		s := servers[key]
		var why []string
		ev := map[string]any{"protocol": s.protocol}
		if s.offered[0].count > 0 && s.offered[1].count > 0 && near(s.offered[0].first, s.offered[0].last, s.offered[1].first, s.offered[1].last) {
			why = append(why, fmt.Sprintf("its capability list named STARTTLS to %s and not to %s",
				strings.Join(listed(sortedKeys(s.offered[1].clients)), ", "), strings.Join(listed(sortedKeys(s.offered[0].clients)), ", ")))
			ev["starttls_offered"] = s.offered[1].evidence()
			ev["starttls_missing"] = s.offered[0].evidence()
		}
		// One client both upgraded and refused or left in clear: the same client, so
		// not a per-network server setting.
		var mixed []string
		for _, client := range slices.Sorted(maps.Keys(s.pairs)) {
			o := s.pairs[client]
			if o[observe.StartTLSUpgraded] && (o[observe.StartTLSDeclined] || o[observe.StartTLSClear]) {
				mixed = append(mixed, client)
			}
		}
		if len(mixed) > 0 {
			why = append(why, fmt.Sprintf("%s used TLS with it in some sessions and clear text in others", strings.Join(listed(mixed), ", ")))
			ev["mixed_clients"] = listed(mixed)
		}
		if len(why) == 0 {
			continue
		}
		outcomes := map[string]any{}
		for o, side := range s.outcomes {
			outcomes[o] = side.evidence()
		}
		ev["sessions"] = outcomes
		host, port := rules.HostPort(s.ep)
		var first, last time.Time
		for _, side := range s.outcomes {
			if first.IsZero() {
				first, last = side.first, side.last
			} else {
				observe.Widen(&first, &last, side.first, side.last)
			}
		}
		where := findings.Target(host, port)
		if s.target != "" {
			where += " (" + s.target + ")"
		}
		c.Emit(findings.Finding{
			Host: host, Port: port,
			Message: fmt.Sprintf("%s server %s: %s; STARTTLS stripped by something in the middle looks like this",
				strings.ToUpper(cmp.Or(s.protocol, "mail")), where, strings.Join(why, "; ")),
			Time: first, FirstSeen: first, LastSeen: last, Evidence: ev,
		})
	}
}
