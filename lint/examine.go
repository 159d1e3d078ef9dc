package lint

import (
	"bytes"
	"runtime"
	"slices"
	"strings"

	zx509 "github.com/zmap/zcrypto/x509"

	"github.com/medscan/medscan/observe"
)

// Options say how certificates are examined beyond their facts.
type Options struct {
	// WebPKI decides which certificates are judged as public WebPKI; "" means auto.
	WebPKI WebPKI
	// Workers is how many certificates are examined at once; 0 means GOMAXPROCS. The
	// facts do not depend on it.
	Workers int
	// Cache, when not nil, gives what earlier runs found for these certificates and
	// keeps what this run finds (cache.go); the facts are the same with or without it.
	Cache Cache
	// Stats, when not nil, is told what the cache saved.
	Stats *CacheStats
	// CacheVersion is the version entries are read and kept under; "" means
	// CacheVersion(). Tests set it: a test binary records no module versions.
	CacheVersion string
}

// CounterExamined counts the distinct certificates (by SHA-256) whose facts were
// computed and which zlint linted: one per certificate however many files, chains or
// sessions held it, beside certificates_read, which counts every copy read. A
// certificate whose facts or lints came from the lint cache counts too, so that the
// counter, like every output, is the same with or without the cache.
const CounterExamined = "certificates_examined"

// Examine fills Facts for every certificate in the set that has none yet, with the
// default options. Each distinct certificate is parsed and linted once, since the set
// holds one entry per DER.
func Examine(set *observe.Set) { ExamineWith(set, Options{}) }

// examined is one certificate between the stages of ExamineWith.
type examined struct {
	c      *observe.Certificate
	zc     *zx509.Certificate // nil when zcrypto refused the DER, or facts came from the cache
	parsed bool               // zcrypto took the DER: zlint can run
	hints  roleHints
	public string // the public root the certificate itself names, or ""

	cached  []CacheEntry // what the cache holds for it, nil for none
	fromHit bool         // its facts came from the cache
	lints   []byte       // the record kept for this run's role, PKI and self-signature, or nil
}

