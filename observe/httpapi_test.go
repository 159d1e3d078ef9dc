package observe

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		path, reqCT, respCT string
		kind, resource      string
	}{
		{"/Patient/123", "", "", APIFHIR, "Patient"},
		{"/fhir/Observation", "", "text/html", APIFHIR, "Observation"},
		{"/baseR4/DeviceMetric/_search", "", "", APIFHIR, "DeviceMetric"},
		{"/api/fhir/r4/MedicationRequest/abc-1/_history/2", "", "", APIFHIR, "MedicationRequest"},
		{"/hapi-fhir-jpaserver/fhir/Group/7", "", "", APIFHIR, "Group"},
		{"/fhir/metadata", "", "", APIFHIR, "metadata"},
		{"/metadata", "", "application/json", APIFHIR, "metadata"},
		{"/Patient/$everything", "", "", APIFHIR, "Patient"},
		{"/", "application/fhir+json; fhirVersion=4.0", "", APIFHIR, ""},
		{"/submit", "", "application/json+fhir", APIFHIR, ""},
		{"/Patient", "", "text/html; charset=utf-8", "", ""},                     // a web page at the root
		{"/patient/123", "", "", "", ""},                                         // case-sensitive, as FHIR is
		{"/Account/Login", "", "text/html", "", ""},                              // ASP.NET, not FHIR's Account
		{"/Account/Login", "", "application/json", APIOther, ""},                 // generic type at the root: JSON is still an API
		{"/metadata/instance", "", "application/json", APIOther, ""},             // a cloud metadata service
		{"/api/metadata", "", "", "", ""},                                        // metadata under a non-FHIR base
		{"/api/v2/Patient", "", "", "", ""},                                      // a non-FHIR base
		{"/Patient/1/2/3/4/5", "", "", "", ""},                                   // deeper than any FHIR interaction
		{"/Patient/a b", "", "", "", ""},                                         // not an id
		{"/api/v1/vitals", "application/json", "application/json", APIOther, ""}, // the ward's telemetry
		{"/svc", "application/soap+xml; charset=utf-8", "", APIOther, ""},
		{"/svc", "text/xml", "", APIOther, ""},
		{"/x", "", "application/problem+json", APIOther, ""},
		{"/index.html", "", "application/xhtml+xml", "", ""},
		{"/feed", "", "application/atom+xml", "", ""},
		{"/logo.svg", "", "image/svg+xml", "", ""},
		{"/fw.bin", "", "application/octet-stream", "", ""},
	}
	for _, tc := range tests {
		kind, res := ClassifyHTTP(tc.path, tc.reqCT, tc.respCT)
		if kind != tc.kind || res != tc.resource {
			t.Errorf("%s (%q, %q): got %q %q, want %q %q", tc.path, tc.reqCT, tc.respCT, kind, res, tc.kind, tc.resource)
		}
	}
}

