package cleartext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

// The API rules (cleartext-fhir, cleartext-api and api-unauthenticated) judge what the
// HTTP dissector decided each request was (observe.HTTPRequest.API and Resource, from
// observe.ClassifyHTTP) and the path templates it kept; they classify nothing themselves.

// apiServer gathers the HTTP requests of one server endpoint that a rule judged.
type apiServer struct {
	ep                         observe.Endpoint
	seen                       observe.Span
	clients, methods, paths    []string
	resources, media, statuses []string
	requests                   int
	fhir, other                int // requests that were FHIR interactions, and other API calls
	// byPath is the same per path template: which clients called which API of the
	// server, so that one finding per endpoint still names each API's own clients.
	byPath map[string]*apiPath
}

// apiPath is what one path template of a server was asked.
type apiPath struct {
	clients, methods []string
	requests         int
}

// maxPathsEvidence bounds the per-template evidence of one finding; the rest is counted.
const maxPathsEvidence = 50

// apiServers groups the requests that match by server endpoint, in address order.
func apiServers(set *observe.Set, match func(r *observe.HTTPRequest) bool) []*apiServer {
	servers := observe.NewIndex[observe.Endpoint, *apiServer](0)
	for _, r := range set.HTTP {
		if !match(r) {
			continue
		}
		a, _, _ := servers.Add(r.Flow.Server, func() *apiServer { return &apiServer{ep: r.Flow.Server} })
		a.add(r)
	}
	return servers.Sorted(func(a, b *apiServer) int { return a.ep.Compare(b.ep) })
}

// add counts one request shape into the server's evidence.
func (a *apiServer) add(r *observe.HTTPRequest) {
	a.seen.Add(r.FirstSeen, r.LastSeen)
	a.clients = rules.AddSorted(a.clients, r.Flow.Client.Addr().Unmap().String())
	if r.Method != "" {
		a.methods = rules.AddSorted(a.methods, r.Method)
	}
	if r.Method != "" || r.Path != "" {
		a.paths = rules.AddSorted(a.paths, r.Path)
		if a.byPath == nil {
			a.byPath = map[string]*apiPath{}
		}
		p := a.byPath[r.Path]
		if p == nil {
			p = &apiPath{}
			a.byPath[r.Path] = p
		}
		p.clients = rules.AddSorted(p.clients, r.Flow.Client.Addr().Unmap().String())
		if r.Method != "" {
			p.methods = rules.AddSorted(p.methods, r.Method)
		}
		p.requests += max(r.Count, 1)
	}
	if r.Resource != "" {
		a.resources = rules.AddSorted(a.resources, r.Resource)
	}
	for _, ct := range []string{r.ContentType, r.RespContentType} {
		if mt := observe.MediaType(ct); mt != "" {
			a.media = rules.AddSorted(a.media, mt)
		}
	}
	if r.Status != 0 {
		a.statuses = rules.AddSorted(a.statuses, strconv.Itoa(r.Status))
	}
	a.requests += max(r.Count, 1)
	switch r.API {
	case observe.APIFHIR:
		a.fhir += max(r.Count, 1)
	case observe.APIOther:
		a.other += max(r.Count, 1)
	}
}

// evidence is what every API finding carries about the requests behind it.
func (a *apiServer) evidence() map[string]any {
	ev := map[string]any{
		"protocol":    "http",
		"clients":     a.clients,
		"methods":     a.methods,
		"paths":       a.paths,
		"media_types": a.media,
		"statuses":    a.statuses,
		"requests":    a.requests,
	}
	if len(a.resources) > 0 {
		ev["resource_types"] = a.resources
	}
	if len(a.paths) > 0 {
		// a.paths is sorted: the first templates in order, the rest counted.
		var apis []map[string]any
		for _, path := range a.paths[:min(len(a.paths), maxPathsEvidence)] {
			p := a.byPath[path]
			apis = append(apis, map[string]any{"path": path, "clients": p.clients, "methods": p.methods, "requests": p.requests})
		}
		ev["apis"] = apis
		if n := len(a.paths) - maxPathsEvidence; n > 0 {
			ev["apis_not_listed"] = n
		}
	}
	return ev
}

// finding starts a finding about the server with the given message.
func (a *apiServer) finding(msg string) findings.Finding {
	host, port := rules.HostPort(a.ep)
	return rules.Observed(a.seen, findings.Finding{
		Host:     host,
		Port:     port,
		Message:  msg,
		Evidence: a.evidence(),
	})
}

// joinFew joins at most n items of a list for a message, saying how many more there are
// (the evidence has them all).
func joinFew(list []string, n int) string {
	if len(list) <= n {
		return joinOr(list, "?")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}
