//go:build unix

//go:debug cryptocustomrand=1

package browsertest

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/report"
)

var update = flag.Bool("update", false, "rewrite docs/flowmap.png from the ward's data-flow map")

var svgSizeRE = regexp.MustCompile(`<svg [^>]*width="(\d+)" height="(\d+)"`)

// TestFlowMapScreenshot draws the ward's data-flow map (medscan flows -f svg, from a scan
// at a fixed clock so that the picture does not change from run to run), renders it with
// headless Chromium, and checks the picture: not blank, the size of the map, and no
// console error when the map is inline in a page under the HTML report's
// Content-Security-Policy (default-src 'none': no script, style or load is allowed).
// With -update it writes the screenshot to docs/flowmap.png, which the README shows;
// without, it checks the committed file is a PNG of the map's size.
func TestFlowMapScreenshot(t *testing.T) {
	bin := chromium(t)
	root, dir := testproc.RepoRoot(t), t.TempDir()
	rep := wardScan(t)
	w, err := report.Flows.New("svg", report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var svg bytes.Buffer
	if err := w.Write(&svg, findings.NewFlowMap(rep)); err != nil {
		t.Fatal(err)
	}
	m := svgSizeRE.FindSubmatch(svg.Bytes())
	if m == nil {
		t.Fatalf("the map has no width and height: %.300s", svg.String())
	}
	width, _ := strconv.Atoi(string(m[1]))
	height, _ := strconv.Atoi(string(m[2]))

	// Inline under the report's policy: nothing the map holds may be refused.
	inline := strings.SplitN(svg.String(), "\n", 2)[1] // without the XML declaration
	page := writePage(t, dir, "inline.html", `<!DOCTYPE html><html><head><meta charset="utf-8">`+
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; base-uri 'none'; form-action 'none'">`+
		`<title>map</title></head><body>`+inline+`</body></html>`)
	dom, stderr := browse(t, bin, page, "--dump-dom")
	if errs := consoleErrors(stderr); len(errs) > 0 {
		t.Errorf("console errors with the map inline:\n%s", strings.Join(errs, "\n"))
	}
	if !strings.Contains(dom, "10.20.0.10") || !strings.Contains(dom, "Medical devices") {
		t.Errorf("the inline map's text is not in the page")
	}

	// The map on its own, at its own size.
	file := filepath.Join(dir, "flowmap.svg")
	if err := os.WriteFile(file, svg.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "flowmap.png")
	_, stderr = browse(t, bin, file, "--screenshot="+shot, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height))
	if errs := consoleErrors(stderr); len(errs) > 0 {
		t.Errorf("console errors drawing the map:\n%s", strings.Join(errs, "\n"))
	}
	if nonWhite, colours := ink(t, shot); !notBlank(nonWhite, colours) {
		t.Errorf("the map's screenshot looks blank: %.4f of pixels inked, %d colours", nonWhite, colours)
	}
	checkPNG(t, shot, width, height)
	committed := filepath.Join(root, "docs", "flowmap.png")
	if *update {
		raw, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(committed, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkPNG(t, committed, width, height)
}

// checkPNG requires path to be a PNG of width by height pixels.
func checkPNG(t *testing.T, path string, width, height int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/browsertest -run TestFlowMapScreenshot -update to make it)", err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", path, err)
	}
	if cfg.Width != width || cfg.Height != height {
		t.Errorf("%s is %dx%d; the map is %dx%d (run with -update after changing the map)", path, cfg.Width, cfg.Height, width, height)
	}
}
