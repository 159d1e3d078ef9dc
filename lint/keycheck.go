package lint

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/medscan/medscan/observe"
)

// Key flaws that ExamineKeys records in observe.CertFacts.KeyFlaws: stable codes, since
// rules, evidence and reports match on them.
const (
	// FlawROCA: the RSA modulus has the fingerprint of Infineon's RSALib (CVE-2017-15361).
	FlawROCA = "roca"
	// FlawSmallFactor: the RSA modulus is divisible by a prime below 2^16, so it is
	// factored by trial division (a corrupted or badly generated key).
	FlawSmallFactor = "small-factor"
	// FlawFermat: the RSA modulus's two primes are so close that Fermat's method factors
	// it in a few steps.
	FlawFermat = "fermat"
	// FlawBlocklisted: the key is on the user's blocklist of known-compromised keys.
	FlawBlocklisted = "blocklisted"
)

// Ways ExamineKeys and the store-wide batch GCD set observe.CertFacts.FactorMethod.
const (
	FactorSharedPrime = "shared-prime" // batch GCD: a prime in common with another key
	FactorFermat      = "fermat"
	FactorSmallFactor = "small-factor"
)

// fermatSteps bounds Fermat's method, as badkeys does: keys from a generator that picks q
// as the next prime after p fall in the first step, and honest keys never do.
const fermatSteps = 100

// KeyOptions are what ExamineKeys needs beyond the certificates.
type KeyOptions struct {
	// Blocklist holds known-compromised keys (--key-blocklist); nil for none.
	Blocklist *Blocklist
}

// ExamineKeys checks every distinct public key in the set once (by SPKI SHA-256) for
// flaws that its size does not show: the ROCA fingerprint, a small prime factor, primes
// close enough for Fermat's method, and presence on the blocklist. Each certificate
// carrying the key gets the result in its facts (KeyFlaws; Factorable and FactorMethod
// when the key was factored). Certificates must have been examined (Examine) first.
// Distinct keys are checked on GOMAXPROCS goroutines (trial division of a 2048-bit
// modulus costs more than linting its certificate); the results do not depend on it.
//
// No factor is kept: a check that factors a key says so and forgets how.
func ExamineKeys(set *observe.Set, opt KeyOptions) {
	if set == nil {
		return
	}
	// One check per distinct key (SPKI SHA-256), whichever certificates carry it.
	type keyCheck struct {
		spki   string
		der    []byte // of one certificate carrying the key
		flaws  []string
		method string
	}
	bySPKI := map[string]*keyCheck{}
	var keys []*keyCheck // in first-seen order, for the workers
	for _, c := range set.Certificates {
		if c == nil || c.Facts == nil || c.Facts.SPKISHA256 == "" {
			continue
		}
		if _, ok := bySPKI[c.Facts.SPKISHA256]; !ok {
			k := &keyCheck{spki: c.Facts.SPKISHA256, der: c.DER}
			bySPKI[k.spki] = k
			keys = append(keys, k)
		}
	}
	parallel(len(keys), runtime.GOMAXPROCS(0), func(i int) {
		k := keys[i]
		k.flaws, k.method = keyFlaws(k.der, k.spki, opt)
	})
	for _, c := range set.Certificates {
		if c == nil || c.Facts == nil || c.Facts.SPKISHA256 == "" {
			continue
		}
		f, res := c.Facts, bySPKI[c.Facts.SPKISHA256]
		f.KeyFlaws = append([]string(nil), res.flaws...)
		if res.method != "" {
			f.Factorable, f.FactorMethod = true, res.method
		}
	}
}

