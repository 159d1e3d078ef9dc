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

// keyShared flags one public key held by several hosts, or by certificates of different
// subjects: one device's extracted private key then impersonates, or decrypts the
// recorded traffic of, every other.
type keyShared struct{}

func (keyShared) Meta() rules.Meta {
	return rules.Meta{
		ID:      "key-shared",
		Covers:  sharedKeyCoverage,
		Title:   "Public key shared between devices or identities",
		Default: findings.High,
		Rationale: "A key pair is an identity. When the same public key is presented by several hosts (a key " +
			"baked into a firmware image), or sits in certificates for different subjects, its private key is " +
			"on every one of them: whoever extracts it from one device, or from an update file, can impersonate " +
			"all of them and, without forward secrecy, decrypt their recorded traffic. Each device should hold " +
			"its own key pair.",
		Remediation: "Have each device generate its own key pair on first boot (or provision a unique key and " +
			"certificate per device, for example an IEEE 802.1AR device identity) and reissue the certificates; " +
			"ask the manufacturer to stop shipping a shared key in the image.",
		References: []string{
			"IEEE 802.1AR-2018, §6 (unique device identifiers: one key pair per device)",
			"FDA, Cybersecurity in Medical Devices premarket guidance (2023), Appendix 1 (authentication: unique per device)",
			"NIST SP 800-57 Part 1 Rev. 5, §5.2 (key usage: one key, one purpose and owner)",
			"CWE-321: Use of Hard-coded Cryptographic Key",
		},
	}
}

// holder is one host (or the file set) presenting a key as its own.
type holder struct {
	where string // "10.20.1.11:443", "client 10.20.1.7", "file"
	pres  rules.Presentation
}

func (keyShared) Check(c *rules.Context) {
	// Only the key a host authenticates with counts: the leaf. A CA's key is sent in the
	// chains of many servers by design.
	type group struct {
		spki     string
		holders  []holder
		hosts    map[netip.Addr]bool
		subjects []string
		certs    []string
		file     bool
	}
	groups := observe.NewIndex[string, *group](0)
	for _, p := range c.Presentations() {
		f := p.Facts
		if f.SPKISHA256 == "" || p.ChainRole() != rules.RoleLeaf {
			continue
		}
		g, _, _ := groups.Add(f.SPKISHA256, func() *group { return &group{spki: f.SPKISHA256, hosts: map[netip.Addr]bool{}} })
		g.holders = append(g.holders, holder{where: p.Describe(), pres: p})
		if a := p.Endpoint.Addr(); a.IsValid() {
			g.hosts[a.Unmap()] = true
		} else {
			g.file = true
		}
		if f.Subject != "" {
			g.subjects = rules.AddSorted(g.subjects, f.Subject)
		}
		g.certs = rules.AddSorted(g.certs, p.Cert.SHA256.String())
	}
	for _, g := range groups.Items() {
		spki := g.spki
		places := len(g.hosts)
		if g.file {
			places++
		}
		if places < 2 && len(g.subjects) < 2 {
			continue
		}
		var where []string
		for _, h := range g.holders {
			where = rules.AddSorted(where, h.where)
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
			if len(others) > 0 {
				msg = fmt.Sprintf("%s presents the same %s public key as %d %s: %s", h.where, keyName(p.Facts),
					len(others), plural(len(others), "other", "others"), listSome(others, 4))
			} else {
				msg = fmt.Sprintf("%s presents one %s public key in certificates for %d different subjects",
					h.where, keyName(p.Facts), len(g.subjects))
			}
			ev := p.Evidence(p.FirstSeen)
			ev["spki_sha256"] = spki
			ev["key_type"] = p.Facts.KeyType
			ev["key_bits"] = p.Facts.KeyBits
			ev["shared_by"] = slices.Clone(where)
			ev["subjects"] = slices.Clone(g.subjects)
			ev["certificates"] = slices.Clone(g.certs)
			c.Emit(p.Place(findings.Finding{
				Subject:   spki,
				Message:   msg,
				Evidence:  ev,
				Time:      p.FirstSeen,
				FirstSeen: p.FirstSeen,
				LastSeen:  p.LastSeen,
				Source:    string(p.Source),
			}))
		}
	}
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
