package cleartext

import (
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		path, reqCT, respCT string
		kind, resource      string
	}{
		{"/Patient/123", "", "", apiFHIR, "Patient"},
		{"/fhir/Observation", "", "text/html", apiFHIR, "Observation"},
		{"/baseR4/DeviceMetric/_search", "", "", apiFHIR, "DeviceMetric"},
		{"/api/fhir/r4/MedicationRequest/abc-1/_history/2", "", "", apiFHIR, "MedicationRequest"},
		{"/hapi-fhir-jpaserver/fhir/Group/7", "", "", apiFHIR, "Group"},
		{"/fhir/metadata", "", "", apiFHIR, "metadata"},
		{"/metadata", "", "application/json", apiFHIR, "metadata"},
		{"/Patient/$everything", "", "", apiFHIR, "Patient"},
		{"/", "application/fhir+json; fhirVersion=4.0", "", apiFHIR, ""},
		{"/submit", "", "application/json+fhir", apiFHIR, ""},
		{"/Patient", "", "text/html; charset=utf-8", apiNone, ""},              // a web page at the root
		{"/patient/123", "", "", apiNone, ""},                                  // case-sensitive, as FHIR is
		{"/Account/Login", "", "text/html", apiNone, ""},                       // ASP.NET, not FHIR's Account
		{"/Account/Login", "", "application/json", apiAPI, ""},                 // generic type at the root: JSON is still an API
		{"/metadata/instance", "", "application/json", apiAPI, ""},             // a cloud metadata service
		{"/api/metadata", "", "", apiNone, ""},                                 // metadata under a non-FHIR base
		{"/api/v2/Patient", "", "", apiNone, ""},                               // a non-FHIR base
		{"/Patient/1/2/3/4/5", "", "", apiNone, ""},                            // deeper than any FHIR interaction
		{"/Patient/a b", "", "", apiNone, ""},                                  // not an id
		{"/api/v1/vitals", "application/json", "application/json", apiAPI, ""}, // the ward's telemetry
		{"/svc", "application/soap+xml; charset=utf-8", "", apiAPI, ""},
		{"/svc", "text/xml", "", apiAPI, ""},
		{"/x", "", "application/problem+json", apiAPI, ""},
		{"/index.html", "", "application/xhtml+xml", apiNone, ""},
		{"/feed", "", "application/atom+xml", apiNone, ""},
		{"/logo.svg", "", "image/svg+xml", apiNone, ""},
		{"/fw.bin", "", "application/octet-stream", apiNone, ""},
	}
	for _, tc := range tests {
		r := &observe.HTTPRequest{Method: "GET", Path: tc.path, ContentType: tc.reqCT, RespContentType: tc.respCT}
		kind, res := classify(r)
		if kind != tc.kind || res != tc.resource {
			t.Errorf("%s (%q, %q): got %q %q, want %q %q", tc.path, tc.reqCT, tc.respCT, kind, res, tc.kind, tc.resource)
		}
	}
}

func TestPathTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "/",
		"/api/v1/vitals":                  "/api/v1/vitals",
		"/Patient/WRD4471902":             "/Patient/{id}",
		"/fhir/r4/Patient/abc/_history/3": "/fhir/r4/Patient/{id}/_history/{id}",
		"/Patient/$everything":            "/Patient/$everything",
		"/orders/12345/items":             "/orders/{id}/items",
		"/users/nurse@example.org":        "/users/{id}",
		"/q/SMITH%20JOHN":                 "/q/{id}",
		"/a/averyveryveryveryveryveryverylongsegmentname": "/a/{id}",
	} {
		if got := pathTemplate(in); got != want {
			t.Errorf("pathTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClassify feeds network-controlled paths and media types to the classification: it
// must never panic, and a path template keeps the path's shape (its segment count).
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"/fhir/r4/Patient/1/_history/2", "/metadata", "//", "/Patient/$x", "/a/b/c/d/e/f/g"} {
		f.Add(s, "application/fhir+json; x=y", "text/html")
	}
	f.Fuzz(func(t *testing.T, path, reqCT, respCT string) {
		classify(&observe.HTTPRequest{Path: path, ContentType: reqCT, RespContentType: respCT})
		got := pathTemplate(path)
		if path != "" && strings.Count(got, "/") != strings.Count(path, "/") {
			t.Errorf("pathTemplate(%q) = %q changes the shape", path, got)
		}
	})
}
