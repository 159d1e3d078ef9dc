package lint

import (
	"math/big"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/remyoudompheng/bigfft"
)

// BatchGCD finds the RSA moduli that share a prime factor with another modulus of the
// list: Bernstein's batch GCD, a product tree of the moduli and then a remainder tree
// that computes, for every modulus N_i, the product of all the others modulo N_i (in
// Bernstein's scaled form, multiplications only: see batchRemainders), followed by one
// gcd per modulus. Pairwise gcds would cost n² gcds; this costs a few multiplications of
// the whole product's size per tree level, so 100,000 keys take a minute or two rather
// than days.
//
// It returns, for each modulus that shares a prime, the indices of the moduli it shares
// one with (sorted), keyed by its own index; moduli that share nothing are absent. The
// factors themselves are never returned, so a caller cannot leak them by accident.
// Duplicate moduli (the same key twice) are a shared key, not a factorable one: the
// caller must remove them first, and BatchGCD ignores exact duplicates rather than
// reporting that they "share" both primes. Moduli below 2 are ignored.
//
// workers bounds the goroutines used at each level of the trees (0 means GOMAXPROCS);
// within a level the nodes are independent.
func BatchGCD(moduli []*big.Int, workers int) map[int][]int {
	shared, _ := batchGCD(moduli, workers, false)
	return shared
}

// BatchGCDProduct is BatchGCD that also returns the product of the distinct moduli it
// compared (1 when there is none), which BatchGCDAdded compares later moduli with: one
// more multiplication, of the product tree's two top nodes.
func BatchGCDProduct(moduli []*big.Int, workers int) (map[int][]int, *big.Int) {
	return batchGCD(moduli, workers, true)
}

