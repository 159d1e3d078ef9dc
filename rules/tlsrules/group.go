package tlsrules

import (
	"cmp"
	"slices"

	"github.com/medscan/medscan/findings"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

// server gathers the sessions of one server endpoint that a rule found wanting. A
// server reached through a proxy's tunnel is a server of its own, named with the proxy
// (observe.Flow): via is the proxy, and target the server's name and port when the
// client named it by host name (ep is then the proxy's endpoint).
type server struct {
	ep       observe.Endpoint
	via      observe.Endpoint
	target   string
	sessions []*observe.TLSSession
	seen     observe.Span // the window of the sessions
}

// serverKey tells servers apart: a direct one, and each target through each proxy.
type serverKey struct {
	ep, via observe.Endpoint
	target  string
}

// flagged groups the negotiated sessions (ServerHello seen) that match by server, in
// address order, each server's sessions in time order.
func flagged(c *rules.Context, match func(s *observe.TLSSession) bool) []server {
	servers := observe.NewIndex[serverKey, *server](0)
	for _, s := range c.Set.TLSSessions {
		if !s.SawServerHello || s.Version == 0 || !match(s) {
			continue
		}
		k := serverKey{s.Flow.Server, s.Flow.Via, s.Flow.Target}
		g, _, _ := servers.Add(k, func() *server { return &server{ep: k.ep, via: k.via, target: k.target} })
		g.sessions = append(g.sessions, s)
		g.seen.Add(s.FirstSeen, s.LastSeen)
	}
	var out []server
	for _, g := range servers.Sorted(func(a, b *server) int {
		return cmp.Or(a.ep.Compare(b.ep), cmp.Compare(a.target, b.target), a.via.Compare(b.via))
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
	if g.via.IsValid() {
		ev["via_proxy"] = g.via.String()
	}
	if g.target != "" {
		ev["target"] = g.target
	}
	return ev
}

// name is how a message names the server: "10.20.1.7:443", or through a proxy
// "10.20.1.7:443 via proxy 10.0.0.5:3128" or "pump.example:443 via proxy 10.0.0.5:3128".
func (g server) name() string {
	return observe.Flow{Server: g.ep, Via: g.via, Target: g.target}.ServerName()
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
