package findings

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/medscan/medscan/observe"
)

// SelfSignedGroup is the group of the certificates that are not CAs and sign
// themselves: listed together, last.
const SelfSignedGroup = "self-signed"

// maxChain bounds the walk up a certificate's issuers: a loop of cross-signed names, or a
// hostile store, ends it.
const maxChain = 8

// ListRevocation is what a certificate revocation list of the policy says of a
// certificate (lint.RevocationOf reads the lists; findings cannot import lint).
type ListRevocation struct {
	Status     string    // "revoked", "good" (a list of its issuer does not name it), or "" (no list of its issuer)
	Date       time.Time // when it was revoked
	Reason     string    // the list entry's reason, "" when it gives none
	File       string    // the list's file
	ThisUpdate time.Time // the list's date
}

// NewCertInventory builds the certificate inventory from the store's records (every
// place each certificate was seen), the verdicts of each one's latest scan (findings
// naming it, by SHA-256), the policy's trust anchors' facts, what its revocation lists
// say of a certificate (byList; nil when the policy has none) and the inventory's kind
// of each address (for the hosts without an identity of their own), as of now.
//
// Issuers are found by name among the stored certificates and the anchors (a subject
// equal to the issuer, a CA preferred): the listing shows the hierarchy a site has, the
// site PKI, a vendor's, self-signed devices; whether a chain is trusted is cert-untrusted's
// judgement, which verifies signatures.
func NewCertInventory(records []CertRecord, verdicts map[string][]Finding, anchors []observe.CertFacts,
	byList func(der []byte) ListRevocation, kinds map[string]string, now time.Time) *CertInventory {
	inv := &CertInventory{Certificates: []CertEntry{}, Endpoints: []EndpointHistory{}, Anchors: []string{}, Generated: now.UTC()}
	bySubject := map[string][]*CertRecord{}
	for i := range records {
		r := &records[i]
		if r.Subject != "" {
			bySubject[r.Subject] = append(bySubject[r.Subject], r)
		}
	}
	anchorBy := map[string]observe.CertFacts{}
	for _, a := range anchors {
		anchorBy[a.Subject] = a
		inv.Anchors = append(inv.Anchors, a.Subject)
	}
	isAnchor := func(f observe.CertFacts) bool {
		a, ok := anchorBy[f.Subject]
		return ok && a.SPKISHA256 == f.SPKISHA256
	}
	for _, r := range records {
		e := CertEntry{CertRecord: r, Chain: []string{}, Verdicts: []CertVerdict{}}
		if !r.NotAfter.IsZero() {
			e.Days = int(math.Floor(r.NotAfter.Sub(now).Hours() / 24))
		}
		e.Chain, e.ChainEnd = chainOf(r.CertFacts, bySubject, anchorBy, isAnchor)
		e.Group = r.Issuer
		if r.SelfSigned && !r.IsCA {
			e.Group = SelfSignedGroup
		}
		for _, f := range verdicts[r.SHA256] {
			e.Verdicts = append(e.Verdicts, CertVerdict{Rule: f.Rule, Severity: f.Severity, ScanID: r.ScanIDs[len(r.ScanIDs)-1]})
		}
		slices.SortFunc(e.Verdicts, func(a, b CertVerdict) int {
			return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Rule, b.Rule))
		})
		e.Verdicts = slices.CompactFunc(e.Verdicts, func(a, b CertVerdict) bool { return a.Rule == b.Rule && a.Severity == b.Severity })
		e.Revocation = revocation(r.DER, byList, verdicts[r.SHA256])
		inv.Certificates = append(inv.Certificates, e)
	}
	// Grouped by issuer, so the hierarchy reads top-down; then by expiry.
	slices.SortFunc(inv.Certificates, func(a, b CertEntry) int {
		return cmp.Or(CompareBool(a.Group == SelfSignedGroup, b.Group == SelfSignedGroup), cmp.Compare(a.Group, b.Group),
			a.NotAfter.Compare(b.NotAfter), cmp.Compare(a.SHA256, b.SHA256))
	})
	inv.Endpoints = endpointHistories(records)
	inv.WithoutIdentity = withoutIdentity(records, kinds)
	return inv
}

// revocation says whether the certificate der is revoked, for the listing: a list of the
// policy that revokes it, else a revoked OCSP response a server stapled for it (its
// latest scan's cert-revoked finding drawn from a staple: the policy's lists are not the
// only source), else a list that does not name it; "" when nothing says.
func revocation(der []byte, byList func([]byte) ListRevocation, verdicts []Finding) string {
	var rv ListRevocation
	if byList != nil {
		rv = byList(der)
	}
	switch rv.Status {
	case "revoked":
		why := ""
		if rv.Reason != "" {
			why = " (" + rv.Reason + ")"
		}
		return "revoked on " + rv.Date.Format("2006-01-02") + why + " by " + rv.File
	}
	if s := stapledRevocation(verdicts); s != "" {
		return s
	}
	if rv.Status == "good" {
		return "not revoked (" + rv.File + " of " + rv.ThisUpdate.Format("2006-01-02") + ")"
	}
	return ""
}

// stapledRevocation says what a revoked OCSP response a server stapled for a
// certificate says, from the cert-revoked findings of its latest scan; "" when none.
func stapledRevocation(fs []Finding) string {
	for _, f := range fs {
		if f.Rule != "cert-revoked" || f.Evidence["ocsp_status"] != "revoked" {
			continue
		}
		at, _ := f.Evidence["revoked_at"].(string)
		text := "revoked"
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			text += " on " + t.UTC().Format("2006-01-02")
		}
		if why, _ := f.Evidence["revocation_reason"].(string); why != "" {
			text += " (" + why + ")"
		}
		return text + " by the OCSP response " + Target(f.Host, f.Port) + " stapled"
	}
	return ""
}

