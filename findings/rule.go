package findings

import (
	"cmp"
	"fmt"
	"slices"
)

// RuleInfo is a rule's catalog entry: what reports, suppressions, CI gates and the
// history rely on. Rules declare it (package rules); everything else reads it, and no
// one guesses any of it from a rule's ID.
type RuleInfo struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Default     Severity `json:"default"`
	Rationale   string   `json:"rationale"`
	Remediation string   `json:"remediation"`
	References  []string `json:"references"`
	// Covers is what the rule judges, and what a later scan must have seen on a
	// finding's target for the rule to have been assessed there again.
	Covers Coverage `json:"covers"`
	// Owner is who in a hospital carries out the remediation, so that a report can hand
	// each team its own list rather than every team the whole.
	Owner Owner `json:"owner"`
	// Risk is what the rule's findings let an attacker do to patients' care, in the
	// words an executive summary uses; reports rank and count findings by it.
	Risk Risk `json:"risk"`
}

// Owner is the team that fixes what a rule finds.
type Owner string

// The owners. A rule names the one who must act first: a key baked into firmware is
// the device maker's to change even when the PKI team issues the replacement.
const (
	OwnerDeviceMaker         Owner = "device-maker"         // firmware, hard-coded secrets, device features
	OwnerClinicalEngineering Owner = "clinical-engineering" // device and server configuration on site
	OwnerIntegration         Owner = "integration-team"     // interface engines, HL7, FHIR and API links
	OwnerPKI                 Owner = "pki-team"             // certificates, keys and trust anchors
	OwnerNetwork             Owner = "network-team"         // switches, DHCP, segmentation: the path between device and server
)

// Owners lists the owners in the order a remediation plan presents them.
var Owners = []Owner{OwnerDeviceMaker, OwnerClinicalEngineering, OwnerIntegration, OwnerPKI, OwnerNetwork}

// Title is the owner as a report heading names it.
func (o Owner) Title() string {
	switch o {
	case OwnerDeviceMaker:
		return "Device maker"
	case OwnerClinicalEngineering:
		return "Clinical engineering"
	case OwnerIntegration:
		return "Integration team"
	case OwnerPKI:
		return "PKI team"
	case OwnerNetwork:
		return "Network team"
	}
	return string(o)
}

// Risk is a clinical consequence that several rules lead to.
type Risk string

// The risks, most direct harm to patients' data first.
const (
	RiskPatientData   Risk = "patient-data"   // data read or changed between device and EHR
	RiskForgedUpdate  Risk = "forged-update"  // software a device runs replaced in transit
	RiskSharedSecrets Risk = "shared-secrets" // one key or password on many devices, or a key that can be computed
	RiskCredentials   Risk = "credentials"    // passwords and keys readable by anyone on the network
	RiskImpersonation Risk = "impersonation"  // certificates that do not prove who is at the other end
)

// Risks lists the risks in the order a summary ranks them when their severity ties.
var Risks = []Risk{RiskPatientData, RiskForgedUpdate, RiskSharedSecrets, RiskCredentials, RiskImpersonation}

// Coverage declares a rule's domain and what assesses it, the way zlint's lints declare
// their source and CheckApplies: the history (package store) reports a finding fixed
// only when the later scan saw, on the finding's target, one of Needs.
type Coverage struct {
	Domain Domain `json:"domain"`
	// Tags are further words for tools that file findings (SARIF tags), such as
	// "clinical" for rules about clinical protocols.
	Tags []string `json:"tags,omitempty"`
	// Needs lists what assesses the rule on a target; any one of them seen there is
	// enough. See the Evidence constants for what each one takes.
	Needs []Evidence `json:"needs"`
	// Profile is the lightest probe profile ("inventory", "standard", "thorough") whose
	// results assess the rule; "" when active probing cannot (cleartext traffic is only
	// ever seen passively).
	Profile string `json:"profile,omitempty"`
}

// Domain is the area of a rule; SARIF tags and the catalog group rules by it.
type Domain string

