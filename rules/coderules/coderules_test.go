package coderules

import (
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

func img(name, sum, verdict string, sigs ...observe.UpdateSignature) observe.UpdateImage {
	return observe.UpdateImage{Name: name, Origin: "http://10.0.0.5:80", Dir: "/fw", SHA256: sum, Size: 100000,
		Verdict: verdict, Signatures: sigs, Required: true, Clients: []string{"10.0.0.21"}, Source: observe.SourcePassive, Time: t0,
		Version: "2.1"}
}

var (
	good     = observe.UpdateSignature{Kind: "cms", Checked: true, Verifies: true, Trust: "trusted", Signer: observe.UpdateSigner{Subject: "CN=Vendor"}}
	notJudge = observe.UpdateSignature{Kind: "cms", Checked: true, Verifies: true, Trust: "not-judged"}
	foreign  = observe.UpdateSignature{Kind: "cms", Checked: true, Verifies: true, Trust: "untrusted", Signer: observe.UpdateSigner{Subject: "CN=Else"}}
	bad      = observe.UpdateSignature{Kind: "openpgp", Checked: true, Reason: "does not match", Trust: "not-judged"}
	nokey    = observe.UpdateSignature{Kind: "openpgp", Reason: "no key", Trust: "untrusted", Signer: observe.UpdateSigner{KeyID: "AB"}}
	weakSig  = observe.UpdateSignature{Kind: "cms", Checked: true, Verifies: true, Trust: "trusted", Weaknesses: []string{"digest-sha1", "no-code-signing-eku"}}
	md5Sig   = observe.UpdateSignature{Kind: "cms", Checked: true, Verifies: true, Trust: "trusted", Weaknesses: []string{"digest-md5"}}
)

func TestRules(t *testing.T) {
	cut := img("a.bin", "aa", "unknown", bad)
	cut.Cut = true
	notRequired := img("readme.txt", "aa", "unsigned")
	notRequired.Required = false
	other := img("a.bin", "bb", "verified", good)
	other.Clients = []string{"10.0.0.22"}
	otherVersion := img("a.bin", "cc", "verified", good)
	otherVersion.Version = "2.2"
	file := img("b.bin", "dd", "unsigned")
	file.Origin, file.Dir, file.Source = "file", "delivery", observe.SourceFile
	cases := []struct {
		name  string
		rule  string
		imgs  []observe.UpdateImage
		want  int
		sev   findings.Severity
		host  string
		file_ string
	}{
		{"unsigned fires", "update-unsigned", []observe.UpdateImage{img("a.bin", "aa", "unsigned")}, 1, findings.High, "10.0.0.5", ""},
		{"unsigned on a file", "update-unsigned", []observe.UpdateImage{file}, 1, findings.High, "", "delivery/b.bin"},
		{"unsigned quiet when signed", "update-unsigned", []observe.UpdateImage{img("a.bin", "aa", "verified", good)}, 0, 0, "", ""},
		{"unsigned n/a: not required", "update-unsigned", []observe.UpdateImage{notRequired}, 0, 0, "", ""},
		{"invalid fires", "update-signature-invalid", []observe.UpdateImage{img("a.bin", "aa", "invalid", bad)}, 1, findings.Critical, "10.0.0.5", ""},
		{"invalid quiet", "update-signature-invalid", []observe.UpdateImage{img("a.bin", "aa", "verified", good, bad)}, 0, 0, "", ""},
		{"invalid n/a: cut", "update-signature-invalid", []observe.UpdateImage{cut}, 0, 0, "", ""},
		{"untrusted fires", "update-signer-untrusted", []observe.UpdateImage{img("a.bin", "aa", "verified", foreign)}, 1, findings.High, "10.0.0.5", ""},
		{"untrusted fires: key not among anchors", "update-signer-untrusted", []observe.UpdateImage{img("a.bin", "aa", "unknown", nokey)}, 1, findings.High, "10.0.0.5", ""},
		{"untrusted quiet: one trusted", "update-signer-untrusted", []observe.UpdateImage{img("a.bin", "aa", "verified", foreign, good)}, 0, 0, "", ""},
		{"untrusted n/a: not judged", "update-signer-untrusted", []observe.UpdateImage{img("a.bin", "aa", "verified", notJudge)}, 0, 0, "", ""},
		{"weak fires medium", "update-signer-weak", []observe.UpdateImage{img("a.bin", "aa", "verified", weakSig)}, 1, findings.Medium, "10.0.0.5", ""},
		{"weak fires high for md5", "update-signer-weak", []observe.UpdateImage{img("a.bin", "aa", "verified", md5Sig)}, 1, findings.High, "10.0.0.5", ""},
		{"weak quiet", "update-signer-weak", []observe.UpdateImage{img("a.bin", "aa", "verified", good)}, 0, 0, "", ""},
		{"weak n/a: invalid", "update-signer-weak", []observe.UpdateImage{img("a.bin", "aa", "invalid", bad)}, 0, 0, "", ""},
		{"inconsistent fires", "update-inconsistent", []observe.UpdateImage{img("a.bin", "aa", "verified", good), other}, 1, findings.High, "10.0.0.5", ""},
		{"inconsistent quiet: same bytes", "update-inconsistent", []observe.UpdateImage{img("a.bin", "aa", "verified", good), img("a.bin", "aa", "verified", good)}, 0, 0, "", ""},
		{"inconsistent quiet: other version", "update-inconsistent", []observe.UpdateImage{img("a.bin", "aa", "verified", good), otherVersion}, 0, 0, "", ""},
		{"inconsistent n/a: cut", "update-inconsistent", []observe.UpdateImage{img("a.bin", "bb", "verified", good), cut}, 0, 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, u := range c.imgs {
				set.AddUpdate(u)
			}
			var got []findings.Finding
			for _, f := range rules.Evaluate(set, nil) {
				if f.Rule == c.rule {
					got = append(got, f)
				}
			}
			if len(got) != c.want {
				t.Fatalf("%d findings of %s, want %d: %+v", len(got), c.rule, c.want, got)
			}
			if c.want == 0 {
				return
			}
			f := got[0]
			if f.Severity != c.sev || f.Host != c.host || f.File != c.file_ {
				t.Errorf("severity %v host %q file %q, want %v %q %q", f.Severity, f.Host, f.File, c.sev, c.host, c.file_)
			}
			if f.Evidence["name"] == "" || f.Evidence["origin"] == "" {
				t.Errorf("evidence lacks the image's name or origin: %v", f.Evidence)
			}
		})
	}
}
