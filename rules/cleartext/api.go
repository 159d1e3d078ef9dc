package cleartext

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(api{}) }

// api flags servers that answer REST, JSON, XML or SOAP calls over plain HTTP.
type api struct{}

func (api) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cleartext-api",
		Covers:  findings.Coverage{Domain: findings.DomainCleartext, Needs: []findings.Evidence{findings.SeenAPI}},
		Owner:   findings.OwnerDeviceMaker,
		Risk:    findings.RiskPatientData,
		Title:   "API calls in clear",
		Default: findings.Medium,
		Rationale: "Devices and middleware exchange telemetry, orders, configuration and commands through " +
			"JSON, XML and SOAP APIs; over plain HTTP anyone on the path reads the data and the keys that " +
			"authorise it, and can alter a reading or a command in flight.",
		Remediation: "Serve the API over HTTPS only (TLS 1.2 or later), with the server's certificate checked by " +
			"its clients; where a device cannot, put a TLS-terminating proxy next to it on a protected segment.",
		References: []string{
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (encryption)",
			"NIST SP 800-52 Rev. 2, §1 (protecting data in transit)",
			"OWASP API Security Top 10 2023, API8 (security misconfiguration: transport without TLS)",
		},
	}
}

// Check raises one finding per server endpoint that answered API calls other than FHIR
// interactions, which are cleartext-fhir's. An endpoint that serves both (a pump's JSON
// API beside a FHIR base on one port) has both findings, each naming the clients of its
// own API: the FHIR finding does not stand for the other API, whose clients, data and
// severity differ. Device descriptions are no API (observe.HTTPRequest.Descriptor).
func (api) Check(c *rules.Context) {
	for _, a := range apiServers(c.Set, func(r *observe.HTTPRequest) bool { return r.API == observe.APIOther }) {
		c.Emit(a.finding(fmt.Sprintf("%s answered %d API request(s) over plain HTTP (%s) from %s",
			a.ep, a.requests, joinOr(a.media, "?"), joinFew(a.clients, 5))))
	}
}
