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
// Invariants: Chromium runs with a throwaway profile, no network services and a bounded
// time, and opens only file:// URLs of pages the test wrote. Without a Chromium binary
// the test skips, saying so, unless MEDSCAN_REQUIRE_CHROMIUM=1, which CI sets so that
// it cannot pass without a browser. MEDSCAN_CHROMIUM names the binary to use.
//
// Run it with:
//
//	MEDSCAN_REQUIRE_CHROMIUM=1 go test ./internal/browsertest -v
package browsertest
