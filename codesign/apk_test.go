package codesign

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"strings"
	"testing"
)

// TestAPKSeed checks the small APK apksigner signed (v1 and v3) and the small JAR
// jarsigner signed verify, and that flipping any byte before the APK's signing block
// (the entries, which v3 covers whole) fails the v3 signature.
func TestAPKSeed(t *testing.T) {
	for _, n := range []string{"testdata/apk-signed.apk", "testdata/jar-signed.jar"} {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		sigs, format := examineZip(&File{Name: n, Size: int64(len(data)), Open: memOpener(data)}, nil)
		if len(sigs) == 0 {
			t.Fatalf("%s: no signature", n)
		}
		for _, s := range sigs {
			if !s.Verifies || s.Trust != TrustNotJudged {
				t.Errorf("%s (%s): %s verifies %v trust %s (%s)", n, format, s.Kind, s.Verifies, s.Trust, s.Reason)
			}
		}
	}
	data, _ := os.ReadFile("testdata/apk-signed.apk")
	l, found, err := readAPKLayout(bytes.NewReader(data), int64(len(data)))
	if !found || err != nil {
		t.Fatalf("signing block: found %v, %v", found, err)
	}
	for i := int64(0); i < l.blockOff; i += 7 {
		b := bytes.Clone(data)
		b[i] ^= 0x01
		sigs, _ := examineZip(&File{Name: "x.apk", Size: int64(len(b)), Open: memOpener(b)}, nil)
		for _, s := range sigs {
			if s.Kind == "apk-v3" && s.Verifies {
				t.Fatalf("byte %d flipped: the v3 signature still verifies", i)
			}
		}
	}
}

// FuzzZip feeds the zip reader, the JAR manifest parser and the APK signing block
// parser arbitrary bytes: no panic, no signature verifying unchecked or unsigned by
// anyone, the signing block inside the file.
func FuzzZip(f *testing.F) {
	for _, n := range []string{"testdata/apk-signed.apk", "testdata/jar-signed.jar"} {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Manifest-Version: 1.0\r\n\r\nName: a\r\n SHA-256-Digest: x\r\n"))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseJarManifest(data)
		if l, found, err := readAPKLayout(bytes.NewReader(data), int64(len(data))); found && err == nil {
			if l.blockOff < 0 || l.blockOff >= l.cdOff || l.cdOff+l.cdSize > int64(len(data)) {
				t.Fatalf("signing block at %d, directory at %d+%d in %d bytes", l.blockOff, l.cdOff, l.cdSize, len(data))
			}
			for _, v := range l.pairs {
				parseAPKSigners(v, true)
				parseAPKSigners(v, false)
			}
		}
		sigs, _ := examineZip(&File{Name: "x.apk", Size: int64(len(data)), Open: memOpener(data)}, nil)
		for _, s := range sigs {
			if s.Verifies && (!s.Checked || s.Signer.CertSHA256 == "") {
				t.Fatalf("%s verifies unchecked or without a signer: %+v", s.Kind, s)
			}
		}
	})
}

// rezip copies the seed JAR's entries, with the manifest replaced by mf and extra
// entries appended.
func rezip(t *testing.T, mf string, extra ...[2]string) []byte {
	t.Helper()
	zr, err := zip.OpenReader("testdata/jar-signed.jar")
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range zr.File {
		if f.Name == "META-INF/MANIFEST.MF" {
			fw, _ := w.Create(f.Name)
			fw.Write([]byte(mf))
			continue
		}
		if err := w.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range extra {
		fw, _ := w.Create(e[0])
		fw.Write([]byte(e[1]))
	}
	w.Close()
	return b.Bytes()
}

// TestJARManifestSections checks the .SF's per-section digests, used when the manifest
// as a whole no longer matches (another section was added after signing): the signed
// section still matches, the added one is caught; and a changed main section is caught
// by its own digest.
func TestJARManifestSections(t *testing.T) {
	zr, err := zip.OpenReader("testdata/jar-signed.jar")
	if err != nil {
		t.Fatal(err)
	}
	var mf []byte
	for _, f := range zr.File {
		if f.Name == "META-INF/MANIFEST.MF" {
			mf, _ = readZipEntry(f, 1<<20)
		}
	}
	zr.Close()
	extra := []byte("not signed\n")
	sum := sha256.Sum256(extra)
	added := string(mf) + "Name: B.class\r\nSHA-256-Digest: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n"
	for _, c := range []struct {
		name, mf string
		extra    [][2]string
		reason   string
	}{
		{"same manifest", string(mf), nil, ""},
		{"section added", added, [][2]string{{"B.class", string(extra)}}, `manifest entry "B.class" is not in the signature file`},
		{"main section changed", strings.Replace(string(mf), "Manifest-Version: 1.0\r\n", "Manifest-Version: 1.0\r\nMain-Class: Evil\r\n", 1), nil,
			"main attributes do not match"},
	} {
		b := rezip(t, c.mf, c.extra...)
		sigs, _ := examineZip(&File{Name: "x.jar", Size: int64(len(b)), Open: memOpener(b)}, nil)
		if len(sigs) != 1 {
			t.Fatalf("%s: %d signatures", c.name, len(sigs))
		}
		s := sigs[0]
		if c.reason == "" {
			if !s.Verifies {
				t.Errorf("%s: does not verify: %s", c.name, s.Reason)
			}
			continue
		}
		if s.Verifies || !s.Checked || !strings.Contains(s.Reason, c.reason) {
			t.Errorf("%s: verifies %v checked %v reason %q, want a failure for %q", c.name, s.Verifies, s.Checked, s.Reason, c.reason)
		}
	}
}
