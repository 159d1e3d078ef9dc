package rules

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// Chain roles of a presented certificate, which set the thresholds it is judged by.
const (
	RoleLeaf         = "leaf"
	RoleIntermediate = "intermediate"
	RoleRoot         = "root"
)

// Presentation is one certificate as one endpoint presented it, at one position of its
// chain, with the window of observations in which it did. Certificate rules judge
// presentations rather than certificates, because findings are about the host that
// serves the certificate, and expiry is judged at the time it was served.
type Presentation struct {
	Cert     *observe.Certificate
	Facts    *observe.CertFacts
	Endpoint observe.Endpoint // the presenting side; port 0 for a client certificate
	Role     string           // "server", "client", or "" for a certificate read from a file
	Position int              // 0 for the leaf, or the place in a file
	File     string           // the file it was read from (observe.CertSighting.File); "" from the network
	Source   observe.Source
	// FirstSeen and LastSeen bound the observations of this presentation (the TLS
	// sessions' times, or the sighting's).
	FirstSeen time.Time
	LastSeen  time.Time
	Peers     []string // the other side's addresses, sorted
	SNI       []string // server names the clients asked for, sorted
	// Via lists the proxies ("10.0.0.5:3128", sorted) whose tunnels carried handshakes
	// with the presenting server, Target the server's name and port when the client named
	// it by host name (Endpoint is then the proxy's): see observe.Flow. Both are in the
	// evidence.
	Via    []string
	Target string
}

// ChainRole says which thresholds apply: the first certificate of a chain is the leaf,
// whatever its flags (a self-signed CA certificate served as the leaf is judged as a
// leaf); above it, a self-signed certificate is the root and anything else an
// intermediate. A certificate read from a file has no chain, so its own flags decide.
func (p Presentation) ChainRole() string {
	if p.Role == "server" || p.Role == "client" {
		switch {
		case p.Position == 0:
			return RoleLeaf
		case p.Facts != nil && p.Facts.SelfSigned:
			return RoleRoot
		default:
			return RoleIntermediate
		}
	}
	switch {
	case p.Facts == nil || !p.Facts.IsCA:
		return RoleLeaf
	case p.Facts.SelfSigned:
		return RoleRoot
	default:
		return RoleIntermediate
	}
}

// HostPort renders an endpoint as a finding's host and port.
func HostPort(ep observe.Endpoint) (string, int) { return findings.AddrText(ep.Addr()), int(ep.Port()) }

// Describe names who presented the certificate, for a message: "192.0.2.1:443" for a
// server, "client 192.0.2.7" for a client, "file certs/chain.pem#2" for a certificate
// read from a file (findings.Holder).
func (p Presentation) Describe() string {
	host, port := HostPort(p.Endpoint)
	return findings.Holder(host, port, p.Role, p.FileRef())
}

// FileRef is the certificate's place in the file it was read from ("certs/chain.pem#2",
// findings.FileRef), "" for a certificate seen on the network.
func (p Presentation) FileRef() string { return findings.FileRef(p.File, p.Position) }

// Place is a finding about the presentation with its location filled in, the one way
// every certificate and key rule does it: the host and port that presented it, or the
// file that held it (also listed in the evidence's "files", so that findings about one
// certificate in several files, merged by fingerprint, name them all).
func (p Presentation) Place(f findings.Finding) findings.Finding {
	f.Host, f.Port = HostPort(p.Endpoint)
	f.File = p.FileRef()
	if f.File != "" {
		if f.Evidence == nil {
			f.Evidence = map[string]any{}
		}
		f.Evidence["files"] = []string{f.File}
	}
	return f
}

// Name is how a message names the certificate, short enough for one readable sentence:
// its common name ("CN=pump-0011"), else its organization, else its whole subject, else its
// digest. The full subject is always in the evidence.
func (p Presentation) Name() string {
	subject := ""
	if p.Facts != nil {
		subject = p.Facts.Subject
	}
	for _, key := range []string{"CN", "O"} {
		if v := attribute(subject, key); v != "" {
			return key + "=" + v
		}
	}
	if subject != "" {
		return subject
	}
	return "sha256:" + p.Cert.SHA256.String()[:16]
}

// Attribute returns the (still escaped) value of the first attribute of type key in an
// RFC 4514 distinguished name, or "": for rules that read a subject's common name.
func Attribute(dn, key string) string { return attribute(dn, key) }

// attribute returns the (still escaped) value of the first attribute of type key in an
// RFC 4514 distinguished name, or "".
func attribute(dn, key string) string {
	start := 0
	for i := 0; i <= len(dn); i++ {
		if i < len(dn) && dn[i] == '\\' {
			i++ // an escaped character never ends an attribute
			continue
		}
		if i == len(dn) || dn[i] == ',' || dn[i] == '+' {
			attr := dn[start:i]
			if len(attr) > len(key)+1 && attr[len(key)] == '=' && strings.EqualFold(attr[:len(key)], key) {
				return attr[len(key)+1:]
			}
			start = i + 1
		}
	}
	return ""
}

