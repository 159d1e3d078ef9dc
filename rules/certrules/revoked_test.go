package certrules

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

// crlOf is a CRL by ca revoking serials, valid from this to next, as DER or PEM.
func crlOf(t *testing.T, ca *linttest.Cert, this, next time.Time, asPEM bool, serials ...*big.Int) *lint.CRL {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(7), ThisUpdate: this, NextUpdate: next}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: s, RevocationTime: this.Add(-time.Hour), ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.X509, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	data := der
	if asPEM {
		data = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
	}
	crl, err := lint.ParseCRL("site.crl", data)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

func TestRevoked(t *testing.T) {
	at := day(2026, 6, 1)
	ca := linttest.New(t, linttest.Spec{CN: "Site CA", IsCA: true, NotBefore: day(2024, 1, 1), NotAfter: day(2034, 1, 1)})
	other := linttest.New(t, linttest.Spec{CN: "Other CA", IsCA: true, NotBefore: day(2024, 1, 1), NotAfter: day(2034, 1, 1)})
	leaf := linttest.New(t, linttest.Spec{CN: "ehr", Issuer: ca, NotBefore: day(2026, 1, 1), NotAfter: day(2027, 1, 1)})
	good := linttest.New(t, linttest.Spec{CN: "pacs", Issuer: ca, NotBefore: day(2026, 1, 1), NotAfter: day(2027, 1, 1)})
	fresh := func(serials ...*big.Int) *lint.CRL {
		return crlOf(t, ca, at.AddDate(0, 0, -1), at.AddDate(0, 0, 6), false, serials...)
	}
	pol := func(crls ...*lint.CRL) *rules.Policy {
		p := rules.DefaultPolicy()
		p.CRLs = crls
		return p
	}
	tests := []struct {
		name  string
		rule  rules.Rule
		set   func() *observe.Set
		pol   *rules.Policy
		want  []string
		check string // in the evidence's crl_signature
	}{
		{"revoked leaf is critical, the CRL verified by the CA sent in the chain", revoked{},
			func() *observe.Set { return served("10.20.0.20:443", at, leaf.DER, ca.DER) }, pol(fresh(leaf.X509.SerialNumber)),
			[]string{"critical 10.20.0.20:443"}, "verified with CN=Site CA"},
		{"revoked, the CA not seen: reported, not verified", revoked{},
			func() *observe.Set { return served("10.20.0.20:443", at, leaf.DER) }, pol(fresh(leaf.X509.SerialNumber)),
			[]string{"critical 10.20.0.20:443"}, "not verified"},
		{"PEM CRL", revoked{}, func() *observe.Set { return served("10.20.0.20:443", at, leaf.DER) },
			pol(crlOf(t, ca, at, at.AddDate(0, 0, 7), true, leaf.X509.SerialNumber)), []string{"critical 10.20.0.20:443"}, "not verified"},
		{"a certificate the list does not name", revoked{}, func() *observe.Set { return served("10.20.0.21:443", at, good.DER) },
			pol(fresh(leaf.X509.SerialNumber)), nil, ""},
		{"the same serial from another issuer", revoked{}, func() *observe.Set { return served("10.20.0.20:443", at, leaf.DER) },
			pol(crlOf(t, other, at, at.AddDate(0, 0, 7), false, leaf.X509.SerialNumber)), nil, ""},
		{"no CRL in the policy", revoked{}, func() *observe.Set { return served("10.20.0.20:443", at, leaf.DER) }, nil, nil, ""},
		{"revoked certificate in a file", revoked{}, func() *observe.Set { return fromFile(leaf.DER, at) },
			pol(fresh(leaf.X509.SerialNumber)), []string{"critical :0"}, "not verified"},
		{"stale CRL", revocationStale{}, func() *observe.Set { return served("10.20.0.21:443", at, good.DER) },
			pol(crlOf(t, ca, at.AddDate(0, 0, -40), at.AddDate(0, 0, -10), false)), []string{"medium :0"}, "not verified"},
		{"current CRL", revocationStale{}, func() *observe.Set { return served("10.20.0.21:443", at, good.DER) }, pol(fresh()), nil, ""},
		{"stale CRL of an issuer not seen", revocationStale{}, func() *observe.Set { return served("10.20.0.21:443", at, good.DER) },
			pol(crlOf(t, other, at.AddDate(0, 0, -40), at.AddDate(0, 0, -10), false)), nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, tc.rule, tc.set(), tc.pol)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if s, _ := f.Evidence["crl_signature"].(string); !strings.Contains(s, tc.check) || f.Evidence["crl_file"] != "site.crl" {
					t.Errorf("evidence %v", f.Evidence)
				}
			}
		})
	}
}

func TestParseCRLErrors(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"", "not a CRL"},
		{"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", `a PEM "CERTIFICATE" block`},
		{"-----BEGIN X509 CRL-----\n!!\n", "PEM that does not decode"},
	} {
		if _, err := lint.ParseCRL("x.crl", []byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) ||
			!strings.HasPrefix(err.Error(), "x.crl: ") {
			t.Errorf("ParseCRL(%q) = %v, want an error naming the file with %q", c.data, err, c.want)
		}
	}
}

func TestRevokedByStaple(t *testing.T) {
	at := day(2026, 6, 1)
	ca := linttest.New(t, linttest.Spec{CN: "Site CA", IsCA: true, NotBefore: day(2024, 1, 1), NotAfter: day(2034, 1, 1)})
	leaf := linttest.New(t, linttest.Spec{CN: "ehr", Issuer: ca, NotBefore: day(2026, 1, 1), NotAfter: day(2027, 1, 1)})
	stapled := func(st observe.OCSPStaple) func() *observe.Set {
		return func() *observe.Set {
			set := served("10.20.0.20:443", at, leaf.DER, ca.DER)
			set.TLSSessions[0].OCSPStaple = &st
			return set
		}
	}
	revokedStaple := observe.OCSPStaple{Status: "revoked", ForLeaf: true, Verified: true, RevokedAt: at.AddDate(0, 0, -3),
		Reason: "keyCompromise", ThisUpdate: at.Add(-time.Hour), NextUpdate: at.AddDate(0, 0, 1)}
	notLeaf := revokedStaple
	notLeaf.ForLeaf = false
	good := observe.OCSPStaple{Status: "good", ForLeaf: true, Verified: true, ThisUpdate: at.Add(-time.Hour), NextUpdate: at.AddDate(0, 0, 1)}
	stale := good
	stale.NextUpdate = at.AddDate(0, 0, -2)
	tests := []struct {
		name string
		rule rules.Rule
		set  func() *observe.Set
		want []string
	}{
		{"a revoked staple for the leaf", revoked{}, stapled(revokedStaple), []string{"critical 10.20.0.20:443"}},
		{"a revoked staple for another serial", revoked{}, stapled(notLeaf), nil},
		{"a good staple", revoked{}, stapled(good), nil},
		{"a current staple is not stale", revocationStale{}, stapled(good), nil},
		{"a staple past its nextUpdate", revocationStale{}, stapled(stale), []string{"medium 10.20.0.20:443"}},
		{"no staple", revocationStale{}, func() *observe.Set { return served("10.20.0.20:443", at, leaf.DER, ca.DER) }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, tc.rule, tc.set(), nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if f.Evidence["ocsp_signature"] != "verified with the issuer the server sent" {
					t.Errorf("evidence %v", f.Evidence)
				}
			}
		})
	}
}
