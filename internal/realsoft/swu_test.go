package realsoft

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/internal/updatetest"
	"github.com/medscan/medscan/observe"
)

// gzipServer is python3's http.server, except that files under /gz/ are sent compressed
// with Content-Encoding: gzip, as a web server compressing on the fly sends them.
const gzipServer = `import gzip, http.server, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith('/gz/'):
            with open(os.path.join(self.directory, self.path[1:]), 'rb') as f:
                data = gzip.compress(f.read())
            self.send_response(200)
            self.send_header('Content-Type', 'application/octet-stream')
            self.send_header('Content-Encoding', 'gzip')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()
srv = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])),
    lambda *a, **k: H(*a, directory=sys.argv[3], **k))
print('Serving HTTP', flush=True)
srv.serve_forever()
`

const swDescription = `software =
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
};
`

// swuPKI makes, with openssl in dir: a code-signing root and leaf, another root's leaf,
// a weak leaf (RSA 1024, SHA-1, no code-signing EKU, 30 years) under the root, and the
// vendor's bare ECDSA key for Mender (PEM, its public half beside it), and another.
func swuPKI(t *testing.T, openssl, dir string) {
	t.Helper()
	p := func(n string) string { return filepath.Join(dir, n) }
	if err := os.WriteFile(p("leaf.ext"), []byte("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=codeSigning\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p("weak.ext"), []byte("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ossl := func(args ...string) { run(t, time.Minute, nil, openssl, args...) }
	for _, root := range []string{"root", "other"} {
		ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p(root+".key"), "-out", p(root+".pem"), "-days", "3650",
			"-subj", "/CN="+root+" Code Signing Root")
	}
	leaf := func(name, cn, ca, bits, days, md, ext string) {
		ossl("req", "-newkey", "rsa:"+bits, "-nodes", "-keyout", p(name+".key"), "-out", p(name+".csr"), "-subj", "/CN="+cn)
		ossl("x509", "-req", "-in", p(name+".csr"), "-CA", p(ca+".pem"), "-CAkey", p(ca+".key"), "-CAcreateserial",
			"-out", p(name+".pem"), "-days", days, "-"+md, "-extfile", p(ext))
	}
	leaf("leaf", "Pump Vendor Firmware Signing", "root", "2048", "730", "sha256", "leaf.ext")
	leaf("otherleaf", "Someone Else Signing", "other", "2048", "730", "sha256", "leaf.ext")
	leaf("weak", "Weak Firmware Signing", "root", "1024", "10950", "sha1", "weak.ext")
	for _, k := range []string{"vendor-ec", "other-ec"} {
		ossl("ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", p(k+".key"))
		ossl("pkey", "-in", p(k+".key"), "-pubout", "-out", p(k+".pub.pem"))
	}
}

// swuMenderFiles writes into www the SWUpdate images (swugenerator) and Mender
// artifacts (mender-artifact) the test serves, and returns their bytes by path.
func swuMenderFiles(t *testing.T, swugen, mender, pki, www string) map[string][]byte {
	t.Helper()
	src := t.TempDir()
	p := func(n string) string { return filepath.Join(pki, n) }
	if err := os.WriteFile(filepath.Join(src, "sw-description"), []byte(swDescription), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "rootfs.img"), randomBytes(300<<10, 41), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(www, "gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(www, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
		return b
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(www, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	swu := func(name, sign string) []byte {
		args := []string{"-s", filepath.Join(src, "sw-description"), "-a", src, "-o", filepath.Join(www, name)}
		if sign != "" {
			args = append(args, "-k", sign)
		}
		// swugenerator looks for the artifacts in its working directory too.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, swugen, append(args, "create")...)
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("swugenerator %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return read(name)
	}
	good := swu("acme-pump-4.2.swu", "CMS,"+p("leaf.key")+","+p("leaf.pem"))
	swu("unsigned-4.2.swu", "")
	swu("other-4.2.swu", "CMS,"+p("otherleaf.key")+","+p("otherleaf.pem"))
	swu("weak-4.2.swu", "CMS,"+p("weak.key")+","+p("weak.pem"))
	tampered := slices.Clone(good)
	at := bytes.Index(tampered, []byte("rootfs.img\x00"))
	tampered[at+4000] ^= 0x01
	write("tampered-4.2.swu", tampered)
	write("gz/gzpump-4.2.swu", good) // served compressed (gzipServer)

	art := func(name, key string) []byte {
		args := []string{"write", "rootfs-image", "-t", "monitor", "-n", "release-2.1", "-f", filepath.Join(src, "rootfs.img"),
			"-o", filepath.Join(www, name)}
		if key != "" {
			args = append(args, "-k", p(key))
		}
		run(t, time.Minute, nil, mender, args...)
		return read(name)
	}
	mgood := art("monitor-2.1.mender", "vendor-ec.key")
	art("monitor-unsigned-2.1.mender", "")
	art("monitor-other-2.1.mender", "other-ec.key")
	write("monitor-tampered-2.1.mender", updatetest.TamperMender(t, mgood))
	return files
}

// TestSWUpdateMenderOffTheWire makes SWUpdate images with swugenerator (CMS-signed by
// the vendor's leaf, by another root's leaf and by a weak leaf; unsigned; one with an
// artifact changed after signing) and Mender artifacts with mender-artifact (signed with
// the vendor's ECDSA key and with another; unsigned; one repacked with a changed
// payload), serves them over HTTP (one SWUpdate image compressed on the fly with
// Content-Encoding: gzip) to curl under tcpdump, and checks through the built binary
// that each raises what it should; that medscan verify on the served files agrees; that
// a vendor's image pattern matches the raw file name of a wire image (named by its
// template) while that raw name appears nowhere in the report or the store.
func TestSWUpdateMenderOffTheWire(t *testing.T) {
	t.Parallel()
	openssl := requireTool(t, "openssl", "openssl")
	curl := requireTool(t, "curl", "curl")
	python := requireTool(t, "python3", "python3")
	swugen := requireTool(t, "swugenerator", "swugenerator")
	mender := requireTool(t, "mender-artifact", "mender-artifact")
	pki, www := t.TempDir(), t.TempDir()
	swuPKI(t, openssl, pki)
	files := swuMenderFiles(t, swugen, mender, pki, www)
	policy := filepath.Join(pki, "site.yaml")
	pol := "version: 1\ncode_signing:\n  anchors: [root.pem, vendor-ec.pub.pem]\n" +
		"  vendors:\n    - name: acme\n      images: [\"acme-*.swu\"]\n      anchors: [root.pem]\n"
	if err := os.WriteFile(policy, []byte(pol), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(pki, "gzserver.py")
	if err := os.WriteFile(script, []byte(gzipServer), 0o600); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	srv := testproc.Start(t, python, script, "127.0.0.1", strconv.Itoa(port), www)
	srv.WaitFor(t, "stdout", "Serving HTTP", 15*time.Second)
	c := startCapture(t, port)
	got := t.TempDir()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	for i, n := range names {
		run(t, time.Minute, nil, curl, "-sS", "--fail", "--limit-rate", "2M", "-o", filepath.Join(got, strconv.Itoa(i)),
			fmt.Sprintf("http://127.0.0.1:%d/%s", port, n))
	}
	raw := c.stop(t)

	s := scan(t, c.path, "--policy", policy)
	// The raw name of the acme image is in the capture, and nowhere in what medscan wrote.
	s.private(t, raw, "acme-pump")
	bySHA := map[string][]findings.UpdateImage{}
	for _, img := range s.Updates {
		bySHA[img.SHA256] = append(bySHA[img.SHA256], img)
	}
	type want struct {
		n               int // images of these bytes (the gzip copy is a second one of the acme image)
		verdict, format string
		trust, signer   string
		vendor          string
		weak            string
	}
	cases := map[string]want{
		"acme-pump-4.2.swu":           {2, "verified", "swupdate", "trusted", "Pump Vendor Firmware Signing", "acme", ""},
		"unsigned-4.2.swu":            {1, "unsigned", "swupdate", "", "", "", ""},
		"other-4.2.swu":               {1, "verified", "swupdate", "untrusted", "Someone Else Signing", "", ""},
		"weak-4.2.swu":                {1, "verified", "swupdate", "trusted", "Weak Firmware Signing", "", "rsa-below-2048"},
		"tampered-4.2.swu":            {1, "invalid", "swupdate", "", "", "", ""},
		"monitor-2.1.mender":          {1, "verified", "mender", "trusted", "vendor-ec.pub.pem", "", ""},
		"monitor-unsigned-2.1.mender": {1, "unsigned", "mender", "", "", "", ""},
		"monitor-other-2.1.mender":    {1, "unknown", "mender", "untrusted", "", "", ""},
		"monitor-tampered-2.1.mender": {1, "invalid", "mender", "", "", "", ""},
	}
	for name, w := range cases {
		imgs := bySHA[sha256Hex(files[name])]
		if len(imgs) != w.n {
			t.Errorf("%s: %d images in the report, want %d", name, len(imgs), w.n)
		}
		for _, img := range imgs {
			if img.Verdict != w.verdict || img.Format != w.format {
				t.Errorf("%s (%s/%s): verdict %q format %q, want %q %q; signatures %+v", name, img.Dir, img.Name, img.Verdict, img.Format,
					w.verdict, w.format, img.Signatures)
				continue
			}
			// The copy under gz/ is not named acme-*: no vendor.
			if vendor := w.vendor; img.Vendor != vendor && !(img.Dir != "/" && img.Vendor == "") {
				t.Errorf("%s (%s/%s): vendor %q, want %q", name, img.Dir, img.Name, img.Vendor, w.vendor)
			}
			if w.trust == "" {
				continue
			}
			ok := slices.ContainsFunc(img.Signatures, func(sg observe.UpdateSignature) bool {
				return sg.Trust == w.trust && strings.Contains(sg.Signer.Label(), w.signer) &&
					(w.weak == "" || slices.Contains(sg.Weaknesses, w.weak))
			})
			if !ok {
				t.Errorf("%s: no signature %s by %q (weakness %q): %+v", name, w.trust, w.signer, w.weak, img.Signatures)
			}
		}
	}
	if n := counterValue(s.Report, "updates_decoded_gzip"); n != 1 {
		t.Errorf("updates_decoded_gzip = %d, want 1 (the image sent with Content-Encoding: gzip)", n)
	}
	// The copy sent gzip-encoded is named by the decoded image's digest, the one a vendor
	// publishes, with the digest of the compressed bytes beside it: in Updates and in
	// cleartext-update.
	acme := sha256Hex(files["acme-pump-4.2.swu"])
	var gzWire []string
	for _, img := range bySHA[acme] {
		if img.Dir != "/" {
			gzWire = img.WireSHA256
		}
	}
	if len(gzWire) != 1 || gzWire[0] == acme {
		t.Errorf("the gzip copy's image lists wire digests %v, want the compressed stream's", gzWire)
	}
	var named bool
	for _, f := range s.Findings {
		// Its path is a template ("/{id}/{id}.swu"): it is the one with wire digests.
		if f.Rule != "cleartext-update" || f.Evidence["wire_sha256"] == nil {
			continue
		}
		if named {
			t.Errorf("a second cleartext-update with wire digests: %s", f.Message)
		}
		named = true
		w, _ := f.Evidence["wire_sha256"].([]any)
		if f.Evidence["sha256"] != acme || len(w) != 1 || len(gzWire) == 1 && w[0] != gzWire[0] ||
			!strings.Contains(f.Message, "once decoded from gzip") {
			t.Errorf("cleartext-update of the gzip copy: %s; evidence %v, want sha256 %s and the wire digest %v", f.Message,
				f.Evidence, acme, gzWire)
		}
	}
	if !named {
		t.Error("no cleartext-update finding names the gzip copy by its decoded digest")
	}
	rules := func(fs []findings.Finding) map[string]int {
		m := map[string]int{}
		for _, f := range fs {
			if strings.HasPrefix(f.Rule, "update-") {
				m[f.Rule]++
			}
		}
		return m
	}
	wantRules := map[string]int{"update-signature-invalid": 2, "update-unsigned": 2, "update-signer-untrusted": 2, "update-signer-weak": 1}
	if r := rules(s.Findings); !maps.Equal(r, wantRules) {
		t.Errorf("code-signing findings of the scan %v, want %v", r, wantRules)
	}

	// medscan verify on the files served, with the same policy: the same verdicts, the
	// same findings.
	v := verifyFiles(t, www, policy)
	verified := map[string]findings.UpdateImage{}
	for _, img := range v.Updates {
		verified[img.Name] = img
	}
	for name, w := range cases {
		img, ok := verified[filepath.Base(name)]
		if !ok || img.Verdict != w.verdict || img.Format != w.format || img.Vendor != w.vendor {
			t.Errorf("medscan verify %s: %+v, want verdict %q format %q vendor %q (as the passive scan)", name, img, w.verdict, w.format, w.vendor)
		}
	}
	if r := rules(v.Findings); !maps.Equal(r, wantRules) {
		t.Errorf("code-signing findings of medscan verify %v, want %v", r, wantRules)
	}
}
