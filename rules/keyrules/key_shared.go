package keyrules

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

func init() { rules.Register(keyShared{}) }

// keyShared flags one public key held by several identities, or one identity held by
// several hosts.
//
// Two cases look alike on the wire and are not alike in risk. Different identities
// (certificates for different subjects or names) on one key are the firmware-baked key
// of many devices: whoever extracts it from one unit, or from an update file,
// impersonates every other. That is high, as is a device identity (a client's
// certificate) that several client hosts present, since clients are not load-balanced.
// One identity (the same subject and names: the same certificate, or a renewal of it)
// served by several hosts is what the front ends of one load-balanced service look like:
// one service, one name, its key copied to each node by design. That is low, so that it
// stays visible (the key is on each node, and a factory-default certificate on every
// unit of a model looks the same, with cert-self-signed beside it) without being an
// alarm to retract. A key held by both, one service's nodes and a different identity,
// is high on every holder.
//
// One rule ID for both, with the severity computed: the findings keep their
// fingerprints (rule, host, port, SPKI) across the change and across a key's move from
// one case to the other, so history shows the same finding re-judged rather than one
// fixed and another new; the evidence's shared_as says which case it is.
type keyShared struct{}

func (keyShared) Meta() rules.Meta {
	return rules.Meta{
		ID:      "key-shared",
		Covers:  sharedKeyCoverage,
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskSharedSecrets,
		Title:   "Public key shared between devices or identities",
		Default: findings.High,
		Rationale: "A key pair is an identity. When the same public key sits in certificates for different " +
			"subjects or names (a key baked into a firmware image), or one device certificate is presented by " +
			"several clients, its private key is on every one of them: whoever extracts it from one device, or " +
			"from an update file, can impersonate all of them and, without forward secrecy, decrypt their " +
			"recorded traffic. Each device should hold its own key pair. One certificate (the same subject and " +
			"names, or a renewal of it) served by several hosts is one service on several hosts, such as the " +
			"front ends of a load-balanced service: it is reported at low severity, with the hosts, since its " +
			"key is on each of them by design; check that they are one service, not a factory-default " +
			"certificate copied to every unit of a model.",
		Remediation: "Have each device generate its own key pair on first boot (or provision a unique key and " +
			"certificate per device, for example an IEEE 802.1AR device identity) and reissue the certificates; " +
			"ask the manufacturer to stop shipping a shared key in the image. For one service on several hosts, " +
			"keep the key's copies to the service's own nodes (or terminate TLS on a device that holds it once).",
		References: []string{
			"IEEE 802.1AR-2018, §6 (unique device identifiers: one key pair per device)",
			"FDA, Cybersecurity in Medical Devices premarket guidance (2023), Appendix 1 (authentication: unique per device)",
			"NIST SP 800-57 Part 1 Rev. 5, §5.2 (key usage: one key, one purpose and owner)",
			"CWE-321: Use of Hard-coded Cryptographic Key",
		},
	}
}

// What a shared key is shared as (the evidence's shared_as).
const (
	sharedIdentities     = "different-identities" // certificates of different subjects or names: high
	sharedClientIdentity = "one-client-identity"  // one device certificate on several client hosts: high
	sharedService        = "one-service"          // one identity served by several hosts: low
)

// holder is one host (or the file set) presenting a key as its own.
type holder struct {
	where string // "10.20.1.11:443", "client 10.20.1.7", "file"
	pres  rules.Presentation
}

// identity is what a certificate names: its subject and its subjectAltName DNS names and
// addresses, so that a renewal of one certificate is the same identity and a
// certificate for another device is not. A certificate that names nothing (an empty
// subject and no names) is its own identity: two such certificates cannot be told to be
// one.
func identity(p rules.Presentation) string {
	f := p.Facts
	names := make([]string, 0, len(f.DNSNames)+len(f.IPAddresses))
	for _, n := range f.DNSNames {
		names = append(names, strings.ToLower(n))
	}
	names = append(names, f.IPAddresses...)
	slices.Sort(names)
	names = slices.Compact(names)
	if f.Subject == "" && len(names) == 0 {
		return "sha256:" + p.Cert.SHA256.String()
	}
	return f.Subject + "\x00" + strings.Join(names, "\x00")
}

