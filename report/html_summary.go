package report

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
)

// This file builds the HTML report's executive summary and remediation plan: the few
// risks that matter, in plain words, with how many devices each reaches, and for each
// owner (findings.Owner, declared by every rule) the steps to take, most urgent first,
// each naming the devices it covers. Both only regroup the rules' findings: which
// findings there are, how severe and on which hosts is decided by the rules.

// maxRisks bounds the executive summary: a reader acts on the first few.
const maxRisks = 5

// maxPlanDevices is how many devices a remediation step names before counting the rest;
// the findings section lists every one.
const maxPlanDevices = 12

// riskText is what a risk means for patients' care, in the words of a summary.
var riskText = map[findings.Risk]struct{ Title, Consequence string }{
	findings.RiskPatientData: {"Patient data can be read or changed between devices and the EHR",
		"Anyone on the network path can read orders, results and patient details as they travel, and change them: " +
			"an altered result or dose reaches the chart as if the device had sent it."},
	findings.RiskForgedUpdate: {"Device software can be replaced on its way to the device",
		"An attacker on the path can hand a device a modified firmware or software image, which it then runs: " +
			"code no one approved in equipment that treats patients."},
	findings.RiskSharedSecrets: {"One key or password unlocks many devices",
		"A secret taken from one device, or computed from its public key, opens or impersonates every device that " +
			"shares it, and cannot be revoked for one device alone."},
	findings.RiskCredentials: {"Passwords and keys are readable on the network",
		"Anyone who can see the traffic can log in to the devices and servers as their users do, " +
			"and change their configuration."},
	findings.RiskImpersonation: {"Certificates do not prove who is at the other end",
		"Weak, self-signed, expired or decades-long certificates let an attacker pose as a device or server, " +
			"so encryption alone does not stop someone in the middle from reading or changing what is sent."},
}

// riskView is one risk of the executive summary.
type riskView struct {
	Severity, Title, Consequence string
	Findings, Devices, Medical   int
	Rules                        []riskRule
	sev                          findings.Severity
}

type riskRule struct {
	Rule, Anchor, Title string
	Count               int
}

// ownerPlan is one owner's remediation steps, most urgent first.
type ownerPlan struct {
	Owner, Anchor string
	Steps         []planStep
}

// planStep is one rule's remediation for its owner.
type planStep struct {
	Priority, Severity  string
	Rule, Anchor, Title string
	Action              string
	Devices             []string // device labels, at most maxPlanDevices
	MoreDevices         int
	Findings            int
}

// deviceIndex names the hosts of a report as a reader knows them: the short form of the
// first name the inventory found, with the address beside it.
type deviceIndex map[string]findings.Asset

func htmlDeviceIndex(r *findings.Report) deviceIndex {
	d := make(deviceIndex, len(r.Assets))
	for _, a := range r.Assets {
		d[a.IP()] = a
	}
	return d
}

// label is host as a reader knows it: "pump-0011 (10.20.1.11)", or the address alone.
func (d deviceIndex) label(host string) string {
	a, ok := d[host]
	if !ok || len(a.Names) == 0 {
		return term(host)
	}
	name := term(a.Names[0].Name)
	// A DNS name's first label is what people call the device; an address given as a
	// name stays whole.
	if _, err := netip.ParseAddr(name); err != nil {
		if i := strings.IndexByte(name, '.'); i > 0 {
			name = name[:i]
		}
	}
	if name == "" {
		return term(host)
	}
	return name + " (" + term(host) + ")"
}

// medical reports whether host is an asset the inventory judged a medical device.
func (d deviceIndex) medical(host string) bool { return d[host].Kind == "medical-device" }

// affectedHosts are the hosts a finding's fix must touch: the host it is about, the
// holders of a shared key or secret (evidence "shared_by"), and, for traffic in clear,
// the clients that send it (evidence "clients"): both ends of a cleartext link change
// to carry it over TLS. Clients of a server with a bad certificate are not counted: its
// certificate is replaced on the server alone. Addresses with a port lose the port.
func affectedHosts(f findings.Finding, domain findings.Domain) []string {
	var out []string
	add := func(h string) {
		if ap, err := netip.ParseAddrPort(h); err == nil {
			h = findings.AddrText(ap.Addr())
		}
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	add(f.Host)
	if f.Host == "" && f.File != "" {
		add(f.File)
	}
	for _, h := range findings.EvidenceStrings(f.Evidence, "shared_by") {
		add(h)
	}
	if domain == findings.DomainCleartext {
		for _, h := range findings.EvidenceStrings(f.Evidence, "clients") {
			add(h)
		}
	}
	return out
}

// priority names how soon a step is due, from the most severe finding it covers.
func priority(s findings.Severity) string {
	switch {
	case s >= findings.Critical:
		return "P1 urgent"
	case s == findings.High:
		return "P2 high"
	case s == findings.Medium:
		return "P3 planned"
	}
	return "P4 routine"
}
