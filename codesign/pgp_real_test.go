package codesign

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// gpgHome makes a throw-away GnuPG home with one signing key, and stops its agent (the
// one process gpg starts) when the test ends.
func gpgHome(t *testing.T, uid, algo string) (home string, env []string) {
	t.Helper()
	needTools(t, "gpg", "gpgconf")
	home, err := os.MkdirTemp("", "medscan-gpg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	env = []string{"GNUPGHOME=" + home}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		exec.CommandContext(ctx, "gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		os.RemoveAll(home)
	})
	run(t, home, env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid, algo, "sign", "never")
	return home, env
}

// TestOpenPGPRealGPG signs with gpg (armored, binary, a SHA256SUMS with a detached
// signature, a clear-signed SHA256SUMS) and checks verdicts with the key as an anchor,
// beside the images, and missing.
func TestOpenPGPRealGPG(t *testing.T) {
	home, env := gpgHome(t, "Pump Vendor Releases <releases@pump.example>", "rsa3072")
	_, env2 := gpgHome(t, "Someone Else <x@else.example>", "ed25519")
	d := t.TempDir()
	img := image(200_000, 2)
	for _, n := range []string{"arm.img", "bin.img", "tampered.img", "foreign.img", "m1.img", "m2.img", "c1.img", "sha1.img"} {
		write(t, filepath.Join(d, "rel", n), img)
	}
	rel := filepath.Join(d, "rel")
	gpg := func(env []string, args ...string) {
		t.Helper()
		run(t, rel, env, "gpg", append([]string{"--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
	}
	gpg(env, "--armor", "--detach-sign", "-o", "arm.img.asc", "arm.img")
	gpg(env, "--detach-sign", "-o", "bin.img.sig", "bin.img")
	gpg(env, "--detach-sign", "-o", "tampered.img.sig", "tampered.img")
	gpg(env, "--digest-algo", "SHA1", "--detach-sign", "-o", "sha1.img.sig", "sha1.img")
	tb := append([]byte(nil), img...)
	tb[77] ^= 1
	write(t, filepath.Join(rel, "tampered.img"), tb)
	gpg(env2, "--detach-sign", "-o", "foreign.img.sig", "foreign.img")
	// A manifest with a detached signature, listing m1 right and m2 wrong.
	write(t, filepath.Join(rel, "SHA256SUMS"), []byte(SHA256Hex(img)+"  m1.img\n"+SHA256Hex([]byte("x"))+"  m2.img\n"))
	gpg(env, "--armor", "--detach-sign", "-o", "SHA256SUMS.asc", "SHA256SUMS")
	// A clear-signed manifest in its own folder.
	cs := filepath.Join(d, "cs")
	write(t, filepath.Join(cs, "c1.img"), img)
	write(t, filepath.Join(cs, "c2.img"), image(100, 5))
	write(t, filepath.Join(cs, "sums"), []byte(SHA256Hex(img)+" *c1.img\n"+SHA256Hex(image(100, 6))+"  c2.img\n"))
	run(t, cs, env, "gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", "--clearsign", "-o", "SHA256SUMS.asc", "sums")
	os.Remove(filepath.Join(cs, "sums"))
	os.Remove(filepath.Join(rel, "c1.img"))

	keyFile := filepath.Join(d, "vendor.asc")
	write(t, keyFile, run(t, home, env, "gpg", "--batch", "--armor", "--export"))
	binKey := filepath.Join(d, "vendor.gpg")
	write(t, binKey, run(t, home, env, "gpg", "--batch", "--export"))

	for _, kf := range []string{keyFile, binKey} {
		pol := &Policy{Anchors: anchorsFrom(t, kf)}
		imgs := examineDir(t, rel, pol)
		good := want{verdict: VerdictVerified, kind: "openpgp", trust: TrustTrusted, signer: "Pump Vendor Releases"}
		check(t, imgs, "arm.img", good)
		check(t, imgs, "bin.img", good)
		check(t, imgs, "tampered.img", want{verdict: VerdictInvalid, reason: "does not match"})
		check(t, imgs, "sha1.img", want{verdict: VerdictVerified, trust: TrustTrusted, weak: []string{"digest-sha1"}})
		check(t, imgs, "foreign.img", want{verdict: VerdictUnknown, trust: TrustUntrusted, reason: "no key"})
		check(t, imgs, "m1.img", want{verdict: VerdictVerified, kind: "manifest", trust: TrustTrusted, signer: "Pump Vendor Releases"})
		check(t, imgs, "m2.img", want{verdict: VerdictInvalid, kind: "manifest", reason: "lists another sha256"})
		if len(imgs) != 7 {
			t.Errorf("%d images, want 7", len(imgs))
		}
		cimgs := examineDir(t, cs, pol)
		check(t, cimgs, "c1.img", want{verdict: VerdictVerified, kind: "manifest", trust: TrustTrusted, signer: "Pump Vendor Releases"})
		check(t, cimgs, "c2.img", want{verdict: VerdictInvalid, reason: "lists another"})
	}

	// No anchors: without a key nothing verifies (unknown), the signer's key ID is named.
	imgs := examineDir(t, rel, nil)
	check(t, imgs, "arm.img", want{verdict: VerdictUnknown, trust: TrustNotJudged, signer: "OpenPGP key", reason: "no key"})
	// The vendor's key served beside the images: verifies, signer not judged; with
	// other anchors, untrusted.
	write(t, filepath.Join(rel, "vendor-key.asc"), mustRead(t, keyFile))
	imgs = examineDir(t, rel, nil)
	check(t, imgs, "arm.img", want{verdict: VerdictVerified, trust: TrustNotJudged, signer: "Pump Vendor Releases"})
	p := makePKI(t)
	imgs = examineDir(t, rel, &Policy{Anchors: anchorsFrom(t, filepath.Join(p, "root.pem"))})
	check(t, imgs, "arm.img", want{verdict: VerdictVerified, trust: TrustUntrusted})
	if _, ok := imgs["vendor-key.asc"]; ok {
		t.Error("a public key served beside the images was taken for an image")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
