// Package browsertest renders medscan's HTML report in a real browser: headless
// Chromium opens the report of the ward capture and a report whose certificate subject
// and HL7 application name carry markup, takes a screenshot and dumps the DOM.
//
// It holds no library code. Its test requires that the page is not blank (the
// screenshot has colour and ink), that the browser logs no console error (a violation
// of the page's Content-Security-Policy is one), and that the hostile subject shows as
// text: the title is unchanged and no element was made from it. Control pages with a
// deliberate console error and a deliberate CSP violation prove that the log check
// sees what it looks for.
//
// TestFlowMapScreenshot draws the ward's data-flow map (medscan flows -f svg), checks it
// raises no console error inline under the report's Content-Security-Policy, and takes
// its screenshot: with -update it rewrites docs/flowmap.png, which the README shows, and
// otherwise checks the committed file is a PNG of the map's size.
//
// TestWardReportPrints prints the ward's report to PDF on A4 and on Letter (the paper
// chosen by an @page size rule the test adds, allowed in the page's CSP by its hash) and
// reads the PDFs back with poppler's pdftotext and pdfinfo: the paper is the one asked
// for, every column header of every table is in the text (Chromium drops a column that
// lies wholly beyond the paper), no word is cut at the right edge of the printed area
// (Chromium emits only the glyphs that fit, so a cut word ends at the edge) or lies
// outside the page, and every page carries the report's title and "Page N of M" from
// the report's @page margin boxes. TestPrintControls prints a table wider than the paper
// and a page without margin boxes, to prove each check fails when it should.
//
// TestWardReportFitsTheScreen checks there is no horizontal scroll at 1280 px. Under
// the CSP no script can measure the page, and a screenshot of a 1280-px window only
// cuts the overflow off; so the page is laid out at exactly 1280 CSS px (the root
// element's width) and drawn at a quarter of its size (CSS zoom) in a window twice as
// wide, the whole page in one screenshot: whatever does not fit is drawn on the blank
// right half, and the last inked column there says how far it reaches. A control table
// wider than the width proves the measurement sees overflow. Without pdftotext the print
// tests skip, unless MEDSCAN_REQUIRE_CHROMIUM=1 (CI installs poppler-utils beside
// Chromium). MEDSCAN_BROWSER_KEEP=DIR keeps the screenshots and PDFs.
//
// Invariants: Chromium runs with a throwaway profile, no network services and a bounded
// time, and opens only file:// URLs of pages the test wrote. Without a Chromium binary
// the test skips, saying so, unless MEDSCAN_REQUIRE_CHROMIUM=1, which CI sets so that
// it cannot pass without a browser. MEDSCAN_CHROMIUM names the binary to use.
//
// Run it with:
//
//	MEDSCAN_REQUIRE_CHROMIUM=1 go test ./internal/browsertest -v
package browsertest
