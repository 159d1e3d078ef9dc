package codesign

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/medscan/medscan/internal/updatetest"
)

// makeMender runs mender-artifact write rootfs-image in dir, signed with key ("" for
// unsigned), and returns the artifact's bytes.
func makeMender(t *testing.T, dir, payload, out, key string) []byte {
	t.Helper()
	args := []string{"write", "rootfs-image", "-t", "pump", "-n", "release-2.1", "-f", payload, "-o", out}
	if key != "" {
		args = append(args, "-k", key)
	}
	run(t, dir, nil, "mender-artifact", args...)
	return mustRead(t, out)
}

// TestMenderReal writes Mender artifacts with mender-artifact: signed with the vendor's
// ECDSA key and with its RSA key, unsigned, signed with another key, and a signed one
// whose payload was repacked with a changed byte; each judged with the vendor's public
// keys as the policy's anchors.
func TestMenderReal(t *testing.T) {
	needTools(t, "mender-artifact", "openssl")
	d := t.TempDir()
	sh := func(args ...string) { run(t, d, nil, "openssl", args...) }
	sh("ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", "vendor-ec.key")
	sh("pkey", "-in", "vendor-ec.key", "-pubout", "-out", "vendor-ec.pub.pem")
	// mender-artifact reads RSA keys in PKCS #1 form only.
	sh("genrsa", "-traditional", "-out", "vendor-rsa.key", "3072")
	sh("pkey", "-in", "vendor-rsa.key", "-pubout", "-out", "vendor-rsa.pub.pem")
	sh("genrsa", "-traditional", "-out", "weak.key", "1024")
	sh("pkey", "-in", "weak.key", "-pubout", "-out", "weak.pub.pem")
	sh("ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", "other.key")
	write(t, filepath.Join(d, "rootfs.img"), image(250_000, 9))
	out := filepath.Join(d, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	o := func(n string) string { return filepath.Join(out, n) }
	good := makeMender(t, d, "rootfs.img", o("pump-2.1.mender"), "vendor-ec.key")
	makeMender(t, d, "rootfs.img", o("pump-rsa-2.1.mender"), "vendor-rsa.key")
	makeMender(t, d, "rootfs.img", o("unsigned-2.1.mender"), "")
	makeMender(t, d, "rootfs.img", o("other-2.1.mender"), "other.key")
	makeMender(t, d, "rootfs.img", o("weak-2.1.mender"), "weak.key")
	write(t, o("tampered-2.1.mender"), updatetest.TamperMender(t, good))

	anchors := anchorsFrom(t, filepath.Join(d, "vendor-ec.pub.pem"), filepath.Join(d, "vendor-rsa.pub.pem"), filepath.Join(d, "weak.pub.pem"))
	imgs := examineDir(t, out, &Policy{Anchors: anchors})
	check(t, imgs, "pump-2.1.mender", want{verdict: VerdictVerified, kind: "mender", trust: TrustTrusted, signer: "public key vendor-ec.pub.pem"})
	check(t, imgs, "pump-rsa-2.1.mender", want{verdict: VerdictVerified, kind: "mender", trust: TrustTrusted, signer: "public key vendor-rsa.pub.pem",
		notWeak: []string{"rsa-below-2048"}})
	check(t, imgs, "weak-2.1.mender", want{verdict: VerdictVerified, kind: "mender", trust: TrustTrusted, weak: []string{"rsa-below-2048"}})
	check(t, imgs, "unsigned-2.1.mender", want{verdict: VerdictUnsigned})
	check(t, imgs, "other-2.1.mender", want{verdict: VerdictUnknown, kind: "mender", trust: TrustUntrusted, reason: "none of the policy's public keys"})
	check(t, imgs, "tampered-2.1.mender", want{verdict: VerdictInvalid, kind: "mender", reason: "data/0000/rootfs.img differs"})
	if im := imgs["pump-2.1.mender"]; im.Format != "mender" {
		t.Errorf("format %q, want mender", im.Format)
	}
	if im := imgs["pump-2.1.mender"]; im.Signatures[0].Signer.KeyType != "ecdsa" || im.Signatures[0].Signer.KeyBits != 256 {
		t.Errorf("signer %+v, want an ECDSA P-256 key", im.Signatures[0].Signer)
	}

	// A payload whose gzip stream is damaged (not repacked) is invalid too: the signer
	// made one that decompresses.
	broken := bytes.Clone(good)
	at := bytes.Index(broken, []byte("data/0000.tar.gz"))
	broken[at+512+2000] ^= 0xff
	write(t, o("broken-2.1.mender"), broken)
	// Without anchors the signature cannot be checked (it names no key), but the
	// tampering shows through the manifest all the same.
	imgs = examineDir(t, out, &Policy{})
	check(t, imgs, "pump-2.1.mender", want{verdict: VerdictUnknown, trust: TrustNotJudged, reason: "bare key"})
	check(t, imgs, "tampered-2.1.mender", want{verdict: VerdictInvalid})
	check(t, imgs, "broken-2.1.mender", want{verdict: VerdictInvalid, reason: "corrupt"})
}
