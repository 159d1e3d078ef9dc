package cleartext

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(hl7{}) }

// hl7 flags servers that exchange HL7 v2 messages over MLLP in clear.
type hl7 struct{}

func (hl7) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cleartext-hl7",
		Covers:  findings.Coverage{Domain: findings.DomainCleartext, Tags: []string{"clinical"}, Needs: []findings.Evidence{findings.SeenHL7}},
		Owner:   findings.OwnerIntegration,
		Risk:    findings.RiskPatientData,
		Title:   "HL7 v2 messages in clear",
		Default: findings.High,
		Rationale: "HL7 v2 over MLLP has no security of its own: anyone on the path reads orders, results and " +
			"patient demographics, and can inject or alter messages (a changed result, a false admission). " +
			"Messages carrying patient segments (PID, NK1, PV1, ...) are critical.",
		Remediation: "Carry HL7 over TLS (MLLP over TLS, with mutual authentication as IHE ATNA's Secure Node " +
			"requires), or through a VPN or an interface engine that terminates TLS next to the device.",
		References: []string{
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
			"IHE ITI Technical Framework, ATNA profile: Secure Node and Authenticate Node (ITI-19)",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (encryption)",
		},
	}
}

func (hl7) Check(c *rules.Context) {
	type agg struct {
		ep                   observe.Endpoint
		seen                 observe.Span
		clients, types, apps []string
		devices              []string // HL7 device identities: PRT-16, OBX-18
		messages, patient    int
	}
	servers := observe.NewIndex[observe.Endpoint, *agg](0)
	for _, m := range c.Set.HL7 {
		a, _, _ := servers.Add(m.Flow.Server, func() *agg { return &agg{ep: m.Flow.Server} })
		a.seen.Add(m.FirstSeen, m.LastSeen)
		a.clients = rules.AddSorted(a.clients, m.Flow.Client.Addr().Unmap().String())
		typ := m.MessageType
		if m.TriggerEvent != "" {
			typ += "^" + m.TriggerEvent
		}
		if typ != "" {
			a.types = rules.AddSorted(a.types, typ)
		}
		if m.SendingApp != "" || m.ReceivingApp != "" {
			a.apps = rules.AddSorted(a.apps, appName(m.SendingApp, m.SendingFacility)+" -> "+appName(m.ReceivingApp, m.ReceivingFacility))
		}
		for _, d := range m.Devices {
			a.devices = rules.AddSorted(a.devices, d)
		}
		a.messages += max(m.Count, 1)
		a.patient += m.PatientSegments
	}
	for _, a := range servers.Sorted(func(a, b *agg) int { return a.ep.Compare(b.ep) }) {
		ep := a.ep
		host, port := rules.HostPort(ep)
		sev := findings.High
		msg := fmt.Sprintf("%s exchanged %d HL7 v2 message(s) (%s) over MLLP without TLS", ep, a.messages, joinOr(a.types, "unknown type"))
		if a.patient > 0 {
			sev = findings.Critical
			msg += fmt.Sprintf(", with %d patient segments", a.patient)
		}
		c.Emit(rules.Observed(a.seen, findings.Finding{
			Severity: sev,
			Host:     host,
			Port:     port,
			Message:  msg,
			Evidence: map[string]any{
				"protocol":         "hl7-mllp",
				"message_types":    a.types,
				"applications":     a.apps,
				"messages":         a.messages,
				"patient_segments": a.patient,
				"hl7_device_ids":   a.devices,
				"clients":          a.clients,
			},
		}))
	}
}

// appName writes an HL7 application as "APP@FACILITY", leaving out what the message left
// empty, and "(unnamed)" when it named neither.
func appName(app, facility string) string {
	switch {
	case app != "" && facility != "":
		return app + "@" + facility
	case app != "":
		return app
	case facility != "":
		return "@" + facility
	}
	return "(unnamed)"
}
