package report

import (
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
)

// This file renders the HTML report's shared keys and credentials. Which hosts share a
// key or a secret is decided once, by the rules (key-shared, credential-shared); the
// panels show those rules' findings, so a panel and a finding can never disagree.

// The rules whose findings the panels show.
const (
	ruleKeyShared        = "key-shared"
	ruleCredentialShared = "credential-shared"
)

type sharedKey struct {
	SPKI  string
	Certs []string
	Hosts []string
}

type sharedCred struct {
	Kind, Protocol, User, Preview, Where string
	Clients, Servers                     []string
	Count                                int
}

// htmlSharedKeys lists each key the key-shared rule found on several hosts or subjects,
// once per key, with the certificates and the places that present it.
func htmlSharedKeys(fs []findings.Finding) []sharedKey {
	var out []sharedKey
	seen := map[string]bool{}
	for _, f := range fs {
		if f.Rule != ruleKeyShared {
			continue
		}
		spki := evString(f.Evidence, "spki_sha256")
		if spki == "" || seen[spki] {
			continue
		}
		seen[spki] = true
		out = append(out, sharedKey{SPKI: term(spki), Certs: evStrings(f.Evidence, "subjects"),
			Hosts: evStrings(f.Evidence, "shared_by")})
	}
	return out
}

// htmlSharedCreds lists the secrets credential-shared found: one row per kind and set
// of shared secrets, with every host that shares them and every server they reached
// (the rule raises one finding per server, each carrying the whole picture).
func htmlSharedCreds(fs []findings.Finding) []sharedCred {
	var out []sharedCred
	seen := map[string]bool{}
	for _, f := range fs {
		if f.Rule != ruleCredentialShared {
			continue
		}
		ev := f.Evidence
		secrets := findings.EvidenceList(ev, "secrets")
		key := evString(ev, "kind")
		count := 0
		for _, x := range secrets {
			if m, ok := x.(map[string]any); ok {
				key += "|" + evString(m, "hash")
				count += findings.EvidenceInt(m, "count")
			}
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		c := sharedCred{Kind: evString(ev, "kind"), Preview: evString(ev, "preview"),
			Clients: evStrings(ev, "shared_by"), Servers: evStrings(ev, "servers"), Count: count}
		if len(c.Clients) == 0 { // a finding stored before shared_by was recorded
			c.Clients = evStrings(ev, "clients")
		}
		if count == 0 {
			c.Count = findings.EvidenceInt(ev, "count")
		}
		c.Protocol = strings.Join(evStrings(ev, "protocols"), ", ")
		c.User = strings.Join(evStrings(ev, "user"), ", ")
		c.Where = strings.Join(evStrings(ev, "where"), ", ")
		if len(secrets) > 1 {
			c.Preview = strconv.Itoa(len(secrets)) + " distinct secrets"
		}
		out = append(out, c)
	}
	return out
}

// evString and evStrings read evidence (findings.EvidenceString) for the terminal and
// the page: through term.
func evString(ev map[string]any, key string) string { return term(findings.EvidenceString(ev, key)) }

func evStrings(ev map[string]any, key string) []string {
	l := findings.EvidenceStrings(ev, key)
	for i := range l {
		l[i] = term(l[i])
	}
	return l
}
