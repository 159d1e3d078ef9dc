package observe

import (
	"slices"
	"strconv"
	"strings"
)

// This file decides what an HTTP request was (HTTPRequest.API and Resource, Login,
// Descriptor) from its headers, its path, and the few body facts the dissector reads
// (the names of a request body's password-like fields, whether a response body is a UPnP
// device description). The HTTP dissector calls it once per request (AsEmitted), on the
// raw path, before the path is replaced by its template; nothing downstream classifies
// again.
//
//   - FHIR: a FHIR media type in either direction (application/fhir+json,
//     application/fhir+xml, or DSTU2's application/json+fhir and application/xml+fhir), or
//     a path whose first segment, or first segment after a FHIR base ("/fhir/", "/baseR4/",
//     "/r4/", "/api/fhir/r4/"), is an R4 resource type, case-sensitive as FHIR is, followed
//     by at most four id, _history, _search or $operation segments; "metadata" only as the
//     last segment. Resource types that are everyday words ("Account", "List", "Media",
//     "Task", ...) count only under a FHIR base, and a path at the server's root does not
//     count when the answer was HTML, CSS, script, an image or a font.
//   - An API: otherwise, a JSON, XML or SOAP media type in either direction
//     (application/json, text/json, application/xml, text/xml, application/x-ndjson, and
//     application/*+json or +xml such as application/soap+xml), except XHTML and feeds.
//   - Neither: a device description (Descriptor), whatever its media type. UPnP devices
//     (found by SSDP) and DIAL receivers (smart TVs, casting sticks on a ward's guest or
//     patient-entertainment network) serve XML that says what they are, to anyone, by
//     design: it is discovery, not an API, and is judged neither as a cleartext API nor
//     as one that answers without authentication.
//   - A login (Login): a request that carries a password-like field in its body, or a
//     POST or PUT to a path that ends in a login word (IsLoginPath; a GET of
//     "/api/sessions" lists sessions, it logs nobody in). It is still an API call when
//     its media type says so, but it presents a credential: it cannot be an
//     unauthenticated one.

// ClassifyHTTP says what a request was: APIFHIR (with the resource type it named, "" when
// only the media type said FHIR), APIOther, or "" for a page, an image or a download.
// path is the raw path, without the query string.
func ClassifyHTTP(path, reqType, respType string) (api, resource string) {
	res, based, pathOK := fhirPath(path)
	if isFHIRMedia(reqType) || isFHIRMedia(respType) {
		return APIFHIR, res
	}
	if pathOK && (based || !isDocumentMedia(respType)) {
		return APIFHIR, res
	}
	if isAPIMedia(reqType) || isAPIMedia(respType) {
		return APIOther, ""
	}
	return "", ""
}

// MediaType returns the lowercased media type of a Content-Type value, without
// parameters: "application/fhir+json; fhirVersion=4.0" gives "application/fhir+json".
func MediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// fhirMediaTypes are FHIR's own media types (R4 §3.1.0.1.2), with the DSTU2 ones that
// servers still send ("application/json+fhir").
var fhirMediaTypes = []string{"application/fhir+json", "application/fhir+xml", "application/json+fhir", "application/xml+fhir"}

func isFHIRMedia(ct string) bool { return slices.Contains(fhirMediaTypes, MediaType(ct)) }

// isAPIMedia reports whether a Content-Type is one an API exchanges: JSON, XML or SOAP,
// including structured-syntax suffixes ("application/problem+json",
// "application/soap+xml"). XHTML, SVG and feeds are documents, not API payloads.
func isAPIMedia(ct string) bool {
	mt := MediaType(ct)
	switch mt {
	case "application/json", "text/json", "application/xml", "text/xml", "application/x-ndjson":
		return true
	case "application/xhtml+xml", "application/atom+xml", "application/rss+xml":
		return false
	}
	return strings.HasPrefix(mt, "application/") && (strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml"))
}

// isDocumentMedia reports whether a response is something a browser renders or loads
// (HTML, CSS, script, image, font): a FHIR server answers interactions with resources,
// so such a response vetoes a FHIR guess made from a path at the server's root.
func isDocumentMedia(ct string) bool {
	mt := MediaType(ct)
	switch {
	case mt == "text/html", mt == "text/css", mt == "application/xhtml+xml",
		strings.HasSuffix(mt, "javascript"), strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "font/"):
		return true
	}
	return false
}

