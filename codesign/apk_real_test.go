package codesign

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// makeZip writes a zip archive of files (name → bytes), stored (not deflated) so that a
// test can change one byte of an entry in place.
func makeZip(t *testing.T, p string, files [][2]string) {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(f[1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	write(t, p, b.Bytes())
}

// keystore makes a PKCS #12 key store with one RSA key and its self-signed certificate
// (keytool), and exports the certificate as PEM.
func keystore(t *testing.T, dir, name, bits, sigalg string) {
	t.Helper()
	run(t, dir, nil, "keytool", "-genkeypair", "-keystore", name+".p12", "-storetype", "PKCS12", "-storepass", "secret1",
		"-keypass", "secret1", "-alias", name, "-keyalg", "RSA", "-keysize", bits, "-sigalg", sigalg,
		"-dname", "CN="+name+" Vendor Signing, O=Test", "-validity", "700")
	run(t, dir, nil, "keytool", "-exportcert", "-rfc", "-keystore", name+".p12", "-storepass", "secret1", "-alias", name,
		"-file", name+".pem")
}

// flipIn changes one byte of the first occurrence of marker in the file.
func flipIn(t *testing.T, src, dst string, marker []byte) {
	t.Helper()
	b := mustRead(t, src)
	i := bytes.Index(b, marker)
	if i < 0 {
		t.Fatalf("%s: marker not found", src)
	}
	b = bytes.Clone(b)
	b[i+len(marker)/2] ^= 0x01
	write(t, dst, b)
}

// TestAPKReal signs a minimal APK with apksigner (schemes v1, v2 and v3) and checks a
// good one, one with an entry changed after signing, an unsigned one, one signed by a
// key that is not the anchor, and one whose v2/v3 block was stripped.
func TestAPKReal(t *testing.T) {
	needTools(t, "apksigner", "keytool")
	d := t.TempDir()
	keystore(t, d, "app", "2048", "SHA256withRSA")
	keystore(t, d, "other", "2048", "SHA256withRSA")
	dex := string(image(300_000, 3))
	makeZip(t, filepath.Join(d, "app.apk"), [][2]string{{"AndroidManifest.xml", "<manifest package=\"example.pump\"/>"},
		{"classes.dex", dex}, {"res/values.txt", "pump settings"}})
	out := filepath.Join(d, "out")
	os.Mkdir(out, 0o755)
	sign := func(ks, name string, extra ...string) {
		args := append([]string{"sign", "--ks", filepath.Join(d, ks+".p12"), "--ks-pass", "pass:secret1",
			"--min-sdk-version", "21", "--v1-signing-enabled", "true", "--v2-signing-enabled", "true"}, extra...)
		run(t, d, nil, "apksigner", append(args, "--out", filepath.Join(out, name), filepath.Join(d, "app.apk"))...)
		os.Remove(filepath.Join(out, name+".idsig"))
	}
	sign("app", "pump-app-2.1.0.apk", "--v3-signing-enabled", "true")
	sign("other", "other-app-2.1.0.apk", "--v3-signing-enabled", "true")
	flipIn(t, filepath.Join(out, "pump-app-2.1.0.apk"), filepath.Join(out, "tampered-app-2.1.0.apk"), []byte(dex[5000:5064]))
	write(t, filepath.Join(out, "unsigned-app-2.1.0.apk"), mustRead(t, filepath.Join(d, "app.apk")))
	// Stripped: the signed entries copied into a new archive, the signing block left
	// behind; the v1 signature says v2 and v3 were there.
	zr, err := zip.OpenReader(filepath.Join(out, "pump-app-2.1.0.apk"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range zr.File {
		if err := w.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	zr.Close()
	write(t, filepath.Join(out, "stripped-app-2.1.0.apk"), b.Bytes())

	imgs := examineDir(t, out, &Policy{Anchors: anchorsFrom(t, filepath.Join(d, "app.pem"))})
	check(t, imgs, "pump-app-2.1.0.apk", want{verdict: VerdictVerified, trust: TrustTrusted, signer: "app Vendor Signing",
		notWeak: []string{"no-code-signing-eku", "digest-sha1"}})
	kinds := map[string]bool{}
	for _, s := range imgs["pump-app-2.1.0.apk"].Signatures {
		if s.Verifies && s.Trust == TrustTrusted {
			kinds[s.Kind] = true
		}
	}
	if !kinds["apk-v1"] || !kinds["apk-v2"] || !kinds["apk-v3"] {
		t.Errorf("good APK: verified schemes %v, want v1, v2 and v3", kinds)
	}
	if f := imgs["pump-app-2.1.0.apk"].Format; f != "apk" {
		t.Errorf("format %q, want apk", f)
	}
	check(t, imgs, "tampered-app-2.1.0.apk", want{verdict: VerdictInvalid, kind: "apk-v3", reason: "digest mismatch"})
	for _, s := range imgs["tampered-app-2.1.0.apk"].Signatures {
		if s.Verifies || !s.Checked {
			t.Errorf("tampered APK: %s signature verifies %v checked %v (%s)", s.Kind, s.Verifies, s.Checked, s.Reason)
		}
	}
	check(t, imgs, "unsigned-app-2.1.0.apk", want{verdict: VerdictUnsigned})
	check(t, imgs, "other-app-2.1.0.apk", want{verdict: VerdictVerified, trust: TrustUntrusted, signer: "other Vendor Signing"})
	check(t, imgs, "stripped-app-2.1.0.apk", want{verdict: VerdictInvalid, kind: "apk-v1", reason: "stripped"})
}

// TestJARReal signs a JAR with jarsigner (SHA-256 and RSA-2048; and SHA-1 with
// RSA-1024, the weak case) and checks a good one, one with an entry added after
// signing, one whose entry changed, and an unsigned one.
func TestJARReal(t *testing.T) {
	needTools(t, "jarsigner", "keytool")
	d := t.TempDir()
	keystore(t, d, "vendor", "2048", "SHA256withRSA")
	keystore(t, d, "weak", "1024", "SHA1withRSA")
	out := filepath.Join(d, "out")
	os.Mkdir(out, 0o755)
	class := string(image(100_000, 4))
	entries := [][2]string{{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\n"},
		{"com/example/Pump.class", class}, {"com/example/config.properties", "rate=5\n"}}
	makeZip(t, filepath.Join(d, "plain.jar"), entries)
	jarsign := func(ks, name string, extra ...string) {
		args := append([]string{"-keystore", filepath.Join(d, ks+".p12"), "-storepass", "secret1", "-signedjar", filepath.Join(out, name)}, extra...)
		run(t, d, nil, "jarsigner", append(args, filepath.Join(d, "plain.jar"), ks)...)
	}
	jarsign("vendor", "pump-tool-2.1.0.jar")
	jarsign("weak", "weak-tool-2.1.0.jar", "-sigalg", "SHA1withRSA", "-digestalg", "SHA-1")
	write(t, filepath.Join(out, "unsigned-tool-2.1.0.jar"), mustRead(t, filepath.Join(d, "plain.jar")))
	flipIn(t, filepath.Join(out, "pump-tool-2.1.0.jar"), filepath.Join(out, "tampered-tool-2.1.0.jar"), []byte(class[7000:7064]))
	// An entry added after signing: the signed entries copied, one more appended.
	zr, err := zip.OpenReader(filepath.Join(out, "pump-tool-2.1.0.jar"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range zr.File {
		if err := w.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	fw, _ := w.Create("com/example/Backdoor.class")
	fw.Write([]byte("not signed"))
	w.Close()
	zr.Close()
	write(t, filepath.Join(out, "added-tool-2.1.0.jar"), b.Bytes())

	imgs := examineDir(t, out, &Policy{Anchors: anchorsFrom(t, filepath.Join(d, "vendor.pem"), filepath.Join(d, "weak.pem"))})
	check(t, imgs, "pump-tool-2.1.0.jar", want{verdict: VerdictVerified, kind: "jar", trust: TrustTrusted, signer: "vendor Vendor Signing",
		notWeak: []string{"digest-sha1", "manifest-sha1", "rsa-below-2048"}})
	if f := imgs["pump-tool-2.1.0.jar"].Format; f != "jar" {
		t.Errorf("format %q, want jar", f)
	}
	check(t, imgs, "weak-tool-2.1.0.jar", want{verdict: VerdictVerified, kind: "jar", trust: TrustTrusted,
		weak: []string{"digest-sha1", "manifest-sha1", "rsa-below-2048", "cert-signed-sha1"}})
	check(t, imgs, "unsigned-tool-2.1.0.jar", want{verdict: VerdictUnsigned})
	check(t, imgs, "tampered-tool-2.1.0.jar", want{verdict: VerdictInvalid, kind: "jar", reason: "Pump.class"})
	check(t, imgs, "added-tool-2.1.0.jar", want{verdict: VerdictInvalid, kind: "jar", reason: "is not signed (added after signing)"})
}
