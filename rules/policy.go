package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/medscan/medscan/codesign"
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/yamlshape"
	"github.com/medscan/medscan/lint"
)

// Thresholds are the numbers rules judge by. The defaults match corpus/README.md, so the
// default policy raises what the corpus expects.
type Thresholds struct {
	LeafMaxDays         int `yaml:"leaf_max_days"`         // leaf valid longer than this is long-lived
	LeafHighDays        int `yaml:"leaf_high_days"`        // ... and high severity beyond this
	IntermediateMaxDays int `yaml:"intermediate_max_days"` // intermediate CA valid longer is long-lived
	RootMaxDays         int `yaml:"root_max_days"`         // self-signed root valid longer is long-lived
	// ClientMaxDays and ClientHighDays are the leaf limits for client (device identity)
	// certificates, which the server-certificate limits do not fit: see DefaultPolicy.
	ClientMaxDays    int      `yaml:"client_max_days"`    // a device identity valid longer is long-lived
	ClientHighDays   int      `yaml:"client_high_days"`   // ... and high severity beyond this
	ExpiringSoonDays int      `yaml:"expiring_soon_days"` // leaf expiring within this window
	KeyMaxDays       int      `yaml:"key_max_days"`       // a server key kept across renewals longer is not rotated
	MinDHBits        int      `yaml:"min_dh_bits"`        // finite-field DH groups below are weak
	MinRSABits       int      `yaml:"min_rsa_bits"`       // RSA keys below are weak
	CriticalRSABits  int      `yaml:"critical_rsa_bits"`  // RSA keys below are critical
	MinECBits        int      `yaml:"min_ec_bits"`        // EC keys below are weak
	LegacyVersions   []string `yaml:"legacy_versions"`    // protocol versions that are legacy
	// DevIDNoExpiry accepts the IEEE 802.1AR "no well-defined expiration" notAfter
	// (99991231235959Z) on device identity certificates with a strong key.
	DevIDNoExpiry bool `yaml:"devid_no_expiry"`
}

// Policy is a site's judgement: thresholds, severity overrides and disabled rules.
type Policy struct {
	Version    int                          `yaml:"version"`
	Thresholds Thresholds                   `yaml:"thresholds"`
	Severity   map[string]findings.Severity `yaml:"severity"`
	Disabled   []string                     `yaml:"disabled"`
	// WebPKI says which certificates are judged as public WebPKI, for zlint's CA/Browser
	// Forum and root-programme lints: auto (by the chain's root), always or never.
	WebPKI lint.WebPKI `yaml:"webpki"`
	// TrustAnchorsFile is the site's trust anchor bundle as the policy names it, resolved
	// against the policy file's folder; "" when the policy names none.
	TrustAnchorsFile string `yaml:"trust_anchors"`
	// Anchors are the certificates of that bundle; nil when the policy names none, in
	// which case chains are not judged for trust (cert-untrusted stays silent).
	Anchors *lint.Anchors `yaml:"-"`
	// ClinicalServices are services the site names as clinical interfaces although their
	// port does not say so (HL7, DICOM or FHIR inside TLS on a general port), as
	// "host:port" with an IP address or a TLS server name, normalised (names lowercased,
	// addresses in canonical form, IPv6 in brackets); tls-no-client-auth judges them.
	ClinicalServices []string `yaml:"clinical_services"`
	// CRLs are the certificate revocation lists the policy names (revocation: {crls:
	// [...]}), read from files, resolved against the policy file's folder: cert-revoked
	// and revocation-stale judge them. medscan fetches no list.
	CRLs []*lint.CRL `yaml:"-"`
	// Suppressions are the accepted risks of the policy's suppressions: section, matched
	// like those of .medscanignore.yaml (suppress.go).
	Suppressions []Suppression `yaml:"-"`
	// CodeSigning is the code_signing section: anchors for update images, per vendor or
	// server, and which images must be signed (codesigning.go); nil when absent.
	CodeSigning *codesign.Policy `yaml:"-"`

	describe string
	digest   string // the file's SHA-256 in hex, "" for the built-in policy
}

