package lint

import (
	"bytes"
	"runtime"
	"slices"

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
}

// CounterExamined counts the distinct certificates (by SHA-256) whose facts were
// computed and which zlint linted: one per certificate however many files, chains or
// sessions held it, beside certificates_read, which counts every copy read.
const CounterExamined = "certificates_examined"

// Examine fills Facts for every certificate in the set that has none yet, with the
// default options. Each distinct certificate is parsed and linted once, since the set
// holds one entry per DER.
func Examine(set *observe.Set) { ExamineWith(set, Options{}) }

// examined is one certificate between the stages of ExamineWith.
type examined struct {
	c      *observe.Certificate
	zc     *zx509.Certificate // nil when zcrypto refused the DER
	public string             // the public root the certificate itself names, or ""
}

// ExamineWith fills Facts for every certificate in the set that has none yet: the facts,
// the role (from the extensions and every sighting), whether it is public WebPKI, and
// zlint's results for that role and PKI. Each distinct certificate is parsed once and
// linted once (the set holds one entry per DER, and a certificate with facts is not
// examined again); parsing and linting, nearly all the cost, run on opt.Workers
// goroutines, each certificate's facts written by the one that examined it, so the
// result does not depend on the number of workers or their order. The number examined
// is added to the counter CounterExamined.
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
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	parallel(len(ex), workers, func(i int) {
		f, r, zc := facts(ex[i].c.DER)
		ex[i].c.Facts, ex[i].zc = f, zc
		ex[i].public, _ = publicName(r)
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
		f.Role, f.RoleReasons = decideRole(f, e.zc, e.c.Seen)
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
		if e.zc == nil {
			f.LintError = "zlint not run: the certificate does not parse"
		}
	}
	parallel(len(ex), workers, func(i int) {
		e := &ex[i]
		if e.zc == nil {
			return
		}
		f := e.c.Facts
		lints, err := runZLint(e.zc, f.Role, f.WebPKI, f.SelfSigned)
		if err != nil {
			f.LintError = err.Error()
			return
		}
		f.Lints = lints
		e.zc = nil // let the parsed certificate go as soon as it is linted
	})
	set.AddCounter(CounterExamined, uint64(len(fresh)))
}
