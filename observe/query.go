package observe

import (
	"slices"
	"strings"
)

// This file decides which query parameter names may be kept. Values are never kept (a
// value may be a password or a patient's name); a name is kept when it is a word, since
// "?HOLLOWAY" or "?WRD4471902=1" carries the identifier in the name itself.

// secretQueryKeys are the URL parameter names whose values are credentials: the HTTP
// dissector reports their values as url-secret credentials, and a request carrying one
// authenticated, if badly. Compared without regard to case.
var secretQueryKeys = []string{
	"access_token", "api_key", "apikey", "auth", "auth_token", "client_secret", "jwt", "key", "pass", "passwd",
	"password", "pwd", "secret", "session", "sessionid", "sig", "signature", "token",
}

// IsSecretQueryKey reports whether a URL parameter's value is a credential.
func IsSecretQueryKey(name string) bool {
	return slices.ContainsFunc(secretQueryKeys, func(k string) bool { return strings.EqualFold(k, name) })
}

// queryWords are parameter names of paging and search that are not path words.
var queryWords = []string{"after", "before", "desc", "asc", "end", "page", "per", "q", "size", "start", "since", "until"}

// QueryKeyTemplate returns a query parameter's name as it may be kept: the name when it
// is a credential's (IsSecretQueryKey), a paging word, or made of known words as a path
// segment is (FHIR's "_count", "subject:Patient", "patient.identifier"), else "{id}".
func QueryKeyTemplate(name string) string {
	// A name is kept as written only in a word's characters: Unicode case folding takes
	// "ſig" for "sig" (IsSecretQueryKey still folds it, so that its value is masked).
	if wordCharacters(name) && (IsSecretQueryKey(name) || slices.Contains(queryWords, strings.ToLower(name))) {
		return name
	}
	for _, part := range strings.Split(name, ":") {
		if !knownSegment(part) {
			return PathTemplateID
		}
	}
	return name
}

// QueryKeysTemplate templates each name (QueryKeyTemplate) and keeps each result once,
// in first-seen order.
func QueryKeysTemplate(names []string) []string {
	var out []string
	for _, n := range names {
		if t := QueryKeyTemplate(n); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