// The domains.
const (
	DomainTLS            Domain = "tls"            // negotiated TLS parameters
	DomainCertificates   Domain = "certificates"   // certificates and their chains
	DomainKeys           Domain = "keys"           // public keys
	DomainCleartext      Domain = "cleartext"      // sensitive traffic without encryption
	DomainAuthentication Domain = "authentication" // how clients prove who they are
	DomainInterception   Domain = "interception"   // signs of a man in the middle
	DomainCodeSigning    Domain = "code-signing"   // whether update images are authentic
)

// Domains lists the domains, for the catalog's guard test.
var Domains = []Domain{DomainTLS, DomainCertificates, DomainKeys, DomainCleartext, DomainAuthentication, DomainInterception,
	DomainCodeSigning}

// Evidence names one thing a scan may have seen on a target that assesses a rule there.
// Each is satisfied by the observations below, on the finding's host and port. An active
// probe's result counts only for a rule with a Profile, and only from a probe at that
// profile or a heavier one; for the others (cleartext traffic, which a probe never
// sees), only what was captured counts, TLS included.
type Evidence string

// The evidence a rule may need.
const (
	// SeenTLSSuites: what the server negotiates. An active probe that enumerated every
	// version and suite; or, for a finding raised passively, a handshake the server
	// completed in the later capture with one of the finding's clients (evidence
	// "clients"): a server answers each client from what that client offers, so a newer
	// client's handshake says nothing about an old pump's. A passive handshake never
	// assesses a finding the prober raised: one negotiation does not show what else the
	// server accepts.
	SeenTLSSuites Evidence = "tls-suites"
	// SeenTLSClientAuth: whether the server asks for a client certificate. An active
	// probe's TLS result, or a full TLS 1.2-or-older handshake seen passively (TLS 1.3
	// encrypts the request, a resumed handshake has none).
	SeenTLSClientAuth Evidence = "tls-client-auth"
	// SeenCertificates: the certificates the target presents. For a server, a handshake
	// whose certificates were observable (not TLS 1.3, not resumed) or a probe's TLS
	// result with its chain; for a client (port 0), a handshake in which it was asked for
	// its certificate and certificates were observable; for a certificate read from a
	// file (no host), the certificate itself read again.
	SeenCertificates Evidence = "certificates"
	// SeenKeyHolders: whether a key is still shared. The target's certificates (as
	// SeenCertificates), and either a different key on the target now, or certificates
	// of another of the finding's holders (evidence "shared_by"): seeing one holder
	// alone cannot show that the others still hold its key.
	SeenKeyHolders Evidence = "key-holders"
	// SeenCredentialExchange: where credentials would travel to the target. Credentials
	// of the finding's kind sent there in clear; TLS captured on the target; or the
	// finding's protocol (evidence "protocol") spoken there in clear: HTTP requests,
	// MQTT connections, or a captured service of that protocol (FTP, POP3, IMAP, SMTP,
	// Telnet, SNMP).
	SeenCredentialExchange Evidence = "credential-exchange"
	// SeenSharedCredentialUse: the finding's kind of credential (evidence "kind") sent to
	// the target in clear by at least two of the finding's clients (evidence "clients"),
	// or by its one client when it had one: fewer cannot show whether they still share.
	SeenSharedCredentialUse Evidence = "shared-credential-use"
	// SeenHL7, SeenDICOM: messages of that protocol to the target in clear, or TLS
	// captured on the target. Other traffic there proves nothing about the protocol.
	SeenHL7   Evidence = "hl7"
	SeenDICOM Evidence = "dicom"
	// SeenFHIR: FHIR requests to the target in clear, or TLS captured on the target.
	SeenFHIR Evidence = "fhir"
	// SeenAPI: API requests other than FHIR interactions to the target in clear, or TLS
	// captured on the target. FHIR alone proves nothing about another API on the same
	// port: cleartext-api judges the other APIs apart from FHIR.
	SeenAPI Evidence = "api"
	// SeenHTTPAPIAnswers: API or FHIR requests that the target answered, seen in clear,
	// so that whether they carried credentials is known. TLS on the target does not
	// count: what travels inside it cannot be read.
	SeenHTTPAPIAnswers Evidence = "http-api-answers"
	// SeenImageTransfer: a firmware or software image fetched from (or pushed to) the
	// target in clear, or TLS captured on the target. An update happens rarely; traffic
	// without one proves nothing.
	SeenImageTransfer Evidence = "image-transfer"
	// SeenKeyFileFolder: the place a key file lay (evidence "path", absolute), read again
	// by a later lint run: one whose sources name the file or a folder above it (hidden
	// folders between them are not walked). A key no longer found there was removed.
	SeenKeyFileFolder Evidence = "key-file-folder"
	// SeenARPClaims: ARP claims to the target address (its host; no port) in the later
	// capture: whether a second MAC still claims it shows only where its claims are
	// seen again.
	SeenARPClaims Evidence = "arp-claims"
	// SeenDHCPReplies: DHCP replies in the later capture from the target (a DHCP server)
	// or, when it sent none, from another server to one of the finding's clients
	// (evidence "clients"): the segment was watched while clients asked for leases.
	SeenDHCPReplies Evidence = "dhcp-replies"
	// SeenStartTLSGreetings: the target's capability list (SMTP EHLO reply) read in the
	// later capture, in some session: whether it still differs between sessions.
	SeenStartTLSGreetings Evidence = "starttls-greetings"
	// SeenUpdateImage: the update image the finding is about (evidence "origin", "dir"
	// and "name"), examined again by the later run: the same file name from the same
	// server and directory (or folder). An image fetched rarely, or a folder not read
	// again, proves nothing.
	SeenUpdateImage Evidence = "update-image"
)

