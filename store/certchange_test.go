package store

import (
	"testing"

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
