package lint

import (
	"math/big"
	mrand "math/rand/v2"
	"testing"
)

// hasSmallFactorByDivision is HasSmallFactor as it was first written: n divided by each
// group of small primes in turn. The fast version must agree with it everywhere.
func hasSmallFactorByDivision(n *big.Int) bool {
	if n == nil || n.Sign() <= 0 || n.BitLen() <= 16 {
		return false
	}
	m, r := new(big.Int), new(big.Int)
	for _, g := range smallPrimeGroups {
		prod := uint64(1)
		for _, p := range g {
			prod *= p
		}
		rem := r.Mod(n, m.SetUint64(prod)).Uint64()
		for _, p := range g {
			if rem%p == 0 {
				return true
			}
		}
	}
	return false
}

func TestHasSmallFactorAgreesWithDivision(t *testing.T) {
	src := mrand.NewChaCha8([32]byte{'s', 'f'})
	rng := mrand.New(src)
	random := func(bits int) *big.Int {
		b := make([]byte, (bits+7)/8)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		n := new(big.Int).SetBytes(b)
		n.SetBit(n, bits-1, 1)
		return n.SetBit(n, 0, 1)
	}
	p1, p2 := testPrime(src, 1024), testPrime(src, 1024)
	cases := []*big.Int{
		new(big.Int).Mul(p1, p2),                                  // an honest modulus: false
		new(big.Int).Mul(p1, big.NewInt(65521)),                   // the largest prime below 2^16: true
		new(big.Int).Mul(p1, big.NewInt(3)),                       // true
		new(big.Int).Mul(big.NewInt(65537), big.NewInt(65539)),    // both primes above 2^16: false
		new(big.Int).Mul(big.NewInt(65521), big.NewInt(65537)),    // true
		big.NewInt(65537), big.NewInt(65536), big.NewInt(1 << 17), // prime above, and powers of two
		new(big.Int).Lsh(big.NewInt(1), 4096),
		smallPrimorial(), new(big.Int).Add(smallPrimorial(), big.NewInt(1)),
	}
	for range 300 {
		cases = append(cases, random(2048))
	}
	for range 50 {
		cases = append(cases, random(17+rng.IntN(200)))
	}
	for range 20 {
		cases = append(cases, new(big.Int).Mul(p1, random(64))) // odd cofactors of any kind
	}
	trues := 0
	for _, n := range cases {
		want := hasSmallFactorByDivision(n)
		if got := HasSmallFactor(n); got != want {
			t.Errorf("%x: %v, by division %v", n, got, want)
		}
		if want {
			trues++
		}
	}
	if trues == 0 || trues == len(cases) {
		t.Errorf("%d of %d with a small factor: the cases do not tell the two apart", trues, len(cases))
	}
}

func BenchmarkHasSmallFactor(b *testing.B) {
	src := mrand.NewChaCha8([32]byte{'b'})
	n := new(big.Int).Mul(testPrime(src, 1024), testPrime(src, 1024))
	smallPrimorial()
	b.Run("gcd", func(b *testing.B) {
		for range b.N {
			HasSmallFactor(n)
		}
	})
	b.Run("division", func(b *testing.B) {
		for range b.N {
			hasSmallFactorByDivision(n)
		}
	})
}
