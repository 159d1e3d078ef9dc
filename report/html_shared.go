package report

import (
	"encoding/json"
	"fmt"
	"strconv"

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
		secrets := evList(ev, "secrets")
		key := evString(ev, "kind")
		count := 0
		for _, x := range secrets {
			if m, ok := x.(map[string]any); ok {
				key += "|" + evString(m, "hash")
				count += evInt(m, "count")
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
			c.Count = evInt(ev, "count")
		}
		c.Protocol = joinList(evStrings(ev, "protocols"))
		c.User = joinList(evStrings(ev, "user"))
		c.Where = joinList(evStrings(ev, "where"))
		if len(secrets) > 1 {
			c.Preview = strconv.Itoa(len(secrets)) + " distinct secrets"
		}
		out = append(out, c)
	}
	return out
}

func joinList(l []string) string {
	out := ""
	for i, s := range l {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// evString reads a string of a finding's evidence, as a rule put it in or as JSON gave
// it back.
func evString(ev map[string]any, key string) string {
	switch v := ev[key].(type) {
	case string:
		return term(v)
	case nil:
		return ""
	default:
		return term(fmt.Sprint(v))
	}
}

// evStrings reads a list of strings of a finding's evidence.
func evStrings(ev map[string]any, key string) []string {
	var out []string
	switch v := ev[key].(type) {
	case []string:
		for _, s := range v {
			out = append(out, term(s))
		}
	case []any:
		for _, s := range v {
			out = append(out, term(fmt.Sprint(s)))
		}
	case string:
		out = append(out, term(v))
	}
	return out
}

// evList reads a list of any values of a finding's evidence.
func evList(ev map[string]any, key string) []any {
	switch v := ev[key].(type) {
	case []any:
		return v
	case []map[string]any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = v[i]
		}
		return out
	}
	return nil
}

// evInt reads a number of a finding's evidence.
func evInt(ev map[string]any, key string) int {
	switch v := ev[key].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 0
}
