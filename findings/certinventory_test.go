package findings

import (
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// TestWithoutIdentity: a device with no certificate, one with only a self-signed one,
// two sharing a leaf key, and one with its own issued certificate; only the kinds that
// carry patient data are judged.
func TestWithoutIdentity(t *testing.T) {
	rec := func(sha, spki string, self bool, hosts ...string) CertRecord {
		r := CertRecord{SHA256: sha, CertFacts: observe.CertFacts{SPKISHA256: spki, SelfSigned: self, Subject: "CN=" + sha}}
		for _, h := range hosts {
			r.Places = append(r.Places, CertPlace{Where: h + ":443", Host: h, Port: 443, Role: "server"})
		}
		return r
	}
	records := []CertRecord{
		rec("own", "k-own", false, "10.0.0.1"),
		rec("self", "k-self", true, "10.0.0.2"),
		rec("a", "k-shared", false, "10.0.0.3"),
		rec("b", "k-shared", false, "10.0.0.4"),
		rec("ws", "k-ws", true, "10.0.0.9"),
	}
	kinds := map[string]string{"10.0.0.1": observe.KindMedicalDevice, "10.0.0.2": observe.KindMedicalDevice,
		"10.0.0.3": observe.KindMiddleware, "10.0.0.4": observe.KindMedicalDevice, "10.0.0.5": observe.KindClinicalServer,
		"10.0.0.9": observe.KindWorkstation}
	got := map[string]string{}
	for _, d := range NewCertInventory(records, nil, nil, nil, kinds, time.Now()).WithoutIdentity {
		got[d.Host] = d.Reason
		if d.Reason == "shared key" && !slices.Contains(d.SharedWith, map[string]string{"10.0.0.3": "10.0.0.4", "10.0.0.4": "10.0.0.3"}[d.Host]) {
			t.Errorf("%s shares with %v", d.Host, d.SharedWith)
		}
	}
	want := map[string]string{"10.0.0.2": "self-signed only", "10.0.0.3": "shared key", "10.0.0.4": "shared key", "10.0.0.5": "no certificate"}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for h, w := range want {
		if got[h] != w {
			t.Errorf("%s: %q, want %q", h, got[h], w)
		}
	}
}

// TestRevocationOrder holds the listing's revocation text to its order of sources: a list
// of the policy that revokes the certificate, then a revoked OCSP response stapled for
// it, then a list that does not name it.
func TestRevocationOrder(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	revokedList := func([]byte) ListRevocation {
		return ListRevocation{Status: "revoked", Date: day, Reason: "keyCompromise", File: "site.crl", ThisUpdate: day}
	}
	goodList := func([]byte) ListRevocation { return ListRevocation{Status: "good", File: "site.crl", ThisUpdate: day} }
	staple := []Finding{{Rule: "cert-revoked", Host: "10.0.0.5", Port: 443, Evidence: map[string]any{
		"ocsp_status": "revoked", "revoked_at": "2026-10-01T08:00:00Z", "revocation_reason": "superseded"}}}
	crlFinding := []Finding{{Rule: "cert-revoked", Host: "10.0.0.5", Port: 443, Evidence: map[string]any{"crl": "site.crl"}}}
	for _, tc := range []struct {
		name     string
		byList   func([]byte) ListRevocation
		verdicts []Finding
		want     string
	}{
		{"nothing says", nil, nil, ""},
		{"list revokes", revokedList, nil, "revoked on 2026-11-02 (keyCompromise) by site.crl"},
		{"list revokes, staple too", revokedList, staple, "revoked on 2026-11-02 (keyCompromise) by site.crl"},
		{"staple revokes, list does not", goodList, staple, "revoked on 2026-10-01 (superseded) by the OCSP response 10.0.0.5:443 stapled"},
		{"staple alone", nil, staple, "revoked on 2026-10-01 (superseded) by the OCSP response 10.0.0.5:443 stapled"},
		{"list does not revoke", goodList, nil, "not revoked (site.crl of 2026-11-02)"},
		{"a finding not drawn from a staple", goodList, crlFinding, "not revoked (site.crl of 2026-11-02)"},
	} {
		if got := revocation(nil, tc.byList, tc.verdicts); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
