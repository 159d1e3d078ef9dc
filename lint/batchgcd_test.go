package lint

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
)

// smallOddPrimes are the odd primes below 2^12, for sieving candidate primes.
var smallOddPrimes = func() []uint64 {
	var out []uint64
	composite := make([]bool, 1<<12)
	for i := 3; i < len(composite); i += 2 {
		if !composite[i] {
			out = append(out, uint64(i))
			for j := i * i; j < len(composite); j += 2 * i {
				composite[j] = true
			}
		}
	}
	return out
}()

// testPrime returns a probable prime of exactly bits bits (top four bits set) from a
// deterministic source: a random odd start, a window after it sieved by the primes
// below 2^12, and a Baillie-PSW test (big.Int.ProbablyPrime(0)) on each survivor.
func testPrime(r *rand.ChaCha8, bits int) *big.Int {
	buf := make([]byte, bits/8)
	const window = 1 << 11
	composite := make([]bool, window) // composite[k]: start+2k has a small factor
	m, c := new(big.Int), new(big.Int)
	for {
		r.Read(buf)
		buf[0] |= 0xf0
		buf[len(buf)-1] |= 1
		start := new(big.Int).SetBytes(buf)
		clear(composite)
		for _, p := range smallOddPrimes {
			rem := m.Mod(start, m.SetUint64(p)).Uint64()
			for k := (p - rem) % p * ((p + 1) / 2) % p; k < window; k += p {
				composite[k] = true
			}
		}
		for k := range composite {
			if composite[k] {
				continue
			}
			c.Add(start, big.NewInt(int64(2*k)))
			if c.BitLen() == bits && c.ProbablyPrime(0) {
				return new(big.Int).Set(c)
			}
		}
	}
}

// benchPrimes is how many distinct primes make one benchmark modulus.
const benchPrimes = 8

// benchModulus returns benchmark modulus i: the product of eight distinct 256-bit
// probable primes drawn from a source seeded by i, exactly 2048 bits long. Eight small
// primes rather than two 1024-bit ones because the batch GCD's time and memory depend
// only on the operands' sizes, and two 1024-bit primes cost ~25 ms each here (200,000 of
// them would take longer than the benchmark); the moduli still share no prime, except
// where a test plants one.
func benchModulus(i int) *big.Int {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(i))
	copy(seed[8:], "medscan batch gcd benchmark")
	r := rand.NewChaCha8(seed)
	n := big.NewInt(1)
	for range benchPrimes {
		n.Mul(n, testPrime(r, 2048/benchPrimes))
	}
	return n
}

// benchModuli returns n benchmark moduli, cached on disk under os.TempDir since
// generating 100,000 takes minutes.
func benchModuli(tb testing.TB, n int) []*big.Int {
	tb.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("medscan-batchgcd-%d-v1.bin", n))
	if b, err := os.ReadFile(path); err == nil && len(b) == n*256 {
		out := make([]*big.Int, n)
		for i := range out {
			out[i] = new(big.Int).SetBytes(b[i*256 : (i+1)*256])
		}
		return out
	}
	out := make([]*big.Int, n)
	parallel(n, runtime.GOMAXPROCS(0), func(i int) { out[i] = benchModulus(i) })
	b := make([]byte, 0, n*256)
	for _, m := range out {
		b = append(b, m.FillBytes(make([]byte, 256))...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Logf("not cached: %v", err)
	}
	return out
}

// plant makes moduli a and b share one prime, returning a copy of the list: b becomes
// p·(its other cofactor), where p is a prime of a.
func plant(moduli []*big.Int, a, b int) []*big.Int {
	out := append([]*big.Int(nil), moduli...)
	r := rand.NewChaCha8([32]byte{byte(a), byte(b), 'p'})
	p := testPrime(r, 1024)
	q := testPrime(r, 1024)
	s := testPrime(r, 1024)
	out[a] = new(big.Int).Mul(p, q)
	out[b] = new(big.Int).Mul(p, s)
	return out
}

