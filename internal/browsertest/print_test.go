//go:build unix

package browsertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
	"github.com/medscan/medscan/store"
)

// The printed report's page margins in points, as style.css's @page sets them (18 mm
// top, 12 mm sides, 16 mm bottom): text inside them is the running header and footer.
const (
	marginTop, marginSide, marginBottom = 51.0, 34.0, 45.4
)

// wardScan scans the ward capture in-process at a fixed clock, judged by the rule
// catalog (so owners and risks are there), and reads it back from the store: the scan
// every browser test renders, the same from run to run.
func wardScan(t *testing.T) *findings.Report {
	t.Helper()
	root, dir := testproc.RepoRoot(t), t.TempDir()
	st, err := store.Open(filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fixed := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	res, err := scan.Run(context.Background(), st, scan.Options{Pcaps: []string{filepath.Join(root, "fixtures", "ward.pcapng")},
		Label: "4-west", ToolVersion: "test", Clock: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// wardHTML is the ward's HTML report (wardScan).
func wardHTML(t *testing.T) string {
	t.Helper()
	rep := wardScan(t)
	w, err := report.Scan.New("html", report.Options{Catalog: rules.CatalogIndex()})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var cspRE = regexp.MustCompile(`(<meta http-equiv="Content-Security-Policy" content="[^"]*style-src )`)

// withStyle adds a test's own style element to a report page and allows it in the
// page's Content-Security-Policy by its hash, as the report allows its own: the page
// keeps its policy, and a console error would still show any violation.
func withStyle(t *testing.T, page, css string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(css))
	if !cspRE.MatchString(page) {
		t.Fatal("the report has no Content-Security-Policy with a style-src")
	}
	page = cspRE.ReplaceAllLiteralString(page, cspRE.FindString(page)+"&#39;sha256-"+
		strings.ReplaceAll(base64.StdEncoding.EncodeToString(sum[:]), "+", "&#43;")+"&#39; ")
	return strings.Replace(page, "</head>", "<style>"+css+"</style>\n</head>", 1)
}

// poppler runs pdftotext or pdfinfo, or skips (fails under MEDSCAN_REQUIRE_CHROMIUM=1,
// since CI installs poppler-utils beside Chromium).
func poppler(t *testing.T, tool string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("MEDSCAN_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("MEDSCAN_REQUIRE_CHROMIUM=1 but %s is missing (Debian's poppler-utils)", tool)
		}
		t.Skipf("skipping: %s not found; install Debian's poppler-utils", tool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", tool, strings.Join(args, " "), err)
	}
	return string(out)
}

var (
	thRE     = regexp.MustCompile(`(?s)<th[^>]*>(.*?)</th>`)
	tagRE    = regexp.MustCompile(`<[^>]+>`)
	pageRE   = regexp.MustCompile(`<page width="([0-9.]+)" height="([0-9.]+)">`)
	wordRE   = regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)
	footerRE = regexp.MustCompile(`Page (\d+) of (\d+)`)
)

// headers lists the text of every table header cell of a page, unescaped.
func headers(page string) []string {
	var out []string
	for _, m := range thRE.FindAllStringSubmatch(page, -1) {
		if h := strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(m[1], ""))), " "); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// cutEdge is how close to the printed area's right edge a word's end must come to count
// as cut there: Chromium emits only the glyphs that fit, so a cut word ends within a few
// hundredths of a point of the edge (0.03 in the control), while the lines of wrapped
// prose end where their last whole word does, a little short of it.
const cutEdge = 0.1

// printed is what pdftotext found in a PDF.
type printed struct {
	pages       int
	text        string // -layout, whitespace collapsed to single spaces
	cut, beyond []string
	footers     int // pages whose footer says "Page N of pages"
}

// readPDF extracts a PDF's text and checks its geometry: a word that ends at the right
// edge of the printed area was cut there (Chromium clips what overflows the page, and
// drops what lies wholly beyond it), and no word may lie outside the page.
func readPDF(t *testing.T, pdf string) printed {
	t.Helper()
	var p printed
	p.text = strings.Join(strings.Fields(poppler(t, "pdftotext", "-layout", pdf, "-")), " ")
	bbox := poppler(t, "pdftotext", "-bbox", pdf, "-")
	for _, pg := range strings.Split(bbox, "<page ")[1:] {
		p.pages++
		m := pageRE.FindStringSubmatch("<page " + pg)
		if m == nil {
			t.Fatalf("pdftotext -bbox: a page without its size")
		}
		w, _ := strconv.ParseFloat(m[1], 64)
		h, _ := strconv.ParseFloat(m[2], 64)
		var words []string
		for _, wm := range wordRE.FindAllStringSubmatch(pg, -1) {
			x0, _ := strconv.ParseFloat(wm[1], 64)
			y0, _ := strconv.ParseFloat(wm[2], 64)
			x1, _ := strconv.ParseFloat(wm[3], 64)
			y1, _ := strconv.ParseFloat(wm[4], 64)
			words = append(words, wm[5])
			switch {
			case x0 < 0 || x1 > w || y0 < 0 || y1 > h:
				p.beyond = append(p.beyond, wm[5])
			case y0 > marginTop && y1 < h-marginBottom && x1 > w-marginSide-cutEdge:
				p.cut = append(p.cut, fmt.Sprintf("%s (%.2f pt from the edge)", wm[5], w-marginSide-x1))
			}
		}
		if f := footerRE.FindStringSubmatch(strings.Join(words, " ")); f != nil && f[1] == strconv.Itoa(p.pages) {
			p.footers++
		}
	}
	return p
}

// checkPages holds a printed page to what every printed medscan page must be: every
// column header of the page (headers) in the text, no word cut at the right edge or
// outside the page, "Page N of M" on every page and the page's title heading each.
func (p printed) checkPages(t *testing.T, paper string, headers []string, title string) {
	t.Helper()
	t.Logf("%s: %d pages, %d table headers", paper, p.pages, len(headers))
	for _, h := range headers {
		if !strings.Contains(p.text, h) {
			t.Errorf("column header %q is not in the printed text", h)
		}
	}
	if len(p.cut) > 0 {
		t.Errorf("%d words cut at the right edge: %q", len(p.cut), p.cut[:min(len(p.cut), 10)])
	}
	if len(p.beyond) > 0 {
		t.Errorf("%d words outside the page: %q", len(p.beyond), p.beyond[:min(len(p.beyond), 10)])
	}
	if p.footers != p.pages {
		t.Errorf("%d of %d pages say \"Page N of %d\"", p.footers, p.pages, p.pages)
	}
	if n := strings.Count(p.text, title); n < p.pages {
		t.Errorf("the page's title %q heads %d of %d pages", title, n, p.pages)
	}
}

// printPDF prints a page to PDF with headless Chromium, without Chromium's own header
// and footer (the report draws its own in @page margin boxes).
func printPDF(t *testing.T, bin, page string) (string, []string) {
	t.Helper()
	pdf := strings.TrimSuffix(page, ".html") + ".pdf"
	_, stderr := browse(t, bin, page, "--print-to-pdf="+pdf, "--no-pdf-header-footer")
	if dir := os.Getenv("MEDSCAN_BROWSER_KEEP"); dir != "" {
		if b, err := os.ReadFile(pdf); err == nil {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(pdf)), b, 0o644)
		}
	}
	return pdf, consoleErrors(stderr)
}

// TestPrintControls proves the print checks can fail: a table wider than the paper loses
// its last column (its header is missing from the text) and cuts a long cell at the
// edge, and a page without the report's margin boxes has no "Page N of M".
func TestPrintControls(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	wide := writePage(t, dir, "wide.html", `<!DOCTYPE html><html><head><title>w</title><style>@page{size:A4;margin:18mm 12mm 16mm}</style></head>`+
		`<body><table><tr><th>Alpha</th><th>Omega</th></tr><tr><td style="white-space:nowrap">`+strings.Repeat("a", 200)+
		`</td><td>last</td></tr></table></body></html>`)
	pdf, _ := printPDF(t, bin, wide)
	p := readPDF(t, pdf)
	if strings.Contains(p.text, "Omega") {
		t.Error("the header of a column beyond the paper was found")
	}
	if len(p.cut) == 0 {
		t.Error("a cell cut at the paper's edge went unnoticed")
	}
	if p.footers != 0 {
		t.Errorf("%d page footers on a page that draws none", p.footers)
	}
}

// TestWardReportPrints prints the ward's report to PDF on A4 and on Letter, and reads
// the PDFs back with pdftotext: the paper size is the one asked for, every column
// header of every table is in the text (a column pushed off the paper is dropped whole),
// no word is cut at the right edge of the printed area or lies outside the page, and
// every page carries the report's title and "Page N of M" (CSS @page margin boxes).
func TestWardReportPrints(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := wardHTML(t)
	ths := headers(page)
	if len(ths) < 30 {
		t.Fatalf("only %d table headers in the ward's report", len(ths))
	}
	for _, paper := range []struct {
		name string
		w, h float64 // points
	}{{"A4", 595.28, 841.89}, {"Letter", 612, 792}} {
		t.Run(paper.name, func(t *testing.T) {
			// The paper is the printer's choice; the test chooses it as a user's print
			// dialog would, by @page size.
			file := writePage(t, dir, "ward-"+paper.name+".html", withStyle(t, page, "@page { size: "+paper.name+"; }"))
			pdf, errs := printPDF(t, bin, file)
			if len(errs) > 0 {
				t.Errorf("console errors while printing:\n%s", strings.Join(errs, "\n"))
			}
			info := poppler(t, "pdfinfo", pdf)
			m := regexp.MustCompile(`Page size:\s+([0-9.]+) x ([0-9.]+) pts`).FindStringSubmatch(info)
			if m == nil {
				t.Fatalf("pdfinfo: no page size:\n%s", info)
			}
			if w, _ := strconv.ParseFloat(m[1], 64); w < paper.w-1 || w > paper.w+1 {
				t.Errorf("page width %s pt; want %.0f (%s)", m[1], paper.w, paper.name)
			}
			p := readPDF(t, pdf)
			p.checkPages(t, paper.name, ths, "medscan report: scan 1 (4-west)")
			// The executive summary is one page, after the cover: the risks and the map
			// on page 2, the remediation plan starting on page 3.
			summary := strings.Join(strings.Fields(poppler(t, "pdftotext", "-f", "2", "-l", "2", "-layout", pdf, "-")), " ")
			for _, want := range []string{"1. Executive summary", "What matters most", "Device software can be replaced",
				"Data flows between devices, middleware and clinical servers"} {
				if !strings.Contains(summary, want) {
					t.Errorf("page 2, the executive summary, lacks %q:\n%.1500s", want, summary)
				}
			}
			if plan := strings.Join(strings.Fields(poppler(t, "pdftotext", "-f", "3", "-l", "3", "-layout", pdf, "-")), " "); !strings.Contains(plan, "2. Remediation plan") {
				t.Errorf("page 3 does not start the remediation plan: the executive summary runs over its page:\n%.800s", plan)
			}
			for _, want := range []string{"Executive summary", "Remediation plan", "Device maker", "PKI team",
				"Patient data can be read or changed between devices and the EHR", "Appendix B. Asset inventory"} {
				if !strings.Contains(p.text, want) {
					t.Errorf("the printed report lacks %q", want)
				}
			}
		})
	}
}

// overflow measures how far a page's content reaches beyond a layout width, in CSS
// pixels. A page cannot measure itself under the report's CSP (no script), and a
// screenshot of a window of the width itself would only cut the overflow off; so the
// test lays the page out at exactly width CSS pixels (the root element's width, set by
// a style it adds) and draws it at a quarter of its size (CSS zoom, which scales the
// drawing and leaves the layout as it is) in a window twice as wide as that: anything
// that does not fit the width is drawn beyond it, on the blank canvas, and the last
// inked column says how far. The whole page is drawn in one screenshot; its last rows
// must be blank, or the page was longer than the window and the bottom went unmeasured.
func overflow(t *testing.T, bin, dir, name, page string, width int) int {
	t.Helper()
	const scale = 4
	file := writePage(t, dir, name+".html", withStyle(t, page, rootWidth(width, scale)))
	shot := filepath.Join(dir, name+".png")
	w, h := 2*width/scale, 8000
	_, stderr := browse(t, bin, file, "--screenshot="+shot, "--window-size="+strconv.Itoa(w)+","+strconv.Itoa(h))
	if errs := consoleErrors(stderr); len(errs) > 0 {
		t.Errorf("%s: console errors:\n%s", name, strings.Join(errs, "\n"))
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: screenshot %dx%d; want %dx%d", name, b.Dx(), b.Dy(), w, h)
	}
	inked := func(x, y int) bool {
		r, g, bl, _ := img.At(x, y).RGBA()
		return r>>8 < 240 || g>>8 < 240 || bl>>8 < 240
	}
	for y := b.Max.Y - 100; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if inked(x, y) {
				t.Fatalf("%s: the page is longer than %d CSS px, which the screenshot covers", name, h*scale)
			}
		}
	}
	reach := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Max.X - 1; x >= b.Min.X+width/scale+reach; x-- {
			if inked(x, y) {
				reach = x - width/scale + 1
				break
			}
		}
	}
	return reach * scale
}

// rootWidth is the test's style that lays a page out at a fixed width and draws it at
// 1/scale of its size.
func rootWidth(px, scale int) string {
	return "html { width: " + strconv.Itoa(px) + "px; zoom: " + strconv.FormatFloat(1/float64(scale), 'f', -1, 64) +
		"; background: #fff; } body { margin: 0; }"
}

// TestWardReportFitsTheScreen lays the ward's report out 1280 pixels wide and requires
// that nothing reaches beyond them: no horizontal scroll at 1280 px. A control page with
// a table wider than that proves the measurement sees overflow.
func TestWardReportFitsTheScreen(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	const width = 1280
	ctl := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='">` +
		`<title>c</title></head><body><table><tr><th>` + strings.Repeat("wide&nbsp;", 300) + `</th></tr></table></body></html>`
	if got := overflow(t, bin, dir, "control", ctl, width); got < 400 {
		t.Errorf("the control table's overflow measured %d px", got)
	}
	if got := overflow(t, bin, dir, "ward", wardHTML(t), width); got > 0 {
		t.Errorf("the ward's report reaches %d px beyond %d px", got, width)
	}
}
