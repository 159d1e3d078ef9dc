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
	for _, d := range NewCertInventory(records, nil, nil, kinds, time.Now()).WithoutIdentity {
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