func TestBatchGCD(t *testing.T) {
	base := make([]*big.Int, 40)
	for i := range base {
		base[i] = benchModulus(10_000_000 + i)
	}
	r := rand.NewChaCha8([32]byte{'t'})
	p, q, s, u := testPrime(r, 512), testPrime(r, 512), testPrime(r, 512), testPrime(r, 512)
	mul := func(a, b *big.Int) *big.Int { return new(big.Int).Mul(a, b) }
	tests := []struct {
		name   string
		moduli []*big.Int
		want   map[int][]int
	}{
		{"none shared", base, map[int][]int{}},
		{"one pair", plant(base, 3, 17), map[int][]int{3: {17}, 17: {3}}},
		{"odd count, last leaf carried up", plant(base[:37], 0, 36), map[int][]int{0: {36}, 36: {0}}},
		{"two leaves", []*big.Int{mul(p, q), mul(p, s)}, map[int][]int{0: {1}, 1: {0}}},
		{"three share one prime", []*big.Int{mul(p, q), base[0], mul(p, s), mul(p, u)},
			map[int][]int{0: {2, 3}, 2: {0, 3}, 3: {0, 2}}},
		{"both primes shared with two others", []*big.Int{mul(p, q), mul(p, s), mul(q, u), base[1]},
			map[int][]int{0: {1, 2}, 1: {0}, 2: {0}}},
		{"duplicate modulus is not factorable", []*big.Int{mul(p, q), base[2], mul(p, q)}, map[int][]int{}},
		{"nil, zero and one ignored", []*big.Int{nil, big.NewInt(0), big.NewInt(1), mul(p, q), mul(q, s)},
			map[int][]int{3: {4}, 4: {3}}},
		{"single modulus", []*big.Int{mul(p, q)}, map[int][]int{}},
		{"empty", nil, map[int][]int{}},
	}
	for _, tc := range tests {
		for _, w := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/workers=%d", tc.name, w), func(t *testing.T) {
				if got := BatchGCD(tc.moduli, w); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("BatchGCD = %v, want %v", got, tc.want)
				}
			})
		}
	}
}

// TestBatchGCDMatchesPairwise checks the trees against the definition on lists of every
// length up to 20, with a shared prime planted at varying places.
func TestBatchGCDMatchesPairwise(t *testing.T) {
	r := rand.NewChaCha8([32]byte{'m'})
	primes := make([]*big.Int, 30)
	for i := range primes {
		primes[i] = testPrime(r, 128)
	}
	for n := 2; n <= 20; n++ {
		moduli := make([]*big.Int, n)
		for i := range moduli {
			// Primes are reused across moduli with a pattern that leaves some unshared.
			moduli[i] = new(big.Int).Mul(primes[(i*7)%30], primes[(i*11+n)%30])
		}
		got := BatchGCD(moduli, 2)
		if want := pairwiseShared(moduli); !reflect.DeepEqual(got, want) {
			t.Errorf("n=%d: BatchGCD = %v, pairwise = %v", n, got, want)
		}
	}
}

// TestBatchRemaindersLargeArith runs the trees with the FFT and Newton thresholds lowered
// to a few words, so that a list small enough for a unit test goes through the paths
// that only the largest trees take by default, and compares with pairwise gcds.
func TestBatchRemaindersLargeArith(t *testing.T) {
	r := rand.NewChaCha8([32]byte{'a'})
	p, q := testPrime(r, 1024), testPrime(r, 1024)
	moduli := make([]*big.Int, 67)
	for i := range moduli {
		moduli[i] = benchModulus(20_000_000 + i)
	}
	moduli = plant(moduli, 5, 40)
	// One modulus shares both its primes, each with a different other modulus.
	moduli[10] = new(big.Int).Mul(p, q)
	moduli[20] = new(big.Int).Mul(p, benchModulus(20_000_100))
	moduli[66] = new(big.Int).Mul(q, testPrime(r, 1024))
	want := make([]bool, len(moduli))
	for i, set := range pairwiseShared(moduli) {
		want[i] = len(set) > 0
	}
	for _, a := range []arith{defaultArith, {fftWords: 8, newtonWords: 16}, {fftWords: 40, newtonWords: 100}} {
		for _, w := range []int{1, 2} {
			if got, _ := batchRemainders(moduli, w, a); !reflect.DeepEqual(got, want) {
				t.Errorf("arith %+v, workers %d: hits %v, want %v", a, w, got, want)
			}
		}
	}
}

