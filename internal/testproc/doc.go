// Package testproc is the machinery that tests which drive real programs share:
// starting a server or capture tool in its own process group and reading its output,
// recording loopback traffic with tcpdump or dumpcap, choosing a free port, and finding
// a tool or skipping the test that needs it.
//
// It is an ordinary (non-test) package only because Go cannot share _test.go files
// between packages; only tests import it, and nothing in medscan's binary may. Every
// function takes the *testing.T it reports to and fails, skips or cleans up through it.
//
// Invariants: every process it starts is in its own process group, so that killing the
// group reaches the program's children (nginx's workers) and nothing the test did not
// start; every process still running when its test ends is killed in t.Cleanup; every
// wait is bounded. Whether a missing tool or a forbidden capture fails rather than skips
// is each caller's own environment variable (MEDSCAN_REQUIRE_TSHARK,
// MEDSCAN_REQUIRE_REALSOFT), which this package reads only by the name it is given.
package testproc