// batchGCD is BatchGCD, and the product of the distinct moduli when product is set.
func batchGCD(moduli []*big.Int, workers int, product bool) (map[int][]int, *big.Int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Keep the moduli that can hold a prime, once each: an exact duplicate would make
	// every gcd at its leaf the modulus itself and hide a genuinely shared prime.
	idx := make([]int, 0, len(moduli))
	seen := make(map[string]bool, len(moduli))
	for i, n := range moduli {
		if n == nil || n.Sign() <= 0 || n.BitLen() < 2 {
			continue
		}
		k := string(n.Bytes())
		if seen[k] {
			continue
		}
		seen[k] = true
		idx = append(idx, i)
	}
	var prod *big.Int
	if len(idx) < 2 {
		if product {
			prod = big.NewInt(1)
			if len(idx) == 1 {
				prod.Set(moduli[idx[0]])
			}
		}
		return map[int][]int{}, prod
	}
	leaves := make([]*big.Int, len(idx))
	for j, i := range idx {
		leaves[j] = moduli[i]
	}
	hit, top := batchRemainders(leaves, workers, defaultArith)
	if product {
		prod = defaultArith.mul(top[0], top[1])
	}
	// The few moduli with a non-trivial gcd are matched pairwise to name their partners;
	// a modulus whose gcd is itself (both primes shared, with different keys) is found
	// the same way.
	var flagged []int
	for j, h := range hit {
		if h {
			flagged = append(flagged, j)
		}
	}
	out := map[int][]int{}
	g := new(big.Int)
	for a := 0; a < len(flagged); a++ {
		for b := a + 1; b < len(flagged); b++ {
			na, nb := leaves[flagged[a]], leaves[flagged[b]]
			if g.GCD(nil, nil, na, nb).Cmp(bigOne) > 0 {
				ia, ib := idx[flagged[a]], idx[flagged[b]]
				out[ia] = append(out[ia], ib)
				out[ib] = append(out[ib], ia)
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out, prod
}

// BatchGCDAdded compares moduli added to a set already compared: each added modulus
// with the others added and, through old, the product of the set's moduli before
// (BatchGCDProduct's, or that times moduli since dropped from the set), with all of
// them. A scan that brings a few new keys to a store of 100,000 then costs one
// reduction of old and a batch GCD of the few, not a batch GCD of all. The few added
// moduli that share a prime are matched by a gcd with every modulus of the set (added,
// then rest: the set's moduli but the added), which also drops a prime shared only with
// a modulus no longer in it. The moduli must be distinct, those of rest ≥ 2.
//
// It returns the pairs that share a prime, as indices into added followed by rest (an
// added modulus first), each pair once, and the product to compare later moduli with:
// old times the added moduli's; no factor. Each added modulus that shares a prime costs
// a gcd with every modulus of the set: when more than maxShared do (a fleet whose key
// generator repeats primes), ok is false and nothing else is returned, for the caller to
// run BatchGCD over the whole set instead, which matches only the moduli that share.
func BatchGCDAdded(added, rest []*big.Int, old *big.Int, workers, maxShared int) (pairs [][2]int, product *big.Int, ok bool) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var idx []int // the added moduli that can hold a prime
	for i, n := range added {
		if n != nil && n.Sign() > 0 && n.BitLen() >= 2 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, old, true
	}
	leaves := make([]*big.Int, len(idx), len(idx)+1)
	for j, i := range idx {
		leaves[j] = added[i]
	}
	// old ≡ old mod ∏added modulo each added modulus: the reduced product stands for
	// the old moduli as one more leaf, the size of the added ones' product.
	prodAdded := productOf(leaves, workers)
	r := modOf(old, prodAdded)
	hit := make([]bool, len(idx))
	if r.Sign() == 0 {
		// Every added modulus divides old: each is checked one by one.
		for j := range hit {
			hit[j] = true
		}
	} else {
		h, _ := batchRemainders(append(leaves, r), workers, defaultArith)
		copy(hit, h)
	}
	shared := 0
	for _, h := range hit {
		if h {
			shared++
		}
	}
	if shared > maxShared {
		return nil, nil, false
	}
	g := new(big.Int)
	for j, i := range idx {
		if !hit[j] {
			continue
		}
		for k := j + 1; k < len(idx); k++ {
			if hit[k] && g.GCD(nil, nil, added[i], added[idx[k]]).Cmp(bigOne) > 0 {
				pairs = append(pairs, [2]int{i, idx[k]})
			}
		}
		for k, m := range rest {
			if g.GCD(nil, nil, added[i], m).Cmp(bigOne) > 0 {
				pairs = append(pairs, [2]int{i, len(added) + k})
			}
		}
	}
	return pairs, defaultArith.mul(old, prodAdded), true
}

// modOf is x mod m (x ≥ 0, m > 0) for an x far longer than m, by chunks of x from the
// top, each folded into the remainder: math/big's division of such a dividend is
// quadratic (its recursive step normalizes the whole dividend at each of its chunks:
// 22 s for the product of 100,000 moduli modulo ten, against a tenth of a second here).
func modOf(x, m *big.Int) *big.Int {
	xw := x.Bits()
	chunk := 4 * len(m.Bits())
	if len(xw) <= 2*chunk {
		return new(big.Int).Mod(x, m)
	}
	r, c := new(big.Int), new(big.Int)
	for end := len(xw); end > 0; end -= chunk {
		start := max(0, end-chunk)
		c.SetBits(slices.Clone(xw[start:end]))
		r.Lsh(r, uint(bits.UintSize*(end-start)))
		r.Add(r, c)
		r.Mod(r, m)
	}
	return r
}

// productOf is the product of the moduli, by a product tree.
func productOf(moduli []*big.Int, workers int) *big.Int {
	level := moduli
	for len(level) > 1 {
		level = defaultArith.levelUp(level, workers)
	}
	if len(level) == 0 {
		return big.NewInt(1)
	}
	return level[0]
}

// levelUp is the level of a product tree above below: the pairwise products of its
// nodes, an odd node out carried up unchanged.
func (a arith) levelUp(below []*big.Int, workers int) []*big.Int {
	up := make([]*big.Int, (len(below)+1)/2)
	parallel(len(up), workers, func(i int) {
		if 2*i+1 < len(below) {
			up[i] = a.mul(below[2*i], below[2*i+1])
		} else {
			up[i] = below[2*i]
		}
	})
	return up
}

var bigOne = big.NewInt(1)

// batchRemainders reports, for each leaf, whether gcd(N_i, ∏_{j≠i} N_j) > 1, and gives
// the product tree's two top nodes, whose product is the leaves'.
//
// It is Bernstein's scaled remainder tree ("Scaled remainder trees", 2004): instead of
// the remainder P mod X_v² at each node v (X_v the node's product, P the root's), it
// carries the fraction y_v = (P mod X_v²)/X_v² = frac(P/X_v²) as a fixed-point number,
// and a child c with sibling s gets y_c = frac(y_v·X_s²), since P/X_c² = (P/X_v²)·X_s².
// Going down the tree is then a squaring and a multiplication per child, no division;
// divisions cost math/big several multiplications each and dominated the plain tree.
// One division remains, at the top, done by a Newton reciprocal (newtonReciprocal).
// At a leaf y_i·N_i = (∏_{j≠i} N_j mod N_i) up to the rounding error, and gcd of that
// with N_i is the product of the primes N_i shares.
//
// Exactness: y_v is kept to 2·bits(X_v)+guard bits and truncated after each product.
// Writing ε_v for the error of y_v in units of 2^-(2·bits(X_v)), a level multiplies it by
// X_s²·2^(2·bits(X_c)-2·bits(X_v)) ≤ 4 and adds one unit of truncation, so after the
// tree's depth d it is below 4^(d+1)·2^-guard; at a leaf the error of y_i·N_i is that
// times 2^-bits(N_i), far below the ½ that rounding to the exact remainder tolerates.
// The guard is 64 + 2d bits, so the remainders are exact, not approximate.
//
// The large products (above a.fftWords words on both sides) use Schönhage–Strassen FFT
// multiplication from bigfft: math/big multiplies with Karatsuba only, which is ten
// times slower at the top of a 100,000-modulus tree.
func batchRemainders(leaves []*big.Int, workers int, a arith) (hit []bool, top []*big.Int) {
	// Product tree: levels[0] are the leaves, each level the pairwise products of the one
	// below (an odd node out is carried up unchanged).
	levels := [][]*big.Int{leaves}
	for len(levels[len(levels)-1]) > 2 {
		levels = append(levels, a.levelUp(levels[len(levels)-1], workers))
	}
	guard := uint(64 + 2*len(levels))
	prec := func(x *big.Int) uint { return 2*uint(x.BitLen()) + guard }
	// The root is never formed: for the two top nodes A and B, y_A = frac(P/X_A²) =
	// frac(X_B/X_A), and the same for B.
	top = levels[len(levels)-1] // two nodes: the caller passes at least two leaves
	ys := make([]*big.Int, 2)
	parallel(2, workers, func(i int) {
		ys[i] = a.fixedQuotient(top[1-i], top[i], prec(top[i]))
	})
	// Down the tree. Each level of the product tree is dropped once used, so the peak is
	// the product tree plus one level of fractions.
	above := top
	for l := len(levels) - 2; l >= 0; l-- {
		nodes := levels[l]
		next := make([]*big.Int, len(nodes))
		parallel(len(nodes), workers, func(i int) {
			parent := ys[i/2]
			sib := i ^ 1
			if sib >= len(nodes) {
				// The odd node out was carried up: its parent is itself.
				next[i] = parent
				return
			}
			pv := prec(above[i/2])
			t := a.mul(parent, a.mul(nodes[sib], nodes[sib]))
			// frac(y_v·X_s²) is the low pv bits of t; keep its top prec(X_c) of them.
			pc := prec(nodes[i])
			next[i] = lowBits(t.Rsh(t, pv-pc), pc)
		})
		ys = next
		above, levels[l+1] = nodes, nil
	}
	hit = make([]bool, len(leaves))
	parallel(len(leaves), workers, func(i int) {
		n, p := leaves[i], prec(leaves[i])
		// Round y_i·N_i to the nearest integer; a fraction just below 1 rounds to N_i,
		// which is 0 modulo N_i.
		q := new(big.Int).Mul(ys[i], n)
		q.Add(q, new(big.Int).Lsh(bigOne, p-1))
		q.Rsh(q, p)
		if q.Cmp(n) == 0 {
			q.SetInt64(0)
		}
		g := q.GCD(nil, nil, q, n)
		hit[i] = g.Cmp(bigOne) != 0
	})
	return hit, top
}

// arith holds the sizes in words where the trees' arithmetic switches method; the tests
// lower them to push small trees through the FFT and Newton paths.
type arith struct {
	// fftWords is the size of both operands above which mul uses FFT multiplication.
	fftWords int
	// newtonWords is the divisor size above which fixedQuotient divides by a Newton
	// reciprocal with FFT products instead of math/big's division.
	newtonWords int
}

// defaultArith is measured on amd64: bigfft overtakes math/big's Karatsuba around 4,000
// words, and a Newton reciprocal its division well before 20,000.
var defaultArith = arith{fftWords: 4000, newtonWords: 20000}

// mul returns x·y in a new Int, by FFT multiplication when both are large.
func (a arith) mul(x, y *big.Int) *big.Int {
	if len(x.Bits()) > a.fftWords && len(y.Bits()) > a.fftWords {
		return bigfft.Mul(x, y)
	}
	return new(big.Int).Mul(x, y)
}

// lowBits reduces x modulo 2^n in place and returns it (x ≥ 0).
func lowBits(x *big.Int, n uint) *big.Int {
	w := x.Bits()
	const wordBits = bits.UintSize
	full := int(n / wordBits)
	if len(w) <= full {
		return x
	}
	if r := n % wordBits; r != 0 {
		w[full] &= big.Word(1)<<r - 1
		full++
	}
	return x.SetBits(w[:full])
}

// fixedQuotient returns frac(n/x)·2^p rounded down or, above newtonWords, within a few
// units of it (n ≥ 0, x > 0); the caller's guard bits absorb the difference.
func (a arith) fixedQuotient(n, x *big.Int, p uint) *big.Int {
	if len(x.Bits()) <= a.newtonWords {
		z := new(big.Int).Mod(n, x)
		z.Lsh(z, p)
		return z.Quo(z, x)
	}
	// x = u·2^b with u in [½, 1) and v ≈ 2^prec/u, so n/x = n·v/2^(prec+b). The top nodes
	// of an uneven tree differ in size, so n may be much longer than x: the reciprocal
	// then carries the extra bits rather than a division reducing n first, which
	// math/big does by recursive division at several times the cost.
	b := uint(x.BitLen())
	prec := p + 16
	if nb := uint(n.BitLen()); nb > b {
		prec += nb - b
	}
	v := a.newtonReciprocal(x, prec)
	z := a.mul(n, v)
	return lowBits(z.Rsh(z, prec+b-p), p)
}

// newtonBits is the precision below which newtonReciprocal divides directly.
const newtonBits = 4096

// newtonReciprocal returns v within a few units of 2^prec/u, where u = x/2^bits(x) is x
// scaled into [½, 1) (x > 0). Each Newton step v' = v + v·(1 − u·v) doubles the correct
// bits, so the whole costs a few multiplications of the final size.
func (a arith) newtonReciprocal(x *big.Int, prec uint) *big.Int {
	// Only the top prec+64 bits of x matter to a relative precision of 2^-prec.
	b := uint(x.BitLen())
	t := min(b, prec+64)
	xt := new(big.Int).Rsh(x, b-t) // u ≈ xt/2^t
	if prec <= newtonBits {
		z := new(big.Int).Lsh(bigOne, t+prec)
		return z.Quo(z, xt)
	}
	h := prec/2 + 32
	vh := a.newtonReciprocal(xt, h) // v_h = vh/2^h
	// e = 2^(h+t)·(u·v_h − 1), about 2^t in size since v_h is right to about 2^-h.
	e := a.mul(vh, xt)
	e.Sub(e, new(big.Int).Lsh(bigOne, h+t))
	// v = v_h − v_h·(u·v_h − 1) = v_h − vh·e/2^(2h+t); e's low bits below
	// 2^(h+t−prec−8) move the result by less than 2^-8 units, so they are dropped first.
	var d uint
	if h+t > prec+8 {
		d = h + t - prec - 8
	}
	e.Rsh(e, d)
	corr := a.mul(vh, e)
	corr.Rsh(corr, 2*h+t-prec-d)
	v := new(big.Int).Lsh(vh, prec-h)
	return v.Sub(v, corr)
}

// parallel calls f(0..n-1) on up to workers goroutines, handing out indices one at a
// time so that a few large nodes at the top of a tree do not wait behind each other.
func parallel(n, workers int, f func(i int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