// genericResourceTypes are resource types that are also everyday words in web
// applications' paths ("/Account/Login" in ASP.NET, "/Media/logo.png"): they mark FHIR
// only under a FHIR base ("/fhir/Account"), never at the server's root.
var genericResourceTypes = []string{
	"Account", "Basic", "Binary", "Bundle", "Contract", "Endpoint", "Evidence", "Flag", "Goal", "Group", "Invoice",
	"Library", "Linkage", "List", "Location", "Measure", "Media", "Parameters", "Person", "Schedule", "Slot",
	"Subscription", "Task",
}

// fhirPath reads a request path as a FHIR REST interaction. It returns the resource type
// ("Patient", or "metadata" for the capabilities interaction), whether the path had a
// FHIR base (a segment naming FHIR or a FHIR version: "/fhir/", "/baseR4/", "/api/fhir/r4/"),
// and whether it is FHIR at all. The type is the first segment, or the segment after a
// FHIR base of at most three segments; what follows it must be at most four segments of
// the shapes FHIR uses (id, "_history", version id, "$operation"). "metadata" counts only
// as the last segment, where the capability statement lives, so that a cloud metadata
// service ("/metadata/instance") is not FHIR.
func fhirPath(path string) (resource string, based, ok bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i < len(segs) && i <= 3; i++ {
		s, rest := segs[i], segs[i+1:]
		if s == "metadata" && len(rest) == 0 && (i == 0 || based) {
			return s, based, true
		}
		if IsFHIRResourceType(s) {
			if (i > 0 && !based) || len(rest) > 4 || (!based && slices.Contains(genericResourceTypes, s)) {
				return "", false, false
			}
			for _, r := range rest {
				if !isFHIRID(r) {
					return "", false, false
				}
			}
			return s, based, true
		}
		switch {
		case strings.Contains(strings.ToLower(s), "fhir") || IsVersionLabel(s) && !strings.HasPrefix(s, "v"):
			based = true
		case based:
			return "", false, false // a FHIR base is followed by the type, or by more of the base
		case i > 0:
			return "", false, false
		}
		// A first segment that is neither the type nor FHIR's base may be a context path
		// in front of the base ("/api/fhir/Patient").
	}
	return "", false, false
}

