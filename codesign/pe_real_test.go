package codesign

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	peOnce sync.Once
	peBin  []byte
	peErr  string
)

// goPE builds a small Windows executable with the Go toolchain: a real PE/COFF image
// (PE32+) for osslsigncode and sbsign to sign.
func goPE(t *testing.T) []byte {
	t.Helper()
	needTools(t, "go")
	peOnce.Do(func() {
		d, err := os.MkdirTemp("", "medscan-pe-")
		if err != nil {
			peErr = err.Error()
			return
		}
		defer os.RemoveAll(d)
		defer func() {
			if r := recover(); r != nil {
				peErr = "building a PE: " + r.(string)
			}
		}()
		os.WriteFile(filepath.Join(d, "go.mod"), []byte("module pump\n\ngo 1.21\n"), 0o644)
		os.WriteFile(filepath.Join(d, "main.go"), []byte("package main\n\nfunc main() { println(\"pump firmware updater\") }\n"), 0o644)
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		mustRunEnv(d, []string{"GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false"}, goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", "pump.exe", ".")
		peBin, _ = os.ReadFile(filepath.Join(d, "pump.exe"))
	})
	if peErr != "" {
		t.Fatal(peErr)
	}
	return peBin
}

// TestAuthenticodeReal signs a PE with osslsigncode (SHA-256, and SHA-1 by the weak
// signer) and sbsign (as for UEFI Secure Boot), and checks the image hash and the
// signature, a tampered copy, and an unsigned PE.
func TestAuthenticodeReal(t *testing.T) {
	needTools(t, "osslsigncode", "sbsign")
	p := makePKI(t)
	pe := goPE(t)
	d := t.TempDir()
	write(t, filepath.Join(d, "in.exe"), pe)
	out := filepath.Join(d, "out")
	os.Mkdir(out, 0o755)
	run(t, d, nil, "osslsigncode", "sign", "-certs", filepath.Join(p, "leaf.pem"), "-ac", filepath.Join(p, "chain.pem"),
		"-key", filepath.Join(p, "leaf.key"), "-h", "sha256", "-n", "Pump updater", "-in", "in.exe", "-out", filepath.Join(out, "signed.exe"))
	run(t, d, nil, "osslsigncode", "sign", "-certs", filepath.Join(p, "weak.pem"), "-ac", filepath.Join(p, "chain.pem"),
		"-key", filepath.Join(p, "weak.key"), "-h", "sha1", "-in", "in.exe", "-out", filepath.Join(out, "weak.exe"))
	run(t, d, nil, "sbsign", "--key", filepath.Join(p, "leaf.key"), "--cert", filepath.Join(p, "leaf.pem"),
		"--addcert", filepath.Join(p, "chain.pem"), "--output", filepath.Join(out, "boot.efi"), "in.exe")
	signed := mustRead(t, filepath.Join(out, "signed.exe"))
	tampered := append([]byte(nil), signed...)
	tampered[0x1000] ^= 0x01 // inside the first section, well before the certificate table
	write(t, filepath.Join(out, "tampered.exe"), tampered)
	write(t, filepath.Join(out, "plain.exe"), pe)

	imgs := examineDir(t, out, &Policy{Anchors: anchorsFrom(t, filepath.Join(p, "root.pem"))})
	good := want{verdict: VerdictVerified, kind: "authenticode", trust: TrustTrusted, signer: "Pump Vendor Firmware Signing", notWeak: []string{"digest-sha1"}}
	check(t, imgs, "signed.exe", good)
	check(t, imgs, "boot.efi", good)
	check(t, imgs, "tampered.exe", want{verdict: VerdictInvalid, reason: "PE image hash differs"})
	check(t, imgs, "plain.exe", want{verdict: VerdictUnsigned})
	check(t, imgs, "weak.exe", want{verdict: VerdictVerified, trust: TrustTrusted, weak: []string{"digest-sha1", "rsa-below-2048", "image-digest-sha1", "no-code-signing-eku"}})
	for _, n := range []string{"signed.exe", "boot.efi", "plain.exe"} {
		if imgs[n].Format != "pe" {
			t.Errorf("%s: format %q, want pe", n, imgs[n].Format)
		}
	}
}
