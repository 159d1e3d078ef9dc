package rules_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
)

// TestCatalog is the guard over every registered rule: stable, well-formed IDs and the
// text every report relies on.
func TestCatalog(t *testing.T) {
	cat := rules.Catalog()
	wantIDs := []string{
		"api-unauthenticated", "arp-spoofing",
		"cert-expired", "cert-expiring-soon", "cert-incomplete-chain", "cert-lint", "cert-long-lived",
		"cert-name-mismatch", "cert-not-yet-valid", "cert-revoked", "cert-self-signed", "cert-untrusted", "cert-weak-signature",
		"cleartext-api", "cleartext-credentials", "cleartext-dicom", "cleartext-fhir", "cleartext-hl7", "cleartext-update",
		"credential-shared", "dhcp-rogue", "key-factorable", "key-file-exposed", "key-not-rotated", "key-shared", "key-weak",
		"revocation-stale", "tls-cert-substituted", "tls-legacy-version", "tls-no-client-auth", "tls-no-forward-secrecy",
		"tls-stripped", "tls-weak-cipher", "tls-weak-dh",
		"update-inconsistent", "update-signature-invalid", "update-signer-untrusted", "update-signer-weak", "update-unsigned",
	}
	if len(cat) != len(wantIDs) {
		t.Errorf("catalog has %d rules, want %d", len(cat), len(wantIDs))
	}
	id := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for i, m := range cat {
		if i < len(wantIDs) && m.ID != wantIDs[i] {
			t.Errorf("catalog[%d] = %s, want %s (sorted)", i, m.ID, wantIDs[i])
		}
		if !id.MatchString(m.ID) || seen[m.ID] {
			t.Errorf("%q: malformed or duplicate ID", m.ID)
		}
		seen[m.ID] = true
		if m.Title == "" || m.Rationale == "" || m.Remediation == "" || len(m.References) == 0 {
			t.Errorf("%s: missing title, rationale, remediation or references", m.ID)
		}
		for _, r := range m.References {
			if r == "" {
				t.Errorf("%s: empty reference", m.ID)
			}
		}
		if m.Default < findings.Low || m.Default > findings.Critical {
			t.Errorf("%s: default severity %v", m.ID, m.Default)
		}
		if got, ok := rules.Lookup(m.ID); !ok || got.ID != m.ID {
			t.Errorf("Lookup(%s) failed", m.ID)
		}
		// What a rule covers is declared by the rule, never guessed from its ID: the
		// history and SARIF read nothing else.
		if err := m.Covers.Check(); err != nil {
			t.Errorf("%s: coverage declaration: %v", m.ID, err)
		}
		// The report's remediation plan hands each step to its owner and its executive
		// summary counts findings by risk: a rule without them would fall out of both.
		if !slices.Contains(findings.Owners, m.Owner) {
			t.Errorf("%s: owner %q is not one of %v", m.ID, m.Owner, findings.Owners)
		}
		if !slices.Contains(findings.Risks, m.Risk) {
			t.Errorf("%s: risk %q is not one of %v", m.ID, m.Risk, findings.Risks)
		}
	}
}

// TestCoverageCheckRefusesAMissingDeclaration makes sure the guard above can fail.
func TestCoverageCheckRefusesAMissingDeclaration(t *testing.T) {
	for _, c := range []findings.Coverage{
		{},
		{Domain: findings.DomainTLS},
		{Domain: "tls-pki", Needs: []findings.Evidence{findings.SeenTLSSuites}},
		{Domain: findings.DomainTLS, Needs: []findings.Evidence{"handshake"}},
		{Domain: findings.DomainTLS, Needs: []findings.Evidence{findings.SeenTLSSuites}, Profile: "deep"},
	} {
		if c.Check() == nil {
			t.Errorf("Check(%+v) accepted it", c)
		}
	}
}

// TestReadmeListsEveryRule: the README's table of the rules of this release names every
// rule of the catalog (a row may name two, "`a` / `b`"), and no rule the catalog lacks.
func TestReadmeListsEveryRule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## What medscan finds\n")
	if !ok {
		t.Fatal(`README.md has no "## What medscan finds" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	listed := map[string]bool{}
	for _, row := range regexp.MustCompile("(?m)^\\| (`[a-z0-9-]+`(?: / `[a-z0-9-]+`)*) \\|").FindAllStringSubmatch(section, -1) {
		for _, m := range regexp.MustCompile("`([a-z0-9-]+)`").FindAllStringSubmatch(row[1], -1) {
			listed[m[1]] = true
		}
	}
	for _, m := range rules.Catalog() {
		if !listed[m.ID] {
			t.Errorf("README's rules table lacks %s", m.ID)
		}
		delete(listed, m.ID)
	}
	for id := range listed {
		t.Errorf("README's rules table lists %s, which the catalog does not have", id)
	}
}
