package cleartext

import (
	"slices"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestAPI(t *testing.T) {
	tests := []struct {
		name string
		reqs []observe.HTTPRequest
		want []string
	}{
		{"JSON, SOAP and XML APIs fire, one finding per server", []observe.HTTPRequest{
			req("10.20.1.21:40000", "10.20.0.40:8080", "POST", "/api/v1/vitals", "application/json", "application/json", 200),
			req("10.20.1.22:40000", "10.20.0.40:8080", "POST", "/api/v1/vitals", "application/json", "application/json", 200),
			req("10.0.0.5:40000", "10.0.0.90:80", "POST", "/Service.asmx", "application/soap+xml; charset=utf-8", "", 500),
			req("10.0.0.5:40000", "10.0.0.91:80", "GET", "/status.xml", "", "text/xml", 200)},
			[]string{"medium 10.0.0.90:80", "medium 10.0.0.91:80", "medium 10.20.0.40:8080"}},
		{"an endpoint that speaks FHIR is left to cleartext-fhir", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/fhir/Patient", "", "application/fhir+json", 200),
			req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/internal/stats", "", "application/json", 200)}, nil},
		{"web pages and downloads: quiet", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.90:80", "GET", "/", "", "text/html", 200),
			req("10.0.0.5:40000", "10.0.0.90:80", "GET", "/fw.bin", "", "application/octet-stream", 200)}, nil},
		{"no HTTP seen: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, r := range tc.reqs {
				set.AddHTTP(r.AsEmitted()) // as the dissector hands it on
			}
			fs := rulestest.Run(t, api{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if f.Host == "10.20.0.40" && (f.Evidence["requests"] != 2 ||
					!slices.Equal(f.Evidence["clients"].([]string), []string{"10.20.1.21", "10.20.1.22"}) ||
					!slices.Equal(f.Evidence["media_types"].([]string), []string{"application/json"})) {
					t.Errorf("evidence %v", f.Evidence)
				}
			}
		})
	}
}
