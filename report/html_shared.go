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
