package lint

import (
	zx509 "github.com/zmap/zcrypto/x509"

	"github.com/medscan/medscan/observe"
)

// Options say how certificates are examined beyond their facts.
type Options struct {
	// WebPKI decides which certificates are judged as public WebPKI; "" means auto.
	WebPKI WebPKI
}

// Examine fills Facts for every certificate in the set that has none yet, with the
// default options. Each distinct certificate is parsed and linted once, since the set
// holds one entry per DER.
func Examine(set *observe.Set) { ExamineWith(set, Options{}) }

// ExamineWith fills Facts for every certificate in the set that has none yet: the facts,
// the role (from the extensions and every sighting), whether it is public WebPKI, and
// zlint's results for that role and PKI.
func ExamineWith(set *observe.Set, opt Options) {
	if set == nil {
		return
	}
	fresh := map[observe.CertRef]*rawCert{}
	zcs := map[observe.CertRef]*zx509.Certificate{}
	for ref, c := range set.Certificates {
		if c == nil || c.Facts != nil {
			continue
		}
		f, r, zc := facts(c.DER)
		c.Facts = f
		fresh[ref] = r
		zcs[ref] = zc
	}
	if len(fresh) == 0 {
		return
	}
	// A chain that names a public root makes every certificate in it public: the leaf
	// of a public CA is as much WebPKI as the intermediate that names the root.
	chainPublic := map[observe.CertRef]string{}
	if opt.WebPKI == "" || opt.WebPKI == WebPKIAuto {
		for _, s := range set.TLSSessions {
			for _, chain := range [][]observe.CertRef{s.ServerChain, s.ClientChain} {
				why := ""
				for _, ref := range chain {
					r := fresh[ref]
					if r == nil {
						if c := set.Certificates[ref]; c != nil && c.Facts != nil && c.Facts.WebPKI {
							why = "sent in a chain with a public WebPKI certificate"
						}
						continue
					}
					if name, ok := publicName(r); ok {
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
	for ref, r := range fresh {
		c := set.Certificates[ref]
		f := c.Facts
		zc := zcs[ref]
		f.Role, f.RoleReasons = decideRole(f, zc, c.Seen)
		switch opt.WebPKI {
		case WebPKIAlways:
			f.WebPKI, f.WebPKIReason = true, "the policy says every certificate is public WebPKI (webpki: always)"
		case WebPKINever:
			f.WebPKIReason = "the policy says no certificate is public WebPKI (webpki: never)"
		default:
			if name, ok := publicName(r); ok {
				f.WebPKI, f.WebPKIReason = true, "names the public root "+name
			} else if why, ok := chainPublic[ref]; ok {
				f.WebPKI, f.WebPKIReason = true, why
			}
		}
		if zc == nil {
			f.LintError = "zlint not run: the certificate does not parse"
			continue
		}
		lints, err := runZLint(zc, f.Role, f.WebPKI, f.SelfSigned)
		if err != nil {
			f.LintError = err.Error()
			continue
		}
		f.Lints = lints
	}
}