// keyFlaws runs the checks on one key, given a certificate that carries it.
func keyFlaws(der []byte, spki string, opt KeyOptions) (flaws []string, method string) {
	if opt.Blocklist.Contains(spki) {
		flaws = append(flaws, FlawBlocklisted)
	}
	n, ok := RSAModulus(der)
	if !ok {
		return flaws, ""
	}
	if HasROCAFingerprint(n) {
		flaws = append(flaws, FlawROCA)
	}
	switch {
	case HasSmallFactor(n):
		flaws = append(flaws, FlawSmallFactor)
		method = FactorSmallFactor
	case FermatFactorable(n, fermatSteps):
		flaws = append(flaws, FlawFermat)
		method = FactorFermat
	}
	return flaws, method
}

// RSAModulus returns the RSA modulus of a DER certificate's key, read leniently as Facts
// reads it; false when the certificate has no readable RSA key.
func RSAModulus(der []byte) (*big.Int, bool) {
	r, _ := readCert(der)
	if r == nil || r.keyAlg == nil {
		return nil, false
	}
	k := readKey(r.keyAlg, r.keyParams, r.keyBits)
	if k.typ != "rsa" || k.n == nil || k.n.Sign() <= 0 {
		return nil, false
	}
	return k.n, true
}

// smallPrimeGroups are the primes below 2^16 packed into products that fit a word, so
// that trial division costs one multi-word division per group rather than per prime.
var smallPrimeGroups = func() [][]uint64 {
	composite := make([]bool, 1<<16)
	var groups [][]uint64
	var cur []uint64
	prod := uint64(1)
	for i := 2; i < len(composite); i++ {
		if composite[i] {
			continue
		}
		for j := i * i; j < len(composite); j += i {
			composite[j] = true
		}
		p := uint64(i)
		if prod > (1<<64-1)/p {
			groups = append(groups, cur)
			cur, prod = nil, 1
		}
		cur = append(cur, p)
		prod *= p
	}
	return append(groups, cur)
}()

// smallPrimorial is the product of every prime below 2^16 (about 94,000 bits), made on
// first use.
var smallPrimorial = sync.OnceValue(func() *big.Int {
	// Pairwise products, level by level, so that each multiplication is of halves of
	// equal size rather than of a growing product by one word.
	var level []*big.Int
	for _, g := range smallPrimeGroups {
		prod := uint64(1)
		for _, p := range g {
			prod *= p
		}
		level = append(level, new(big.Int).SetUint64(prod))
	}
	for len(level) > 1 {
		next := make([]*big.Int, 0, (len(level)+1)/2)
		for i := 0; i+1 < len(level); i += 2 {
			next = append(next, new(big.Int).Mul(level[i], level[i+1]))
		}
		if len(level)%2 == 1 {
			next = append(next, level[len(level)-1])
		}
		level = next
	}
	return level[0]
})

// HasSmallFactor reports whether n is divisible by a prime below 2^16 (other than being
// that prime itself): no RSA generator worth the name produces one, and such a modulus
// is factored at once. It is gcd(n, the product of those primes) > 1, computed as the gcd
// of n and that product reduced modulo n: one long division and one gcd, ten times
// faster for a 2048-bit modulus than dividing by each prime in turn (hasSmallFactorByDivision
// in the tests), which made the check cost more than linting the certificate.
func HasSmallFactor(n *big.Int) bool {
	if n == nil || n.Sign() <= 0 || n.BitLen() <= 16 {
		return false
	}
	r := new(big.Int).Mod(smallPrimorial(), n)
	return r.GCD(nil, nil, r, n).Cmp(big.NewInt(1)) != 0
}