// identityKinds are the kinds of host a unique identity matters for: those that carry
// or handle patient data.
var identityKinds = map[string]bool{observe.KindMedicalDevice: true, observe.KindMiddleware: true, observe.KindClinicalServer: true}

// withoutIdentity lists the hosts of kinds (address to inventory kind) that matter and
// have no identity of their own: no certificate presented in any stored scan, only
// self-signed ones (nothing vouches for them), or a leaf key another host presents
// too. A host is listed once, for the first reason in that order.
func withoutIdentity(records []CertRecord, kinds map[string]string) []DeviceIdentity {
	certsOf := map[string][]*CertRecord{}
	holders := map[string]map[string]bool{} // SPKI to hosts presenting it as a leaf
	for i := range records {
		r := &records[i]
		for _, p := range r.Places {
			if p.Host == "" || p.Position > 0 {
				continue
			}
			if !slices.Contains(certsOf[p.Host], r) {
				certsOf[p.Host] = append(certsOf[p.Host], r)
			}
			if r.SPKISHA256 != "" && !r.IsCA {
				if holders[r.SPKISHA256] == nil {
					holders[r.SPKISHA256] = map[string]bool{}
				}
				holders[r.SPKISHA256][p.Host] = true
			}
		}
	}
	out := []DeviceIdentity{}
	for host, kind := range kinds {
		if !identityKinds[kind] {
			continue
		}
		d := DeviceIdentity{Host: host, Kind: kind, Certificates: []string{}, SharedWith: []string{}}
		certs := certsOf[host]
		selfSigned := len(certs) > 0
		for _, c := range certs {
			d.Certificates = append(d.Certificates, c.SHA256)
			selfSigned = selfSigned && c.SelfSigned
			for other := range holders[c.SPKISHA256] {
				if other != host && !slices.Contains(d.SharedWith, other) {
					d.SharedWith = append(d.SharedWith, other)
				}
			}
		}
		switch {
		case len(certs) == 0:
			d.Reason = "no certificate"
		case selfSigned:
			d.Reason = "self-signed only"
		case len(d.SharedWith) > 0:
			d.Reason = "shared key"
		default:
			continue
		}
		slices.Sort(d.Certificates)
		slices.Sort(d.SharedWith)
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b DeviceIdentity) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Reason, b.Reason), compareAddrs(a.Host, b.Host))
	})
	return out
}

// compareAddrs orders addresses numerically when both parse, as text otherwise.
func compareAddrs(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX == nil && errY == nil {
		return x.Compare(y)
	}
	return cmp.Compare(a, b)
}

// chainOf walks f's issuers by name.
func chainOf(f observe.CertFacts, bySubject map[string][]*CertRecord, anchorBy map[string]observe.CertFacts,
	isAnchor func(observe.CertFacts) bool) ([]string, string) {
	chain := []string{}
	if f.Subject == "" && f.Issuer == "" {
		return chain, "unknown"
	}
	if isAnchor(f) {
		return chain, "anchor"
	}
	if f.SelfSigned {
		return chain, "self-signed"
	}
	seen := map[string]bool{f.Subject: true}
	cur := f
	for range maxChain {
		if a, ok := anchorBy[cur.Issuer]; ok {
			return append(chain, a.Subject), "anchor"
		}
		var next *CertRecord
		for _, c := range bySubject[cur.Issuer] {
			if next == nil || c.IsCA && !next.IsCA {
				next = c
			}
		}
		if next == nil || seen[next.Subject] {
			return chain, "issuer not in store"
		}
		chain = append(chain, next.Subject)
		seen[next.Subject] = true
		if isAnchor(next.CertFacts) {
			return chain, "anchor"
		}
		if next.SelfSigned {
			return chain, "self-signed"
		}
		cur = next.CertFacts
	}
	return chain, "issuer not in store"
}

// endpointHistories are the leaf certificates each server endpoint presented, oldest
// first, with KeyKept set when one certificate followed another with the same key.
func endpointHistories(records []CertRecord) []EndpointHistory {
	by := map[string]*EndpointHistory{}
	for _, r := range records {
		for _, p := range r.Places {
			if p.Role != "server" || p.Host == "" || p.Position != 0 {
				continue
			}
			h := by[p.Where]
			if h == nil {
				h = &EndpointHistory{Endpoint: p.Where, Presented: []EndpointCert{}}
				by[p.Where] = h
			}
			h.Presented = append(h.Presented, EndpointCert{CertSHA256: r.SHA256, SPKISHA256: r.SPKISHA256, Subject: r.Subject,
				NotAfter: r.NotAfter, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen})
		}
	}
	out := make([]EndpointHistory, 0, len(by))
	for _, h := range by {
		slices.SortFunc(h.Presented, func(a, b EndpointCert) int {
			return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.CertSHA256, b.CertSHA256))
		})
		keys := map[string]bool{}
		for _, p := range h.Presented {
			if p.SPKISHA256 != "" && keys[p.SPKISHA256] {
				h.KeyKept = true
			}
			keys[p.SPKISHA256] = true
		}
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b EndpointHistory) int { return cmp.Compare(a.Endpoint, b.Endpoint) })
	return out
}
