package cleartext

import (
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestAPIUnauthenticated(t *testing.T) {
	with := func(r observe.HTTPRequest, f func(*observe.HTTPRequest)) observe.HTTPRequest {
		f(&r)
		return r
	}
	open := req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/fhir/Patient/WRD123", "", "application/fhir+json", 200)
	tests := []struct {
		name string
		reqs []observe.HTTPRequest
		want []string
	}{
		{"FHIR read without credentials fires", []observe.HTTPRequest{open}, []string{"medium 10.0.0.80:8080"}},
		{"JSON write without credentials fires", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.40:8080", "POST", "/api/v1/vitals", "application/json", "", 201),
			with(req("10.0.0.5:40000", "10.0.0.40:8080", "GET", "/api/v1/beds", "", "application/json", 200),
				func(r *observe.HTTPRequest) { r.QueryKeys = []string{"ward", "page"} })},
			[]string{"medium 10.0.0.40:8080"}},
		{"bearer token, API key, cookie or URL secret: quiet", []observe.HTTPRequest{
			with(open, func(r *observe.HTTPRequest) { r.AuthScheme = "Bearer" }),
			with(open, func(r *observe.HTTPRequest) { r.Path = "/fhir/Observation"; r.APIKeyHeaders = []string{"X-API-Key"} }),
			with(open, func(r *observe.HTTPRequest) { r.Path = "/fhir/Device"; r.HasCookie = true }),
			with(open, func(r *observe.HTTPRequest) {
				r.Path = "/fhir/Encounter"
				r.QueryKeys = []string{"_id", "Access_Token"}
			})},
			nil},
		{"refused, unanswered or response-only: quiet", []observe.HTTPRequest{
			with(open, func(r *observe.HTTPRequest) { r.Status = 401 }),
			with(open, func(r *observe.HTTPRequest) { r.Path = "/fhir/Device"; r.Status = 0 }),
			with(open, func(r *observe.HTTPRequest) { r.Method = "" })},
			nil},
		{"capability statement, discovery and health checks are public: quiet", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/fhir/metadata", "", "application/fhir+json", 200),
			req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/fhir/.well-known/smart-configuration", "", "application/json", 200),
			req("10.0.0.5:40000", "10.0.0.40:8080", "GET", "/api/healthz", "", "application/json", 200)},
			nil},
		{"logins present a credential: quiet", []observe.HTTPRequest{
			// The JSON login of issue 14: its body carries the password.
			with(req("10.0.0.5:40000", "10.0.0.40:8080", "POST", "/api/v4/users/login", "application/json", "application/json", 200),
				func(r *observe.HTTPRequest) { r.BodySecretKeys = []string{"password"} }),
			with(req("10.0.0.5:40000", "10.0.0.40:8080", "POST", "/api/v1/pair", "application/json", "application/json", 200),
				func(r *observe.HTTPRequest) { r.BodySecretKeys = []string{"pin"} }),
			req("10.0.0.5:40000", "10.0.0.40:8080", "POST", "/oauth/token", "application/x-www-form-urlencoded", "application/json", 200),
			req("10.0.0.5:40000", "10.0.0.40:8080", "POST", "/api/session", "application/json", "application/json", 201),
			req("10.0.0.5:40000", "10.0.0.40:8080", "POST", "/auth", "", "application/json", 200)},
			nil},
		{"listing sessions is no login: fires", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.41:8080", "GET", "/api/v1/sessions", "", "application/json", 200)},
			[]string{"medium 10.0.0.41:8080"}},
		{"UPnP and DIAL device descriptions: quiet", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.95:49152", "GET", "/description.xml", "", "text/xml", 200),
			req("10.0.0.5:40000", "10.0.0.96:8008", "GET", "/dd.xml", "", "application/xml", 200),
			req("10.0.0.5:40000", "10.0.0.96:8008", "POST", "/apps/YouTube", "text/plain", "", 201),
			descriptor(req("10.0.0.5:40000", "10.0.0.96:8060", "GET", "/", "", "text/xml", 200), observe.DescriptorDIAL),
			descriptor(req("10.0.0.5:40000", "10.0.0.97:1400", "GET", "/xml/device_description", "", "text/xml", 200), observe.DescriptorUPnP)},
			nil},
		{"an open pump API beside an authenticated FHIR base: named as an API", []observe.HTTPRequest{
			with(open, func(r *observe.HTTPRequest) { r.AuthScheme = "Bearer" }),
			req("10.20.1.31:40000", "10.0.0.80:8080", "POST", "/api/v1/infusions", "application/json", "application/json", 201)},
			[]string{"medium 10.0.0.80:8080"}},
		{"not an API: not applicable", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.90:80", "GET", "/", "", "text/html", 200)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, r := range tc.reqs {
				set.AddHTTP(r.AsEmitted()) // as the dissector hands it on
			}
			fs := rulestest.Run(t, apiUnauthenticated{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				want, paths, statuses := "api", []string{"/api/v1/beds", "/api/v1/vitals"}, []string{"200", "201"}
				switch {
				case f.Host == "10.0.0.41":
					paths, statuses = []string{"/api/v1/sessions"}, []string{"200"}
				case f.Host == "10.0.0.80" && tc.reqs[0].AuthScheme != "":
					paths, statuses = []string{"/api/v1/infusions"}, []string{"201"}
				case f.Host == "10.0.0.80":
					want, paths, statuses = "fhir", []string{"/fhir/Patient/{id}"}, []string{"200"}
				}
				if f.Evidence["api"] != want || !strings.Contains(f.Message, strings.ToUpper(want)) ||
					!slices.Equal(f.Evidence["paths"].([]string), paths) ||
					!slices.Equal(f.Evidence["statuses"].([]string), statuses) {
					t.Errorf("message %q evidence %v", f.Message, f.Evidence)
				}
			}
		})
	}
}
