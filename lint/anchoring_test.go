package lint

import (
	"crypto/x509"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// TestAnchorSessions holds the verdict each side of a mutual handshake gets against the
// site's anchors: anchored, self-signed, another CA, expired (the leaf, or the path's
// intermediate, when seen), and nothing without anchors or under TLS 1.3.
func TestAnchorSessions(t *testing.T) {
	y := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
	root := mkcert(t, "Site Root", &x509.Certificate{IsCA: true, NotBefore: y(2020), NotAfter: y(2040)}, nil)
	inter := mkcert(t, "Site Issuing", &x509.Certificate{IsCA: true, NotBefore: y(2020), NotAfter: y(2030)}, root)
	server := mkcert(t, "engine.example", &x509.Certificate{NotBefore: y(2020), NotAfter: y(2035)}, inter)
	device := mkcert(t, "pump-0013", nil, inter) // valid in 2024 only
	longDevice := mkcert(t, "pump-0014", &x509.Certificate{NotBefore: y(2020), NotAfter: y(2035)}, inter)
	selfDevice := mkcert(t, "pump-0099", nil, nil)
	vendor := mkcert(t, "Vendor Root", &x509.Certificate{IsCA: true, NotBefore: y(2020), NotAfter: y(2040)}, nil)
	vendorDevice := mkcert(t, "pump-vendor", nil, vendor)
	anchors, err := ParseAnchors([][]byte{root.der})
	if err != nil {
		t.Fatal(err)
	}
	ders := func(cs ...*tcert) [][]byte {
		var out [][]byte
		for _, c := range cs {
			out = append(out, c.der)
		}
		return out
	}
	mid := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                   string
		client                 [][]byte
		at                     time.Time
		tls13                  bool
		anchors                *Anchors
		wantServer, wantClient string // want statuses, "" for no verdict
		reason                 string // a part of the client's reason
	}{
		{name: "both from the site PKI", client: ders(device, inter), at: mid, anchors: anchors, wantServer: "anchored", wantClient: "anchored"},
		{name: "client self-signed", client: ders(selfDevice), at: mid, anchors: anchors, wantServer: "anchored", wantClient: "self-signed",
			reason: "self-signed"},
		{name: "client from a vendor CA, root sent", client: ders(vendorDevice, vendor), at: mid, anchors: anchors, wantServer: "anchored",
			wantClient: "self-signed", reason: "Vendor Root"},
		{name: "client from a vendor CA, root not sent", client: ders(vendorDevice), at: mid, anchors: anchors, wantServer: "anchored",
			wantClient: "other-ca", reason: "not sent and is not a trust anchor"},
		{name: "client leaf expired when seen", client: ders(device, inter), at: y(2026), anchors: anchors, wantServer: "anchored",
			wantClient: "expired", reason: "outside its validity"},
		{name: "intermediate expired when seen", client: ders(longDevice, inter), at: y(2031), anchors: anchors, wantServer: "expired",
			wantClient: "expired", reason: "Site Issuing,O=Test was outside its validity"},
		{name: "no anchors: not judged", client: ders(device, inter), at: mid},
		{name: "tls 1.3: not judged", client: nil, at: mid, tls13: true, anchors: anchors},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			s := observe.TLSSession{FirstSeen: tc.at, LastSeen: tc.at, Version: 0x0303, CertRequest: true, CertsEncrypted: tc.tls13,
				Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.9:1000"), Server: netip.MustParseAddrPort("10.0.0.1:443")}}
			serverChain := ders(server, inter)
			if tc.tls13 {
				serverChain = nil
			}
			set.AddTLS(s, serverChain, tc.client)
			AnchorSessions(set, tc.anchors)
			got := set.TLSSessions[0]
			check := func(side string, a *observe.Anchoring, want string) {
				t.Helper()
				switch {
				case want == "" && a != nil:
					t.Errorf("%s: %+v; want no verdict", side, *a)
				case want != "" && a == nil:
					t.Errorf("%s: no verdict; want %s", side, want)
				case want != "" && a.Status != want:
					t.Errorf("%s: %s (%s); want %s", side, a.Status, a.Reason, want)
				}
			}
			check("server", got.ServerAnchoring, tc.wantServer)
			check("client", got.ClientAnchoring, tc.wantClient)
			if a := got.ClientAnchoring; a != nil {
				if a.Status == observe.AnchorAnchored && a.Anchor != root.tmpl.Subject.String() && !strings.Contains(a.Anchor, "Site Root") {
					t.Errorf("anchored to %q", a.Anchor)
				}
				if a.Status != observe.AnchorAnchored && !strings.Contains(a.Reason, tc.reason) {
					t.Errorf("client reason %q; want it to say %q", a.Reason, tc.reason)
				}
			}
		})
	}
}
