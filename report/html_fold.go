package report

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
)

// This file folds a scan's findings into every part of the HTML page that reads them
// (the findings by rule, the executive summary's risks, the remediation plan, the
// medical devices counted, the assets' finding counts, the certificates' posture, the
// shared keys and credentials, how the facts were obtained) in one pass, one finding at
// a time, keeping only what the page shows. A stored scan's findings can so be read as
// a stream (findings.Report.Stream): a hospital's scan has tens of thousands of them,
// and holding every one, evidence and all, was most of the memory of rendering the page.
// Grouped (a large scan), a rule keeps per severity its counts and its first places,
// not its findings; listed one by one, every finding's view is kept, as the page shows
// every one.
//
// The fold gives the page the bytes it gave when each section walked the whole list:
// what depended on the order of the list (a rule's findings, most severe first, each
// severity in the list's order; the first places of a group; a plan step's devices in
// the order they first appear; the first finding of a shared key or secret) depends on
// the order the findings are added in, which is the document's order either way (the
// store streams them in it, findings.SortFindings).

// htmlFindings is the fold: newHTMLFindings, add for each finding, then the sections.
type htmlFindings struct {
	catalog   findings.Catalog
	dev       deviceIndex
	summarize bool

	n       int                         // findings added
	rules   map[string]*htmlRule        // by rule ID
	hosts   map[string]bool             // every finding's host ("" for those about files)
	sources map[string]bool             // how their facts were obtained (term of Source)
	tally   map[string]hostTally        // the inventory's assets: their findings
	risks   map[findings.Risk]*htmlRisk // by the catalog's Risk of the rule
	owners  map[findings.Owner]map[string]*htmlStep
	posture map[string]certPosture // by certificate SHA-256 (timelineClass reads it)
	keys    []sharedKey            // key-shared, the first finding of each key
	keySeen map[string]bool        // their SPKI digests
	creds   []sharedCred           // credential-shared, the first finding of each set of secrets
	credKey map[string]bool        // their kinds and secret hashes
}

// hostTally is an asset's findings: how many, and the most severe.
type hostTally struct {
	count int
	worst findings.Severity
}

// htmlRule is one rule's findings: counted, with its hosts, and by severity.
type htmlRule struct {
	worst findings.Severity
	count int
	hosts map[string]bool
	bySev map[findings.Severity]*htmlRuleSev
}

// htmlRuleSev is a rule's findings at one severity: the remediations and references they
// carry (each once, in their order), and either their views (listed) or their distinct
// places with the first few (grouped, counted by findings.Places as GroupFindings counts them).
type htmlRuleSev struct {
	remediations, references []string
	views                    []findingView
	count                    int
	places                   findings.Places
	first                    []string // location of the first finding at each of the first places
}

// htmlRisk is one risk's findings: the worst, how many, the hosts they reach, per rule.
type htmlRisk struct {
	worst    findings.Severity
	findings int
	hosts    map[string]bool
	rules    map[string]int
}

// htmlStep is one owner's rule in the plan: the worst finding, how many, the action, and
// the hosts the fix touches: all of them counted, and the first maxPlanDevices medical
// devices and others named, which are all a step shows (medical devices first).
type htmlStep struct {
	worst         findings.Severity
	count         int
	action        string
	hosts         map[string]bool
	medical, rest []string
}

func newHTMLFindings(catalog findings.Catalog, dev deviceIndex, summarize bool) *htmlFindings {
	return &htmlFindings{catalog: catalog, dev: dev, summarize: summarize,
		rules: map[string]*htmlRule{}, hosts: map[string]bool{}, sources: map[string]bool{},
		tally: map[string]hostTally{}, risks: map[findings.Risk]*htmlRisk{}, owners: map[findings.Owner]map[string]*htmlStep{},
		posture: map[string]certPosture{}, keySeen: map[string]bool{}, credKey: map[string]bool{}}
}

