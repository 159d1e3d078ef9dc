package lint

import (
	"math/big"
	"runtime"
	"slices"
	"sync"
)

// BatchGCD finds the RSA moduli that share a prime factor with another modulus of the
// list: Bernstein's batch GCD, a product tree of the moduli and then a remainder tree
// that computes, for every modulus N_i, the product of all the others modulo N_i with
// one division per node (P mod N_i² divided by N_i), followed by one gcd per modulus.
// Pairwise gcds would cost n² gcds; this costs a few multiplications of the whole
// product's size, so 100,000 keys take seconds rather than days.
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
	if len(idx) < 2 {
		return map[int][]int{}
	}
	leaves := make([]*big.Int, len(idx))
	for j, i := range idx {
		leaves[j] = moduli[i]
	}
	hit := batchRemainders(leaves, workers)
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
	return out
}

var bigOne = big.NewInt(1)

// batchRemainders reports, for each leaf, whether gcd(N_i, ∏_{j≠i} N_j) > 1.
//
// The remainder tree carries, for each node v, Q_v = (product of every leaf outside v)
// mod X_v, where X_v is the node's product. For a child c with sibling s,
// Q_c = (Q_v mod X_c)·(X_s mod X_c) mod X_c, since X_c divides X_v. This is Bernstein's
// tree with the modulus at each node X_v rather than X_v², which halves the size of
// every division; measured with math/big it does about a third less work than reducing
// P mod X_v² (two divisions of twice the node's size by the node, instead of one of four
// times by twice, plus a squaring). At a leaf Q_i = ∏_{j≠i} N_j mod N_i, and
// gcd(Q_i, N_i) is the product of the primes N_i shares.
func batchRemainders(leaves []*big.Int, workers int) []bool {
	// Product tree: levels[0] are the leaves, each level the pairwise products of the one
	// below (an odd node out is carried up unchanged).
	levels := [][]*big.Int{leaves}
	for len(levels[len(levels)-1]) > 2 {
		below := levels[len(levels)-1]
		up := make([]*big.Int, (len(below)+1)/2)
		parallel(len(up), workers, func(i int) {
			if 2*i+1 < len(below) {
				up[i] = new(big.Int).Mul(below[2*i], below[2*i+1])
			} else {
				up[i] = below[2*i]
			}
		})
		levels = append(levels, up)
	}
	// The root is never formed: the two top nodes' remainders are each other modulo
	// themselves.
	top := levels[len(levels)-1] // two nodes: the caller passes at least two leaves
	rems := make([]*big.Int, 2)
	parallel(2, workers, func(i int) { rems[i] = new(big.Int).Mod(top[1-i], top[i]) })
	// Down the tree. Each level of the product tree is dropped once used, so the peak is
	// the product tree plus one level of remainders (each smaller than its node).
	for l := len(levels) - 2; l >= 0; l-- {
		nodes := levels[l]
		next := make([]*big.Int, len(nodes))
		parallel(len(nodes), workers, func(i int) {
			parent := rems[i/2]
			sib := i ^ 1
			if sib >= len(nodes) {
				// The odd node out was carried up: its parent is itself.
				next[i] = parent
				return
			}
			x := nodes[i]
			q := new(big.Int).Mod(parent, x)
			s := new(big.Int).Mod(nodes[sib], x)
			q.Mul(q, s)
			next[i] = q.Mod(q, x)
		})
		rems = next
		if l > 0 {
			levels[l] = nil
		}
	}
	hit := make([]bool, len(leaves))
	parallel(len(leaves), workers, func(i int) {
		g := new(big.Int).GCD(nil, nil, rems[i], leaves[i])
		hit[i] = g.Cmp(bigOne) != 0
	})
	return hit
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