// FermatFactorable reports whether Fermat's method factors n within steps steps from
// ⌈√n⌉: whether n = a² - b² for some a < ⌈√n⌉ + steps, that is, whether its two factors
// are closer than about 2·√(2·steps)·n^(1/4). Only odd n are tried.
func FermatFactorable(n *big.Int, steps int) bool {
	if n == nil || n.Sign() <= 0 || n.Bit(0) == 0 || n.BitLen() < 8 {
		return false
	}
	a := new(big.Int).Sqrt(n)
	sq := new(big.Int).Mul(a, a)
	if sq.Cmp(n) == 0 {
		return true // a perfect square: p = q
	}
	a.Add(a, bigOne)
	// b2 = a² - n, updated by 2a+1 as a grows.
	b2 := new(big.Int).Mul(a, a)
	b2.Sub(b2, n)
	b, chk, inc := new(big.Int), new(big.Int), new(big.Int)
	for range steps {
		if maybeSquare(b2) {
			b.Sqrt(b2)
			if chk.Mul(b, b).Cmp(b2) == 0 {
				// n = (a-b)(a+b); a trivial split (a-b = 1) would mean n is prime.
				return new(big.Int).Sub(a, b).Cmp(bigOne) > 0
			}
		}
		inc.Lsh(a, 1)
		inc.Add(inc, bigOne)
		b2.Add(b2, inc)
		a.Add(a, bigOne)
	}
	return false
}

// maybeSquare is a cheap filter: a square is a quadratic residue modulo 64, 63 and 65.
func maybeSquare(x *big.Int) bool {
	w := x.Bits()
	if len(w) == 0 {
		return true
	}
	if !squareMod64[w[0]&63] {
		return false
	}
	var m big.Int
	r := m.Mod(x, big.NewInt(63*65)).Uint64()
	return squareMod63[r%63] && squareMod65[r%65]
}

var squareMod64, squareMod63, squareMod65 = residues(64), residues(63), residues(65)

func residues(m int) []bool {
	out := make([]bool, m)
	for i := range m {
		out[i*i%m] = true
	}
	return out
}

// Blocklist is a set of known-compromised public keys, by the SHA-256 of their
// SubjectPublicKeyInfo DER (the spki_sha256 of medscan's reports).
type Blocklist struct {
	name string
	keys map[[32]byte]struct{}
}

// LoadBlocklist reads a blocklist file; see ParseBlocklist for the format.
func LoadBlocklist(path string) (*Blocklist, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key blocklist: %w", err)
	}
	defer f.Close()
	return ParseBlocklist(f, path)
}

// maxBlocklistLine bounds one line, so a binary file given by mistake fails fast.
const maxBlocklistLine = 4096

// ParseBlocklist reads a blocklist: one key per line, as the hex SHA-256 (64 digits,
// either case) of its DER SubjectPublicKeyInfo; "#" starts a comment, on its own line or
// after the digest; blank lines are ignored. Any other line is an error naming the file
// (name) and the line, since a silently skipped entry is a compromised key not checked.
func ParseBlocklist(r io.Reader, name string) (*Blocklist, error) {
	b := &Blocklist{name: name, keys: map[[32]byte]struct{}{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxBlocklistLine)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if i := bytes.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		var k [32]byte
		if len(text) != 64 {
			return nil, fmt.Errorf("key blocklist: %s:%d: want the 64-digit hex SHA-256 of a SubjectPublicKeyInfo", name, line)
		}
		if _, err := hex.Decode(k[:], text); err != nil {
			return nil, fmt.Errorf("key blocklist: %s:%d: want the 64-digit hex SHA-256 of a SubjectPublicKeyInfo", name, line)
		}
		b.keys[k] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("key blocklist: %s: line %d: %w", name, line+1, err)
	}
	return b, nil
}

// Contains reports whether the key with this SPKI SHA-256 (hex) is on the list; a nil
// list contains nothing.
func (b *Blocklist) Contains(spkiSHA256 string) bool {
	if b == nil || len(spkiSHA256) != 64 {
		return false
	}
	var k [32]byte
	if _, err := hex.Decode(k[:], []byte(strings.ToLower(spkiSHA256))); err != nil {
		return false
	}
	_, ok := b.keys[k]
	return ok
}

// Len is the number of keys on the list.
func (b *Blocklist) Len() int {
	if b == nil {
		return 0
	}
	return len(b.keys)
}

// Name is the file the list was read from.
func (b *Blocklist) Name() string {
	if b == nil {
		return ""
	}
	return b.name
}
