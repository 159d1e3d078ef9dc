package scan

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/store"
)

// maxPartnerSightings caps how many places are listed for each key a factored key shares
// a prime with, so that a key on a whole fleet does not fill the evidence.
const maxPartnerSightings = 8

// CheckKeys examines the set's public keys after lint.Examine and before the rules: the
// per-key checks (lint.ExamineKeys: ROCA, small factors, Fermat, the blocklist), then a
// batch GCD over every distinct RSA modulus of the set and of every scan in the store, so
// that a key seen today is compared with one seen last month. A key of the set that
// shares a prime with another gets Factorable, FactorMethod "shared-prime" and, in
// SharedPrimeWith, the other keys by SPKI SHA-256 with where they were seen. No factor
// is kept or returned. store may be nil (the set's keys are then compared among
// themselves).
func CheckKeys(ctx context.Context, st *store.Store, set *observe.Set, blocklist *lint.Blocklist) error {
	if set == nil {
		return nil
	}
	lint.ExamineKeys(set, lint.KeyOptions{Blocklist: blocklist})
	if set.Fleet != nil {
		set.Fleet.FactorSites = nil // judged again below
	}

	// The set's own RSA keys come first, so that where a stored key has the same modulus
	// under another encoding, the set's copy is the one the batch GCD keeps.
	type key struct {
		spki  string
		n     *big.Int
		certs []*observe.Certificate // nil for a key only in the store
	}
	var keys []*key
	bySPKI := map[string]*key{}
	refs := make([]observe.CertRef, 0, len(set.Certificates))
	for r := range set.Certificates {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b observe.CertRef) int { return slices.Compare(a[:], b[:]) })
	for _, r := range refs {
		c := set.Certificates[r]
		if c == nil || c.Facts == nil || c.Facts.KeyType != "rsa" || c.Facts.SPKISHA256 == "" {
			continue
		}
		if k := bySPKI[c.Facts.SPKISHA256]; k != nil {
			k.certs = append(k.certs, c)
			continue
		}
		n, ok := lint.RSAModulus(c.DER)
		if !ok {
			continue
		}
		k := &key{spki: c.Facts.SPKISHA256, n: n, certs: []*observe.Certificate{c}}
		bySPKI[k.spki] = k
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	if st != nil {
		err := st.EachRSAKey(ctx, func(spki string, der []byte) error {
			if bySPKI[spki] != nil {
				return nil
			}
			if n, ok := lint.RSAModulus(der); ok {
				k := &key{spki: spki, n: n}
				bySPKI[spki] = k
				keys = append(keys, k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("key check: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("key check: batch GCD not run: %w", err)
	}
	moduli := make([]*big.Int, len(keys))
	for i, k := range keys {
		moduli[i] = k.n
	}
	shared := sharedPrimes(ctx, st, moduli)

	// Only the set's keys are judged: a stored key is named as a partner, and judged
	// again when a scan sees it.
	for i, k := range keys {
		partners := shared[i]
		if k.certs == nil || len(partners) == 0 {
			continue
		}
		var with []string
		for _, j := range partners {
			desc, err := describeKey(ctx, st, keys[j].spki, keys[j].certs)
			if err != nil {
				return fmt.Errorf("key check: %w", err)
			}
			with = append(with, desc)
		}
		slices.Sort(with)
		if set.Fleet != nil && st != nil {
			// The sites the partners were seen at, this one's included: a prime shared
			// across sites is one key generator flaw across the fleet.
			sites := []string{set.Fleet.Site}
			for _, j := range partners {
				if keys[j].certs != nil {
					continue // in this scan: this site
				}
				at, err := st.KeySites(ctx, keys[j].spki)
				if err != nil {
					return fmt.Errorf("key check: %w", err)
				}
				sites = append(sites, at...)
			}
			slices.Sort(sites)
			if sites = slices.Compact(sites); len(sites) > 1 {
				if set.Fleet.FactorSites == nil {
					set.Fleet.FactorSites = map[string][]string{}
				}
				set.Fleet.FactorSites[k.spki] = sites
			}
		}
		for _, c := range k.certs {
			f := c.Facts
			f.Factorable = true
			if f.FactorMethod == "" {
				f.FactorMethod = lint.FactorSharedPrime
			}
			f.SharedPrimeWith = slices.Clone(with)
		}
	}
	return nil
}

// sharedPrimesMethod names how sharedPrimes computes and keeps the batch GCD's answer
// (store.KeptPrimes.Method): changed when lint.BatchGCD's answer for the same moduli,
// or what is kept, would change, so that a store's kept answer is never taken for
// another's.
const sharedPrimesMethod = "batch-gcd 2"

// addedShare is how many times more moduli the kept set must hold than those added for
// sharedPrimesAdded to compare only the added ones.
const addedShare = 4

// maxAddedShared bounds how many added moduli that share a prime are matched one by one
// against the whole set (lint.BatchGCDAdded) before the whole batch GCD is run instead.
const maxAddedShared = 64

// sharedPrimes is lint.BatchGCD(moduli, 0), kept in the store (store.KeptPrimes) with
// the set of distinct moduli it was computed over and their product: a scan whose
// moduli, the store's and its own, are the set kept takes the kept answer; one whose
// moduli hold the set kept and a few more compares only those with the rest
// (sharedPrimesAdded); any other computes it whole. Its indices are moduli's, the
// first of repeated moduli, as BatchGCD's. A store failure, reading or keeping, only
// costs the computation.
func sharedPrimes(ctx context.Context, st *store.Store, moduli []*big.Int) map[int][]int {
	if st == nil {
		return lint.BatchGCD(moduli, 0)
	}
	set, names, first := moduliNames(moduli)
	kept, err := st.SharedPrimes(ctx)
	if err != nil || kept == nil || kept.Method != sharedPrimesMethod {
		kept = nil
	}
	if kept != nil && kept.Set == set {
		if shared, ok := fromPairs(kept.Pairs, first); ok {
			return shared
		}
	}
	shared, next, ok := sharedPrimesAdded(kept, moduli, first)
	if !ok {
		var product *big.Int
		shared, product = lint.BatchGCDProduct(moduli, 0)
		var pairs [][2]string
		for i, js := range shared {
			for _, j := range js {
				if i < j {
					pairs = append(pairs, [2]string{names[i], names[j]})
				}
			}
		}
		next = &store.KeptPrimes{Pairs: pairs, Product: product.Bytes()}
	}
	next.Method, next.Set, next.Moduli = sharedPrimesMethod, set, slices.Sorted(maps.Keys(first))
	next.Pairs = sortedPairs(next.Pairs)
	_ = st.KeepSharedPrimes(ctx, next) // a cache: the scan goes on without it
	return shared
}

// sharedPrimesAdded is sharedPrimes for moduli that hold every modulus of the set kept
// and a few more: those added are compared with each other and, through the kept
// product, with the rest (lint.BatchGCDAdded), and the kept pairs stand. It returns
// the answer and what to keep (its pairs and product); ok is false when kept is not such
// a set (none, a modulus of it gone from the store, nothing added), when more than a
// quarter as many moduli are added as it holds (addedShare), or when more added moduli
// share a prime than maxAddedShared.
func sharedPrimesAdded(kept *store.KeptPrimes, moduli []*big.Int, first map[string]int) (
	map[int][]int, *store.KeptPrimes, bool) {
	if kept == nil || len(kept.Moduli) == 0 || len(kept.Product) == 0 {
		return nil, nil, false
	}
	inKept := make(map[string]bool, len(kept.Moduli))
	for _, name := range kept.Moduli {
		if _, ok := first[name]; !ok {
			return nil, nil, false // a key gone from the store (a scan deleted): compared whole
		}
		inKept[name] = true
	}
	var added, rest []*big.Int
	var addedNames, restNames []string
	for _, name := range slices.Sorted(maps.Keys(first)) {
		n := moduli[first[name]]
		switch {
		case !inKept[name]:
			added, addedNames = append(added, n), append(addedNames, name)
		case n.Sign() > 0 && n.BitLen() >= 2:
			rest, restNames = append(rest, n), append(restNames, name)
		}
	}
	if len(added) == 0 || len(added) > len(rest)/addedShare {
		// Comparing the added moduli costs about two batch GCDs of them: worth it only
		// when they are few beside the rest.
		return nil, nil, false
	}
	found, product, ok := lint.BatchGCDAdded(added, rest, new(big.Int).SetBytes(kept.Product), 0, maxAddedShared)
	if !ok {
		return nil, nil, false
	}
	pairs := slices.Clone(kept.Pairs)
	name := func(k int) string {
		if k < len(added) {
			return addedNames[k]
		}
		return restNames[k-len(added)]
	}
	for _, p := range found {
		pairs = append(pairs, [2]string{name(p[0]), name(p[1])})
	}
	shared, ok := fromPairs(pairs, first)
	if !ok {
		return nil, nil, false
	}
	return shared, &store.KeptPrimes{Pairs: pairs, Product: product.Bytes()}, true
}

// sortedPairs is pairs, each with its names in order, in order, never nil.
func sortedPairs(pairs [][2]string) [][2]string {
	out := make([][2]string, 0, len(pairs))
	for _, p := range pairs {
		if p[1] < p[0] {
			p[0], p[1] = p[1], p[0]
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	return out
}

// moduliNames names each modulus by its SHA-256, and the set of them by the SHA-256 of
// their distinct names in order; first is each name's first index.
func moduliNames(moduli []*big.Int) (set string, names []string, first map[string]int) {
	names = make([]string, len(moduli))
	first = map[string]int{}
	for i, n := range moduli {
		sum := sha256.Sum256(n.Bytes())
		names[i] = hex.EncodeToString(sum[:])
		if _, ok := first[names[i]]; !ok {
			first[names[i]] = i
		}
	}
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(first)) {
		h.Write([]byte(name))
	}
	return hex.EncodeToString(h.Sum(nil)), names, first
}

// fromPairs is BatchGCD's answer from kept pairs of modulus names, each name at its
// first index; ok is false when a pair names a modulus not among them.
func fromPairs(pairs [][2]string, first map[string]int) (map[int][]int, bool) {
	shared := map[int][]int{}
	for _, p := range pairs {
		a, okA := first[p[0]]
		b, okB := first[p[1]]
		if !okA || !okB || a == b {
			return nil, false
		}
		shared[a] = append(shared[a], b)
		shared[b] = append(shared[b], a)
	}
	for _, js := range shared {
		slices.Sort(js)
	}
	return shared, true
}

// describeKey names a key for evidence: its SPKI SHA-256 and where it was seen, in this
// scan (from the set's certificates) and in stored scans.
func describeKey(ctx context.Context, st *store.Store, spki string, certs []*observe.Certificate) (string, error) {
	var where []string
	for _, c := range certs {
		for _, sg := range c.Seen {
			where = append(where, sightingText(sg)+" (this scan)")
		}
	}
	slices.Sort(where)
	where = slices.Compact(where)
	if st != nil && len(where) < maxPartnerSightings {
		sgs, err := st.KeySightings(ctx, spki, maxPartnerSightings-len(where))
		if err != nil {
			return "", err
		}
		for _, sg := range sgs {
			where = append(where, sg.String())
		}
	}
	if len(where) > maxPartnerSightings {
		where = where[:maxPartnerSightings]
	}
	if len(where) == 0 {
		return spki, nil
	}
	return spki + " on " + strings.Join(where, ", "), nil
}

// sightingText renders where a certificate of the set was seen, as store.KeySighting
// renders a stored one (findings.Holder).
func sightingText(sg observe.CertSighting) string {
	return findings.Holder(findings.AddrText(sg.Endpoint.Addr()), int(sg.Endpoint.Port()), sg.Role,
		findings.FileRef(sg.File, sg.Position))
}

// checkKeys is CheckKeys for Run: a failure is recorded as a problem of the scan (the
// per-key checks have run by then; only the comparison with the store is missing), not
// a reason to lose the scan. The set holds the outcome of the latest check only: a live
// scan checks again at checkpoints, and its problem list must not grow with each.
func checkKeys(ctx context.Context, st *store.Store, set *observe.Set, blocklist *lint.Blocklist) {
	set.Problems = slices.DeleteFunc(set.Problems, func(p observe.Problem) bool { return p.Source == keyCheckSource })
	if err := CheckKeys(ctx, st, set, blocklist); err != nil {
		msg := err.Error()
		if ctx.Err() != nil {
			// Said in the user's terms: the scan's own problem already names the signal.
			msg = "key check: not run to its end: the scan was interrupted"
		}
		set.Problem(observe.Problem{Source: keyCheckSource, Offset: -1, Message: msg})
	}
}

const keyCheckSource = "key check"
