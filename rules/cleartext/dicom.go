package cleartext

import (
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(dicom{}) }

// dicom flags servers that receive DICOM associations in clear.
type dicom struct{}

func (dicom) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cleartext-dicom",
		Covers:  findings.Coverage{Domain: findings.DomainCleartext, Tags: []string{"clinical"}, Needs: []findings.Evidence{findings.SeenDICOM}},
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskPatientData,
		Title:   "DICOM association in clear",
		Default: findings.High,
		Rationale: "DICOM's upper layer protocol is unencrypted and its AE titles are not authentication: " +
			"images and the patient data in their headers can be read, and anyone who knows an AE title " +
			"can query, retrieve or store studies. The evidence counts the patient attributes (name, ID, birth " +
			"date: counted, never stored) seen in the data sets; the severity stays high either way, since " +
			"nearly every storage or worklist association carries them and the count only confirms it.",
		Remediation: "Use the DICOM TLS secure transport profiles (usually port 2762) with certificates on both " +
			"sides, or confine the modality and PACS traffic to a protected network segment or VPN.",
		References: []string{
			"DICOM PS3.15 Annex B, Secure Transport Connection Profiles",
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
			"IHE ITI Technical Framework, ATNA profile: Secure Node (ITI-19)",
		},
	}
}

func (dicom) Check(c *rules.Context) {
	type agg struct {
		ep                       observe.Endpoint
		seen                     observe.Span
		clients, calling, called []string
		results, sopClasses      []string
		associations, patient    int
	}
	servers := observe.NewIndex[observe.Endpoint, *agg](0)
	for _, d := range c.Set.DICOM {
		a, _, _ := servers.Add(d.Flow.Server, func() *agg { return &agg{ep: d.Flow.Server} })
		a.seen.Add(d.FirstSeen, d.LastSeen)
		a.clients = rules.AddSorted(a.clients, d.Flow.Client.Addr().Unmap().String())
		if d.CallingAE != "" {
			a.calling = rules.AddSorted(a.calling, d.CallingAE)
		}
		if d.CalledAE != "" {
			a.called = rules.AddSorted(a.called, d.CalledAE)
		}
		r := d.Result
		if r == "" {
			r = "no answer seen"
		}
		a.results = rules.AddSorted(a.results, r)
		for _, n := range d.AbstractSyntaxNames {
			a.sopClasses = rules.AddSorted(a.sopClasses, n)
		}
		a.patient += d.PatientAttributes
		a.associations += max(d.Count, 1)
	}
	for _, a := range servers.Sorted(func(a, b *agg) int { return a.ep.Compare(b.ep) }) {
		ep := a.ep
		host, port := rules.HostPort(ep)
		msg := fmt.Sprintf("%s received %d DICOM association request(s) without TLS (calling %s, called %s)",
			ep, a.associations, joinOr(a.calling, "?"), joinOr(a.called, "?"))
		if a.patient > 0 {
			msg += fmt.Sprintf(", with %d patient attributes in its data sets", a.patient)
		}
		c.Emit(rules.Observed(a.seen, findings.Finding{
			Host:    host,
			Port:    port,
			Message: msg,
			Evidence: map[string]any{
				"protocol":           "dicom",
				"calling_ae":         a.calling,
				"called_ae":          a.called,
				"results":            a.results,
				"associations":       a.associations,
				"sop_classes":        a.sopClasses,
				"patient_attributes": a.patient,
				"clients":            a.clients,
			},
		}))
	}
}