// isFHIRID reports whether a segment is a FHIR logical id (R4 §2.24.0.1 id datatype), or
// a search, history or operation segment ("_search", "_history", "$everything").
func isFHIRID(s string) bool {
	if s == "" || len(s) > 65 {
		return false
	}
	if s[0] == '_' || s[0] == '$' {
		if len(s) < 2 {
			return false
		}
		for _, c := range []byte(s[1:]) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
		return true
	}
	if len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// AsEmitted returns a request as the HTTP dissector hands it on, its Path taken as the
// raw path: classified (ClassifyHTTP) while the raw path is at hand, then with the path
// replaced by its template (PathTemplate) and the query parameter names by theirs
// (QueryKeysTemplate). A CONNECT's authority and the "*" of OPTIONS name no resource and
// stay as they are; a response whose request was lost is classified by its media type
// alone. It is the one step every producer of HTTPRequest takes.
func (r HTTPRequest) AsEmitted() HTTPRequest {
	r.QueryKeys = QueryKeysTemplate(r.QueryKeys)
	switch {
	case r.Method == "CONNECT" || r.Path == "*":
	case r.Method != "" || r.Path != "":
		r.API, r.Resource = ClassifyHTTP(r.Path, r.ContentType, r.RespContentType)
		if r.Descriptor == "" {
			r.Descriptor = DescriptorPath(r.Path, r.RespContentType)
		}
		r.Login = r.Login || len(r.BodySecretKeys) > 0 || (r.Method == "POST" || r.Method == "PUT") && IsLoginPath(r.Path)
		r.Path = PathTemplate(r.Path)
	default:
		r.API, r.Resource = ClassifyHTTP("", "", r.RespContentType)
	}
	if r.Descriptor != "" {
		r.API, r.Resource = "", ""
	}
	return r
}

// Device descriptions (HTTPRequest.Descriptor).
const (
	DescriptorUPnP = "upnp" // a UPnP device or service description (UPnP Device Architecture 2.0 §2)
	DescriptorDIAL = "dial" // a DIAL device description or application resource (DIAL 2.2 §5, §6)
)

// upnpDescriptions are the file names under which UPnP devices serve their device
// description (the LOCATION of their SSDP announcements), as the common stacks name them
// (libupnp, miniupnpd, Windows, Sonos, Philips and Samsung): compared without regard to
// case. DIAL's device description is dd.xml.
var upnpDescriptions = []string{"description.xml", "rootdesc.xml", "desc.xml", "devicedesc.xml",
	"device-desc.xml", "devicedescription.xml", "upnp.xml", "dmr.xml", "dms.xml"}

// DescriptorPath says whether a raw request path fetches a device description: a UPnP
// description by its file name, DIAL's dd.xml, or a DIAL application resource
// ("/apps/YouTube", "/apps/Netflix/run": DIAL 2.2 §6.1) unless its answer was JSON, which
// DIAL never sends and a REST API under /apps/ does. It returns DescriptorUPnP,
// DescriptorDIAL or "". The other signs of a description (an Application-URL response
// header, a UPnP root element in the body) are the dissector's to see.
func DescriptorPath(path, respType string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	last := strings.ToLower(segs[len(segs)-1])
	switch {
	case last == "dd.xml":
		return DescriptorDIAL
	case slices.Contains(upnpDescriptions, last):
		return DescriptorUPnP
	case len(segs) >= 2 && len(segs) <= 3 && segs[0] == "apps" && segs[1] != "" &&
		(len(segs) == 2 || segs[2] == "run") && !isJSONMedia(respType):
		return DescriptorDIAL
	}
	return ""
}

// isJSONMedia reports whether a Content-Type is JSON (application/json, text/json or a
// +json suffix).
func isJSONMedia(ct string) bool {
	mt := MediaType(ct)
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// loginWords are the last path segments of endpoints that exchange a credential for a
// session or a token: form and JSON logins ("/login", "/users/login", "/api/v4/session"),
// OAuth 2.0's token endpoint (RFC 6749 §3.2: "/oauth/token", "/token") and the like.
var loginWords = []string{"login", "logon", "signin", "sign_in", "sign-in", "auth", "authenticate",
	"authorize", "token", "session", "sessions", "oauth2", "j_security_check"}

// IsLoginPath reports whether a path (raw or template) ends in a login endpoint's word,
// compared without regard to case; a trailing slash does not count.
func IsLoginPath(path string) bool {
	segs := strings.Split(strings.TrimRight(path, "/"), "/")
	return slices.Contains(loginWords, strings.ToLower(segs[len(segs)-1]))
}

// secretBodyKeys are the names of form and JSON body fields whose values are
// credentials, compared after lowercasing and dropping '_', '-' and '.', so that
// "api_key", "apiKey" and "API-Key" are one name. Names ending in "password", "passwd",
// "secret" or "apikey" ("newPassword", "clientSecret", "x_api_key") are credentials too;
// "token" only alone or as one of the token kinds here, because paging and anti-forgery
// tokens ("nextToken", "csrf_token") are not credentials.
var secretBodyKeys = []string{"password", "passwd", "pwd", "pass", "passphrase", "passcode", "pin", "secret",
	"token", "accesstoken", "refreshtoken", "idtoken", "authtoken", "apitoken", "bearertoken", "sessiontoken",
	"apikey", "clientsecret", "privatekey", "jwt"}

// secretBodySuffixes are the endings that make a field name a credential's.
var secretBodySuffixes = []string{"password", "passwd", "secret", "apikey"}

// IsSecretBodyKey reports whether a form or JSON body field's value is a credential.
func IsSecretBodyKey(name string) bool {
	if len(name) > 64 {
		return false
	}
	var buf [64]byte
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			buf[n] = c + 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			buf[n] = c
		case c == '_' || c == '-' || c == '.':
			continue
		default:
			return false // not a field name a program would use
		}
		n++
	}
	k := string(buf[:n])
	if slices.Contains(secretBodyKeys, k) {
		return true
	}
	if strings.Contains(k, "csrf") || strings.Contains(k, "xsrf") {
		return false
	}
	return slices.ContainsFunc(secretBodySuffixes, func(s string) bool { return strings.HasSuffix(k, s) })
}

// Shape is what tells one kind of request from another between the same two hosts: the
// method, Host header, path template and API, how it authenticated (scheme, cookie,
// API-key headers, query parameter names, password-like body fields, a login), the
// status, the body's digest and whether it fetched a device description. Requests of
// one shape are kept once, with their count; a rule that reads any of these sees every
// difference that matters to it.
func (r *HTTPRequest) Shape() string {
	return strings.Join([]string{r.Method, r.HostHeader, r.Path, r.API, r.Resource, r.AuthScheme,
		strconv.FormatBool(r.HasCookie), strings.Join(r.APIKeyHeaders, ","), strings.Join(r.QueryKeys, ","),
		strconv.Itoa(r.Status), r.BodySHA256, strings.Join(r.BodySecretKeys, ","), strconv.FormatBool(r.Login),
		r.Descriptor}, "|")
}
