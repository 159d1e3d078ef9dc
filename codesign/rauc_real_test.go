package codesign

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRAUCReal builds RAUC bundles (plain format) with rauc bundle, signed by the test
// PKI's code-signing leaf, and checks a good bundle, a tampered one and a squashfs
// without a signature.
func TestRAUCReal(t *testing.T) {
	needTools(t, "rauc", "mksquashfs")
	p := makePKI(t)
	d := t.TempDir()
	in := filepath.Join(d, "in")
	write(t, filepath.Join(in, "rootfs.img"), image(200_000, 7))
	write(t, filepath.Join(in, "manifest.raucm"), []byte("[update]\ncompatible=pump\nversion=2.1.0\n\n[image.rootfs]\nfilename=rootfs.img\n"))
	out := filepath.Join(d, "out")
	os.Mkdir(out, 0o755)
	run(t, d, nil, "rauc", "bundle", "--cert", filepath.Join(p, "leaf.pem"), "--key", filepath.Join(p, "leaf.key"),
		"--intermediate", filepath.Join(p, "inter.pem"), in, filepath.Join(out, "pump-2.1.0.raucb"))
	b := mustRead(t, filepath.Join(out, "pump-2.1.0.raucb"))
	tb := append([]byte(nil), b...)
	tb[5000] ^= 0x10
	write(t, filepath.Join(out, "tampered-2.1.0.raucb"), tb)
	run(t, d, nil, "mksquashfs", in, filepath.Join(out, "plain.squashfs"), "-noappend", "-quiet")

	imgs := examineDir(t, out, &Policy{Anchors: anchorsFrom(t, filepath.Join(p, "root.pem"))})
	check(t, imgs, "pump-2.1.0.raucb", want{verdict: VerdictVerified, kind: "rauc", trust: TrustTrusted, signer: "Pump Vendor Firmware Signing"})
	check(t, imgs, "tampered-2.1.0.raucb", want{verdict: VerdictInvalid, kind: "rauc"})
	check(t, imgs, "plain.squashfs", want{verdict: VerdictUnsigned})
	if f := imgs["pump-2.1.0.raucb"].Format; f != "rauc" {
		t.Errorf("format %q, want rauc", f)
	}
	if v := imgs["pump-2.1.0.raucb"].Version; v != "2.1.0" {
		t.Errorf("version %q, want 2.1.0", v)
	}
	if f := imgs["plain.squashfs"].Format; f != "squashfs" {
		t.Errorf("format %q, want squashfs", f)
	}
}