// TestPathTemplateOfClassifiedPaths checks the templates of the paths the classification
// reads (TestPathTemplate in urlpath_test.go has the vocabulary's cases).
func TestPathTemplateOfClassifiedPaths(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "/",
		"/api/v1/vitals":                  "/api/v1/vitals",
		"/Patient/WRD4471902":             "/Patient/{id}",
		"/fhir/r4/Patient/abc/_history/3": "/fhir/r4/Patient/{id}/_history/{id}",
		"/Patient/$everything":            "/Patient/$everything",
		"/orders/12345/items":             "/orders/{id}/items",
		"/users/nurse@example.org":        "/users/{id}",
		"/search/SMITH%20JOHN":            "/search/{id}",
		"/a/averyveryveryveryveryveryverylongsegmentname": "/a/{id}",
	} {
		if got := PathTemplate(in); got != want {
			t.Errorf("PathTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClassify feeds network-controlled paths and media types to the classification: it
// must never panic, and a path template keeps the path's shape (its segment count, up
// to the cap on segments).
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"/fhir/r4/Patient/1/_history/2", "/metadata", "//", "/Patient/$x", "/a/b/c/d/e/f/g"} {
		f.Add(s, "application/fhir+json; x=y", "text/html")
	}
	f.Fuzz(func(t *testing.T, path, reqCT, respCT string) {
		ClassifyHTTP(path, reqCT, respCT)
		got := PathTemplate(path)
		if path != "" && strings.Count(path, "/") <= maxTemplateSegments && strings.Count(got, "/") != strings.Count(path, "/") {
			t.Errorf("PathTemplate(%q) = %q changes the shape", path, got)
		}
	})
}

func TestIsSecretBodyKey(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "Password": true, "passwd": true, "pwd": true, "pass": true, "PIN": true, "secret": true,
		"token": true, "access_token": true, "accessToken": true, "refresh-token": true, "apikey": true, "api_key": true,
		"X-API-Key": true, "client_secret": true, "clientSecret": true, "newPassword": true, "user_password": true,
		"passphrase": true, "jwt": true,
		"csrf_token": false, "csrfSecret": false, "xsrf-token": false, "nextToken": false, "pageToken": false,
		"username": false, "login": false, "email": false, "spin": false, "pinned": false, "passport": false,
		"key": false, "user[password]": false, "pass word": false, "": false,
		strings.Repeat("a", 60) + "password": false,
	} {
		if got := IsSecretBodyKey(name); got != want {
			t.Errorf("IsSecretBodyKey(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsLoginPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/login": true, "/users/login": true, "/api/v4/users/login": true, "/auth": true, "/token": true,
		"/oauth/token": true, "/session": true, "/api/sessions/": true, "/Account/Login": true, "/j_security_check": true,
		"/": false, "/api/v1/infusions": false, "/logout": false, "/login/help.html": false, "/tokens/{id}": false,
	} {
		if got := IsLoginPath(path); got != want {
			t.Errorf("IsLoginPath(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestDescriptorPath(t *testing.T) {
	tests := []struct{ path, respType, want string }{
		{"/description.xml", "text/xml", DescriptorUPnP},
		{"/rootDesc.xml", "", DescriptorUPnP},
		{"/upnp/DeviceDescription.xml", "text/xml", DescriptorUPnP},
		{"/dd.xml", "text/xml", DescriptorDIAL},
		{"/apps/YouTube", "text/xml", DescriptorDIAL},
		{"/apps/Netflix/run", "", DescriptorDIAL},
		{"/apps/", "", ""},
		{"/apps/42", "application/json", ""},
		{"/apps/a/b/c", "text/xml", ""},
		{"/api/v1/apps", "text/xml", ""},
		{"/fhir/Patient", "application/fhir+json", ""},
	}
	for _, tc := range tests {
		if got := DescriptorPath(tc.path, tc.respType); got != tc.want {
			t.Errorf("DescriptorPath(%q, %q) = %q, want %q", tc.path, tc.respType, got, tc.want)
		}
	}
}

// TestAsEmittedDescriptorsAndLogins checks that a description is never an API, whatever
// its media type, and that a login stays an API call but is marked as one.
func TestAsEmittedDescriptorsAndLogins(t *testing.T) {
	d := HTTPRequest{Method: "GET", Path: "/rootDesc.xml", RespContentType: "application/xml"}.AsEmitted()
	if d.API != "" || d.Descriptor != DescriptorUPnP {
		t.Errorf("UPnP description: api %q descriptor %q", d.API, d.Descriptor)
	}
	d = HTTPRequest{Method: "GET", Path: "/ssdp/x", Descriptor: DescriptorDIAL, RespContentType: "application/json"}.AsEmitted()
	if d.API != "" || d.Descriptor != DescriptorDIAL {
		t.Errorf("DIAL by its header: api %q descriptor %q", d.API, d.Descriptor)
	}
	l := HTTPRequest{Method: "POST", Path: "/api/v4/users/login", ContentType: "application/json"}.AsEmitted()
	if l.API != APIOther || !l.Login {
		t.Errorf("JSON login: api %q login %v", l.API, l.Login)
	}
	if g := (HTTPRequest{Method: "GET", Path: "/api/sessions", RespContentType: "application/json"}).AsEmitted(); g.Login {
		t.Error("a GET of /api/sessions is a login")
	}
	l = HTTPRequest{Method: "POST", Path: "/api/v1/x", ContentType: "application/json", BodySecretKeys: []string{"pin"}}.AsEmitted()
	if !l.Login {
		t.Error("a body with a PIN is not a login")
	}
	a, b := l, l
	b.BodySecretKeys = nil
	if a.Shape() == b.Shape() {
		t.Error("the body's secret field names are not part of the shape")
	}
}
