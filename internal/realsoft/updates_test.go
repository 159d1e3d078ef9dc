package realsoft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/observe"
)

// updatesMu keeps the tests that serve on updatesAddr apart: TFTP's port is fixed.
var updatesMu sync.Mutex

// updatesAddr is the loopback address the update servers listen on: no other test
// uses it, so the capture's filter ("host 127.0.0.23") holds this test's traffic alone,
// FTP's passive data connections and TFTP's fresh server ports included.
const updatesAddr = "127.0.0.23"

// updateFile is one file the update servers offer.
type updateFile struct {
	name string
	data []byte
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 17))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signingPKI makes a root CA and a code-signing leaf under it with openssl, and an
// OpenPGP signing key with gpg, in dir; it returns the environment gpg needs.
func signingPKI(t *testing.T, openssl, gpg, dir string) []string {
	t.Helper()
	ext := filepath.Join(dir, "leaf.ext")
	if err := os.WriteFile(ext, []byte("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=codeSigning\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	run(t, time.Minute, nil, openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("root.key"),
		"-out", p("root.pem"), "-days", "3650", "-subj", "/CN=Pump Vendor Code Signing Root")
	run(t, time.Minute, nil, openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("leaf.key"), "-out", p("leaf.csr"),
		"-subj", "/CN=Pump Vendor Firmware Signing")
	run(t, time.Minute, nil, openssl, "x509", "-req", "-in", p("leaf.csr"), "-CA", p("root.pem"), "-CAkey", p("root.key"),
		"-CAcreateserial", "-out", p("leaf.pem"), "-days", "730", "-extfile", ext)
	home := p("gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"GNUPGHOME=" + home}
	gpgRun(t, env, gpg, "--batch", "--passphrase", "", "--quick-gen-key", "Monitor Vendor <firmware@monitor.example>",
		"ed25519", "sign", "never")
	return env
}

// gpgRun runs gpg with env added, within a minute.
func gpgRun(t *testing.T, env []string, gpg string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gpg, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// updateFiles writes the images and their signatures into dir: a 3 MiB pump image
// signed with CMS (spilled to disk by the keeper), a monitor image signed with OpenPGP,
// both listed in a SHA256SUMS signed with OpenPGP, an image modified after it was
// signed, an unsigned image, and two files that are no images (a text file and an
// image too small for cleartext-update).
func updateFiles(t *testing.T, openssl, gpg, pki, dir string, env []string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{
		"pump-fw-2.1.bin":      randomBytes(3<<20, 1),
		"monitor-fw-1.4.img":   randomBytes(200<<10, 2),
		"infusion-fw-3.0.bin":  randomBytes(300<<10, 3),
		"unsigned-fw-1.0.bin":  randomBytes(150<<10, 4),
		"release-notes-14.txt": []byte("Release notes: nothing to see here.\n"),
		"tiny-9.bin":           randomBytes(10<<10, 5),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, name := range []string{"pump-fw-2.1.bin", "infusion-fw-3.0.bin"} {
		run(t, time.Minute, nil, openssl, "cms", "-sign", "-binary", "-outform", "DER", "-in", p(name),
			"-signer", filepath.Join(pki, "leaf.pem"), "-inkey", filepath.Join(pki, "leaf.key"),
			"-certfile", filepath.Join(pki, "root.pem"), "-out", p(name+".p7s"))
	}
	// Tampered after signing: one byte of the infusion pump's image changes.
	tampered := slices.Clone(files["infusion-fw-3.0.bin"])
	tampered[1000] ^= 0xff
	files["infusion-fw-3.0.bin"] = tampered
	if err := os.WriteFile(p("infusion-fw-3.0.bin"), tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	gpgRun(t, env, gpg, "--batch", "--yes", "--armor", "--detach-sign", "-o", p("monitor-fw-1.4.img.asc"), p("monitor-fw-1.4.img"))
	sums := fmt.Sprintf("%s  pump-fw-2.1.bin\n%s  monitor-fw-1.4.img\n", sha256Hex(files["pump-fw-2.1.bin"]),
		sha256Hex(files["monitor-fw-1.4.img"]))
	if err := os.WriteFile(p("SHA256SUMS"), []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	gpgRun(t, env, gpg, "--batch", "--yes", "--armor", "--detach-sign", "-o", p("SHA256SUMS.asc"), p("SHA256SUMS"))
	for _, n := range []string{"pump-fw-2.1.bin.p7s", "infusion-fw-3.0.bin.p7s", "monitor-fw-1.4.img.asc", "SHA256SUMS", "SHA256SUMS.asc"} {
		b, err := os.ReadFile(p(n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = b
	}
	return files
}

// startUpdateServers serves dir over HTTP (python3 -m http.server), FTP (pyftpdlib,
// anonymous, read-only) and TFTP (tftpd-hpa) on updatesAddr, until the test ends, and
// returns the HTTP and FTP ports (TFTP is on 69: the dissector knows TFTP by its port).
func startUpdateServers(t *testing.T, python, tftpd, dir string) (httpPort, ftpPort int) {
	t.Helper()
	httpPort = testproc.FreePort(t, "tcp4", updatesAddr)
	srv := testproc.Start(t, python, "-m", "http.server", "--bind", updatesAddr, "--directory", dir, strconv.Itoa(httpPort))
	ftpPort = testproc.FreePort(t, "tcp4", updatesAddr)
	ftp := testproc.Start(t, python, "-m", "pyftpdlib", "-i", updatesAddr, "-p", strconv.Itoa(ftpPort), "-d", dir)
	// tftpd-hpa in the foreground (-L), serving dir only (-s), on updatesAddr alone.
	tftp := testproc.Start(t, tftpd, "-L", "-s", "-a", updatesAddr+":69", dir)
	_ = tftp
	srv.WaitFor(t, "stdout", "Serving HTTP", 15*time.Second)
	ftp.WaitFor(t, "stderr", "starting FTP server", 15*time.Second)
	return httpPort, ftpPort
}

// scanUpdates runs medscan over a capture with extra flags, and reads its JSON report.
func scanUpdates(t *testing.T, pcap string, extra ...string) findings.Report {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("building medscan: %v", buildErr)
	}
	work := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"scan", "--pcap", pcap, "--format", "json", "--db", filepath.Join(work, "x.db")}, extra...)
	cmd := exec.CommandContext(ctx, medscanBin, args...)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1", "TMPDIR="+work)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("medscan %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	keep(t, ".json", out.Bytes())
	var rep findings.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("medscan's report is not JSON: %v", err)
	}
	// The kept bytes are deleted when the scan ends: nothing is left in TMPDIR.
	if left, _ := filepath.Glob(filepath.Join(work, "medscan-updates-*")); len(left) > 0 {
		t.Errorf("medscan left its kept update images behind: %v", left)
	}
	return rep
}

// savedFiles reads what --save-updates wrote: SHA-256 of the bytes by path, checking
// the modes (folders 0700, files 0600).
func savedFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("--save-updates wrote %s with mode %v, want %v", rel, fi.Mode().Perm(), want)
		}
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = sha256Hex(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func counterValue(rep findings.Report, name string) uint64 {
	for _, c := range rep.Scan.Counters {
		if c.Name == name {
			return c.Value
		}
	}
	return 0
}

// TestUpdatesKeptOffTheWire serves signed, tampered and unsigned firmware images with
// their signatures over HTTP (python3's http.server), FTP (pyftpdlib) and TFTP
// (tftpd-hpa), fetches them with curl under tcpdump, and requires medscan
// --save-updates to have kept each image and each signature beside it byte for byte
// (the 3 MiB image spilled to a temporary file on the way, which is gone after the
// scan), nothing else, and, with a --max-update-size below the largest image, that
// image cut to that size and counted.
// servedUpdates is a capture of the update servers' files fetched over HTTP, FTP and
// TFTP, with what was needed to make and serve them.
type servedUpdates struct {
	pcap              string
	pki, www          string
	files             map[string][]byte
	httpPort, ftpPort int
}

// captureUpdates makes the files (signingPKI, updateFiles), serves them
// (startUpdateServers) and fetches them with curl under tcpdump.
func captureUpdates(t *testing.T) servedUpdates {
	t.Helper()
	curl := requireTool(t, "curl", "curl")
	openssl := requireTool(t, "openssl", "openssl")
	gpg := requireTool(t, "gpg", "gnupg")
	tftpd := requireTool(t, "in.tftpd", "tftpd-hpa")
	// Debian's python3, which python3-pyftpdlib installs for.
	python := requireTool(t, "/usr/bin/python3", "python3")
	if err := exec.Command(python, "-c", "import pyftpdlib").Run(); err != nil {
		if testproc.Required(envRequire) {
			t.Fatalf("pyftpdlib not importable by %s (Debian package python3-pyftpdlib): %v", python, err)
		}
		t.Skipf("pyftpdlib not importable by %s (Debian package python3-pyftpdlib)", python)
	}
	pki, www := t.TempDir(), t.TempDir()
	env := signingPKI(t, openssl, gpg, pki)
	gpgRun(t, env, gpg, "--batch", "--yes", "--armor", "--export", "-o", filepath.Join(pki, "vendor.asc"))
	files := updateFiles(t, openssl, gpg, pki, www, env)
	updatesMu.Lock() // one test at a time on updatesAddr (TFTP's port 69 is fixed)
	t.Cleanup(updatesMu.Unlock)
	httpPort, ftpPort := startUpdateServers(t, python, tftpd, www)
	tcpdump := requireTool(t, "tcpdump", "tcpdump")
	pcap := filepath.Join(t.TempDir(), "updates.pcap")
	// A 64 MiB capture buffer (-B): loopback's 64 KiB segments of a multi-MB download
	// overflow the default one on a busy machine, and a hole in the capture is (rightly)
	// a body medscan does not keep.
	c := testproc.Start(t, tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "65536", "-Z", "root", "-w", pcap,
		"host "+updatesAddr)
	c.WaitFor(t, "stderr", "listening on", 15*time.Second)
	got := t.TempDir()
	fetch := func(url string) {
		t.Helper()
		out := filepath.Join(got, strconv.Itoa(len(url))+"-"+filepath.Base(url))
		// Paced, so that tcpdump keeps up with loopback and the capture has no holes.
		run(t, time.Minute, nil, curl, "-sS", "--fail", "--limit-rate", "1M", "-o", out, url)
	}
	httpBase := fmt.Sprintf("http://%s:%d/", updatesAddr, httpPort)
	for _, n := range []string{"pump-fw-2.1.bin", "pump-fw-2.1.bin.p7s", "monitor-fw-1.4.img", "monitor-fw-1.4.img.asc",
		"SHA256SUMS", "SHA256SUMS.asc", "infusion-fw-3.0.bin", "infusion-fw-3.0.bin.p7s", "unsigned-fw-1.0.bin",
		"release-notes-14.txt", "tiny-9.bin"} {
		fetch(httpBase + n)
	}
	for _, n := range []string{"pump-fw-2.1.bin", "pump-fw-2.1.bin.p7s"} {
		fetch(fmt.Sprintf("ftp://%s:%d/%s", updatesAddr, ftpPort, n))
	}
	for _, n := range []string{"monitor-fw-1.4.img", "monitor-fw-1.4.img.asc"} {
		fetch(fmt.Sprintf("tftp://%s/%s", updatesAddr, n))
	}
	time.Sleep(300 * time.Millisecond)
	c.Interrupt()
	if !c.WaitExit(10 * time.Second) {
		t.Fatalf("tcpdump did not stop: %s", c.Output())
	}
	raw, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	keep(t, ".pcap", raw)
	if !strings.Contains(c.Output(), "\n0 packets dropped by kernel") {
		t.Fatalf("tcpdump lost packets, the test cannot judge medscan on this capture: %s", c.Output())
	}

	return servedUpdates{pcap: pcap, pki: pki, www: www, files: files, httpPort: httpPort, ftpPort: ftpPort}
}

func TestUpdatesKeptOffTheWire(t *testing.T) {
	t.Parallel()
	u := captureUpdates(t)
	pcap, files, httpPort, ftpPort := u.pcap, u.files, u.httpPort, u.ftpPort
	saveDir := filepath.Join(t.TempDir(), "saved")
	rep := scanUpdates(t, pcap, "--save-updates", saveDir)
	saved := savedFiles(t, saveDir)
	httpDir := fmt.Sprintf("http_127.0.0.23_%d", httpPort)
	ftpDir := fmt.Sprintf("ftp_127.0.0.23_%d", ftpPort)
	want := map[string]string{
		// Names with a version in them are templated ({id}, sanitised to _id_): file
		// names may carry identifiers. Two file names that share a template are told
		// apart (~2, sanitised), in the order of the names, the same for every server.
		httpDir + "/_id_.bin":             "infusion-fw-3.0.bin",
		httpDir + "/_id_.bin.p7s":         "infusion-fw-3.0.bin.p7s",
		httpDir + "/_id_.img":             "monitor-fw-1.4.img",
		httpDir + "/_id_.img.asc":         "monitor-fw-1.4.img.asc",
		httpDir + "/_id__2.bin":           "pump-fw-2.1.bin",
		httpDir + "/_id__2.bin.p7s":       "pump-fw-2.1.bin.p7s",
		httpDir + "/_id__3.bin":           "unsigned-fw-1.0.bin",
		httpDir + "/SHA256SUMS":           "SHA256SUMS",
		httpDir + "/SHA256SUMS.asc":       "SHA256SUMS.asc",
		ftpDir + "/_id__2.bin":            "pump-fw-2.1.bin", // one file name, one name, whatever carried it
		ftpDir + "/_id__2.bin.p7s":        "pump-fw-2.1.bin.p7s",
		"tftp_127.0.0.23_69/_id_.img":     "monitor-fw-1.4.img",
		"tftp_127.0.0.23_69/_id_.img.asc": "monitor-fw-1.4.img.asc",
	}
	for path, name := range want {
		if saved[path] == "" {
			t.Errorf("--save-updates did not write %s (%s); wrote %v", path, name, slices.Sorted(mapKeys(saved)))
		} else if saved[path] != sha256Hex(files[name]) {
			t.Errorf("%s: saved bytes hash to %s, %s served hashes to %s", path, saved[path], name, sha256Hex(files[name]))
		}
	}
	if len(saved) != len(want) {
		t.Errorf("--save-updates wrote %d files, want %d: %v", len(saved), len(want), slices.Sorted(mapKeys(saved)))
	}
	if n := counterValue(rep, "updates_kept"); n != uint64(len(want)) {
		t.Errorf("updates_kept = %d, want %d", n, len(want))
	}
	if n := counterValue(rep, "update_images_below_minimum"); n != 1 {
		t.Errorf("update_images_below_minimum = %d, want 1 (tiny-9.bin)", n)
	}

	// Below the pump image's size: it is cut, counted, and what is kept is its start.
	saveCut := filepath.Join(t.TempDir(), "cut")
	rep = scanUpdates(t, pcap, "--save-updates", saveCut, "--max-update-size", "1MiB")
	saved = savedFiles(t, saveCut)
	pump := files["pump-fw-2.1.bin"]
	for _, path := range []string{httpDir + "/_id__2.bin", ftpDir + "/_id__2.bin"} {
		if saved[path] != sha256Hex(pump[:1<<20]) {
			t.Errorf("%s: with --max-update-size 1MiB, the saved bytes are not the image's first MiB", path)
		}
	}
	if n := counterValue(rep, "updates_cut"); n != 2 {
		t.Errorf("updates_cut = %d, want 2 (the pump image over HTTP and FTP)", n)
	}
	if n := counterValue(rep, "update_bytes_not_kept"); n != 2*uint64(len(pump)-1<<20) {
		t.Errorf("update_bytes_not_kept = %d, want %d", n, 2*(len(pump)-1<<20))
	}
}

// TestUpdatesVerifiedOffTheWire is TestUpdatesKeptOffTheWire's capture judged through
// the binary with the site's anchors (the openssl root and the gpg key, in a policy's
// code_signing section as written): the CMS-signed pump image is verified and trusted
// with its signer named, over HTTP and FTP; the OpenPGP-signed monitor image (and
// SHA256SUMS.asc) verified over HTTP and TFTP; the image modified after signing raises
// update-signature-invalid; the unsigned one update-unsigned; and medscan verify, given
// the very files the servers served, agrees image by image (by SHA-256).
func TestUpdatesVerifiedOffTheWire(t *testing.T) {
	t.Parallel()
	u := captureUpdates(t)
	policy := filepath.Join(u.pki, "site.yaml")
	if err := os.WriteFile(policy, []byte("version: 1\ncode_signing: {anchors: [root.pem, vendor.asc]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := scanUpdates(t, u.pcap, "--policy", policy)
	bySHA := map[string][]findings.UpdateImage{}
	for _, img := range rep.Updates {
		bySHA[img.SHA256] = append(bySHA[img.SHA256], img)
	}
	sha := func(name string) string { return sha256Hex(u.files[name]) }
	check := func(name string, origins int, verdict, trust, signer string) {
		t.Helper()
		imgs := bySHA[sha(name)]
		if len(imgs) != origins {
			t.Errorf("%s: %d images in the report, want %d (one per server)", name, len(imgs), origins)
		}
		for _, img := range imgs {
			if img.Verdict != verdict || !slices.Equal(img.Clients, []string{"127.0.0.1"}) {
				t.Errorf("%s from %s: verdict %q clients %v, want %q", name, img.Origin, img.Verdict, img.Clients, verdict)
			}
			if trust == "" {
				continue
			}
			ok := slices.ContainsFunc(img.Signatures, func(s observe.UpdateSignature) bool {
				return s.Verifies && s.Trust == trust && strings.Contains(s.Signer.Label(), signer)
			})
			if !ok {
				t.Errorf("%s from %s: no signature that verifies, %s, by %q: %+v", name, img.Origin, trust, signer, img.Signatures)
			}
		}
	}
	check("pump-fw-2.1.bin", 2, "verified", "trusted", "Pump Vendor Firmware Signing")
	check("monitor-fw-1.4.img", 2, "verified", "trusted", "Monitor Vendor")
	check("infusion-fw-3.0.bin", 1, "invalid", "", "")
	check("unsigned-fw-1.0.bin", 1, "unsigned", "", "")
	rules := map[string]int{}
	for _, f := range rep.Findings {
		rules[f.Rule]++
	}
	if rules["update-signature-invalid"] != 1 || rules["update-unsigned"] != 1 || rules["update-signer-untrusted"] != 0 ||
		rules["update-inconsistent"] != 0 {
		t.Errorf("code-signing findings %v, want one update-signature-invalid and one update-unsigned", rules)
	}

	// medscan verify on the files the servers served, with the same policy.
	vrep := verifyFiles(t, u.www, policy)
	verified := map[string]string{}
	for _, img := range vrep.Updates {
		verified[img.SHA256] = img.Verdict
	}
	for sum, imgs := range bySHA {
		for _, img := range imgs {
			if verified[sum] != img.Verdict {
				t.Errorf("%s%s/%s: the passive scan says %q, medscan verify on the served file %q", img.Origin, img.Dir, img.Name,
					img.Verdict, verified[sum])
			}
		}
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// verifyFiles runs medscan verify on dir with the policy, into a store of its own, and
// returns its JSON report: what the offline examination says of the files a test served.
func verifyFiles(t *testing.T, dir, policy string) findings.Report {
	t.Helper()
	work := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, medscanBin, "verify", dir, "--policy", policy, "-f", "json", "--db", filepath.Join(work, "v.db"))
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("medscan verify: %v\n%s", err, errb.String())
	}
	var rep findings.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("medscan verify's report is not JSON: %v\n%s", err, errb.String())
	}
	return rep
}
