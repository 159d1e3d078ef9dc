package findings

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/medscan/medscan/observe"
)

// Flows are computed here, in the finding model, rather than in package inventory or in
// the observers, because a flow joins what no single producer holds: the capture's
// conversations (TLS handshakes with their client certificates, HL7, DICOM, MQTT, HTTP,
// transfers, credentials), the prober's verdict on a server (did it require a client
// certificate?), the inventory's kind for each end, and the findings the rules raised on
// the server's port. The report document holds all of them, so one function of the
// document (BuildFlows) computes the flows for a scan just run and for a document read
// back from a store that predates them, and every output (the flows command, the JSON
// document, the map) renders the same list.

// The protections a flow can have, weakest first (FlowProtectionRank orders them).
const (
	// ProtectionClear is a conversation seen in clear: anyone on the path reads and
	// rewrites it.
	ProtectionClear = "clear"
	// ProtectionTLS is TLS in which only the server proved who it is: the server did not
	// ask for a client certificate, or the client sent none.
	ProtectionTLS = "tls"
	// ProtectionUnknownClientAuth is TLS 1.3 seen only passively: its CertificateRequest
	// and the client's Certificate travel encrypted, so whether the client proved who it
	// is cannot be told from the wire. A probe of the server settles it.
	ProtectionUnknownClientAuth = "tls-unknown-client-auth"
	// ProtectionMTLS is TLS in which both sides proved who they are: a client certificate
	// was requested and sent, or the prober saw the server require one.
	ProtectionMTLS = "mtls"
)

// FlowProtections are the protections, weakest first.
var FlowProtections = []string{ProtectionClear, ProtectionTLS, ProtectionUnknownClientAuth, ProtectionMTLS}

// FlowProtectionRank orders protections, weakest first (-1 for an unknown name): an
// edge whose sessions differ takes its weakest, because the weakest is what an attacker
// on the path gets.
func FlowProtectionRank(p string) int { return slices.Index(FlowProtections, p) }

// Node roles on the data-flow map, from the inventory's kinds.
const (
	RoleDevice     = "device"     // a medical device
	RoleMiddleware = "middleware" // an interface engine, a gateway
	RoleClinical   = "clinical"   // a clinical server: EHR, PACS, FHIR server, collector
	RoleOther      = "other"      // workstations, infrastructure, unclassified addresses
)

// NodeRole is the map's role for an inventory kind.
func NodeRole(kind string) string {
	switch kind {
	case observe.KindMedicalDevice:
		return RoleDevice
	case observe.KindMiddleware:
		return RoleMiddleware
	case observe.KindClinicalServer:
		return RoleClinical
	}
	return RoleOther
}

// MaxFlowItems bounds each list of what a flow carries (message types, SOP classes,
// resources, templates, images, certificate subjects): a flow is a summary, and the
// document's own lists hold every record. FlowItemsNotKept in Flow counts the rest.
const MaxFlowItems = 32