// TestNewtonReciprocal compares the Newton reciprocal with the exact quotient
// floor(2^(prec+bits(x))/x) for sizes on both sides of the direct-division cutoff.
func TestNewtonReciprocal(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{'r'}))
	random := func(words int) *big.Int {
		w := make([]big.Word, words)
		for i := range w {
			w[i] = big.Word(r.Uint64())
		}
		return new(big.Int).SetBits(w)
	}
	pow := func(n uint) *big.Int { return new(big.Int).Lsh(bigOne, n) }
	tests := []struct {
		name string
		x    *big.Int
	}{
		{"one word", random(1)},
		{"power of two", pow(70_000)},
		{"all ones", new(big.Int).Sub(pow(70_000), bigOne)},
		{"shorter than the precision", random(50)},
		{"as long as the precision", random(1_000)},
		{"longer than the precision", random(5_000)},
	}
	a := arith{fftWords: 8, newtonWords: 16}
	for _, tc := range tests {
		for _, prec := range []uint{64, newtonBits, newtonBits + 1, 10_000, 70_000, 200_000} {
			t.Run(fmt.Sprintf("%s/prec=%d", tc.name, prec), func(t *testing.T) {
				got := a.newtonReciprocal(tc.x, prec)
				want := new(big.Int).Quo(pow(prec+uint(tc.x.BitLen())), tc.x)
				if d := new(big.Int).Sub(got, want); d.CmpAbs(big.NewInt(4)) > 0 {
					t.Errorf("off by %v", d)
				}
			})
		}
	}
}

// pairwiseShared is the definition BatchGCD must meet, by n² gcds.
func pairwiseShared(moduli []*big.Int) map[int][]int {
	out := map[int][]int{}
	g := new(big.Int)
	dup := func(i int) bool { // a later copy of an earlier modulus is ignored
		for k := 0; k < i; k++ {
			if moduli[k].Cmp(moduli[i]) == 0 {
				return true
			}
		}
		return false
	}
	for i := range moduli {
		for j := range moduli {
			if i == j || dup(i) || dup(j) || moduli[i].Cmp(moduli[j]) == 0 {
				continue
			}
			if g.GCD(nil, nil, moduli[i], moduli[j]).Cmp(bigOne) > 0 {
				out[i] = append(out[i], j)
			}
		}
	}
	return out
}

// naiveBatchGCD is the plain big.Int implementation the benchmark compares with: the
// whole product, then for each modulus the product modulo N² on its own (no remainder
// tree), one core.
func naiveBatchGCD(moduli []*big.Int) int {
	p := big.NewInt(1)
	for _, n := range moduli {
		p.Mul(p, n)
	}
	found := 0
	sq, z := new(big.Int), new(big.Int)
	for _, n := range moduli {
		sq.Mul(n, n)
		z.Mod(p, sq)
		z.Quo(z, n)
		if z.GCD(nil, nil, z, n).Cmp(bigOne) != 0 {
			found++
		}
	}
	return found
}

var benchOnce sync.Map

func benchmarkBatchGCD(b *testing.B, n int) {
	key := n
	v, ok := benchOnce.Load(key)
	if !ok {
		v = plant(benchModuli(b, n), 1, n-2)
		benchOnce.Store(key, v)
	}
	moduli := v.([]*big.Int)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got := BatchGCD(moduli, 2)
		if want := (map[int][]int{1: {n - 2}, n - 2: {1}}); !reflect.DeepEqual(got, want) {
			b.Fatalf("BatchGCD = %v, want %v", got, want)
		}
	}
}

