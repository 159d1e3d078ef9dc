package report

import (
	"strconv"
	"time"

	"github.com/medscan/medscan/findings"
)

// This file renders the HTML report's traffic: services, TLS sessions, probed ports and
// the cleartext clinical protocols, and the counters.

type serviceRow struct {
	Target, Protocol, TLS, Cipher, Source string
	FirstSeen, LastSeen                   time.Time
}

type sessionRow struct {
	Client, Server, SNI, Version, Cipher, KeyExchange, ALPN, Certs string
	Count                                                          int
	Resumed, MutualTLS                                             bool
}

func htmlCounters(cs []findings.Counter) []findings.Counter {
	var out []findings.Counter
	for _, c := range cs {
		if c.Value != 0 {
			out = append(out, findings.Counter{Name: term(c.Name), Value: c.Value})
		}
	}
	return out
}

func htmlServices(ss []findings.Service) []serviceRow {
	var rows []serviceRow
	for _, s := range ss {
		proto := term(s.Transport)
		if s.Protocol != "" {
			proto += "/" + term(s.Protocol)
		}
		rows = append(rows, serviceRow{Target: proxied(s.Host, s.Port, s.Via, s.Target), Protocol: proto, TLS: term(s.TLSVersion),
			Cipher: term(s.Cipher), Source: term(string(s.Source)), FirstSeen: s.FirstSeen, LastSeen: s.LastSeen})
	}
	return rows
}

func htmlSessions(ss []findings.TLSSession) []sessionRow {
	var rows []sessionRow
	for _, s := range ss {
		row := sessionRow{Client: term(s.Client), Server: proxied(s.Host, s.Port, s.Via, s.Target), SNI: term(s.SNI),
			Version: term(s.Version), Cipher: term(s.Cipher), ALPN: term(s.ALPNSelected), Count: s.Count,
			Resumed: s.Resumed, MutualTLS: len(s.ClientChain) > 0}
		switch {
		case s.ECDHCurve != "":
			row.KeyExchange = term(s.ECDHCurve)
		case s.DHBits > 0:
			row.KeyExchange = "DH " + strconv.Itoa(s.DHBits)
		}
		switch {
		case !s.CertsObservable:
			row.Certs = "not observable (encrypted)"
		case len(s.ServerChain) > 0:
			row.Certs = strconv.Itoa(len(s.ServerChain)) + " in chain"
		}
		rows = append(rows, row)
	}
	return rows
}
