package report

import (
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
// once per key, with the certificates and the places that present it
// (htmlFindings.addSharedKey).
func htmlSharedKeys(fs []findings.Finding) []sharedKey {
	return foldHTMLFindings(fs, nil, nil, true).keys
}

// htmlSharedCreds lists the secrets credential-shared found: one row per kind and set
// of shared secrets (htmlFindings.addSharedCred).
func htmlSharedCreds(fs []findings.Finding) []sharedCred {
	return foldHTMLFindings(fs, nil, nil, true).creds
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