// knownVersions are the protocol version names legacy_versions may list.
var knownVersions = []string{"SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// DefaultPolicy returns the built-in policy.
func DefaultPolicy() *Policy {
	return &Policy{
		Version: 1,
		Thresholds: Thresholds{
			LeafMaxDays:         825,
			LeafHighDays:        3650,
			IntermediateMaxDays: 5479,
			RootMaxDays:         9132,
			// Device identities (a TLS client's certificate, or one for clientAuth or an
			// 802.1AR hardwareModuleName without serverAuth) are not what the CA/Browser
			// Forum's 825 and 398 days govern: those bind publicly trusted server
			// certificates that browsers check and ACME renews. A device certificate is
			// provisioned at the factory (IEEE 802.1AR IDevID, meant to last the device's
			// life) or at enrolment (an LDevID, the site's to renew). Ten years is about the
			// service life of an infusion pump or a monitor: a certificate that outlives it
			// outlives the maker's support, its algorithms and anyone who knows how to renew
			// it. Beyond twenty years is high, where the 25- to 30-year device keys seen in
			// the field land. The 802.1AR "no well-defined expiration" date is judged
			// apart (devid_no_expiry).
			ClientMaxDays:    3650,
			ClientHighDays:   7300,
			ExpiringSoonDays: 30,
			// A server's key kept across renewals for more than two years: NIST SP 800-57
			// Part 1 gives private authentication keys a cryptoperiod of one to two years.
			KeyMaxDays:      730,
			MinDHBits:       2048,
			MinRSABits:      2048,
			CriticalRSABits: 1024,
			MinECBits:       256,
			LegacyVersions:  []string{"SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"},
			DevIDNoExpiry:   true,
		},
		WebPKI:   lint.WebPKIAuto,
		Severity: map[string]findings.Severity{},
		describe: "default",
	}
}

// Assessed lists the IDs of the catalog's rules the policy runs, which a scan records so
// that a later comparison can tell a rule turned off from a problem fixed.
func (p *Policy) Assessed() []string {
	ids := []string{}
	for _, m := range Catalog() {
		if !p.IsDisabled(m.ID) {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// IsDisabled reports whether the policy turns the rule off.
func (p *Policy) IsDisabled(id string) bool { return slices.Contains(p.Disabled, id) }

// IsLegacy reports whether a protocol version name (observe.VersionName) is legacy.
func (p *Policy) IsLegacy(version string) bool {
	return slices.Contains(p.Thresholds.LegacyVersions, version)
}

// SHA256 is the hex SHA-256 of the policy file's bytes, "" for a policy not read from a
// file (the built-in one): what the audit trail records of the policy a run used.
func (p *Policy) SHA256() string { return p.digest }

// Describe is a one-line description of the policy for reports: "default", or the file
// it came from and its digest, so a report says exactly which judgement produced it.
func (p *Policy) Describe() string {
	if p.describe == "" {
		return "custom"
	}
	return p.describe
}

// rawPolicy mirrors Policy with severities as text, so that validation can name the
// offending value and line.
type rawPolicy struct {
	Version    int               `yaml:"version"`
	Thresholds Thresholds        `yaml:"thresholds"`
	Severity   map[string]string `yaml:"severity"`
	Disabled   []string          `yaml:"disabled"`
	WebPKI     string            `yaml:"webpki"`
	Anchors    string            `yaml:"trust_anchors"`
	// ClinicalServices is validated entry by entry (clinicalService).
	ClinicalServices []string `yaml:"clinical_services"`
	Revocation       struct {
		CRLs []string `yaml:"crls"`
	} `yaml:"revocation"`
	// Suppressions stays a node so that ParseSuppressions can name lines.
	Suppressions yaml.Node       `yaml:"suppressions"`
	CodeSigning  *rawCodeSigning `yaml:"code_signing"`
}

// LoadPolicy reads a policy file. Keys it omits keep their defaults; an unknown key, an
// unknown rule ID or severity, or an impossible threshold is an error naming the file
// and line.
func LoadPolicy(path string) (*Policy, error) {
	data, err := readBounded(path, maxPolicyFile)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	p, err := ParsePolicy(path, data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	p.describe = "file " + path + " sha256:" + hex.EncodeToString(sum[:8])
	p.digest = hex.EncodeToString(sum[:])
	return p, nil
}

// fieldNotFound matches yaml.v3's message for an unknown key.
var fieldNotFound = regexp.MustCompile(`^line (\d+): field (.+) not found in type \S+$`)

// ParsePolicy parses policy YAML; name is used in errors (usually the file name).
func ParsePolicy(name string, data []byte) (*Policy, error) {
	def := DefaultPolicy()
	raw := rawPolicy{Thresholds: def.Thresholds}
	raw.Thresholds.LegacyVersions = nil
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("rules: %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// Unknown keys and values of the wrong type, told by key path, line and what was
	// wanted; yaml.v3's own errors name Go types.
	if err := yamlshape.Check(&doc, &raw); err != nil {
		return nil, fmt.Errorf("rules: %s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		// Not reached for what Check knows; kept so that nothing decodes half-checked.
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg := te.Errors[0]
			if m := fieldNotFound.FindStringSubmatch(msg); m != nil {
				msg = fmt.Sprintf("line %s: unknown key %q", m[1], m[2])
			}
			return nil, fmt.Errorf("rules: %s: %s", name, msg)
		}
		return nil, fmt.Errorf("rules: %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	fail := func(line int, format string, args ...any) error {
		if line > 0 {
			return fmt.Errorf("rules: %s: line %d: %s", name, line, fmt.Sprintf(format, args...))
		}
		return fmt.Errorf("rules: %s: %s", name, fmt.Sprintf(format, args...))
	}

	if raw.Version == 0 {
		return nil, fail(0, "version: missing (start the file with \"version: 1\")")
	}
	if raw.Version != 1 {
		return nil, fail(lineOf(&doc, "version"), "version: want 1, not %d (the only policy format so far)", raw.Version)
	}
	p := DefaultPolicy()
	p.describe = ""
	p.Thresholds = raw.Thresholds
	if raw.Thresholds.LegacyVersions == nil {
		p.Thresholds.LegacyVersions = def.Thresholds.LegacyVersions
	}
	t := p.Thresholds
	for _, c := range []struct {
		key string
		v   int
	}{
		{"leaf_max_days", t.LeafMaxDays}, {"leaf_high_days", t.LeafHighDays},
		{"intermediate_max_days", t.IntermediateMaxDays}, {"root_max_days", t.RootMaxDays},
		{"client_max_days", t.ClientMaxDays}, {"client_high_days", t.ClientHighDays},
		{"expiring_soon_days", t.ExpiringSoonDays}, {"key_max_days", t.KeyMaxDays}, {"min_dh_bits", t.MinDHBits},
		{"min_rsa_bits", t.MinRSABits}, {"critical_rsa_bits", t.CriticalRSABits}, {"min_ec_bits", t.MinECBits},
	} {
		if c.v <= 0 {
			return nil, fail(lineOf(&doc, "thresholds", c.key), "thresholds.%s: want a positive number, not %d", c.key, c.v)
		}
	}
	if t.LeafHighDays < t.LeafMaxDays {
		return nil, fail(lineOf(&doc, "thresholds", "leaf_high_days"),
			"thresholds.leaf_high_days (%d) is below leaf_max_days (%d)", t.LeafHighDays, t.LeafMaxDays)
	}
	if t.ClientHighDays < t.ClientMaxDays {
		// The line of whichever of the two the file sets (a key it omits has the line
		// of thresholds:, above both).
		line := max(lineOf(&doc, "thresholds", "client_high_days"), lineOf(&doc, "thresholds", "client_max_days"))
		return nil, fail(line, "thresholds.client_high_days (%d) is below client_max_days (%d)", t.ClientHighDays, t.ClientMaxDays)
	}
	if t.CriticalRSABits > t.MinRSABits {
		return nil, fail(lineOf(&doc, "thresholds", "critical_rsa_bits"),
			"thresholds.critical_rsa_bits (%d) is above min_rsa_bits (%d)", t.CriticalRSABits, t.MinRSABits)
	}
	for _, v := range t.LegacyVersions {
		if !slices.Contains(knownVersions, v) {
			return nil, fail(lineOf(&doc, "thresholds", "legacy_versions"),
				"thresholds.legacy_versions: unknown version %q (want some of %s)", v, strings.Join(knownVersions, ", "))
		}
	}
	for id, s := range raw.Severity {
		line := lineOf(&doc, "severity", id)
		if _, ok := Lookup(id); !ok {
			return nil, fail(line, "severity: unknown rule %q (medscan rules lists them)", id)
		}
		sev, err := findings.ParseSeverity(s)
		if err != nil {
			return nil, fail(line, "severity: %s: %v", id, err)
		}
		p.Severity[id] = sev
	}
	for i, id := range raw.Disabled {
		if _, ok := Lookup(id); !ok {
			return nil, fail(lineOfItem(&doc, i, "disabled"), "disabled: unknown rule %q (medscan rules lists them)", id)
		}
		if !slices.Contains(p.Disabled, id) {
			p.Disabled = append(p.Disabled, id)
		}
	}
	slices.Sort(p.Disabled)
	for i, e := range raw.ClinicalServices {
		svc, err := clinicalService(e)
		if err != nil {
			return nil, fail(lineOfItem(&doc, i, "clinical_services"), "clinical_services: %q: %v", e, err)
		}
		if !slices.Contains(p.ClinicalServices, svc) {
			p.ClinicalServices = append(p.ClinicalServices, svc)
		}
	}
	sup, err := ParseSuppressions(name, &raw.Suppressions) // an absent key is a zero node: no entries
	if err != nil {
		return nil, err
	}
	p.Suppressions = sup
	switch strings.ToLower(raw.WebPKI) {
	case "", "auto":
		p.WebPKI = lint.WebPKIAuto
	case "always", "true", "yes":
		p.WebPKI = lint.WebPKIAlways
	case "never", "false", "no":
		p.WebPKI = lint.WebPKINever
	default:
		return nil, fail(lineOf(&doc, "webpki"), "webpki: want auto, always or never, not %q", raw.WebPKI)
	}
	if raw.Anchors != "" {
		file := raw.Anchors
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(name), file)
		}
		a, err := loadAnchors(file)
		if err != nil {
			return nil, fail(lineOf(&doc, "trust_anchors"), "trust_anchors: %v", err)
		}
		p.TrustAnchorsFile, p.Anchors = file, a
	}
	for _, file := range raw.Revocation.CRLs {
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(name), file)
		}
		data, err := readBounded(file, lint.MaxCRLBytes)
		if err == nil {
			var crl *lint.CRL
			if crl, err = lint.ParseCRL(file, data); err == nil {
				p.CRLs = append(p.CRLs, crl)
				continue
			}
		}
		return nil, fail(lineOf(&doc, "revocation", "crls"), "revocation.crls: %v", err)
	}
	if raw.CodeSigning != nil {
		cs, err := codeSigning(name, &doc, *raw.CodeSigning)
		if err != nil {
			return nil, err
		}
		p.CodeSigning = cs
	}
	return p, nil
}

// dnsName matches a host name: dot-separated labels of letters, digits and hyphens, a
// label neither starting nor ending with a hyphen.
var dnsName = regexp.MustCompile(`(?i)^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// clinicalService checks and normalises one clinical_services entry: "host:port" where
// host is an IP address (IPv6 in brackets) or a DNS name, and port is 1 to 65535.
func clinicalService(s string) (string, error) {
	host, port, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return "", errors.New("want host:port, with an IP address or a server name (IPv6 in brackets)")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q: want a number from 1 to 65535", port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", fmt.Errorf("address %q: a zone is not an address medscan sees on the wire", host)
		}
		return netip.AddrPortFrom(a.Unmap(), uint16(n)).String(), nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if len(name) > 253 || !dnsName.MatchString(name) {
		return "", fmt.Errorf("host %q: want an IP address or a server name", host)
	}
	return name + ":" + strconv.Itoa(n), nil
}

// loadAnchors reads a PEM bundle of trust anchors. A missing file, one without a
// certificate, or a certificate without a readable name and key is an error naming the
// file: a site that means to judge chains must not silently judge none.
func loadAnchors(file string) (*lint.Anchors, error) {
	data, err := readBounded(file, maxAnchorsFile)
	if err != nil {
		return nil, err
	}
	ders, err := lint.ReadCerts(data)
	if err != nil && len(ders) == 0 {
		return nil, fmt.Errorf("%s: no certificate: %w", file, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	a, err := lint.ParseAnchors(ders)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return a, nil
}

// lineOf finds the line of a key path in a YAML document, 0 when absent.
func lineOf(doc *yaml.Node, path ...string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// lineOfItem finds the line of the i-th item of the sequence at path.
func lineOfItem(doc *yaml.Node, i int, path ...string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return 0
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				next = n.Content[j+1]
			}
		}
		if next == nil {
			return 0
		}
		n = next
	}
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i].Line
	}
	return n.Line
}

// ExamplePolicy is the default policy as a commented YAML file, the starting point for a
// site's own (medscan rules --example-policy prints it). It loads back to DefaultPolicy.
func ExamplePolicy() []byte {
	t := DefaultPolicy().Thresholds
	var b strings.Builder
	b.WriteString(`# medscan policy: the thresholds rules judge by, per-rule severity overrides, and rules
# turned off. Keys left out keep the defaults shown here; an unknown key is an error.
version: 1

thresholds:
`)
	line := func(comment, key string, v any) {
		fmt.Fprintf(&b, "  # %s\n  %s: %v\n", comment, key, v)
	}
	line("A leaf certificate valid longer than this many days is long-lived (CA/B Forum BR: 825, now 398).",
		"leaf_max_days", t.LeafMaxDays)
	line("A leaf valid longer than this is long-lived at high severity (ten years).", "leaf_high_days", t.LeafHighDays)
	line("An intermediate CA valid longer than this is long-lived (15 years).", "intermediate_max_days", t.IntermediateMaxDays)
	line("A self-signed root valid longer than this is long-lived (25 years).", "root_max_days", t.RootMaxDays)
	line("A client (device identity) certificate valid longer than this is long-lived (ten years, about a\n"+
		"  # clinical device's service life; the 825-day limit is for server certificates).", "client_max_days", t.ClientMaxDays)
	line("A client certificate valid longer than this is long-lived at high severity (twenty years).",
		"client_high_days", t.ClientHighDays)
	line("A leaf expiring within this many days of being observed is expiring soon.", "expiring_soon_days", t.ExpiringSoonDays)
	line("A server key kept across certificate renewals for longer than this many days is not rotated\n"+
		"  # (key-not-rotated; NIST SP 800-57 Part 1: one to two years for authentication keys).", "key_max_days", t.KeyMaxDays)
	line("A finite-field Diffie-Hellman group smaller than this many bits is weak (NIST SP 800-52r2).", "min_dh_bits", t.MinDHBits)
	line("An RSA key smaller than this many bits is weak.", "min_rsa_bits", t.MinRSABits)
	line("An RSA key smaller than this many bits is critically weak (factorable in practice).", "critical_rsa_bits", t.CriticalRSABits)
	line("An elliptic-curve key smaller than this many bits is weak.", "min_ec_bits", t.MinECBits)
	fmt.Fprintf(&b, "  # Negotiated protocol versions that are legacy (of %s).\n  legacy_versions: [%s]\n",
		strings.Join(knownVersions, ", "), strings.Join(t.LegacyVersions, ", "))
	line("Accept the IEEE 802.1AR \"no well-defined expiration\" date (99991231235959Z) on device identity\n"+
		"  # certificates with a strong key (RSA >= min_rsa_bits, EC >= min_ec_bits, Ed25519): an informational\n"+
		"  # note, not a long-lived finding; with false, that date is long-lived at high severity like any other.", "devid_no_expiry", t.DevIDNoExpiry)
	b.WriteString(`
# Which certificates are public WebPKI, so that zlint's CA/Browser Forum and browser
# root-programme lints apply to them: auto (the chain names a public root), always or never.
webpki: auto

# The site's trust anchors: a PEM bundle of the roots devices and middleware should trust
# (relative to this file). Chains are then validated against them (cert-untrusted,
# cert-incomplete-chain); without it, medscan does not judge trust. For example:
# trust_anchors: site-roots.pem

# Certificate revocation lists the site's CAs publish, as files (DER or PEM, relative to
# this file): a certificate they revoke that is still presented is cert-revoked
# (critical), and a list past its nextUpdate is revocation-stale. medscan fetches no
# list: copy the current ones here, for example from the CA's distribution point.
# revocation:
#   crls: [site-issuing-ca.crl]

# Code signing of update images (medscan verify, and images kept from the wire): the
# certificates (PEM or DER), OpenPGP public keys (armored or binary), PEM public keys and
# U-Boot control DTBs (the keys FIT images are checked with) that may sign them,
# relative to this file; which image names must be signed (default: every image); and
# per-vendor anchors matched by update server and image name. Without anchors, medscan
# reports who signed and that the signer was not judged. For example:
# code_signing:
#   anchors: [vendor-root.pem, vendor.asc]
#   must_sign: ["*"]
#   vendors:
#     - name: acme
#       servers: [10.20.0.5, updates.acme.example]
#       images: ["acme-*.bin"]
#       anchors: [acme-root.pem]

# Clinical interfaces the ports do not reveal: HL7, DICOM or FHIR carried inside TLS on a
# general port such as 443, as host:port with the server's IP address or the TLS server
# name the clients ask for. tls-no-client-auth expects these, like the well-known clinical
# TLS ports (2575, 2762, 8883, 11112), to request a client certificate. For example:
clinical_services:
#  - 10.20.0.20:443
#  - ehr.example.org:443
`)
	b.WriteString(`
# Severity overrides by rule ID: info, low, medium, high or critical. An override replaces
# the severity of every finding of the rule, including ones the rule raises above its
# default (SSL for tls-legacy-version, patient data for cleartext-hl7, keys below
# critical_rsa_bits for key-weak). Uncomment and edit, for example:
severity:
#  tls-no-forward-secrecy: low
`)
	if cat := Catalog(); len(cat) > 0 {
		b.WriteString("# The rules and their default severities:\n")
		for _, m := range cat {
			fmt.Fprintf(&b, "#    %s: %s\n", m.ID, m.Default)
		}
	}
	b.WriteString(`
# Rules to turn off entirely, by ID. Uncomment and edit, for example:
disabled:
#  - cert-expiring-soon
`)
	return []byte(b.String())
}