func (keyShared) Check(c *rules.Context) {
	// Only the key a host authenticates with counts: the leaf. A CA's key is sent in the
	// chains of many servers by design.
	type group struct {
		spki       string
		holders    []holder
		hosts      map[netip.Addr]bool
		servers    map[netip.Addr]bool // hosts that present the key as a TLS server (or a file)
		clients    map[netip.Addr]bool // hosts that present it as a TLS client
		identities map[string]bool
		subjects   []string
		certs      []string
		file       bool
	}
	groups := observe.NewIndex[string, *group](0)
	for _, p := range c.Presentations() {
		f := p.Facts
		if f.SPKISHA256 == "" || p.ChainRole() != rules.RoleLeaf {
			continue
		}
		g, _, _ := groups.Add(f.SPKISHA256, func() *group {
			return &group{spki: f.SPKISHA256, hosts: map[netip.Addr]bool{}, servers: map[netip.Addr]bool{},
				clients: map[netip.Addr]bool{}, identities: map[string]bool{}}
		})
		g.holders = append(g.holders, holder{where: p.Describe(), pres: p})
		if a := p.Endpoint.Addr(); a.IsValid() {
			g.hosts[a.Unmap()] = true
			if p.Role == "client" {
				g.clients[a.Unmap()] = true
			} else {
				g.servers[a.Unmap()] = true
			}
		} else {
			g.file = true
		}
		g.identities[identity(p)] = true
		if f.Subject != "" {
			g.subjects = rules.AddSorted(g.subjects, f.Subject)
		}
		g.certs = rules.AddSorted(g.certs, p.Cert.SHA256.String())
	}
	// Other sites' hosts holding this scan's keys (observe.Fleet): a key baked into a
	// model's firmware is on its units at every site. They count as holders and are named,
	// by site; only this scan's holders get findings (the others' scans judge theirs).
	var fleet map[string][]observe.FleetKey
	site := ""
	if fl := c.Set.Fleet; fl != nil {
		site = fl.Site
		for _, k := range fl.Keys {
			if fleet == nil {
				fleet = map[string][]observe.FleetKey{}
			}
			fleet[k.SPKISHA256] = append(fleet[k.SPKISHA256], k)
		}
	}
	for _, g := range groups.Items() {
		spki := g.spki
		places := len(g.hosts)
		if g.file {
			places++
		}
		var elsewhere []string // holders at other sites, as "10.30.0.5:443 (site south)"
		sites := []string{site}
		fleetServers := map[string]bool{}
		fleetClients := map[string]bool{}
		for _, k := range fleet[spki] {
			holderAt := k.Site + "\x00" + k.Host
			if !fleetServers[holderAt] && !fleetClients[holderAt] {
				places++
			}
			if k.Role == "client" {
				fleetClients[holderAt] = true
			} else {
				fleetServers[holderAt] = true
			}
			g.identities[fleetIdentity(k)] = true
			if k.Subject != "" {
				g.subjects = rules.AddSorted(g.subjects, k.Subject)
			}
			g.certs = rules.AddSorted(g.certs, k.CertSHA256)
			elsewhere = rules.AddSorted(elsewhere, findings.Holder(k.Host, k.Port, k.Role, "")+" (site "+observe.SiteName(k.Site)+")")
			sites = rules.AddSorted(sites, k.Site)
		}
		if places < 2 && len(g.identities) < 2 {
			continue
		}
		// A host that only ever presents the key as a client is a device using it as its
		// identity; a host that also serves it is a node of the service.
		clientOnly := false
		for a := range g.clients {
			if !g.servers[a] {
				clientOnly = true
			}
		}
		for a := range fleetClients {
			if !fleetServers[a] {
				clientOnly = true
			}
		}
		sharedAs := sharedService
		switch {
		case len(g.identities) > 1:
			sharedAs = sharedIdentities
		case clientOnly:
			sharedAs = sharedClientIdentity
		}
		var where []string
		for _, h := range g.holders {
			where = rules.AddSorted(where, h.where)
		}
		for _, w := range elsewhere {
			where = rules.AddSorted(where, w)
		}
		for _, h := range g.holders {
			p := h.pres
			var others []string
			for _, w := range where {
				if w != h.where {
					others = append(others, w)
				}
			}
			var msg string
			switch {
			case sharedAs == sharedService:
				msg = fmt.Sprintf("%s presents certificate %s, as %d %s: %s; one identity on several hosts "+
					"(one service behind several addresses, such as a load-balanced front end), its %s key on each",
					h.where, p.Name(), len(others), plural(len(others), "other does", "others do"), listSome(others, 4),
					keyName(p.Facts))
			case len(others) > 0:
				msg = fmt.Sprintf("%s presents the same %s public key as %d %s: %s", h.where, keyName(p.Facts),
					len(others), plural(len(others), "other", "others"), listSome(others, 4))
				if sharedAs == sharedIdentities {
					msg += fmt.Sprintf(" (certificates for %d different identities)", len(g.identities))
				} else {
					msg += " (one certificate that a client presents as its identity: a device identity on more than one host)"
				}
			default:
				msg = fmt.Sprintf("%s presents one %s public key in certificates for %d different identities",
					h.where, keyName(p.Facts), len(g.identities))
			}
			if len(elsewhere) > 0 {
				msg += "; across sites " + siteList(sites)
			}
			ev := p.Evidence(p.FirstSeen)
			ev["spki_sha256"] = spki
			ev["key_type"] = p.Facts.KeyType
			ev["key_bits"] = p.Facts.KeyBits
			ev["shared_by"] = slices.Clone(where)
			ev["shared_as"] = sharedAs
			ev["identities"] = len(g.identities)
			ev["subjects"] = slices.Clone(g.subjects)
			ev["certificates"] = slices.Clone(g.certs)
			if len(elsewhere) > 0 {
				ev["sites"] = slices.Clone(sites)
			}
			f := findings.Finding{
				Subject:   spki,
				Message:   msg,
				Evidence:  ev,
				Time:      p.FirstSeen,
				FirstSeen: p.FirstSeen,
				LastSeen:  p.LastSeen,
				Source:    string(p.Source),
			}
			if sharedAs == sharedService {
				f.Severity = findings.Low
			}
			c.Emit(p.Place(f))
		}
	}
}

