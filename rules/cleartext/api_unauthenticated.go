package cleartext

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(apiUnauthenticated{}) }

// apiUnauthenticated flags API endpoints that answered with success to requests that
// carried nothing that authenticates them.
type apiUnauthenticated struct{}

func (apiUnauthenticated) Meta() rules.Meta {
	return rules.Meta{
		ID:      "api-unauthenticated",
		Covers:  findings.Coverage{Domain: findings.DomainAuthentication, Needs: []findings.Evidence{findings.SeenHTTPAPIAnswers}},
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskPatientData,
		Title:   "API answers without authentication",
		Default: findings.Medium,
		Rationale: "An API that returns data or accepts writes from anyone who can reach it lets any host on the " +
			"network read patient and device data, or push readings and commands, with nothing to steal first " +
			"and nothing that ties a request to a user or device in the audit trail.",
		Remediation: "Require authentication on every API call (OAuth 2.0 / SMART on FHIR tokens, mutual TLS, or at " +
			"least per-device keys over HTTPS) and log who called; network allow-lists alone are not authentication.",
		References: []string{
			"OWASP API Security Top 10 2023, API2 (broken authentication)",
			"HIPAA Security Rule, 45 CFR 164.312(d) (person or entity authentication)",
			"HL7 FHIR R4, Security (https://hl7.org/fhir/security.html): authentication",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
		},
	}
}

// publicPaths are the last path segments of endpoints meant to answer anyone: FHIR's
// capability statement (which the FHIR specification says servers expose without
// authentication) and health checks.
var publicPaths = []string{"metadata", "health", "healthz", "livez", "readyz", "ping"}

// unauthenticated reports whether a request carried no credential and no session token:
// no Authorization scheme, no API-key header, no cookie, no secret URL parameter, no
// password-like field in its body, and it was no login (observe.HTTPRequest.Login): a
// login presents a credential to get a session, so answering it is no lapse, and the
// password it carries in clear is cleartext-credentials' finding.
func unauthenticated(r *observe.HTTPRequest) bool {
	if r.AuthScheme != "" || len(r.APIKeyHeaders) > 0 || r.HasCookie || len(r.BodySecretKeys) > 0 || r.Login {
		return false
	}
	for _, k := range r.QueryKeys {
		if observe.IsSecretQueryKey(k) {
			return false
		}
	}
	return true
}

// public reports whether the path (a template: public paths hold no identifier, so their
// words survive templating) is one that is meant to answer without authentication: a
// publicPaths last segment, or anything under /.well-known/ (RFC 8615: discovery
// documents such as SMART's smart-configuration).
func public(path string) bool {
	if strings.HasPrefix(path, "/.well-known/") || strings.Contains(path, "/.well-known/") {
		return true
	}
	segs := strings.Split(strings.TrimRight(path, "/"), "/")
	return slices.Contains(publicPaths, strings.ToLower(segs[len(segs)-1]))
}

// Check raises one finding per server endpoint that answered 2xx to an API or FHIR
// request (as the HTTP dissector classified it) that carried nothing authenticating it. A response
// without its request (Method empty: the capture lost the request) says nothing about
// the request's headers and is not judged; neither is a request whose response was not
// seen. The message says what those requests were (FHIR, API, or both), from the
// requests themselves, not from whatever else the endpoint serves.
func (apiUnauthenticated) Check(c *rules.Context) {
	for _, a := range apiServers(c.Set, func(r *observe.HTTPRequest) bool {
		return r.API != "" && r.Method != "" && r.Status >= 200 && r.Status <= 299 && unauthenticated(r) && !public(r.Path)
	}) {
		what := "API"
		switch {
		case a.fhir > 0 && a.other > 0:
			what = "FHIR and API"
		case a.fhir > 0:
			what = "FHIR"
		}
		f := a.finding(fmt.Sprintf("%s answered %d %s request(s) that carried no credential or session token with success (%s %s) from %s",
			a.ep, a.requests, what, joinOr(a.methods, "?"), joinFew(a.paths, 3), joinFew(a.clients, 5)))
		f.Evidence["api"] = strings.ReplaceAll(strings.ToLower(what), " and ", "+")
		c.Emit(f)
	}
}
