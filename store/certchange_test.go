package store

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// TestDiffCertificatesChanged: an endpoint that presents another leaf in the later scan
// is listed, with whether the key was kept; an unchanged endpoint, a chain's CA, a client
// certificate and an endpoint only one scan saw are not.
func TestDiffCertificatesChanged(t *testing.T) {
	cert := func(sha, spki, host string, port int, role string, pos int) findings.Certificate {
		return findings.Certificate{SHA256: sha, CertFacts: observe.CertFacts{SPKISHA256: spki, Subject: "CN=" + sha},
			SeenOn: []findings.Sighting{{Host: host, Port: port, CertSighting: observe.CertSighting{Role: role, Position: pos}}}}
	}
	prev := &findings.Report{Certificates: []findings.Certificate{
		cert("a1", "k1", "10.0.0.1", 443, "server", 0), // renewed on the same key
		cert("b1", "k2", "10.0.0.2", 443, "server", 0), // rotated
		cert("c1", "k3", "10.0.0.3", 443, "server", 0), // unchanged
		cert("ca", "k9", "10.0.0.3", 443, "server", 1), // a CA in the chain
		cert("d1", "k4", "10.0.0.4", 0, "client", 0),   // a client's
		cert("e1", "k5", "10.0.0.5", 443, "server", 0), // gone from the later scan
	}}
	cur := &findings.Report{Certificates: []findings.Certificate{
		cert("a2", "k1", "10.0.0.1", 443, "server", 0),
		cert("b2", "k6", "10.0.0.2", 443, "server", 0),
		cert("c1", "k3", "10.0.0.3", 443, "server", 0),
		cert("ca2", "k9", "10.0.0.3", 443, "server", 1),
		cert("d2", "k7", "10.0.0.4", 0, "client", 0),
		cert("f1", "k8", "10.0.0.6", 443, "server", 0), // new endpoint
	}}
	got := Diff(prev, cur, nil).CertificatesChanged
	if len(got) != 2 {
		t.Fatalf("changes %+v, want 10.0.0.1:443 and 10.0.0.2:443", got)
	}
	if got[0].Endpoint != "10.0.0.1:443" || !got[0].KeyKept || got[0].Before[0].SHA256 != "a1" || got[0].After[0].SHA256 != "a2" {
		t.Errorf("renewal: %+v", got[0])
	}
	if got[1].Endpoint != "10.0.0.2:443" || got[1].KeyKept {
		t.Errorf("rotation: %+v", got[1])
	}
}

// TestStoredChangeCertificatesChanged: a later scan whose server presents another leaf
// lists it in its change, whether the change is attached to a scan (AttachChange, as
// scan and report do), worked out while the scan streams (StreamWith) or for diff
// (Compare). All read the earlier scan from the store, without its observations: it
// must still bring its certificates.
func TestStoredChangeCertificatesChanged(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	first := mustSave(t, s, testInfo(), fullSet(), testFindings())
	later := observe.NewSet()
	later.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ap("10.0.0.20:50002"), Server: ap("10.0.0.5:443")},
		FirstSeen: t0.Add(24 * time.Hour), Source: observe.SourcePassive, SawClientHello: true, SawServerHello: true,
		Version: 0x0303, Suite: 0xc02f}, [][]byte{fileDER}, nil)
	later.Certificates[certRef(fileDER)].Facts = &observe.CertFacts{Subject: "CN=pacs.example", Issuer: "CN=Hospital Issuing CA",
		SPKISHA256: "spki1", NotAfter: t0.AddDate(2, 0, 0)}
	info := testInfo()
	info.Started, info.Finished = t0.Add(24*time.Hour), t0.Add(25*time.Hour)
	second := mustSave(t, s, info, later, nil)
	if prev, ok, err := s.PreviousScan(ctx, second); err != nil || !ok || prev != first {
		t.Fatalf("previous scan of %d: %d %v %v, want %d", second, prev, ok, err, first)
	}
	check := func(how string, c *findings.Change) {
		t.Helper()
		if c == nil || len(c.CertificatesChanged) != 1 {
			t.Fatalf("%s: change %+v, want 10.0.0.5:443's certificate changed", how, c)
		}
		ch := c.CertificatesChanged[0]
		if ch.Endpoint != "10.0.0.5:443" || !ch.KeyKept || ch.Before[0].SHA256 != hexSHA(leafDER) || ch.After[0].SHA256 != hexSHA(fileDER) {
			t.Errorf("%s: %+v", how, ch)
		}
	}
	r, err := s.Load(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachChange(ctx, r, findings.Catalog{}); err != nil {
		t.Fatal(err)
	}
	check("AttachChange", r.Change)
	streamed, done, err := s.StreamWith(ctx, second, StreamOptions{Catalog: findings.Catalog{}})
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	check("StreamWith", streamed.Change)
	_, compared, err := s.Compare(ctx, first, second, StreamOptions{Catalog: findings.Catalog{}})
	if err != nil {
		t.Fatal(err)
	}
	check("Compare", compared.Change)
	base, err := LoadBaseline(ctx, path, strconv.FormatInt(first, 10))
	if err != nil {
		t.Fatal(err)
	}
	check("a baseline from the store", Diff(base, r, findings.Catalog{}))
}