// ExamineWith fills Facts for every certificate in the set that has none yet: the facts,
// the role (from the extensions and every sighting), whether it is public WebPKI, and
// zlint's results for that role and PKI. Each distinct certificate is parsed once and
// linted once (the set holds one entry per DER, and a certificate with facts is not
// examined again); parsing and linting, nearly all the cost, run on opt.Workers
// goroutines, each certificate's facts written by the one that examined it, so the
// result does not depend on the number of workers or their order. The number examined
// is added to the counter CounterExamined.
//
// With opt.Cache, the facts of the DER and zlint's results for the role, PKI and
// self-signature decided in this run are taken from the cache where an earlier run of
// the same linter (CacheVersion) kept them, and what is examined afresh is kept; the
// role and the PKI are decided afresh every time. A cache that fails is reported in
// opt.Stats and otherwise ignored: the certificates are examined afresh.
func ExamineWith(set *observe.Set, opt Options) {
	if set == nil {
		return
	}
	var fresh []observe.CertRef
	for ref, c := range set.Certificates {
		if c != nil && c.Facts == nil {
			fresh = append(fresh, ref)
		}
	}
	if len(fresh) == 0 {
		return
	}
	// Sorted, so that work is handed out in the same order every run.
	slices.SortFunc(fresh, func(a, b observe.CertRef) int { return bytes.Compare(a[:], b[:]) })
	ex := make([]examined, len(fresh))
	idx := make(map[observe.CertRef]int, len(fresh))
	for i, ref := range fresh {
		ex[i].c = set.Certificates[ref]
		idx[ref] = i
	}
	stats := opt.Stats
	if stats == nil {
		stats = &CacheStats{}
	}
	version := opt.CacheVersion
	if version == "" && opt.Cache != nil {
		version = CacheVersion()
	}
	cache := opt.Cache
	if version == "" {
		cache = nil
	}
	if cache != nil {
		entries, err := cache.Load(version, fresh)
		if err != nil && stats.Err == nil {
			stats.Err = err
		}
		for _, e := range entries {
			if i, ok := idx[e.Cert]; ok {
				ex[i].cached = append(ex[i].cached, e)
			}
		}
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	parallel(len(ex), workers, func(i int) {
		e := &ex[i]
		if rec, ok := firstRecord(e.cached); ok {
			f := rec.Facts
			e.c.Facts, e.parsed, e.hints, e.public, e.fromHit = &f, rec.Parsed, roleHints{rec.KeyCertSign, rec.HWModule}, rec.PublicRoot, true
			return
		}
		f, r, zc := facts(e.c.DER)
		e.c.Facts, e.zc, e.parsed, e.hints = f, zc, zc != nil, hintsOf(zc)
		e.public, _ = publicName(r)
	})

	// A chain that names a public root makes every certificate in it public: the leaf
	// of a public CA is as much WebPKI as the intermediate that names the root.
	chainPublic := map[observe.CertRef]string{}
	if opt.WebPKI == "" || opt.WebPKI == WebPKIAuto {
		for _, s := range set.TLSSessions {
			for _, chain := range [][]observe.CertRef{s.ServerChain, s.ClientChain} {
				why := ""
				for _, ref := range chain {
					i, ok := idx[ref]
					if !ok {
						if c := set.Certificates[ref]; c != nil && c.Facts != nil && c.Facts.WebPKI {
							why = "sent in a chain with a public WebPKI certificate"
						}
						continue
					}
					if name := ex[i].public; name != "" {
						why = "sent in a chain naming the public root " + name
						break
					}
				}
				if why == "" {
					continue
				}
				for _, ref := range chain {
					if _, done := chainPublic[ref]; !done {
						chainPublic[ref] = why
					}
				}
			}
		}
	}
	for i, ref := range fresh {
		e := &ex[i]
		f := e.c.Facts
		f.Role, f.RoleReasons = decideRole(f, e.hints, e.c.Seen)
		switch opt.WebPKI {
		case WebPKIAlways:
			f.WebPKI, f.WebPKIReason = true, "the policy says every certificate is public WebPKI (webpki: always)"
		case WebPKINever:
			f.WebPKIReason = "the policy says no certificate is public WebPKI (webpki: never)"
		default:
			if e.public != "" {
				f.WebPKI, f.WebPKIReason = true, "names the public root "+e.public
			} else if why, ok := chainPublic[ref]; ok {
				f.WebPKI, f.WebPKIReason = true, why
			}
		}
		if !e.parsed {
			f.LintError = "zlint not run: the certificate does not parse"
		}
	}
	keep := make([][]byte, len(ex)) // the record to keep for each, nil for none
	parallel(len(ex), workers, func(i int) {
		e := &ex[i]
		f := e.c.Facts
		var hit *CacheEntry
		for j := range e.cached {
			if c := &e.cached[j]; c.Role == f.Role && c.WebPKI == f.WebPKI && c.SelfSigned == f.SelfSigned {
				hit = c
				break
			}
		}
		if hit != nil {
			if rec, ok := decodeRecord(hit.Record); ok && (rec.LintsKept || !e.parsed) {
				if e.parsed {
					f.Lints = rec.Lints
					e.lints = hit.Record
				}
				return
			}
		}
		rec := cacheRecord{Facts: derFacts(f), Parsed: e.parsed, KeyCertSign: e.hints.keyCertSign,
			HWModule: e.hints.hwModule, PublicRoot: e.public}
		if e.parsed {
			if e.zc == nil {
				// The facts came from the cache, but not zlint's results for this role.
				zc, err := zx509.ParseCertificate(e.c.DER)
				if err != nil {
					f.LintError = "zlint not run: the certificate does not parse"
					return
				}
				e.zc = zc
			}
			lints, clock, err := runZLint(e.zc, f.Role, f.WebPKI, f.SelfSigned)
			e.zc = nil // let the parsed certificate go as soon as it is linted
			if err != nil {
				f.LintError = err.Error()
			} else {
				f.Lints = lints
				rec.Lints, rec.LintsKept = lints, !clock
			}
		}
		if hit != nil {
			return // kept already, and not to be replaced (this run's answer is the same)
		}
		if cache != nil {
			keep[i], _ = encodeRecord(&rec)
		}
	})
	var entries []CacheEntry
	for i := range ex {
		e := &ex[i]
		if e.fromHit {
			stats.FactsCached++
			if e.lints != nil {
				stats.LintsCached++
			}
		}
		if keep[i] != nil {
			f := e.c.Facts
			entries = append(entries, CacheEntry{Cert: fresh[i], Role: f.Role, WebPKI: f.WebPKI, SelfSigned: f.SelfSigned, Record: keep[i]})
		}
	}
	if cache != nil && len(entries) > 0 {
		if err := cache.Keep(version, entries); err != nil {
			if stats.Err == nil {
				stats.Err = err
			}
		} else {
			stats.Kept += len(entries)
		}
	}
	set.AddCounter(CounterExamined, uint64(len(fresh)))
}

// firstRecord is the facts of a certificate from its cached entries: every entry of one
// certificate and version holds the same facts of the DER, so the first that decodes
// serves (in the order of the entries' keys, so that a run does not depend on the
// order the cache returned them).
func firstRecord(entries []CacheEntry) (cacheRecord, bool) {
	if len(entries) == 0 {
		return cacheRecord{}, false
	}
	slices.SortFunc(entries, func(a, b CacheEntry) int {
		if c := strings.Compare(a.Role, b.Role); c != 0 {
			return c
		}
		if a.WebPKI != b.WebPKI {
			return boolCmp(a.WebPKI, b.WebPKI)
		}
		return boolCmp(a.SelfSigned, b.SelfSigned)
	})
	for _, e := range entries {
		if r, ok := decodeRecord(e.Record); ok {
			return r, true
		}
	}
	return cacheRecord{}, false
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