// The benchmarks run the batch GCD over 2048-bit moduli on two cores; see
// docs/performance.md for the figures. The moduli are generated once and cached.
func BenchmarkBatchGCD1k(b *testing.B)   { benchmarkBatchGCD(b, 1_000) }
func BenchmarkBatchGCD10k(b *testing.B)  { benchmarkBatchGCD(b, 10_000) }
func BenchmarkBatchGCD100k(b *testing.B) { benchmarkBatchGCD(b, 100_000) }

// BenchmarkBatchGCDAdded10k is a scan bringing 10 new keys to a store of 10,000: the
// added moduli compared with each other and, through the kept product, with the rest
// (one of them shares a prime with a stored key), against BatchGCD10k's whole set.
func BenchmarkBatchGCDAdded10k(b *testing.B) { benchmarkBatchGCDAdded(b, 10_000, 10) }

// BenchmarkBatchGCDAdded100k is the same for a store of 100,000 keys.
func BenchmarkBatchGCDAdded100k(b *testing.B) { benchmarkBatchGCDAdded(b, 100_000, 10) }

func benchmarkBatchGCDAdded(b *testing.B, n, k int) {
	all := plant(benchModuli(b, n+k), 1, n+k-2) // the planted pair: one stored, one added
	old, added := all[:n], all[n:]
	_, product := BatchGCDProduct(old, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pairs, _, ok := BatchGCDAdded(added, old, product, 2, 64)
		if want := [][2]int{{k - 2, k + 1}}; !ok || !reflect.DeepEqual(pairs, want) {
			b.Fatalf("BatchGCDAdded = %v, %v; want %v", pairs, ok, want)
		}
	}
}

// BenchmarkNaiveBatchGCD1k is the comparison: the same 1,000 moduli, the whole product
// reduced modulo each N² separately.
func BenchmarkNaiveBatchGCD1k(b *testing.B) {
	moduli := plant(benchModuli(b, 1_000), 1, 998)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := naiveBatchGCD(moduli); got != 2 {
			b.Fatalf("found %d, want 2", got)
		}
	}
}

// TestModOf holds modOf to math/big's remainder, for dividends from shorter than the
// divisor to many times its chunk, and divisors from one word to many.
func TestModOf(t *testing.T) {
	r := rand.NewChaCha8([32]byte{'r'})
	random := func(words int) *big.Int {
		b := make([]byte, 8*words)
		r.Read(b)
		return new(big.Int).SetBytes(b)
	}
	for _, mw := range []int{1, 2, 7, 32, 320} {
		m := random(mw)
		m.SetBit(m, 64*mw-1, 1)
		for _, xw := range []int{0, 1, mw, 8 * mw, 8*mw + 1, 20*mw + 3, 100 * mw} {
			x := random(xw)
			if got, want := modOf(x, m), new(big.Int).Mod(x, m); got.Cmp(want) != 0 {
				t.Errorf("divisor of %d words, dividend of %d: modOf differs from Mod", mw, xw)
			}
		}
	}
}