// medicalDevices is how many of the findings' hosts the inventory calls medical
// devices (they are among the assets tallied).
func (h *htmlFindings) medicalDevices() int {
	n := 0
	for host := range h.tally {
		if h.dev.medical(host) {
			n++
		}
	}
	return n
}

// add folds one finding in. Nothing keeps f, its evidence map or its lists: only
// strings (hosts, places, the texts a kept view or panel row shows).
func (h *htmlFindings) add(f *findings.Finding) {
	h.n++
	ri := h.catalog[f.Rule]
	h.hosts[f.Host] = true
	if s := term(f.Source); s != "" {
		h.sources[s] = true
	}
	if _, ok := h.dev[f.Host]; ok {
		t, seen := h.tally[f.Host]
		if !seen || f.Severity > t.worst {
			t.worst = f.Severity
		}
		t.count++
		h.tally[f.Host] = t
	}
	h.addToRule(f)
	affected := affectedHosts(*f, ri.Covers.Domain)
	if ri.Risk != "" {
		h.addToRisk(f, ri, affected)
	}
	h.addToPlan(f, ri, affected)
	switch {
	case weakCertRules[f.Rule] || longCertRules[f.Rule]:
		if sum := findings.EvidenceString(f.Evidence, "cert_sha256"); sum != "" {
			p := h.posture[sum]
			p.Weak = p.Weak || weakCertRules[f.Rule]
			p.Long = p.Long || longCertRules[f.Rule]
			h.posture[sum] = p
		}
	case f.Rule == ruleKeyShared:
		h.addSharedKey(f)
	case f.Rule == ruleCredentialShared:
		h.addSharedCred(f)
	}
}

func (h *htmlFindings) addToRule(f *findings.Finding) {
	a := h.rules[f.Rule]
	if a == nil {
		a = &htmlRule{worst: f.Severity, hosts: map[string]bool{}, bySev: map[findings.Severity]*htmlRuleSev{}}
		h.rules[f.Rule] = a
	}
	a.worst = max(a.worst, f.Severity)
	a.count++
	a.hosts[f.Host] = true
	s := a.bySev[f.Severity]
	if s == nil {
		s = &htmlRuleSev{}
		a.bySev[f.Severity] = s
	}
	s.count++
	s.remediations = appendUnique(s.remediations, term(f.Remediation))
	for _, ref := range f.References {
		s.references = appendUnique(s.references, term(ref))
	}
	if h.summarize {
		if _, first := s.places.Add(f); first {
			s.first = append(s.first, location(f))
		}
		return
	}
	device := ""
	if l := h.dev.label(f.Host); l != term(f.Host) {
		device = strings.TrimSuffix(l, " ("+term(f.Host)+")")
	}
	s.views = append(s.views, findingView{Device: device,
		Severity: f.Severity.String(), Target: location(f), Subject: term(f.Subject),
		Message: term(f.Message), Source: term(f.Source), Fingerprint: term(f.Fingerprint),
		Time: f.Time, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen,
		Evidence: htmlEvidence(reflect.ValueOf(f.Evidence), 0),
	})
}

func (h *htmlFindings) addToRisk(f *findings.Finding, ri findings.RuleInfo, affected []string) {
	a := h.risks[ri.Risk]
	if a == nil {
		a = &htmlRisk{worst: f.Severity, hosts: map[string]bool{}, rules: map[string]int{}}
		h.risks[ri.Risk] = a
	}
	a.worst = max(a.worst, f.Severity)
	a.findings++
	a.rules[f.Rule]++
	for _, host := range affected {
		a.hosts[host] = true
	}
}

