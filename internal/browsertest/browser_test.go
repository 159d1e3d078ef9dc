//go:build unix

package browsertest

import (
	"bytes"
	"context"
	"image/png"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/fixtures/ward"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/report"

	"github.com/medscan/medscan/internal/testproc"
)

// hostileSubject would set the page's title and create an image element if the report
// pasted it into the page as markup.
const hostileSubject = `<script>document.title='pwned'</script><img src=x onerror=alert(1)>`

// hostileText is how the DOM serialises hostileSubject when it is a text node.
const hostileText = `&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`

// browserTimeout bounds one Chromium run; a cold start on a loaded CI machine takes a
// few seconds.
const browserTimeout = 90 * time.Second

// chromium finds the browser, or skips (fails under MEDSCAN_REQUIRE_CHROMIUM=1).
func chromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	if env := os.Getenv("MEDSCAN_CHROMIUM"); env != "" {
		names = []string{env}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("MEDSCAN_REQUIRE_CHROMIUM") == "1" {
		t.Fatalf("MEDSCAN_REQUIRE_CHROMIUM=1 but no Chromium found (tried %s)", strings.Join(names, ", "))
	}
	t.Skipf("skipping: no Chromium found (tried %s); install Debian's chromium or set MEDSCAN_CHROMIUM", strings.Join(names, ", "))
	return ""
}

// browse runs headless Chromium once on a local page with extra arguments (--dump-dom
// or --screenshot) and returns its standard output and error.
func browse(t *testing.T, bin, page string, extra ...string) (stdout, stderr string) {
	t.Helper()
	home := t.TempDir()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--disable-extensions", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(home, "profile"),
		"--enable-logging=stderr", "--v=0"}
	args = append(append(args, extra...), "file://"+page)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home)
	// Chromium forks helpers; the whole group goes when the time is up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", filepath.Base(page), err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleRE picks the browser's console messages (Chromium logs them as
// "INFO:CONSOLE:1]" or "CONSOLE(1)" depending on its version) and any CSP report.
var consoleRE = regexp.MustCompile(`CONSOLE[:(]|Content Security Policy|Refused to`)

// consoleErrors returns the console lines of a Chromium log. The report has no script,
// so any console message at all is a resource or policy error.
func consoleErrors(stderr string) []string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if consoleRE.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

// ink measures a screenshot: the share of pixels that are not near white and the
// number of distinct colours (at 5 bits a channel).
func ink(t *testing.T, path string) (nonWhite float64, colours int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	b := img.Bounds()
	seen := map[uint32]bool{}
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r < 240 || g < 240 || bl < 240 {
				dark++
			}
			seen[(r>>3)<<10|(g>>3)<<5|bl>>3] = true
		}
	}
	return float64(dark) / float64(b.Dx()*b.Dy()), len(seen)
}

// screenshot renders page to a PNG and returns its path and the console errors.
func screenshot(t *testing.T, bin, page string) (string, []string) {
	t.Helper()
	shot := strings.TrimSuffix(page, ".html") + ".png"
	_, stderr := browse(t, bin, page, "--screenshot="+shot, "--window-size=1280,2000")
	if dir := os.Getenv("MEDSCAN_BROWSER_KEEP"); dir != "" {
		if b, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(shot)), b, 0o644)
		}
	}
	return shot, consoleErrors(stderr)
}

