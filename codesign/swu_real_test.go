package codesign

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// swDescription is a libconfig sw-description template; swugenerator fills in the sha256.
const swDescriptionTmpl = `software =
{
	version = "4.2.0";
	hardware-compatibility: [ "1.0" ];
	images: (
		{
			filename = "rootfs.img";
			device = "/dev/mmcblk0p2";
			sha256 = "$swupdate_get_sha256(rootfs.img)";
		}
	);
	scripts: (
		{
			filename = "post.sh";
			type = "shellscript";
			sha256 = "$swupdate_get_sha256(post.sh)";
		}
	);
};
`

// makeSWU runs swugenerator in dir (which holds sw-description and the artifacts) with
// the signing option sign ("" for none), and returns the image's bytes.
func makeSWU(t *testing.T, dir, out, sign string) []byte {
	t.Helper()
	args := []string{"-s", filepath.Join(dir, "sw-description"), "-a", dir, "-o", out}
	if sign != "" {
		args = append(args, "-k", sign)
	}
	run(t, dir, nil, "swugenerator", append(args, "create")...)
	return mustRead(t, out)
}

// TestSWUpdateReal signs SWUpdate images with swugenerator (CMS with the PKI's leaf,
// another root's leaf and the weak leaf; raw RSA with the leaf's bare key), tampers
// with an artifact and with sw-description, and checks each verdict.
func TestSWUpdateReal(t *testing.T) {
	needTools(t, "swugenerator", "openssl")
	p := makePKI(t)
	d := t.TempDir()
	src := filepath.Join(d, "src")
	write(t, filepath.Join(src, "sw-description"), []byte(swDescriptionTmpl))
	write(t, filepath.Join(src, "rootfs.img"), image(300_000, 3))
	write(t, filepath.Join(src, "post.sh"), []byte("#!/bin/sh\necho done\n"))
	out := filepath.Join(d, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	pk := func(n string) string { return filepath.Join(p, n) }
	good := makeSWU(t, src, filepath.Join(out, "pump.swu"), "CMS,"+pk("leaf.key")+","+pk("leaf.pem"))
	makeSWU(t, src, filepath.Join(out, "unsigned.swu"), "")
	makeSWU(t, src, filepath.Join(out, "other.swu"), "CMS,"+pk("otherleaf.key")+","+pk("otherleaf.pem"))
	makeSWU(t, src, filepath.Join(out, "weak.swu"), "CMS,"+pk("weak.key")+","+pk("weak.pem"))
	makeSWU(t, src, filepath.Join(out, "rsa.swu"), "RSA,"+pk("leaf.key"))
	// An artifact changed after signing: one byte inside rootfs.img's data.
	tampered := bytes.Clone(good)
	at := bytes.Index(tampered, []byte("rootfs.img\x00"))
	if at < 0 {
		t.Fatal("rootfs.img not found in the image")
	}
	tampered[at+5000] ^= 0x01
	write(t, filepath.Join(out, "tampered.swu"), tampered)
	// sw-description changed after signing: the version's digit.
	desc := bytes.Clone(good)
	at = bytes.Index(desc, []byte(`"4.2.0"`))
	desc[at+1] = '5'
	write(t, filepath.Join(out, "desc.swu"), desc)
	// the bare RSA key, as the vendor would publish it
	run(t, p, nil, "openssl", "pkey", "-in", pk("leaf.key"), "-pubout", "-out", pk("leaf.pub.pem"))
	run(t, p, nil, "openssl", "pkey", "-in", pk("otherleaf.key"), "-pubout", "-out", pk("other.pub.pem"))

	imgs := examineDir(t, out, &Policy{Anchors: anchorsFrom(t, pk("root.pem"), pk("inter.pem"), pk("leaf.pub.pem"))})
	check(t, imgs, "pump.swu", want{verdict: VerdictVerified, kind: "swupdate", trust: TrustTrusted, signer: "Pump Vendor Firmware Signing",
		notWeak: []string{"no-code-signing-eku", "long-lived"}})
	check(t, imgs, "unsigned.swu", want{verdict: VerdictUnsigned})
	check(t, imgs, "other.swu", want{verdict: VerdictVerified, kind: "swupdate", trust: TrustUntrusted, signer: "Someone Else Signing"})
	check(t, imgs, "weak.swu", want{verdict: VerdictVerified, kind: "swupdate", trust: TrustTrusted, signer: "Weak Firmware Signing",
		weak: []string{"rsa-below-2048", "cert-signed-sha1", "no-code-signing-eku", "long-lived"}})
	check(t, imgs, "tampered.swu", want{verdict: VerdictInvalid, kind: "swupdate", reason: "artifact rootfs.img differs"})
	check(t, imgs, "desc.swu", want{verdict: VerdictInvalid, kind: "swupdate", reason: "digest mismatch"})
	check(t, imgs, "rsa.swu", want{verdict: VerdictVerified, kind: "swupdate-rsa", trust: TrustTrusted, signer: "public key leaf.pub.pem"})
	if im := imgs["pump.swu"]; im.Format != "swupdate" || im.Version != "4.2.0" {
		t.Errorf("pump.swu: format %q version %q, want swupdate 4.2.0", im.Format, im.Version)
	}

	// The raw RSA image under another vendor key: not checked, untrusted; without any
	// anchor: not checked, not judged.
	imgs = examineDir(t, out, &Policy{Anchors: anchorsFrom(t, pk("other.pub.pem"))})
	check(t, imgs, "rsa.swu", want{verdict: VerdictUnknown, trust: TrustUntrusted, reason: "none of the policy's public keys"})
	imgs = examineDir(t, out, &Policy{})
	check(t, imgs, "rsa.swu", want{verdict: VerdictUnknown, trust: TrustNotJudged, reason: "bare key"})
	check(t, imgs, "pump.swu", want{verdict: VerdictVerified, trust: TrustNotJudged})
	check(t, imgs, "tampered.swu", want{verdict: VerdictInvalid})
}
