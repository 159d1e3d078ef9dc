package codesign

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real-tool tests sign images with openssl, gpg, osslsigncode and sbsign in a
// temporary PKI (root, intermediate, code-signing leaf; another root's leaf; a weak
// leaf; an OpenPGP key) and check what Examine says. A missing tool skips, unless
// MEDSCAN_REQUIRE_CODESIGN is set (CI sets it).

// TestMain removes the once-per-binary PKI the real-tool tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	if pkiDir != "" {
		os.RemoveAll(pkiDir)
	}
	os.Exit(code)
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MEDSCAN_REQUIRE_CODESIGN") != "" {
				t.Fatalf("%s not installed and MEDSCAN_REQUIRE_CODESIGN is set", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// run runs a tool bounded in time, in dir, and fails the test on error.
func run(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = nil
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

func write(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pki is a temporary code-signing PKI made by openssl.
type pki struct {
	dir string
}

var (
	pkiOnce sync.Once
	pkiDir  string
	pkiErr  string
)

const opensslCnf = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[noeku]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[tsa_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[tsa]
default_tsa = tsa_section
[tsa_section]
serial = tsaserial
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_chain = no
signer_cert = tsa.pem
signer_key = tsa.key
certs = root.pem
`

// makePKI builds the PKI once per test binary: root → inter → leaf (codeSigning EKU),
// other-root → other-leaf, a weak leaf (RSA 1024, SHA-1, no code-signing EKU, 30
// years), a TSA.
func makePKI(t *testing.T) string {
	t.Helper()
	needTools(t, "openssl")
	pkiOnce.Do(func() {
		d, err := os.MkdirTemp("", "medscan-codesign-pki-")
		if err != nil {
			pkiErr = err.Error()
			return
		}
		pkiDir = d
		defer func() {
			if r := recover(); r != nil {
				pkiErr = "pki: " + strings.TrimSpace(strings.Split(r.(string), "\n")[0])
			}
		}()
		write(t, filepath.Join(d, "openssl.cnf"), []byte(opensslCnf))
		write(t, filepath.Join(d, "tsaserial"), []byte("01\n"))
		sh := func(args ...string) { mustRun(d, "openssl", args...) }
		newKey := func(name string, bits string) {
			sh("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:"+bits, "-out", name+".key")
		}
		selfCA := func(name, cn string) {
			newKey(name, "2048")
			sh("req", "-config", "openssl.cnf", "-new", "-x509", "-key", name+".key", "-subj", "/O=Test/CN="+cn,
				"-days", "3650", "-extensions", "ca", "-out", name+".pem", "-sha256")
		}
		issue := func(name, cn, ca, ext, days, md, bits string) {
			newKey(name, bits)
			sh("req", "-config", "openssl.cnf", "-new", "-key", name+".key", "-subj", "/O=Test/CN="+cn, "-out", name+".csr")
			sh("x509", "-req", "-in", name+".csr", "-CA", ca+".pem", "-CAkey", ca+".key", "-CAcreateserial",
				"-extfile", "openssl.cnf", "-extensions", ext, "-days", days, "-"+md, "-out", name+".pem")
		}
		selfCA("root", "Test Code Signing Root")
		issue("inter", "Test Code Signing Intermediate", "root", "ca", "3000", "sha256", "2048")
		issue("leaf", "Pump Vendor Firmware Signing", "inter", "leaf", "700", "sha256", "2048")
		selfCA("other", "Someone Else Root")
		issue("otherleaf", "Someone Else Signing", "other", "leaf", "700", "sha256", "2048")
		issue("weak", "Weak Firmware Signing", "inter", "noeku", "10950", "sha1", "1024")
		issue("tsa", "Test Time Stamping Authority", "root", "tsa_ext", "3000", "sha256", "2048")
		chain, _ := os.ReadFile(filepath.Join(d, "inter.pem"))
		write(t, filepath.Join(d, "chain.pem"), chain)
	})
	if pkiErr != "" {
		t.Fatal(pkiErr)
	}
	return pkiDir
}

func mustRun(dir, name string, args ...string) []byte {
	return mustRunEnv(dir, []string{"OPENSSL_CONF=" + filepath.Join(dir, "openssl.cnf")}, name, args...)
}

// mustRunEnv runs a tool for a once-per-binary fixture, bounded in time; it panics on
// failure (the fixture's sync.Once turns that into the tests' failure).
func mustRunEnv(dir string, env []string, name string, args ...string) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		panic(name + " " + strings.Join(args, " ") + ": " + err.Error() + "\n" + msg)
	}
	return out
}

func anchorsFrom(t *testing.T, files ...string) *Anchors {
	t.Helper()
	a := &Anchors{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.AddFile(filepath.Base(f), b); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func examineDir(t *testing.T, dir string, pol *Policy) map[string]Image {
	t.Helper()
	files, err := DiskFiles([]string{dir}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := Examine(context.Background(), files, pol, Options{Source: "file"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Image{}
	for _, im := range imgs {
		out[im.Name] = im
	}
	return out
}

func image(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

type want struct {
	verdict  string
	trust    string
	kind     string
	signer   string   // substring of the signer's label
	weak     []string // each must be among the weaknesses
	notWeak  []string // none of these
	reason   string   // substring of the first signature's reason
	noSigner bool
}

func check(t *testing.T, imgs map[string]Image, name string, w want) {
	t.Helper()
	im, ok := imgs[name]
	if !ok {
		names := []string{}
		for n := range imgs {
			names = append(names, n)
		}
		slices.Sort(names)
		t.Fatalf("%s: not examined as an image (images: %v)", name, names)
	}
	if im.Verdict != w.verdict {
		t.Errorf("%s: verdict %q, want %q (signatures %+v)", name, im.Verdict, w.verdict, im.Signatures)
		return
	}
	if w.verdict == VerdictUnsigned {
		return
	}
	if len(im.Signatures) == 0 {
		t.Fatalf("%s: no signatures", name)
	}
	s := im.Signatures[0]
	for _, x := range im.Signatures {
		if x.Verifies {
			s = x
		}
	}
	if w.kind != "" && s.Kind != w.kind {
		t.Errorf("%s: kind %q, want %q", name, s.Kind, w.kind)
	}
	if w.trust != "" && s.Trust != w.trust {
		t.Errorf("%s: trust %q (%s), want %q", name, s.Trust, s.TrustReason, w.trust)
	}
	if w.signer != "" && !strings.Contains(s.Signer.Label(), w.signer) {
		t.Errorf("%s: signer %q, want it to hold %q", name, s.Signer.Label(), w.signer)
	}
	for _, x := range w.weak {
		if !slices.Contains(s.Weaknesses, x) {
			t.Errorf("%s: weaknesses %v, want %q among them", name, s.Weaknesses, x)
		}
	}
	for _, x := range w.notWeak {
		if slices.Contains(s.Weaknesses, x) {
			t.Errorf("%s: weaknesses %v hold %q", name, s.Weaknesses, x)
		}
	}
	if w.reason != "" && !strings.Contains(s.Reason, w.reason) {
		t.Errorf("%s: reason %q, want it to hold %q", name, s.Reason, w.reason)
	}
}
