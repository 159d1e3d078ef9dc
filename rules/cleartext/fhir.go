package cleartext

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(fhir{}) }

// fhir flags servers that answer FHIR REST interactions over plain HTTP.
type fhir struct{}

func (fhir) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cleartext-fhir",
		Covers:  findings.Coverage{Domain: findings.DomainCleartext, Tags: []string{"clinical"}, Needs: []findings.Evidence{findings.SeenFHIR}},
		Owner:   findings.OwnerIntegration,
		Risk:    findings.RiskPatientData,
		Title:   "FHIR REST calls in clear",
		Default: findings.High,
		Rationale: "FHIR resources are patient records (Patient, Observation, MedicationRequest, DiagnosticReport, " +
			"...): over plain HTTP anyone on the path reads them, and the bearer tokens that SMART on FHIR " +
			"relies on can be stolen and replayed, or the data altered in flight.",
		Remediation: "Serve FHIR over HTTPS only (TLS 1.2 or later, as the FHIR security page requires), redirect " +
			"or refuse plain HTTP, and move the devices and middleware that call it to the HTTPS base URL.",
		References: []string{
			"HL7 FHIR R4, Security (https://hl7.org/fhir/security.html): communications use TLS",
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (encryption)",
			"NIST SP 800-52 Rev. 2, §1 (protecting data in transit)",
		},
	}
}

// Check raises one finding per server endpoint that carried any FHIR interaction, as the
// HTTP dissector classified it.
func (fhir) Check(c *rules.Context) {
	for _, a := range apiServers(c.Set, func(r *observe.HTTPRequest) bool { return r.API == observe.APIFHIR }) {
		c.Emit(a.finding(fmt.Sprintf("%s answered %d FHIR request(s) over plain HTTP (%s) from %s",
			a.ep, a.requests, joinOr(a.resources, "FHIR media type"), joinFew(a.clients, 5))))
	}
}