// fleetIdentity is identity for another site's holder of a key, from what the store
// kept of its certificate.
func fleetIdentity(k observe.FleetKey) string {
	if k.Subject == "" && len(k.Names) == 0 {
		return "sha256:" + k.CertSHA256
	}
	return k.Subject + "\x00" + strings.Join(k.Names, "\x00")
}

// siteList names sites for a message: "north, south", an unnamed one "(unnamed)".
func siteList(sites []string) string {
	names := make([]string, len(sites))
	for i, s := range sites {
		names[i] = observe.SiteName(s)
	}
	return strings.Join(names, ", ")
}

// keyName is "RSA-1024", "ECDSA P-256", "Ed25519"... for messages; "RSA" or "ECDSA"
// when the size is not known (an encrypted key file tells only its type).
func keyName(f *observe.CertFacts) string {
	switch {
	case (f.KeyType == "rsa" || f.KeyType == "dsa") && f.KeyBits > 0:
		return fmt.Sprintf("%s-%d", strings.ToUpper(f.KeyType), f.KeyBits)
	case f.KeyType == "rsa" || f.KeyType == "dsa":
		return strings.ToUpper(f.KeyType)
	case f.KeyType == "ecdsa":
		return strings.TrimSpace("ECDSA " + f.Curve)
	case f.KeyType == "ed25519":
		return "Ed25519"
	}
	return cmp.Or(f.KeyType, "unknown")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listSome joins the first n items and says how many more there are.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
