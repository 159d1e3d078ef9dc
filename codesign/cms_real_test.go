package codesign

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCMSRealOpenSSL signs images with openssl cms in DER, PEM and S/MIME, with and
// without signed attributes, by trusted, foreign and weak signers, and checks the
// verdicts, the trust and the weaknesses.
func TestCMSRealOpenSSL(t *testing.T) {
	p := makePKI(t)
	d := t.TempDir()
	img := image(300_000, 1)
	sign := func(in, out string, extra ...string) {
		t.Helper()
		args := append([]string{"cms", "-sign", "-binary", "-in", in, "-out", out}, extra...)
		run(t, d, nil, "openssl", args...)
	}
	leaf := []string{"-signer", filepath.Join(p, "leaf.pem"), "-inkey", filepath.Join(p, "leaf.key"), "-certfile", filepath.Join(p, "chain.pem")}
	for _, n := range []string{"der.bin", "pem.bin", "smime.bin", "noattr.bin", "tampered.bin", "other.bin", "foreign.bin", "weak.bin", "unsigned.bin"} {
		write(t, filepath.Join(d, n), img)
	}
	sign("der.bin", "der.bin.p7s", append(leaf, "-outform", "DER")...)
	sign("pem.bin", "pem.bin.p7s", append(leaf, "-outform", "PEM")...)
	sign("smime.bin", "smime.bin.p7s", leaf...)
	sign("noattr.bin", "noattr.bin.sig", append(leaf, "-outform", "DER", "-noattr")...)
	sign("tampered.bin", "tampered.bin.p7s", append(leaf, "-outform", "DER")...)
	// tampered: one byte changed after signing.
	tb := append([]byte(nil), img...)
	tb[1234] ^= 0x40
	write(t, filepath.Join(d, "tampered.bin"), tb)
	// other: the signature of another file renamed beside this one.
	write(t, filepath.Join(d, "another"), image(5000, 9))
	sign("another", "other.bin.p7s", append(leaf, "-outform", "DER")...)
	os.Remove(filepath.Join(d, "another"))
	sign("foreign.bin", "foreign.bin.p7s", "-signer", filepath.Join(p, "otherleaf.pem"), "-inkey", filepath.Join(p, "otherleaf.key"), "-outform", "DER")
	sign("weak.bin", "weak.bin.p7s", "-signer", filepath.Join(p, "weak.pem"), "-inkey", filepath.Join(p, "weak.key"), "-certfile", filepath.Join(p, "chain.pem"), "-md", "sha1", "-outform", "DER")

	pol := &Policy{Anchors: anchorsFrom(t, filepath.Join(p, "root.pem"))}
	imgs := examineDir(t, d, pol)
	good := want{verdict: VerdictVerified, kind: "cms", trust: TrustTrusted, signer: "Pump Vendor Firmware Signing", notWeak: []string{"no-code-signing-eku", "digest-sha1", "long-lived"}}
	check(t, imgs, "der.bin", good)
	check(t, imgs, "pem.bin", good)
	check(t, imgs, "smime.bin", good)
	check(t, imgs, "noattr.bin", good)
	check(t, imgs, "tampered.bin", want{verdict: VerdictInvalid, reason: "digest mismatch"})
	check(t, imgs, "other.bin", want{verdict: VerdictInvalid, reason: "digest mismatch"})
	check(t, imgs, "foreign.bin", want{verdict: VerdictVerified, trust: TrustUntrusted, signer: "Someone Else Signing"})
	check(t, imgs, "weak.bin", want{verdict: VerdictVerified, trust: TrustTrusted, signer: "Weak Firmware Signing",
		weak: []string{"rsa-below-2048", "digest-sha1", "no-code-signing-eku", "long-lived", "cert-signed-sha1"}})
	check(t, imgs, "unsigned.bin", want{verdict: VerdictUnsigned})
	if len(imgs) != 9 {
		t.Errorf("%d images, want 9 (signatures must not be taken for images): %v", len(imgs), imgs)
	}

	// Without anchors: the same facts, the signer not judged.
	imgs = examineDir(t, d, nil)
	check(t, imgs, "der.bin", want{verdict: VerdictVerified, trust: TrustNotJudged, signer: "Pump Vendor Firmware Signing"})
	check(t, imgs, "foreign.bin", want{verdict: VerdictVerified, trust: TrustNotJudged})
}