// TestBatchGCDAdded holds the comparison of added moduli to the whole set's batch GCD:
// for sets of every size up to 16 split into old and added at every point, with primes
// reused so that some moduli share across, within and not at all, the old pairs and
// BatchGCDAdded's together are BatchGCD's of the set; a modulus dropped from the set but
// still in the old product is never named; and BatchGCDProduct's product is the moduli's.
func TestBatchGCDAdded(t *testing.T) {
	r := rand.NewChaCha8([32]byte{'a'})
	primes := make([]*big.Int, 24)
	for i := range primes {
		primes[i] = testPrime(r, 96)
	}
	pairSet := func(m map[int][]int) map[[2]int]bool {
		out := map[[2]int]bool{}
		for i, js := range m {
			for _, j := range js {
				out[[2]int{min(i, j), max(i, j)}] = true
			}
		}
		return out
	}
	for n := 1; n <= 16; n++ {
		// Distinct moduli, as the caller gives them, of two distinct primes each.
		var all []*big.Int
		seen := map[[2]int]bool{}
		for i := 0; len(all) < n && i < 24*24; i++ {
			a, b := (i*5+n)%24, (i*13+2*n+1+i/24)%24
			if a == b || seen[[2]int{min(a, b), max(a, b)}] {
				continue
			}
			seen[[2]int{min(a, b), max(a, b)}] = true
			all = append(all, new(big.Int).Mul(primes[a], primes[b]))
		}
		if len(all) != n {
			t.Fatalf("n=%d: %d distinct moduli made", n, len(all))
		}
		// A modulus no longer in the set, sharing a prime with some of it.
		dropped := new(big.Int).Mul(primes[(n*13+1)%24], primes[23])
		want := pairSet(BatchGCD(all, 2))
		for cut := 0; cut < n; cut++ {
			old, added := all[:cut], all[cut:]
			oldPairs, product := BatchGCDProduct(old, 2)
			if wantProduct := productOf(append([]*big.Int{big.NewInt(1)}, old...), 1); product.Cmp(wantProduct) != 0 {
				t.Fatalf("n=%d cut=%d: product of the old moduli wrong", n, cut)
			}
			for _, withDropped := range []bool{false, true} {
				p := product
				if withDropped {
					p = new(big.Int).Mul(product, dropped)
				}
				got := pairSet(oldPairs)
				addedPairs, next, ok := BatchGCDAdded(added, old, p, 2, len(added))
				if !ok {
					t.Fatalf("n=%d cut=%d: refused with every added modulus allowed to share", n, cut)
				}
				if want := new(big.Int).Mul(p, productOf(append([]*big.Int{big.NewInt(1)}, added...), 1)); next.Cmp(want) != 0 {
					t.Errorf("n=%d cut=%d: the product to keep is not the old one times the added moduli", n, cut)
				}
				for _, pr := range addedPairs {
					// Indices into added then old, as positions in all.
					at := func(k int) int {
						if k < len(added) {
							return cut + k
						}
						return k - len(added)
					}
					a, b := at(pr[0]), at(pr[1])
					got[[2]int{min(a, b), max(a, b)}] = true
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("n=%d cut=%d dropped=%v: old and added pairs %v; the whole set's %v", n, cut, withDropped, got, want)
				}
			}
		}
	}
	// Every added modulus dividing the old product: each is checked one by one.
	p, q, s := primes[0], primes[1], primes[2]
	old := []*big.Int{new(big.Int).Mul(p, q), new(big.Int).Mul(p, s)}
	_, product := BatchGCDProduct(old, 1)
	if got, _, _ := BatchGCDAdded([]*big.Int{new(big.Int).Mul(q, s)}, old, product, 1, 1); len(got) != 2 {
		t.Errorf("a modulus of two old primes: pairs %v; want one with each old modulus", got)
	}
	if got, next, ok := BatchGCDAdded(nil, old, product, 1, 0); got != nil || next.Cmp(product) != 0 || !ok {
		t.Errorf("nothing added: %v, another product", got)
	}
	// More added moduli sharing than allowed: refused, for a batch GCD of the whole set.
	two := []*big.Int{new(big.Int).Mul(q, primes[3]), new(big.Int).Mul(s, primes[4])}
	if got, next, ok := BatchGCDAdded(two, old, product, 1, 1); ok || got != nil || next != nil {
		t.Errorf("two sharing, one allowed: %v, %v, %v; want refused", got, next, ok)
	}
	if got, _, ok := BatchGCDAdded(two, old, product, 1, 2); !ok || len(got) != 2 {
		t.Errorf("two sharing, two allowed: %v, %v", got, ok)
	}
}
