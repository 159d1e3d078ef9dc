package certrules

import (
	"crypto/elliptic"
	"slices"
	"testing"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestWeakSignature(t *testing.T) {
	key := linttest.RSAKey(t, 2048)
	root := linttest.New(t, linttest.Spec{CN: "SHA1 Root", Key: key, IsCA: true, Hash: "sha1"})
	inter := linttest.New(t, linttest.Spec{CN: "SHA1 Inter", Key: key, IsCA: true, Issuer: root, Hash: "sha1"})
	leaf := linttest.New(t, linttest.Spec{CN: "leaf", Key: key, Issuer: inter})
	md5Leaf := linttest.New(t, linttest.Spec{CN: "md5 leaf", Key: key, Issuer: inter, Hash: "md5"})
	selfLeafSHA1 := linttest.New(t, linttest.Spec{CN: "device", Key: key, Hash: "sha1"})
	selfLeafMD5 := linttest.New(t, linttest.Spec{CN: "old device", Key: key, Hash: "md5"})
	// A self-issued CA whose signature is another key's (a key rollover) is not
	// self-signed: a collision there forges a CA's signature.
	rollover := linttest.New(t, linttest.Spec{CN: "SHA1 Root", Key: linttest.ECKey(t, elliptic.P256()), IsCA: true, Issuer: root, Hash: "sha1"})
	goodRoot := linttest.New(t, linttest.Spec{CN: "Root", Key: key, IsCA: true})
	goodLeaf := linttest.New(t, linttest.Spec{CN: "good", Key: key, Issuer: goodRoot})
	at := rulestest.T0
	tests := []struct {
		name  string
		set   *observe.Set
		count int
	}{
		{"sha1 intermediate fires, sha1 root exempt", served("162.219.2.166:443", at, leaf.DER, inter.DER, root.DER), 1},
		{"md5 leaf and sha1 intermediate: two findings", served("192.0.2.1:443", at, md5Leaf.DER, inter.DER), 2},
		{"self-signed sha1 leaf (not a CA): its own signature protects nothing", served("192.0.2.1:443", at, selfLeafSHA1.DER), 0},
		{"self-signed md5 leaf: quiet", served("192.0.2.1:443", at, selfLeafMD5.DER), 0},
		{"self-signed sha1 leaf read from a file: quiet", fromFile(selfLeafSHA1.DER, at), 0},
		{"sha1 root read from a file: quiet", fromFile(root.DER, at), 0},
		{"sha1 intermediate read from a file fires", fromFile(inter.DER, at), 1},
		{"self-issued rollover CA signed by another key fires", served("192.0.2.1:443", at, leaf.DER, inter.DER, rollover.DER), 2},
		{"self-signed sha1 CA as the leaf is a trust anchor: quiet", served("192.0.2.1:443", at, root.DER), 0},
		{"sha256 chain quiet", served("192.0.2.1:443", at, goodLeaf.DER, goodRoot.DER), 0},
		{"tls1.3 not applicable", tls13("192.0.2.1:443"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, weakSignature{}, tc.set, nil)
			if len(fs) != tc.count {
				t.Fatalf("got %d findings, want %d: %v", len(fs), tc.count, fs)
			}
			subjects := map[string]bool{}
			for _, f := range fs {
				if f.Severity.String() != "high" || subjects[f.Subject] {
					t.Errorf("finding %+v", f)
				}
				subjects[f.Subject] = true
			}
			if got := rulestest.Keys(fs); len(fs) > 0 && fs[0].Port != 0 && !slices.Contains(got, "high "+fs[0].Host+":443") {
				t.Errorf("keys %v", got)
			}
		})
	}
}
