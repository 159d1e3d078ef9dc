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
				if f.Host == "10.0.0.80" {
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