// Evidences lists every Evidence, for the catalog's guard test.
var Evidences = []Evidence{SeenTLSSuites, SeenTLSClientAuth, SeenCertificates, SeenKeyHolders, SeenCredentialExchange,
	SeenSharedCredentialUse, SeenHL7, SeenDICOM, SeenFHIR, SeenAPI, SeenHTTPAPIAnswers, SeenImageTransfer, SeenKeyFileFolder,
	SeenARPClaims, SeenDHCPReplies, SeenStartTLSGreetings, SeenUpdateImage}

// Probe profiles, lightest first; a rule's Coverage.Profile names one.
var Profiles = []string{"inventory", "standard", "thorough"}

// ProfileAtLeast reports whether a probe at profile have examined a service at least as
// thoroughly as want asks. An unknown or empty have (a scan stored before profiles were
// recorded) satisfies only the lightest.
func ProfileAtLeast(have, want string) bool {
	h, w := slices.Index(Profiles, have), slices.Index(Profiles, want)
	if w < 0 {
		return false
	}
	if h < 0 {
		h = 0
	}
	return h >= w
}

// Check reports what is wrong with a coverage declaration, for the catalog's guard test:
// a known domain, at least one known need, and a known profile or none.
func (c Coverage) Check() error {
	if !slices.Contains(Domains, c.Domain) {
		return fmt.Errorf("domain %q is not one of %v", c.Domain, Domains)
	}
	if len(c.Needs) == 0 {
		return fmt.Errorf("declares nothing that assesses it (Needs is empty)")
	}
	for _, n := range c.Needs {
		if !slices.Contains(Evidences, n) {
			return fmt.Errorf("need %q is not one of %v", n, Evidences)
		}
	}
	if c.Profile != "" && !slices.Contains(Profiles, c.Profile) {
		return fmt.Errorf("profile %q is not one of %v", c.Profile, Profiles)
	}
	return nil
}

// Catalog is the rule catalog by ID, as the history and the writers consult it.
type Catalog map[string]RuleInfo

// NewCatalog indexes rule entries by ID.
func NewCatalog(rules []RuleInfo) Catalog {
	c := make(Catalog, len(rules))
	for _, r := range rules {
		c[r.ID] = r
	}
	return c
}

// Sorted returns the entries in ID order.
func (c Catalog) Sorted() []RuleInfo {
	out := make([]RuleInfo, 0, len(c))
	for _, r := range c {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RuleInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