func writePage(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestControls proves each check can fail: a console error, a CSP violation, markup
// pasted in raw, and a blank page are all caught.
func TestControls(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	consoleErr := writePage(t, dir, "console.html",
		`<!DOCTYPE html><html><head><title>c</title></head><body><p>x</p><script>console.error("medscan-control")</script></body></html>`)
	if _, stderr := browse(t, bin, consoleErr, "--dump-dom"); len(consoleErrors(stderr)) == 0 {
		t.Errorf("a console.error went unnoticed; the log said:\n%s", stderr)
	}
	cspViolation := writePage(t, dir, "csp.html", `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" `+
		`content="default-src 'none'"><title>c</title><style>p{color:red}</style></head><body><p>x</p></body></html>`)
	if _, stderr := browse(t, bin, cspViolation, "--dump-dom"); len(consoleErrors(stderr)) == 0 {
		t.Errorf("a CSP violation went unnoticed; the log said:\n%s", stderr)
	}
	// Markup pasted raw, once under a policy that blocks scripts (an alert() would hang
	// a headless browser) to make the image, once without it to run the title script.
	for name, head := range map[string]string{
		"raw-csp.html":   `<meta http-equiv="Content-Security-Policy" content="default-src 'none'">`,
		"raw-title.html": "",
	} {
		body := hostileSubject
		if head == "" {
			body = hostileSubject[:strings.Index(hostileSubject, "<img")]
		}
		raw := writePage(t, dir, name, `<!DOCTYPE html><html><head>`+head+`<title>medscan</title></head><body><p>`+body+`</p></body></html>`)
		dom, _ := browse(t, bin, raw, "--dump-dom")
		if ok, why := hostileInert(dom, "medscan"); ok {
			t.Errorf("%s: markup pasted raw passed the DOM check:\n%s", name, dom)
		} else {
			t.Logf("%s: caught: %s", name, why)
		}
	}
	blank := writePage(t, dir, "blank.html", `<!DOCTYPE html><html><head><title>b</title></head><body></body></html>`)
	shot, _ := screenshot(t, bin, blank)
	if nonWhite, colours := ink(t, shot); notBlank(nonWhite, colours) {
		t.Errorf("a blank page passed the blankness check: %.4f ink, %d colours", nonWhite, colours)
	}
}

// notBlank is the screenshot check: a report page has text, tables and coloured chips.
func notBlank(nonWhite float64, colours int) bool { return nonWhite >= 0.03 && colours >= 24 }

var titleRE = regexp.MustCompile(`(?s)<title>(.*?)</title>`)

// hostileInert reports whether a dumped DOM shows the hostile subject as text only: the
// title is the one the page was written with, no image element exists, the only script
// element is none, and the text is there.
func hostileInert(dom, wantTitle string) (bool, string) {
	m := titleRE.FindStringSubmatch(dom)
	switch {
	case m == nil:
		return false, "no title"
	case m[1] != wantTitle:
		return false, "title is " + m[1]
	case strings.Contains(dom, "<img"):
		return false, "an img element exists"
	case strings.Contains(dom, "<script"):
		return false, "a script element exists"
	case !strings.Contains(dom, hostileText):
		return false, "the subject is not shown as text"
	}
	return true, ""
}

// TestWardReport scans the ward capture with the built binary, straight to HTML, and
// renders the page.
func TestWardReport(t *testing.T) {
	bin := chromium(t)
	root, dir := testproc.RepoRoot(t), t.TempDir()
	medscan := filepath.Join(dir, "medscan")
	build := exec.Command("go", "build", "-o", medscan, "./cmd/medscan")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building medscan: %v\n%s", err, out)
	}
	page := filepath.Join(dir, "ward.html")
	scan := exec.Command(medscan, "scan", "--pcap", filepath.Join(root, "fixtures", "ward.pcapng"),
		"--db", filepath.Join(dir, "m.db"), "--format", "html", "-o", page)
	if out, err := scan.CombinedOutput(); err != nil {
		t.Fatalf("medscan scan: %v\n%s", err, out)
	}
	dom, stderr := browse(t, bin, page, "--dump-dom")
	if errs := consoleErrors(stderr); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	if m := titleRE.FindStringSubmatch(dom); m == nil || m[1] != "medscan report: scan 1" {
		t.Errorf("title %q", m)
	}
	for _, want := range []string{`id="summary"`, `id="rule-cleartext-hl7"`, "pump-0011", "10.20.0.50:1883",
		"Keys presented by more than one host", "10.20.1.11:443</code>, <code>10.20.1.12:443</code>, <code>10.20.1.13:443",
		"Validity timeline", "TLS_AES_128_GCM_SHA256"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	// The patient names and secrets planted in the capture never reach the page.
	for _, secret := range ward.PlantedSecrets {
		if strings.Contains(dom, secret) {
			t.Errorf("the page holds the planted secret %q", secret)
		}
	}
	shot, errs := screenshot(t, bin, page)
	if len(errs) > 0 {
		t.Errorf("console errors while drawing:\n%s", strings.Join(errs, "\n"))
	}
	if nonWhite, colours := ink(t, shot); !notBlank(nonWhite, colours) {
		t.Errorf("the screenshot looks blank: %.4f of pixels inked, %d colours", nonWhite, colours)
	}
}

// hostileReport carries the hostile subject in a certificate, a finding's message and
// evidence, and markup in an HL7 application name.
func hostileReport() *findings.Report {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	f := findings.Finding{Rule: "cert-self-signed", Severity: findings.Medium, Host: "10.20.1.99", Port: 443,
		Message:  "10.20.1.99:443 served self-signed certificate CN=" + hostileSubject,
		Evidence: map[string]any{"subject": "CN=" + hostileSubject, "names": []any{hostileSubject}},
		Time:     t0, Source: "passive", Remediation: "Replace it.", FirstSeen: t0, LastSeen: t0}
	f.SetFingerprint()
	r := &findings.Report{SchemaVersion: findings.ReportSchemaVersion, Tool: findings.Tool{Name: "medscan", Version: "test"},
		Scan: findings.ScanInfo{ID: 7, Started: t0, Finished: t0.Add(time.Second), Sources: []string{"hostile.pcap"},
			Complete: true, Policy: "default"},
		Summary:  findings.Summary{Total: 1, Medium: 1},
		Findings: []findings.Finding{f},
		Certificates: []findings.Certificate{{SHA256: strings.Repeat("ab", 32), CertFacts: observe.CertFacts{
			SPKISHA256: strings.Repeat("cd", 32), Subject: "CN=" + hostileSubject, Issuer: "CN=" + hostileSubject,
			NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(9, 0, 0), ValidityDays: 3653, KeyType: "rsa",
			KeyBits: 2048, SelfSigned: true, SignatureAlgorithm: "SHA256-RSA", DNSNames: []string{hostileSubject}},
			SeenOn: []findings.Sighting{{Host: "10.20.1.99", Port: 443,
				CertSighting: observe.CertSighting{Role: "server", Time: t0, Source: "passive"}}}}},
		Assets: []findings.Asset{{Asset: observe.Asset{Addr: netip.MustParseAddr("10.20.1.99"),
			MACs: []string{"00:11:22:33:44:55"}, FirstSeen: t0, LastSeen: t0}, MAC: "00:11:22:33:44:55"}},
		HL7: []findings.HL7Message{{Conversation: findings.Conversation{Client: "10.20.1.11", Host: "10.20.0.10", Port: 6661},
			HL7Message: observe.HL7Message{Count: 1, FirstSeen: t0, LastSeen: t0,
				SendingApp: `<b onmouseover="alert(2)">PUMP</b>`, ReceivingApp: "EMR", MessageType: "ORU",
				TriggerEvent: "R01", Version: "2.6"}}},
	}
	// What the store does to every document it reads: derive, sort, tidy.
	r.Derive()
	r.Sort()
	findings.Tidy(r)
	return r
}

// TestHostileReport renders a report whose certificate subject is a script and an image
// with an onerror handler, and requires the browser to show it as text.
func TestHostileReport(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	w, err := report.Scan.New("html", report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, hostileReport()); err != nil {
		t.Fatal(err)
	}
	page := writePage(t, dir, "hostile.html", b.String())
	dom, stderr := browse(t, bin, page, "--dump-dom")
	if errs := consoleErrors(stderr); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	if ok, why := hostileInert(dom, "medscan report: scan 7"); !ok {
		t.Errorf("the hostile subject is not inert: %s", why)
	}
	if strings.Contains(dom, "<b ") || !strings.Contains(dom, `&lt;b onmouseover="alert(2)"&gt;PUMP&lt;/b&gt;`) {
		t.Error("the HL7 application name is not shown as text")
	}
	shot, errs := screenshot(t, bin, page)
	if len(errs) > 0 {
		t.Errorf("console errors while drawing:\n%s", strings.Join(errs, "\n"))
	}
	if nonWhite, colours := ink(t, shot); !notBlank(nonWhite, colours) {
		t.Errorf("the screenshot looks blank: %.4f of pixels inked, %d colours", nonWhite, colours)
	}
}
