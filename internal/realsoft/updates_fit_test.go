package realsoft

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/observe"
)

// fitAPKAddr is the loopback address the FIT/APK/JAR test serves on: no other test uses
// it, so the capture's filter holds this test's traffic alone.
const fitAPKAddr = "127.0.0.37"

// fitAPKITS is an image tree source: a kernel, hashed, in a configuration signed with
// the key named dev (the %s are the kernel's path and the signature node).
const fitAPKITS = `/dts-v1/;
/ {
	description = "infusion pump firmware";
	#address-cells = <1>;
	images {
		kernel-1 {
			data = /incbin/("%s");
			type = "kernel";
			arch = "arm";
			os = "linux";
			compression = "none";
			load = <0x80000>;
			entry = <0x80000>;
			hash-1 { algo = "sha256"; };
		};
	};
	configurations {
		default = "conf-1";
		conf-1 {
			kernel = "kernel-1";
%s
		};
	};
};
`

// makeFITAPKFiles writes into www: a FIT image signed by mkimage with the dev key (its
// public key written into control.dtb, the policy's anchor), the same with its kernel
// changed after signing, an unsigned FIT; an APK signed by apksigner (v1, v2, v3) with
// the app key, the same with an entry changed, the same APK signed by another key; a
// JAR signed by jarsigner with the app key. Keys and anchors go into keys.
func makeFITAPKFiles(t *testing.T, keys, www string) map[string][]byte {
	t.Helper()
	openssl := requireTool(t, "openssl", "openssl")
	mkimage := requireTool(t, "mkimage", "u-boot-tools")
	dtc := requireTool(t, "dtc", "device-tree-compiler")
	apksigner := requireTool(t, "apksigner", "apksigner")
	keytool := requireTool(t, "keytool", "openjdk-17-jdk-headless")
	jarsigner := requireTool(t, "jarsigner", "openjdk-17-jdk-headless")
	k := func(n string) string { return filepath.Join(keys, n) }
	w := func(n string) string { return filepath.Join(www, n) }
	mustWrite := func(p string, b []byte) {
		t.Helper()
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// FIT: mkimage reads keydir/dev.key and keydir/dev.crt.
	run(t, time.Minute, nil, openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k("dev.key"), "-out", k("dev.crt"),
		"-days", "365", "-subj", "/CN=Pump Vendor FIT Signing")
	kernel := randomBytes(400<<10, 31)
	mustWrite(k("kernel.bin"), kernel)
	mustWrite(k("ctl.dts"), []byte("/dts-v1/;\n/ { };\n"))
	run(t, time.Minute, nil, dtc, "-q", "-O", "dtb", "-o", k("control.dtb"), k("ctl.dts"))
	sigNode := "\t\t\tsignature-1 {\n\t\t\t\talgo = \"sha256,rsa2048\";\n\t\t\t\tkey-name-hint = \"dev\";\n\t\t\t\tsign-images = \"kernel\";\n\t\t\t};"
	mustWrite(k("signed.its"), []byte(fmt.Sprintf(fitAPKITS, k("kernel.bin"), sigNode)))
	mustWrite(k("unsigned.its"), []byte(fmt.Sprintf(fitAPKITS, k("kernel.bin"), "")))
	run(t, time.Minute, nil, mkimage, "-f", k("signed.its"), "-k", keys, "-K", k("control.dtb"), "-r", w("pump-fit-2.1.itb"))
	run(t, time.Minute, nil, mkimage, "-f", k("unsigned.its"), w("unsigned-fit-2.1.itb"))
	fit, err := os.ReadFile(w("pump-fit-2.1.itb"))
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(fit, kernel[:64])
	if at < 0 {
		t.Fatal("the kernel is not in the FIT")
	}
	tampered := bytes.Clone(fit)
	tampered[at+5000] ^= 0x40
	mustWrite(w("tampered-fit-2.1.itb"), tampered)

	// APK and JAR: a key store per signer, its certificate exported as PEM.
	for _, n := range []string{"app", "other"} {
		run(t, time.Minute, nil, keytool, "-genkeypair", "-keystore", k(n+".p12"), "-storetype", "PKCS12", "-storepass", "secret1",
			"-keypass", "secret1", "-alias", n, "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN="+n+" Vendor Signing, O=Test",
			"-validity", "700")
		run(t, time.Minute, nil, keytool, "-exportcert", "-rfc", "-keystore", k(n+".p12"), "-storepass", "secret1", "-alias", n,
			"-file", k(n+".pem"))
	}
	dex := randomBytes(300<<10, 32)
	zipOf := func(p string, entries [][2]string) {
		t.Helper()
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, e := range entries {
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Store})
			if err != nil {
				t.Fatal(err)
			}
			fw.Write([]byte(e[1]))
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		mustWrite(p, b.Bytes())
	}
	zipOf(k("app.apk"), [][2]string{{"AndroidManifest.xml", "<manifest package=\"example.pump\"/>"}, {"classes.dex", string(dex)}})
	for _, s := range []struct{ ks, out string }{{"app", "pump-app-3.0.apk"}, {"other", "other-app-3.0.apk"}} {
		run(t, 2*time.Minute, nil, apksigner, "sign", "--ks", k(s.ks+".p12"), "--ks-pass", "pass:secret1", "--min-sdk-version", "21",
			"--v1-signing-enabled", "true", "--v2-signing-enabled", "true", "--v3-signing-enabled", "true", "--out", w(s.out), k("app.apk"))
		os.Remove(w(s.out + ".idsig"))
	}
	apk, err := os.ReadFile(w("pump-app-3.0.apk"))
	if err != nil {
		t.Fatal(err)
	}
	at = bytes.Index(apk, dex[:64])
	if at < 0 {
		t.Fatal("classes.dex is not stored in the APK")
	}
	tamperedAPK := bytes.Clone(apk)
	tamperedAPK[at+7000] ^= 0x40
	mustWrite(w("tampered-app-3.0.apk"), tamperedAPK)
	zipOf(k("tool.jar"), [][2]string{{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n"}, {"com/example/Pump.class", string(randomBytes(200<<10, 33))}})
	run(t, 2*time.Minute, nil, jarsigner, "-keystore", k("app.p12"), "-storepass", "secret1", "-signedjar", w("pump-tool-1.2.jar"), k("tool.jar"), "app")

	files := map[string][]byte{}
	for _, n := range []string{"pump-fit-2.1.itb", "tampered-fit-2.1.itb", "unsigned-fit-2.1.itb", "pump-app-3.0.apk",
		"tampered-app-3.0.apk", "other-app-3.0.apk", "pump-tool-1.2.jar"} {
		b, err := os.ReadFile(w(n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = b
	}
	return files
}

// TestUpdatesFITAPKJAROffTheWire signs U-Boot FIT images with mkimage, APKs with
// apksigner and a JAR with jarsigner, serves them over HTTP (python3's http.server),
// fetches them with curl under tcpdump, and checks through the built binary that the
// passive scan verifies the good ones against the policy's anchors (the control DTB
// mkimage wrote the key into, the APK signer's certificate), raises
// update-signature-invalid for the tampered FIT and APK, update-unsigned for the
// unsigned FIT and update-signer-untrusted for the APK signed by another key; and that
// medscan verify on the served files agrees.
func TestUpdatesFITAPKJAROffTheWire(t *testing.T) {
	t.Parallel()
	curl := requireTool(t, "curl", "curl")
	tcpdump := requireTool(t, "tcpdump", "tcpdump")
	python := requireTool(t, "/usr/bin/python3", "python3")
	keys, www := t.TempDir(), t.TempDir()
	files := makeFITAPKFiles(t, keys, www)
	policy := filepath.Join(keys, "site.yaml")
	if err := os.WriteFile(policy, []byte("version: 1\ncode_signing: {anchors: [control.dtb, app.pem]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	port := testproc.FreePort(t, "tcp4", fitAPKAddr)
	srv := testproc.Start(t, python, "-m", "http.server", "--bind", fitAPKAddr, "--directory", www, strconv.Itoa(port))
	srv.WaitFor(t, "stdout", "Serving HTTP", 15*time.Second)
	pcap := filepath.Join(t.TempDir(), "fitapk.pcap")
	c := testproc.Start(t, tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "65536", "-Z", "root", "-w", pcap, "host "+fitAPKAddr)
	c.WaitFor(t, "stderr", "listening on", 15*time.Second)
	got := t.TempDir()
	names := slices.Sorted(mapKeysBytes(files))
	for _, n := range names {
		run(t, time.Minute, nil, curl, "-sS", "--fail", "--limit-rate", "1M", "-o", filepath.Join(got, n),
			fmt.Sprintf("http://%s:%d/%s", fitAPKAddr, port, n))
	}
	time.Sleep(300 * time.Millisecond)
	c.Interrupt()
	if !c.WaitExit(10 * time.Second) {
		t.Fatalf("tcpdump did not stop: %s", c.Output())
	}
	if !strings.Contains(c.Output(), "\n0 packets dropped by kernel") {
		t.Fatalf("tcpdump lost packets, the test cannot judge medscan on this capture: %s", c.Output())
	}
	if raw, err := os.ReadFile(pcap); err == nil {
		keep(t, ".pcap", raw)
	}

	rep := scanUpdates(t, pcap, "--policy", policy)
	bySHA := map[string]findings.UpdateImage{}
	for _, img := range rep.Updates {
		bySHA[img.SHA256] = img
	}
	type expect struct{ verdict, format, trust, signer string }
	wants := map[string]expect{
		"pump-fit-2.1.itb":     {"verified", "fit", "trusted", `U-Boot key "dev"`},
		"tampered-fit-2.1.itb": {"invalid", "fit", "", ""},
		"unsigned-fit-2.1.itb": {"unsigned", "fit", "", ""},
		"pump-app-3.0.apk":     {"verified", "apk", "trusted", "app Vendor Signing"},
		"tampered-app-3.0.apk": {"invalid", "apk", "", ""},
		"other-app-3.0.apk":    {"verified", "apk", "untrusted", "other Vendor Signing"},
		"pump-tool-1.2.jar":    {"verified", "jar", "trusted", "app Vendor Signing"},
	}
	for n, w := range wants {
		img, ok := bySHA[sha256Hex(files[n])]
		if !ok {
			t.Errorf("%s: not in the passive scan's report", n)
			continue
		}
		if img.Verdict != w.verdict || img.Format != w.format {
			t.Errorf("%s: verdict %q format %q, want %q %q (%+v)", n, img.Verdict, img.Format, w.verdict, w.format, img.Signatures)
		}
		if w.trust == "" {
			continue
		}
		ok = slices.ContainsFunc(img.Signatures, func(s observe.UpdateSignature) bool {
			return s.Verifies && s.Trust == w.trust && strings.Contains(s.Signer.Label(), w.signer)
		})
		if !ok {
			t.Errorf("%s: no signature that verifies, %s, by %q: %+v", n, w.trust, w.signer, img.Signatures)
		}
	}
	rules := map[string]int{}
	for _, f := range rep.Findings {
		rules[f.Rule]++
	}
	if rules["update-signature-invalid"] != 2 || rules["update-unsigned"] != 1 || rules["update-signer-untrusted"] != 1 {
		t.Errorf("code-signing findings %v, want two update-signature-invalid, one update-unsigned, one update-signer-untrusted", rules)
	}

	// medscan verify on the files the server served, with the same policy.
	vrep := verifyFiles(t, www, policy)
	for _, img := range vrep.Updates {
		if p, ok := bySHA[img.SHA256]; ok && p.Verdict != img.Verdict {
			t.Errorf("%s: medscan verify says %q, the passive scan %q", img.Name, img.Verdict, p.Verdict)
		}
		if w, ok := wants[img.Name]; ok && w.verdict != img.Verdict {
			t.Errorf("%s: medscan verify says %q, want %q", img.Name, img.Verdict, w.verdict)
		}
	}
	if len(vrep.Updates) != len(wants) {
		t.Errorf("medscan verify examined %d images, want %d", len(vrep.Updates), len(wants))
	}
}

func mapKeysBytes(m map[string][]byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
