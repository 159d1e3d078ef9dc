package scan

import (
	"context"
	"encoding/hex"
	"os"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/store"
)

// EnvNoLintCache, set to 1, examines every certificate afresh and keeps nothing in the
// lint cache: to time the linter itself, or to rule the cache out when a result is in
// doubt. The outputs are the same either way.
const EnvNoLintCache = "MEDSCAN_NO_LINT_CACHE"

// lintCache is the store's lint cache (store.LintCache, migration 0011) as lint.Cache.
type lintCache struct {
	ctx context.Context
	st  *store.Store
}

func (c lintCache) Load(version string, certs []observe.CertRef) ([]lint.CacheEntry, error) {
	shas := make([]string, len(certs))
	for i, r := range certs {
		shas[i] = hex.EncodeToString(r[:])
	}
	rows, err := c.st.LintCache(c.ctx, version, shas)
	if err != nil {
		return nil, err
	}
	out := make([]lint.CacheEntry, 0, len(rows))
	for _, r := range rows {
		b, err := hex.DecodeString(r.CertSHA256)
		if err != nil || len(b) != len(observe.CertRef{}) {
			continue // not a row medscan wrote: the certificate is examined afresh
		}
		out = append(out, lint.CacheEntry{Cert: observe.CertRef(b), Role: r.Role, WebPKI: r.WebPKI,
			SelfSigned: r.SelfSigned, Record: r.Record})
	}
	return out, nil
}

func (c lintCache) Keep(version string, entries []lint.CacheEntry) error {
	rows := make([]store.LintCacheEntry, len(entries))
	for i, e := range entries {
		rows[i] = store.LintCacheEntry{CertSHA256: hex.EncodeToString(e.Cert[:]), Role: e.Role, WebPKI: e.WebPKI,
			SelfSigned: e.SelfSigned, Record: e.Record}
	}
	// Kept even when the scan is being cancelled: the rows are true whatever becomes of it.
	return c.st.KeepLintCache(context.WithoutCancel(c.ctx), version, rows)
}

// examineCertificates is lint.ExamineWith with the store's lint cache (none when st is
// nil or EnvNoLintCache is set). A cache that fails costs only time: the certificates
// are examined afresh, and the scan records the failure as a problem.
func examineCertificates(ctx context.Context, st *store.Store, set *observe.Set, webpki lint.WebPKI) lint.CacheStats {
	var stats lint.CacheStats
	opt := lint.Options{WebPKI: webpki, Stats: &stats}
	if st != nil && os.Getenv(EnvNoLintCache) != "1" {
		opt.Cache = lintCache{ctx: ctx, st: st}
	}
	lint.ExamineWith(set, opt)
	if stats.Err != nil {
		set.Problem(observe.Problem{Source: "lint", Offset: -1,
			Message: "lint cache: " + stats.Err.Error() + " (certificates examined afresh)"})
	}
	return stats
}
