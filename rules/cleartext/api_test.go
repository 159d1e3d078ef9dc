package cleartext

import (
	"slices"
	"strings"
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
		{"a pump's API beside FHIR on one port has its own finding, naming its own client", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/fhir/Patient", "", "application/fhir+json", 200),
			withKey(req("10.20.1.31:40000", "10.0.0.80:8080", "POST", "/api/v1/infusions", "application/json", "application/json", 201))},
			[]string{"medium 10.0.0.80:8080"}},
		{"only FHIR on the port: left to cleartext-fhir", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.80:8080", "GET", "/fhir/Patient", "", "application/fhir+json", 200)}, nil},
		{"UPnP and DIAL device descriptions are no API: quiet", []observe.HTTPRequest{
			req("10.0.0.5:40000", "10.0.0.95:49152", "GET", "/description.xml", "", "text/xml", 200),
			req("10.0.0.5:40000", "10.0.0.95:49152", "GET", "/rootDesc.xml", "", "application/xml", 200),
			req("10.0.0.5:40000", "10.0.0.96:8008", "GET", "/dd.xml", "", "application/xml", 200),
			req("10.0.0.5:40000", "10.0.0.96:8008", "GET", "/apps/YouTube", "", "text/xml", 200),
			descriptor(req("10.0.0.5:40000", "10.0.0.96:8060", "GET", "/", "", "text/xml", 200), observe.DescriptorDIAL),
			descriptor(req("10.0.0.5:40000", "10.0.0.97:1400", "GET", "/xml/device_description", "", "text/xml", 200), observe.DescriptorUPnP)},
			nil},
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
				if f.Host == "10.0.0.80" && (!slices.Equal(f.Evidence["clients"].([]string), []string{"10.20.1.31"}) ||
					!slices.Equal(f.Evidence["paths"].([]string), []string{"/api/v1/infusions"}) ||
					!strings.Contains(f.Message, "1 API request(s)") || !strings.HasSuffix(f.Message, "from 10.20.1.31")) {
					t.Errorf("the pump's API: message %q evidence %v", f.Message, f.Evidence)
				}
				if f.Host == "10.20.0.40" && (f.Evidence["requests"] != 2 ||
					!slices.Equal(f.Evidence["clients"].([]string), []string{"10.20.1.21", "10.20.1.22"}) ||
					!slices.Equal(f.Evidence["media_types"].([]string), []string{"application/json"})) {
					t.Errorf("evidence %v", f.Evidence)
				}
			}
		})
	}
}

// withKey is a request that carried an API key header, as the ward's pumps send one.
func withKey(r observe.HTTPRequest) observe.HTTPRequest {
	r.APIKeyHeaders = []string{"X-API-Key"}
	return r
}

// descriptor is a request the dissector found to fetch a device description by its
// response (a DIAL Application-URL header, a UPnP root element).
func descriptor(r observe.HTTPRequest, kind string) observe.HTTPRequest {
	r.Descriptor = kind
	return r
}

// TestAPIClientsPerPath: two APIs on one endpoint are one finding, and its evidence
// names the clients of each path template apart.
func TestAPIClientsPerPath(t *testing.T) {
	set := observe.NewSet()
	for _, r := range []observe.HTTPRequest{
		req("10.20.1.11:40000", "10.0.0.80:8080", "POST", "/api/v1/infusions", "application/json", "application/json", 201),
		req("10.20.1.12:40000", "10.0.0.80:8080", "POST", "/api/v1/infusions", "application/json", "application/json", 201),
		req("10.20.3.10:40000", "10.0.0.80:8080", "GET", "/api/v1/alarms", "", "application/json", 200),
	} {
		set.AddHTTP(r.AsEmitted())
	}
	fs := rulestest.Run(t, api{}, set, nil)
	if len(fs) != 1 {
		t.Fatalf("findings = %v", rulestest.Keys(fs))
	}
	apis, _ := fs[0].Evidence["apis"].([]map[string]any)
	got := map[string][]string{}
	for _, a := range apis {
		got[a["path"].(string)] = a["clients"].([]string)
	}
	want := map[string][]string{
		"/api/v1/alarms":    {"10.20.3.10"},
		"/api/v1/infusions": {"10.20.1.11", "10.20.1.12"},
	}
	if len(got) != len(want) || !slices.Equal(got["/api/v1/infusions"], want["/api/v1/infusions"]) ||
		!slices.Equal(got["/api/v1/alarms"], want["/api/v1/alarms"]) {
		t.Errorf("clients per path = %v, want %v", got, want)
	}
}
