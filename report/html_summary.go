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

// htmlRisks ranks the risks the findings lead to: the most severe first, then the one
// reaching most devices; at most maxRisks. A rule outside the catalog (no Risk) counts
// under none, and its findings still appear in the sections below.
func htmlRisks(fs []findings.Finding, catalog findings.Catalog, dev deviceIndex) []riskView {
	type acc struct {
		worst    findings.Severity
		findings int
		hosts    map[string]bool
		rules    map[string]int
	}
	by := map[findings.Risk]*acc{}
	for _, f := range fs {
		ri, ok := catalog[f.Rule]
		if !ok || ri.Risk == "" {
			continue
		}
		a := by[ri.Risk]
		if a == nil {
			a = &acc{worst: f.Severity, hosts: map[string]bool{}, rules: map[string]int{}}
			by[ri.Risk] = a
		}
		a.worst = max(a.worst, f.Severity)
		a.findings++
		a.rules[f.Rule]++
		for _, h := range affectedHosts(f, ri.Covers.Domain) {
			a.hosts[h] = true
		}
	}
	var out []riskView
	order := map[string]int{}
	for i, risk := range findings.Risks {
		a := by[risk]
		if a == nil {
			continue
		}
		text := riskText[risk]
		v := riskView{sev: a.worst, Severity: a.worst.String(), Title: text.Title, Consequence: text.Consequence,
			Findings: a.findings, Devices: len(a.hosts)}
		if v.Title == "" {
			v.Title = term(string(risk))
		}
		for h := range a.hosts {
			if dev.medical(h) {
				v.Medical++
			}
		}
		rules := make([]string, 0, len(a.rules))
		for r := range a.rules {
			rules = append(rules, r)
		}
		slices.SortFunc(rules, func(x, y string) int {
			if c := a.rules[y] - a.rules[x]; c != 0 {
				return c
			}
			return strings.Compare(x, y)
		})
		for _, r := range rules {
			v.Rules = append(v.Rules, riskRule{Rule: term(r), Anchor: htmlAnchor("rule-", r),
				Title: term(catalog[r].Title), Count: a.rules[r]})
		}
		order[v.Title] = i
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(x, y riskView) int {
		if c := y.sev - x.sev; c != 0 {
			return int(c)
		}
		if c := y.Devices - x.Devices; c != 0 {
			return c
		}
		return order[x.Title] - order[y.Title]
	})
	if len(out) > maxRisks {
		out = out[:maxRisks]
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

// htmlPlan is the remediation plan: for each owner in findings.Owners order (rules
// outside the catalog under "Owner not recorded"), one step per rule, most urgent
// first, naming the devices it covers.
func htmlPlan(fs []findings.Finding, catalog findings.Catalog, dev deviceIndex) []ownerPlan {
	type acc struct {
		worst  findings.Severity
		count  int
		hosts  []string
		action string
	}
	byOwner := map[findings.Owner]map[string]*acc{}
	for _, f := range fs {
		ri := catalog[f.Rule]
		rules := byOwner[ri.Owner]
		if rules == nil {
			rules = map[string]*acc{}
			byOwner[ri.Owner] = rules
		}
		a := rules[f.Rule]
		if a == nil {
			a = &acc{worst: f.Severity, action: term(ri.Remediation)}
			rules[f.Rule] = a
		}
		if a.action == "" {
			a.action = term(f.Remediation)
		}
		a.worst = max(a.worst, f.Severity)
		a.count++
		for _, h := range affectedHosts(f, ri.Covers.Domain) {
			if !slices.Contains(a.hosts, h) {
				a.hosts = append(a.hosts, h)
			}
		}
	}
	owners := slices.Clone(findings.Owners)
	for o := range byOwner {
		if !slices.Contains(owners, o) {
			owners = append(owners, o)
		}
	}
	slices.SortStableFunc(owners[len(findings.Owners):], func(x, y findings.Owner) int { return strings.Compare(string(x), string(y)) })
	var out []ownerPlan
	for _, o := range owners {
		rules := byOwner[o]
		if len(rules) == 0 {
			continue
		}
		p := ownerPlan{Owner: term(o.Title()), Anchor: htmlAnchor("owner-", string(o))}
		if o == "" {
			p.Owner, p.Anchor = "Owner not recorded", "owner-none"
		}
		ids := make([]string, 0, len(rules))
		for id := range rules {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(x, y string) int {
			if c := rules[y].worst - rules[x].worst; c != 0 {
				return int(c)
			}
			if c := len(rules[y].hosts) - len(rules[x].hosts); c != 0 {
				return c
			}
			return strings.Compare(x, y)
		})
		for _, id := range ids {
			a := rules[id]
			s := planStep{Priority: priority(a.worst), Severity: a.worst.String(), Rule: term(id),
				Anchor: htmlAnchor("rule-", id), Title: term(catalog[id].Title), Action: a.action, Findings: a.count}
			// Medical devices first: they are what the plan is for.
			hosts := slices.Clone(a.hosts)
			slices.SortStableFunc(hosts, func(x, y string) int {
				mx, my := dev.medical(x), dev.medical(y)
				switch {
				case mx && !my:
					return -1
				case my && !mx:
					return 1
				}
				return 0
			})
			for i, h := range hosts {
				if i == maxPlanDevices {
					s.MoreDevices = len(hosts) - i
					break
				}
				s.Devices = append(s.Devices, dev.label(h))
			}
			p.Steps = append(p.Steps, s)
		}
		out = append(out, p)
	}
	return out
}
