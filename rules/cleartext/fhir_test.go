package cleartext

import (
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

// req is an HTTP request and its response, at T0.
func req(client, server, method, path, reqCT, respCT string, status int) observe.HTTPRequest {
	return observe.HTTPRequest{Flow: flow(client, server), FirstSeen: rulestest.T0, Method: method, Path: path,
		ContentType: reqCT, RespContentType: respCT, Status: status}
}

func TestFHIR(t *testing.T) {
	tests := []struct {
		name string
		reqs []observe.HTTPRequest
		want []string
	}{
		{"resource paths and a FHIR media type: one finding per server", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/fhir/Patient/WRD123", "", "application/fhir+json", 200),
			req("10.0.0.6:40000", "10.0.0.80:8080", "POST", "/fhir/Observation", "application/fhir+json", "", 201),
			req("10.0.0.5:40000", "10.0.0.81:80", "POST", "/", "application/fhir+xml", "", 200)},
			[]string{"high 10.0.0.80:8080", "high 10.0.0.81:80"}},
		{"a pump's API on the FHIR port: the FHIR finding names the FHIR clients only", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/fhir/Patient/WRD123", "", "application/fhir+json", 200),
			req("10.0.0.6:40000", "10.0.0.80:8080", "POST", "/fhir/Observation", "application/fhir+json", "", 201),
			withKey(req("10.20.1.31:40000", "10.0.0.80:8080", "POST", "/api/v1/infusions", "application/json", "application/json", 201))},
			[]string{"high 10.0.0.80:8080"}},
		{"JSON API without FHIR: quiet", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.80:8080", "POST", "/api/v1/vitals", "application/json", "application/json", 200)}, nil},
		{"a web page named like a resource: quiet", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.80:80", "GET", "/Patient", "", "text/html", 200)}, nil},
		{"no HTTP seen: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, r := range tc.reqs {
				set.AddHTTP(r.AsEmitted()) // as the dissector hands it on
			}
			fs := rulestest.Run(t, fhir{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if len(fs) == 0 {
				return
			}
			f := fs[0]
			ev := f.Evidence
			if !slices.Equal(ev["resource_types"].([]string), []string{"Observation", "Patient"}) ||
				!slices.Equal(ev["methods"].([]string), []string{"GET", "POST"}) ||
				!slices.Equal(ev["clients"].([]string), []string{"10.0.0.5", "10.0.0.6"}) ||
				!slices.Equal(ev["paths"].([]string), []string{"/fhir/Observation", "/fhir/Patient/{id}"}) ||
				ev["requests"] != 2 || !strings.Contains(f.Message, "2 FHIR request(s)") {
				t.Errorf("message %q evidence %v", f.Message, ev)
			}
			if strings.Contains(f.Message+strings.Join(ev["paths"].([]string), " "), "WRD123") {
				t.Error("the patient's id reached the finding")
			}
		})
	}
}