// Flow is one edge of the scan's data-flow map: a client talking to a server's port,
// what it carried, how it was protected, with what identities, how much, when, and the
// findings on the server's port.
type Flow struct {
	Client string `json:"client"`
	Host   string `json:"host"`
	Port   int    `json:"port"`
	// Via and Target are the proxy that carried the conversation and a target named by
	// host name (see Conversation).
	Via    string `json:"via_proxy,omitempty"`
	Target string `json:"target,omitempty"`
	// ClientKind and ServerKind are the inventory's kinds of the two ends ("" when the
	// address is not in the inventory); ClientRole and ServerRole their roles on the map.
	ClientKind string `json:"client_kind"`
	ServerKind string `json:"server_kind"`
	ClientRole string `json:"client_role"`
	ServerRole string `json:"server_role"`
	// Protocol is what the conversation spoke: "hl7-mllp", "dicom", "mqtt", "http",
	// "ftp", "tftp", "telnet", ... in clear; "tls" (or "https" when ALPN named HTTP)
	// for TLS, whose content is not seen.
	Protocol   string `json:"protocol"`
	Protection string `json:"protection"`
	// ProtectionWhy says in words what decided Protection ("client certificate sent",
	// "the prober saw the server require a client certificate").
	ProtectionWhy string `json:"protection_why"`
	// Anchoring says, for an mtls flow only, whether both sides' certificates lead to the
	// site's trust anchors (FlowAnchoring); nil for every other protection.
	Anchoring   *FlowAnchoring `json:"anchoring,omitempty"`
	TLSVersions []string       `json:"tls_versions"`
	// ServerCerts and ClientCerts are the subjects (or SHA-256 when not examined) of the
	// leaf certificates each side presented on this flow, passively or to the prober
	// (server side only).
	ServerCerts []string `json:"server_certs"`
	ClientCerts []string `json:"client_certs"`
	// What the flow carried.
	HL7Types      []string `json:"hl7_types"`        // "ORU^R01", acknowledgements left out
	DICOMClasses  []string `json:"dicom_classes"`    // SOP classes proposed, by name
	MQTTClients   int      `json:"mqtt_clients"`     // distinct MQTT client ids that connected (topics are not observed)
	FHIRResources []string `json:"fhir_resources"`   // FHIR resource types requested
	APITemplates  []string `json:"api_templates"`    // "GET /api/v1/pumps/{id}"
	Firmware      []string `json:"firmware"`         // software images moved: "GET /fw/{id}.bin (elf, 5242880 bytes)"
	Credentials   []string `json:"credential_kinds"` // kinds of credential seen in clear
	// ItemsNotKept counts the items left out of the lists above beyond MaxFlowItems.
	ItemsNotKept int `json:"items_not_kept,omitempty"`
	// Sessions counts the conversations' units as the records aggregate them: TLS
	// handshakes, HL7 messages, DICOM associations, MQTT connects, HTTP requests and
	// file transfers.
	Sessions int `json:"sessions"`
	// Connections, Packets and Bytes are the TCP connections between the two, their
	// packets (both directions) and payload bytes, as the capture engine counted them
	// when each connection ended (observe.Volume); 0 for UDP, and for a scan stored
	// before they were counted.
	Connections int       `json:"connections"`
	Packets     uint64    `json:"packets"`
	Bytes       uint64    `json:"bytes"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	// Sources are where the evidence came from: "passive", and "active" when the prober
	// examined the server's port.
	Sources  []string     `json:"sources"`
	Findings FlowFindings `json:"findings"`
}

// The verdicts of an mtls flow's certificates against the site's trust anchors
// (FlowAnchoring.Verdict). A mutual handshake proves only that each side holds the key
// of the certificate it sent; whether the site vouches for that certificate is what the
// anchors say. A device authenticating to middleware with a self-signed certificate, or
// one from a vendor's CA, is mutual TLS that anyone who can make such a certificate
// passes.
const (
	// AnchoringVerified: both sides sent chains that lead to the site's anchors, the
	// leaves valid when seen.
	AnchoringVerified = "verified"
	// AnchoringServerUnanchored: the server's chain does not lead to the anchors.
	AnchoringServerUnanchored = "server-unanchored"
	// AnchoringClientUnanchored: the client's chain does not lead to the anchors.
	AnchoringClientUnanchored = "client-unanchored"
	// AnchoringBothUnanchored: neither side's chain leads to the anchors.
	AnchoringBothUnanchored = "both-unanchored"
	// AnchoringNotJudged: a side's chain could not be judged (the scan's policy named no
	// trust anchors, or TLS 1.3 hid the certificates) and no side was found unanchored.
	AnchoringNotJudged = "not-judged"
)

// FlowAnchoring is an mtls flow's certificates judged against the site's trust anchors
// (lint.AnchorSessions judged each session's chains when the scan was run). Each side
// takes its weakest session: one session with a self-signed client certificate is what
// an impostor needs.
type FlowAnchoring struct {
	Verdict string `json:"verdict"`
	// Server and Client are each side's state: anchored, self-signed, other-ca, expired,
	// unreadable (observe.Anchor*), or not-judged.
	Server string `json:"server"`
	Client string `json:"client"`
	// Why says in words what decided each side.
	Why string `json:"why"`
}

// Unanchored reports whether a side of the flow was found outside the site's PKI.
func (a *FlowAnchoring) Unanchored() bool {
	return a != nil && (a.Verdict == AnchoringServerUnanchored || a.Verdict == AnchoringClientUnanchored ||
		a.Verdict == AnchoringBothUnanchored)
}

// ProtectionLabel is the flow's protection with its anchoring, as the outputs name it: "mtls
// verified", "mtls client-unanchored", "mtls not-judged"; the protection alone for a flow
// that is not mtls.
func (f Flow) ProtectionLabel() string {
	if f.Anchoring == nil {
		return f.Protection
	}
	return f.Protection + " " + f.Anchoring.Verdict
}

// sideState is one side's anchoring across a flow's sessions.
type sideState struct {
	status, why string
}

// judge folds one session's verdict on a side into the side's state: an unanchored
// verdict wins over an anchored one, and over not judged; not judged over anchored.
func (st *sideState) judge(a *observe.Anchoring, name, notJudged string) {
	var status, why string
	switch {
	case a == nil:
		status, why = AnchoringNotJudged, notJudged
	case a.Status == observe.AnchorAnchored:
		status, why = a.Status, name+" leads to "+a.Anchor
	default:
		status, why = a.Status, name+": "+a.Reason
	}
	rank := func(s string) int {
		switch s {
		case "":
			return 0
		case observe.AnchorAnchored:
			return 1
		case AnchoringNotJudged:
			return 2
		}
		return 3
	}
	if rank(status) > rank(st.status) {
		st.status, st.why = status, why
	}
}

// flowAnchoring is the verdict of an mtls flow from its sides' states.
func flowAnchoring(server, client sideState) *FlowAnchoring {
	if server.status == "" {
		server = sideState{AnchoringNotJudged, "the server's certificate was not seen"}
	}
	if client.status == "" {
		client = sideState{AnchoringNotJudged, "the client's certificate was not seen (TLS 1.3: it travels encrypted)"}
	}
	a := &FlowAnchoring{Server: server.status, Client: client.status,
		Why: "server: " + server.why + "; client: " + client.why}
	if server.why == noAnchors && client.why == noAnchors {
		a.Why = noAnchors
	}
	off := func(s string) bool { return s != observe.AnchorAnchored && s != AnchoringNotJudged }
	switch {
	case off(server.status) && off(client.status):
		a.Verdict = AnchoringBothUnanchored
	case off(server.status):
		a.Verdict = AnchoringServerUnanchored
	case off(client.status):
		a.Verdict = AnchoringClientUnanchored
	case server.status == observe.AnchorAnchored && client.status == observe.AnchorAnchored:
		a.Verdict = AnchoringVerified
	default:
		a.Verdict = AnchoringNotJudged
	}
	return a
}

// noAnchors is why a chain seen in clear carries no verdict: the scan's policy named no
// trust anchors (or the scan was stored by a medscan that did not judge them).
const noAnchors = "not judged: the scan's policy named no trust anchors"

// FlowFindings counts the findings on a flow's server port by severity, with their rules.
type FlowFindings struct {
	Total    int      `json:"total"`
	Critical int      `json:"critical"`
	High     int      `json:"high"`
	Medium   int      `json:"medium"`
	Low      int      `json:"low"`
	Info     int      `json:"info"`
	Rules    []string `json:"rules"`
}

// Worst is the most severe severity counted, and false when none is.
func (f FlowFindings) Worst() (Severity, bool) {
	for _, s := range Severities {
		if f.count(s) > 0 {
			return s, true
		}
	}
	return Info, false
}

func (f FlowFindings) count(s Severity) int {
	switch s {
	case Critical:
		return f.Critical
	case High:
		return f.High
	case Medium:
		return f.Medium
	case Low:
		return f.Low
	}
	return f.Info
}

// Server is the flow's server as readers see it: "10.20.0.20:443", or the tunnel's
// target by name.
func (f Flow) Server() string {
	if f.Target != "" {
		return f.Target
	}
	return Target(f.Host, f.Port)
}

// Key names the flow's edge: client, server, port, proxy and target.
func (f Flow) Key() string { return f.Client + " -> " + f.Server() + "|" + f.Via }

// flowKey aggregates records into flows.
type flowKey struct{ Conversation }

// flowBuild is a flow being gathered, with sets for its lists.
type flowBuild struct {
	f                           Flow
	lists                       map[*[]string]map[string]bool
	mqttIDs                     map[string]bool
	protRank                    int
	sawTLS, sawClear, sawActive bool
	server, client              sideState // the sides' anchoring, for an mtls flow
}

func (b *flowBuild) add(list *[]string, item string) {
	if item == "" {
		return
	}
	seen := b.lists[list]
	if seen == nil {
		seen = map[string]bool{}
		b.lists[list] = seen
	}
	if seen[item] {
		return
	}
	if len(seen) >= MaxFlowItems {
		b.f.ItemsNotKept++
		return
	}
	seen[item] = true
	*list = append(*list, item)
}

func (b *flowBuild) seen(first, last time.Time, n int) {
	if !first.IsZero() && (b.f.FirstSeen.IsZero() || first.Before(b.f.FirstSeen)) {
		b.f.FirstSeen = first
	}
	if last.After(b.f.LastSeen) {
		b.f.LastSeen = last
	}
	b.f.Sessions += n
}

// protect lowers the flow's protection to p when p is weaker, with why.
func (b *flowBuild) protect(p, why string) {
	r := FlowProtectionRank(p)
	if b.protRank < 0 || r < b.protRank {
		b.protRank, b.f.Protection, b.f.ProtectionWhy = r, p, why
	}
}

// BuildFlows computes r's flows from its observations, its inventory, its probes and its
// findings (see the comment at the top of this file), in the document's order. The
// prober's own connections are not flows: the network's traffic is.
func BuildFlows(r *Report) []Flow {
	builds := map[flowKey]*flowBuild{}
	get := func(c Conversation, protocol string) *flowBuild {
		k := flowKey{c}
		b := builds[k]
		if b == nil {
			b = &flowBuild{f: Flow{Client: c.Client, Host: c.Host, Port: c.Port, Via: c.Via, Target: c.Target,
				Protocol: protocol}, lists: map[*[]string]map[string]bool{}, mqttIDs: map[string]bool{}, protRank: -1}
			builds[k] = b
		}
		return b
	}
	clear := func(c Conversation, protocol string, first, last time.Time, n int) *flowBuild {
		b := get(c, protocol)
		b.sawClear = true
		if b.f.Protocol == "" || b.f.Protocol == "tls" {
			b.f.Protocol = protocol
		}
		b.seen(first, last, n)
		b.protect(ProtectionClear, "seen in clear")
		return b
	}
	certName := map[string]string{}
	for _, c := range r.Certificates {
		certName[c.SHA256] = cmp.Or(c.Subject, c.SHA256)
	}
	leaf := func(chain []observe.CertRef) string {
		if len(chain) == 0 {
			return ""
		}
		s := chain[0].String()
		return cmp.Or(certName[s], s)
	}
	// The prober's view of each server's chain judged against the anchors: a TLS 1.3
	// hop hides the server's certificate from the capture, not from the prober.
	probedAnchoring := map[Conversation]*observe.Anchoring{}
	for _, t := range r.TLSSessions {
		if t.Source == observe.SourceActive && t.ServerAnchoring != nil {
			k := Conversation{Host: t.Host, Port: t.Port}
			if o := probedAnchoring[k]; o == nil || o.Status == observe.AnchorAnchored {
				probedAnchoring[k] = t.ServerAnchoring
			}
		}
	}
	probes := map[Conversation]*ProbeEndpoint{}
	for i := range r.Probes {
		p := &r.Probes[i]
		probes[Conversation{Host: p.Host, Port: p.Port}] = p
	}
	for _, t := range r.TLSSessions {
		if t.Source == observe.SourceActive {
			continue // the prober's handshakes, one per suite tried
		}
		b := get(t.Conversation, "tls")
		b.sawTLS = true
		b.seen(t.FirstSeen, t.LastSeen, max(t.Count, 1))
		if (t.ALPNSelected == "http/1.1" || t.ALPNSelected == "h2") && b.f.Protocol == "tls" {
			b.f.Protocol = "https"
		}
		b.add(&b.f.TLSVersions, t.Version)
		b.add(&b.f.ServerCerts, leaf(t.ServerChain))
		b.add(&b.f.ClientCerts, leaf(t.ClientChain))
		switch {
		case len(t.ServerChain) > 0:
			b.server.judge(t.ServerAnchoring, leaf(t.ServerChain), noAnchors)
		case t.Via == "" && t.Target == "" && probedAnchoring[Conversation{Host: t.Host, Port: t.Port}] != nil:
			b.server.judge(probedAnchoring[Conversation{Host: t.Host, Port: t.Port}], "the certificate the prober saw", "")
		}
		if len(t.ClientChain) > 0 {
			b.client.judge(t.ClientAnchoring, leaf(t.ClientChain), noAnchors)
		}
		p := probes[Conversation{Host: t.Host, Port: t.Port}]
		required := t.Via == "" && t.Target == "" && p != nil && p.TLS != nil && p.TLS.CertRequired
		switch {
		case len(t.ClientChain) > 0:
			b.protect(ProtectionMTLS, "client certificate sent")
		case t.CertsEncrypted && required:
			b.protect(ProtectionMTLS, "TLS 1.3 seen passively; the prober saw the server require a client certificate")
		case t.CertsEncrypted && p != nil && p.TLS != nil && !p.TLS.CertRequest && t.Via == "" && t.Target == "":
			b.protect(ProtectionTLS, "TLS 1.3 seen passively; the prober saw the server ask for no client certificate")
		case t.CertsEncrypted:
			b.protect(ProtectionUnknownClientAuth, "TLS 1.3 seen passively: client authentication travels encrypted")
		case !t.SawServerHello && t.Version == "":
			b.protect(ProtectionUnknownClientAuth, "no ServerHello seen")
		case t.CertRequest:
			b.protect(ProtectionTLS, "client certificate requested, none sent")
		default:
			b.protect(ProtectionTLS, "no client certificate requested")
		}
	}
	for _, m := range r.HL7 {
		b := clear(m.Conversation, "hl7-mllp", m.FirstSeen, m.LastSeen, max(m.Count, 1))
		if !m.IsAck && m.MessageType != "" {
			t := m.MessageType
			if m.TriggerEvent != "" {
				t += "^" + m.TriggerEvent
			}
			b.add(&b.f.HL7Types, t)
		}
	}
	for _, d := range r.DICOM {
		b := clear(d.Conversation, "dicom", d.FirstSeen, d.LastSeen, max(d.Count, 1))
		for _, n := range d.AbstractSyntaxNames {
			b.add(&b.f.DICOMClasses, n)
		}
	}
	for _, m := range r.MQTT {
		b := clear(m.Conversation, "mqtt", m.FirstSeen, m.LastSeen, max(m.Count, 1))
		if !b.mqttIDs[m.ClientID] {
			b.mqttIDs[m.ClientID] = true
			b.f.MQTTClients++
		}
	}
	for _, h := range r.HTTP {
		b := clear(h.Conversation, "http", h.FirstSeen, h.LastSeen, max(h.Count, 1))
		switch {
		case h.BodyKind != "":
			b.add(&b.f.Firmware, fmt.Sprintf("%s %s (%s, %d bytes)", h.Method, h.Path, h.BodyKind, h.BodyBytes))
		case h.API == observe.APIFHIR:
			b.add(&b.f.FHIRResources, cmp.Or(h.Resource, "(none)"))
		case h.API == observe.APIOther:
			b.add(&b.f.APITemplates, h.Method+" "+h.Path)
		}
	}
	for _, t := range r.Transfers {
		b := clear(t.Conversation, t.Protocol, t.FirstSeen, t.LastSeen, max(t.Count, 1))
		if t.Kind != "" {
			verb := "get"
			if t.Upload {
				verb = "put"
			}
			b.add(&b.f.Firmware, fmt.Sprintf("%s %s (%s, %d bytes)", verb, t.Path, t.Kind, t.Bytes))
		}
	}
	for _, c := range r.Credentials {
		// A credential names the conversation it travelled in; its protocol tells a
		// Telnet or SNMP flow that no other record describes.
		k := flowKey{c.Conversation}
		b := builds[k]
		if b == nil {
			b = clear(c.Conversation, c.Protocol, c.FirstSeen, c.LastSeen, max(c.Count, 1))
		} else {
			b.protect(ProtectionClear, "seen in clear")
		}
		b.add(&b.f.Credentials, c.Kind)
	}
	kinds := map[string]string{}
	for _, a := range r.Assets {
		kinds[a.IP()] = a.Kind
	}
	out := make([]Flow, 0, len(builds))
	for _, b := range builds {
		f := b.f
		f.ClientKind, f.ServerKind = kinds[f.Client], kinds[f.Host]
		f.ClientRole, f.ServerRole = NodeRole(f.ClientKind), NodeRole(f.ServerKind)
		f.Sources = []string{string(observe.SourcePassive)}
		if p := probes[Conversation{Host: f.Host, Port: f.Port}]; p != nil && f.Via == "" && f.Target == "" {
			f.Sources = append(f.Sources, string(observe.SourceActive))
			if p.TLS != nil {
				for _, s := range p.TLS.ServerCerts {
					b.add(&f.ServerCerts, cmp.Or(certName[s], s))
				}
			}
		}
		if b.sawTLS && b.sawClear {
			// A port that spoke both: the records in clear came before an upgrade or on
			// a connection that did not upgrade; clear stays (the weakest).
			f.ProtectionWhy = "seen in clear and in TLS"
		}
		if f.Protection == ProtectionMTLS {
			f.Anchoring = flowAnchoring(b.server, b.client)
		}
		for _, l := range []*[]string{&f.TLSVersions, &f.ServerCerts, &f.ClientCerts, &f.HL7Types, &f.DICOMClasses,
			&f.FHIRResources, &f.APITemplates, &f.Firmware, &f.Credentials} {
			slices.Sort(*l)
		}
		out = append(out, f)
	}
	LinkFlowFindings(out, r.Findings)
	SortFlows(out)
	return out
}

// AddFlowVolumes adds to each flow the TCP volume the capture counted between its client
// and server (observe.Volume). Volumes live in the observation set only: NewReport adds
// them to the flows it builds, which the store keeps with them.
func AddFlowVolumes(flows []Flow, vols []*observe.Volume) {
	at := map[Conversation]int{}
	for i, f := range flows {
		at[Conversation{Client: f.Client, Host: f.Host, Port: f.Port, Via: f.Via, Target: f.Target}] = i
	}
	for _, v := range vols {
		i, ok := at[conversation(v.Flow)]
		if !ok {
			continue // a connection nothing was recognised in is no flow
		}
		f := &flows[i]
		f.Connections += v.Connections
		f.Packets += v.Packets
		f.Bytes += v.Bytes
	}
}

// LinkFlowFindings counts on each flow the findings about its server's port (after
// suppressions and a severity filter, a reader's view may hold fewer than the store's).
func LinkFlowFindings(flows []Flow, fs []Finding) {
	type port struct {
		host string
		port int
	}
	on := map[port][]Finding{}
	for _, f := range fs {
		if f.Host != "" && f.Port != 0 {
			k := port{f.Host, f.Port}
			on[k] = append(on[k], f)
		}
	}
	for i := range flows {
		fl := &flows[i]
		c := FlowFindings{Rules: []string{}}
		for _, f := range on[port{fl.Host, fl.Port}] {
			// A finding about a client (its certificate, its credential) names the client in
			// its evidence; one about the server's port is the flow's whoever the client.
			c.Total++
			switch f.Severity {
			case Critical:
				c.Critical++
			case High:
				c.High++
			case Medium:
				c.Medium++
			case Low:
				c.Low++
			default:
				c.Info++
			}
			if !slices.Contains(c.Rules, f.Rule) {
				c.Rules = append(c.Rules, f.Rule)
			}
		}
		slices.Sort(c.Rules)
		fl.Findings = c
	}
}

// SortFlows puts flows in the document's order: by server address, port, client, proxy.
func SortFlows(flows []Flow) {
	slices.SortStableFunc(flows, func(a, b Flow) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Target, b.Target),
			cmp.Compare(a.Via, b.Via), CompareHosts(a.Client, b.Client))
	})
}

// FlowMap is a stored scan's flows with the assets at their ends: the document of
// medscan flows and of the map.
type FlowMap struct {
	Scan   ScanInfo `json:"scan"`
	Flows  []Flow   `json:"flows"`
	Assets []Asset  `json:"assets"`
}

// NewFlowMap is r's flows with the assets at their ends, each flow's findings counted
// again from r's findings: a reader's view of the report (suppressions applied, -s)
// counts what it shows.
func NewFlowMap(r *Report) *FlowMap {
	ends := map[string]bool{}
	for _, f := range r.Flows {
		ends[f.Client], ends[f.Host] = true, true
	}
	m := &FlowMap{Scan: r.Scan, Flows: slices.Clone(r.Flows), Assets: []Asset{}}
	LinkFlowFindings(m.Flows, r.Findings)
	for _, a := range r.Assets {
		if ends[a.IP()] {
			m.Assets = append(m.Assets, a)
		}
	}
	return m
}
