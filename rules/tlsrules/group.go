package tlsrules

import (
	"cmp"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

// server gathers the sessions of one server endpoint that a rule found wanting. A
// server reached through proxies' tunnels (observe.Flow) is the same server as when
// reached directly, when the client named its address: vias lists the proxies, and
// direct says whether some session did without one. A server the client named by host
// name (target, "pump.example:443") has no address: it is a server of its own, at its
// proxy's endpoint (ep).
type server struct {
	ep       observe.Endpoint
	target   string
	vias     []string // sorted
	direct   bool
	sessions []*observe.TLSSession
	seen     observe.Span // the window of the sessions
}

// serverKey tells servers apart: an address, and each target named behind a proxy.
type serverKey struct {
	ep     observe.Endpoint
	target string
}

// flagged groups the negotiated sessions (ServerHello seen) that match by server, in
// address order, each server's sessions in time order.
func flagged(c *rules.Context, match func(s *observe.TLSSession) bool) []server {
	servers := observe.NewIndex[serverKey, *server](0)
	for _, s := range c.Set.TLSSessions {
		if !s.SawServerHello || s.Version == 0 || !match(s) {
			continue
		}
		k := serverKey{s.Flow.Server, s.Flow.Target}
		g, _, _ := servers.Add(k, func() *server { return &server{ep: k.ep, target: k.target} })
		if s.Flow.Via.IsValid() {
			g.vias = rules.AddSorted(g.vias, s.Flow.Via.String())
		} else {
			g.direct = true
		}
		g.sessions = append(g.sessions, s)
		g.seen.Add(s.FirstSeen, s.LastSeen)
	}
	var out []server
	for _, g := range servers.Sorted(func(a, b *server) int {
		return cmp.Or(a.ep.Compare(b.ep), cmp.Compare(a.target, b.target))
	}) {
		slices.SortStableFunc(g.sessions, func(a, b *observe.TLSSession) int { return a.FirstSeen.Compare(b.FirstSeen) })
		out = append(out, *g)
	}
	return out
}

// evidence is what every TLS finding carries about the sessions behind it.
func (g server) evidence() map[string]any {
	var clients, snis, versions, suites []string
	first, last := g.seen.First, g.seen.Last
	handshakes := 0
	for _, s := range g.sessions {
		clients = rules.AddSorted(clients, s.Flow.Client.Addr().Unmap().String())
		if s.SNI != "" {
			snis = rules.AddSorted(snis, s.SNI)
		}
		versions = rules.AddSorted(versions, observe.VersionName(s.Version))
		if s.Version != 0x0002 {
			suites = rules.AddSorted(suites, observe.SuiteName(s.Suite))
		}
		handshakes += max(s.Count, 1)
	}
	ev := map[string]any{
		"clients":     clients,
		"versions":    versions,
		"handshakes":  handshakes,
		"observed_at": rules.TimeString(first),
		"first_seen":  rules.TimeString(first),
		"last_seen":   rules.TimeString(last),
	}
	if len(suites) > 0 {
		ev["ciphers"] = suites
	}
	if len(snis) > 0 {
		ev["sni"] = snis
	}
	if len(g.vias) > 0 {
		ev["via_proxy"] = slices.Clone(g.vias)
	}
	if g.target != "" {
		ev["target"] = g.target
	}
	return ev
}

// name is how a message names the server: "10.20.1.7:443"; reached only through proxies,
// "10.20.1.7:443 via proxy 10.0.0.5:3128"; named by host name behind a proxy,
// "pump.example:443 via proxy 10.0.0.5:3128".
func (g server) name() string {
	switch {
	case g.target != "":
		return g.target + " via proxy " + g.ep.String()
	case len(g.vias) > 0 && !g.direct:
		return g.ep.String() + " via proxy " + strings.Join(g.vias, ", ")
	}
	return g.ep.String()
}

// subject keeps apart the findings of targets named by host name behind one proxy,
// whose host and port are all the proxy's: the target is part of the fingerprint.
func (g server) subject() string { return g.target }

// base starts a finding about the server from its earliest flagged session.
func (g server) base() (host string, port int, first *observe.TLSSession) {
	host, port = rules.HostPort(g.ep)
	return host, port, g.sessions[0]
}

// worst returns the session that minimises rank (ties: the earliest).
func (g server) worst(rank func(s *observe.TLSSession) int) *observe.TLSSession {
	best := g.sessions[0]
	for _, s := range g.sessions[1:] {
		if rank(s) < rank(best) {
			best = s
		}
	}
	return best
}

// negotiated describes a session's outcome for a message: "TLSv1.0 with TLS_RSA_WITH_RC4_128_MD5".
func negotiated(s *observe.TLSSession) string {
	v := observe.VersionName(s.Version)
	if s.Version == 0x0002 {
		return v
	}
	return v + " with " + observe.SuiteName(s.Suite)
}

// negotiatedCoverage is what the rules on versions, suites and groups cover: what a
// server accepts, which only an active probe that enumerated every version and suite
// (the standard profile or thorough) shows in full; a passive finding is also assessed
// by the server's later handshakes (findings.SeenTLSSuites).
var negotiatedCoverage = findings.Coverage{Domain: findings.DomainTLS,
	Needs: []findings.Evidence{findings.SeenTLSSuites}, Profile: "standard"}
