package lint

import (
	"crypto/x509"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

func TestVerifyChain(t *testing.T) {
	root := mkcert(t, "Site Root", &x509.Certificate{IsCA: true, NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}, nil)
	inter := mkcert(t, "Site Issuing", &x509.Certificate{IsCA: true, NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, root)
	leaf := mkcert(t, "ehr.example", nil, inter)
	other := mkcert(t, "Other Root", &x509.Certificate{IsCA: true}, nil)
	stray := mkcert(t, "stray", nil, other)
	selfLeaf := mkcert(t, "pump", nil, nil)
	anchors, err := ParseAnchors([][]byte{root.der})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	set := observe.NewSet()
	add := func(server string, chain ...*tcert) []observe.CertRef {
		var ders [][]byte
		for _, c := range chain {
			ders = append(ders, c.der)
		}
		set.AddTLS(observe.TLSSession{FirstSeen: at, Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.9:1000"),
			Server: netip.MustParseAddrPort(server)}}, ders, nil)
		return set.TLSSessions[len(set.TLSSessions)-1].ServerChain
	}
	full := add("10.0.0.1:443", leaf, inter)
	withRoot := add("10.0.0.2:443", leaf, inter, root)
	outOfOrder := add("10.0.0.3:443", leaf, root, inter)
	leafOnly := add("10.0.0.4:443", leaf)
	foreign := add("10.0.0.5:443", stray, other)
	self := add("10.0.0.6:443", selfLeaf)
	v := NewVerifier(set, anchors)
	tests := []struct {
		name      string
		chain     []observe.CertRef
		at        time.Time
		trusted   bool
		missing   string
		completed int
	}{
		{"leaf and intermediate", full, at, true, "", 0},
		{"root sent too", withRoot, at, true, "", 0},
		{"out of order", outOfOrder, at, true, "", 0},
		{"intermediate omitted, seen in other sessions: never vouches", leafOnly, at, false, inter.tmpl.Subject.String(), 1},
		{"foreign root", foreign, at, false, "", 0},
		{"self-signed leaf", self, at, false, "", 0},
		{"intermediate expired when observed", full, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), false, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := v.Verify(tc.chain, tc.at)
			if got.Trusted != tc.trusted || (tc.missing != "" && got.MissingIssuer == "") || len(got.CompletedBy) != tc.completed {
				t.Errorf("got %+v", got)
			}
			if !got.Trusted && got.Reason == "" {
				t.Error("untrusted without a reason")
			}
		})
	}
	// Without anchors nothing is trusted, and a missing intermediate is still named.
	got := NewVerifier(set, nil).Verify(leafOnly, at)
	if got.Trusted || len(got.CompletedBy) != 1 {
		t.Errorf("no anchors: %+v", got)
	}
	if _, err := ParseAnchors(nil); err == nil {
		t.Error("empty anchors accepted")
	}
	if _, err := ParseAnchors([][]byte{{0x30, 0x03, 0x02, 0x01, 0x01}}); err == nil {
		t.Error("garbage anchor accepted")
	}
}