// Evidence is the evidence every certificate finding carries.
func (p Presentation) Evidence(observedAt time.Time) map[string]any {
	ev := map[string]any{
		"cert_sha256": p.Cert.SHA256.String(),
		"role":        p.Role,
		"chain_role":  p.ChainRole(),
		"position":    p.Position,
		"observed_at": TimeString(observedAt),
		"first_seen":  TimeString(p.FirstSeen),
		"last_seen":   TimeString(p.LastSeen),
	}
	if f := p.Facts; f != nil {
		ev["subject"] = f.Subject
		ev["issuer"] = f.Issuer
		ev["not_before"] = TimeString(f.NotBefore)
		ev["not_after"] = TimeString(f.NotAfter)
		ev["validity_days"] = f.ValidityDays
		ev["self_signed"] = f.SelfSigned
		ev["is_ca"] = f.IsCA
	}
	if len(p.SNI) > 0 {
		ev["sni"] = slices.Clone(p.SNI)
	}
	if len(p.Via) > 0 {
		ev["via_proxy"] = slices.Clone(p.Via)
	}
	if p.Target != "" {
		ev["target"] = p.Target
	}
	if len(p.Peers) > 0 {
		if p.Role == "client" {
			ev["servers"] = slices.Clone(p.Peers)
		} else {
			ev["clients"] = slices.Clone(p.Peers)
		}
	}
	return ev
}

type presKey struct {
	ref      observe.CertRef
	ep       observe.Endpoint
	role     string
	position int
	source   observe.Source
	file     string
	target   string
}

// Presentations returns every certificate presentation in the set, built once per
// evaluation and in a deterministic order (endpoint, role, position, certificate).
// Presentations of certificates without facts are left out. TLS 1.3 sessions contribute
// nothing: their certificates are encrypted and nothing may be concluded about them.
func (c *Context) Presentations() []Presentation {
	if c.built {
		return c.pres
	}
	c.built = true
	if c.Set == nil {
		return nil
	}
	pres := observe.NewIndex[presKey, *Presentation](0)
	add := func(k presKey, first, last time.Time, peer netip.Addr, sni, via string) {
		cert := c.Set.Certificates[k.ref]
		if cert == nil || cert.Facts == nil {
			return
		}
		p, _, _ := pres.Add(k, func() *Presentation {
			return &Presentation{Cert: cert, Facts: cert.Facts, Endpoint: k.ep, Role: k.role, Position: k.position,
				Source: k.source, File: k.file, Target: k.target}
		})
		observe.Widen(&p.FirstSeen, &p.LastSeen, first, last)
		if peer.IsValid() {
			p.Peers = addSorted(p.Peers, peer.Unmap().String())
		}
		if sni != "" {
			p.SNI = addSorted(p.SNI, sni)
		}
		if via != "" {
			p.Via = addSorted(p.Via, via)
		}
	}
	for _, s := range c.Set.TLSSessions {
		if s.CertsEncrypted {
			continue
		}
		for i, ref := range s.ServerChain {
			add(presKey{ref, s.Flow.Server, "server", i, s.Source, "", s.Flow.Target},
				s.FirstSeen, s.LastSeen, s.Flow.Client.Addr(), s.SNI, via(s.Flow.Via))
		}
		clientEP := netip.AddrPortFrom(s.Flow.Client.Addr(), 0)
		for i, ref := range s.ClientChain {
			add(presKey{ref, clientEP, "client", i, s.Source, "", ""}, s.FirstSeen, s.LastSeen, s.Flow.Server.Addr(), "", "")
		}
	}
	// Sightings the sessions do not account for: certificates read from files, or
	// reported by a producer without a session.
	for ref, cert := range c.Set.Certificates {
		for _, sg := range cert.Seen {
			k := presKey{ref, sg.Endpoint, sg.Role, sg.Position, sg.Source, sg.File, sg.Target}
			if _, ok := pres.Get(k); ok {
				continue
			}
			add(k, sg.Time, sg.Time, sg.Peer, sg.SNI, sg.Via)
		}
	}
	sorted := pres.Sorted(func(a, b *Presentation) int {
		return cmp.Or(a.Endpoint.Compare(b.Endpoint), cmp.Compare(a.Target, b.Target),
			cmp.Compare(a.Role, b.Role), cmp.Compare(a.File, b.File),
			cmp.Compare(a.Position, b.Position),
			slices.Compare(a.Cert.SHA256[:], b.Cert.SHA256[:]), cmp.Compare(a.Source, b.Source))
	})
	c.pres = make([]Presentation, 0, len(sorted))
	for _, p := range sorted {
		c.pres = append(c.pres, *p)
	}
	return c.pres
}

// addSorted inserts s into a sorted list unless present, capping the list so that a
// server seen by a whole hospital does not carry ten thousand client addresses.
func addSorted(list []string, s string) []string {
	i, found := slices.BinarySearch(list, s)
	if found || len(list) >= maxListed {
		return list
	}
	return slices.Insert(list, i, s)
}

// maxListed caps the addresses and names listed in one finding's evidence.
const maxListed = 64

// AddSorted inserts s into a sorted list unless it is already there (capped at 64
// entries), for rules that aggregate clients or names into evidence.
func AddSorted(list []string, s string) []string { return addSorted(list, s) }

// via is a proxy endpoint as presentations and sightings write it: "" when direct.
func via(ep observe.Endpoint) string {
	if !ep.IsValid() {
		return ""
	}
	return ep.String()
}
