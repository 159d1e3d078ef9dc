package scan

import (
	"os"
	"sync"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe/oui"
	"github.com/medscan/medscan/store"
)

// warmUp starts, beside the reading of the sources, the work every scan does once and
// would otherwise do in the middle of judging, on one core while the other waits: the lint
// cache's version (lint.CacheVersion: for a local build, the SHA-256 of the 46 MB
// executable, about 50 ms) and the OUI registry the classification names vendors with
// (oui.Preload, about 60 ms). Both are computed once per process (sync.Once), so judging
// takes the warmed result, or waits for the warming still under way rather than doing it
// twice. Reading a capture keeps about one core of two busy, so this costs no wall time
// there; on a tiny capture it is what the scan would have waited for anyway.
//
// The returned function waits for the warming to end: Run defers it, so that no
// goroutine outlives the scan. Each is bounded (one read of the executable, one
// decompression of an embedded table).
func warmUp(st *store.Store) (wait func()) {
	var wg sync.WaitGroup
	if st != nil && os.Getenv(EnvNoLintCache) != "1" {
		wg.Go(func() { lint.CacheVersion() })
	}
	wg.Go(oui.Preload)
	return wg.Wait
}