func (h *htmlFindings) addToPlan(f *findings.Finding, ri findings.RuleInfo, affected []string) {
	rules := h.owners[ri.Owner]
	if rules == nil {
		rules = map[string]*htmlStep{}
		h.owners[ri.Owner] = rules
	}
	a := rules[f.Rule]
	if a == nil {
		a = &htmlStep{worst: f.Severity, action: term(ri.Remediation), hosts: map[string]bool{}}
		rules[f.Rule] = a
	}
	if a.action == "" {
		a.action = term(f.Remediation)
	}
	a.worst = max(a.worst, f.Severity)
	a.count++
	for _, host := range affected {
		if a.hosts[host] {
			continue
		}
		a.hosts[host] = true
		if h.dev.medical(host) {
			if len(a.medical) < maxPlanDevices {
				a.medical = append(a.medical, host)
			}
		} else if len(a.rest) < maxPlanDevices {
			a.rest = append(a.rest, host)
		}
	}
}

func (h *htmlFindings) addSharedKey(f *findings.Finding) {
	spki := evString(f.Evidence, "spki_sha256")
	if spki == "" || h.keySeen[spki] {
		return
	}
	h.keySeen[spki] = true
	h.keys = append(h.keys, sharedKey{SPKI: term(spki), Certs: evStrings(f.Evidence, "subjects"),
		Hosts: evStrings(f.Evidence, "shared_by")})
}

// addSharedCred keeps one row per kind and set of shared secrets, with every host that
// shares them and every server they reached (the rule raises one finding per server,
// each carrying the whole picture).
func (h *htmlFindings) addSharedCred(f *findings.Finding) {
	ev := f.Evidence
	secrets := findings.EvidenceList(ev, "secrets")
	key := evString(ev, "kind")
	count := 0
	for _, x := range secrets {
		if m, ok := x.(map[string]any); ok {
			key += "|" + evString(m, "hash")
			count += findings.EvidenceInt(m, "count")
		}
	}
	if h.credKey[key] {
		return
	}
	h.credKey[key] = true
	c := sharedCred{Kind: evString(ev, "kind"), Preview: evString(ev, "preview"),
		Clients: evStrings(ev, "shared_by"), Servers: evStrings(ev, "servers"), Count: count}
	if len(c.Clients) == 0 { // a finding stored before shared_by was recorded
		c.Clients = evStrings(ev, "clients")
	}
	if count == 0 {
		c.Count = findings.EvidenceInt(ev, "count")
	}
	c.Protocol = strings.Join(evStrings(ev, "protocols"), ", ")
	c.User = strings.Join(evStrings(ev, "user"), ", ")
	c.Where = strings.Join(evStrings(ev, "where"), ", ")
	if len(secrets) > 1 {
		c.Preview = strconv.Itoa(len(secrets)) + " distinct secrets"
	}
	h.creds = append(h.creds, c)
}

// byRule is the findings section: one group per rule, the most severe rule first, and
// its row in the overview; and the number of hosts with at least one finding. The
// catalog, when given, adds each rule's title and rationale, and its remediation and
// references where the findings carry none. Grouped (a large scan: Options.grouped), a
// rule lists its findings as one row per severity instead of one each.
func (h *htmlFindings) byRule() ([]ruleRow, []ruleGroup, int) {
	ids := slices.Collect(maps.Keys(h.rules))
	slices.SortFunc(ids, func(x, y string) int {
		if c := h.rules[y].worst - h.rules[x].worst; c != 0 {
			return int(c)
		}
		return strings.Compare(x, y)
	})
	var rows []ruleRow
	var groups []ruleGroup
	for _, rule := range ids {
		a := h.rules[rule]
		id := htmlAnchor("rule-", rule)
		ri := h.catalog[rule]
		rows = append(rows, ruleRow{Rule: term(rule), Anchor: id, Title: term(ri.Title), Severity: a.worst.String(),
			Count: a.count, Hosts: len(a.hosts)})
		g := ruleGroup{Rule: term(rule), Anchor: id, Severity: a.worst.String(), Title: term(ri.Title), Rationale: term(ri.Rationale),
			Count: a.count}
		if ri.Owner != "" {
			g.Owner = term(ri.Owner.Title())
		}
		// Most severe first; each severity's findings in the order they came.
		sevs := slices.Collect(maps.Keys(a.bySev))
		slices.SortFunc(sevs, func(x, y findings.Severity) int { return cmp.Compare(y, x) })
		for _, sev := range sevs {
			s := a.bySev[sev]
			for _, r := range s.remediations {
				g.Remediations = appendUnique(g.Remediations, r)
			}
			for _, r := range s.references {
				g.References = appendUnique(g.References, r)
			}
			if h.summarize {
				where := strings.Join(s.first, ", ")
				if more := s.places.Len() - len(s.first); more > 0 {
					where += fmt.Sprintf(" and %d more", more)
				}
				g.Summary = append(g.Summary, groupRow{Severity: sev.String(), Count: s.count, Hosts: s.places.Len(), Where: where})
				continue
			}
			g.Findings = append(g.Findings, s.views...)
		}
		if len(g.Remediations) == 0 {
			g.Remediations = appendUnique(nil, term(ri.Remediation))
		}
		if len(g.References) == 0 {
			for _, ref := range ri.References {
				g.References = appendUnique(g.References, term(ref))
			}
		}
		groups = append(groups, g)
	}
	return rows, groups, len(h.hosts)
}

// riskViews ranks the risks the findings lead to: the most severe first, then the one
// reaching most devices; at most maxRisks. A rule outside the catalog (no Risk) counts
// under none, and its findings still appear in the sections below.
func (h *htmlFindings) riskViews() []riskView {
	var out []riskView
	order := map[string]int{}
	for i, risk := range findings.Risks {
		a := h.risks[risk]
		if a == nil {
			continue
		}
		text := riskText[risk]
		v := riskView{sev: a.worst, Severity: a.worst.String(), Title: text.Title, Consequence: text.Consequence,
			Findings: a.findings, Devices: len(a.hosts)}
		if v.Title == "" {
			v.Title = term(string(risk))
		}
		for host := range a.hosts {
			if h.dev.medical(host) {
				v.Medical++
			}
		}
		rules := slices.Collect(maps.Keys(a.rules))
		slices.SortFunc(rules, func(x, y string) int {
			if c := a.rules[y] - a.rules[x]; c != 0 {
				return c
			}
			return strings.Compare(x, y)
		})
		for _, r := range rules {
			v.Rules = append(v.Rules, riskRule{Rule: term(r), Anchor: htmlAnchor("rule-", r),
				Title: term(h.catalog[r].Title), Count: a.rules[r]})
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

// plan is the remediation plan: for each owner in findings.Owners order (rules outside
// the catalog under "Owner not recorded"), one step per rule, most urgent first, naming
// the devices it covers, medical devices first.
func (h *htmlFindings) plan() []ownerPlan {
	owners := slices.Clone(findings.Owners)
	for o := range h.owners {
		if !slices.Contains(owners, o) {
			owners = append(owners, o)
		}
	}
	slices.SortStableFunc(owners[len(findings.Owners):], func(x, y findings.Owner) int { return strings.Compare(string(x), string(y)) })
	var out []ownerPlan
	for _, o := range owners {
		rules := h.owners[o]
		if len(rules) == 0 {
			continue
		}
		p := ownerPlan{Owner: term(o.Title()), Anchor: htmlAnchor("owner-", string(o))}
		if o == "" {
			p.Owner, p.Anchor = "Owner not recorded", "owner-none"
		}
		ids := slices.Collect(maps.Keys(rules))
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
				Anchor: htmlAnchor("rule-", id), Title: term(h.catalog[id].Title), Action: a.action, Findings: a.count}
			for _, host := range append(slices.Clip(a.medical), a.rest...) {
				if len(s.Devices) == maxPlanDevices {
					break
				}
				s.Devices = append(s.Devices, h.dev.label(host))
			}
			if len(a.hosts) > maxPlanDevices {
				s.MoreDevices = len(a.hosts) - maxPlanDevices
			}
			p.Steps = append(p.Steps, s)
		}
		out = append(out, p)
	}
	return out
}
