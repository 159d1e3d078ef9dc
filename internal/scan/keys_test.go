package scan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"maps"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/store"
)

// modulusCert returns a certificate for the RSA modulus n (exponent 65537), signed by a
// throwaway key: only the subject key matters here.
func modulusCert(t *testing.T, n *big.Int, cn string) []byte {
	t.Helper()
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: "factory CA"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &rsa.PublicKey{N: n, E: 65537}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func spkiOf(t *testing.T, der []byte) string {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(s[:])
}

// serving returns a set in which each server presents one certificate at time at.
func serving(at time.Time, certs map[string][]byte) *observe.Set {
	s := observe.NewSet()
	for server, der := range certs {
		s.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.20.9.9:50000"),
			Server: netip.MustParseAddrPort(server)}, FirstSeen: at, LastSeen: at, Source: observe.SourcePassive,
			SawClientHello: true, SawServerHello: true, Version: 0x0303, Suite: 0xc02f}, [][]byte{der}, nil)
	}
	return s
}

// scanSet does what Run does with a set: examine, check keys against the store, judge,
// and save.
func scanSet(t *testing.T, st *store.Store, set *observe.Set, bl *lint.Blocklist) []findings.Finding {
	t.Helper()
	ctx := context.Background()
	lint.Examine(set)
	if err := CheckKeys(ctx, st, set, bl); err != nil {
		t.Fatal(err)
	}
	fs := rules.Evaluate(set, nil)
	if _, err := st.Save(ctx, findings.NewReport(findings.ScanInfo{Kind: findings.KindNetwork, Started: time.Now(), Complete: true}, set, fs)); err != nil {
		t.Fatal(err)
	}
	return fs
}

func byRule(fs []findings.Finding, rule string) []findings.Finding {
	var out []findings.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func TestCheckKeysAcrossScans(t *testing.T) {
	st := openStore(t)
	p, q, s, u := mustPrime(t), mustPrime(t), mustPrime(t), mustPrime(t)
	pumpA := modulusCert(t, new(big.Int).Mul(p, q), "pump-31")        // seen last month
	pumpB := modulusCert(t, new(big.Int).Mul(p, s), "pump-32")        // seen today: shares p with A
	other := modulusCert(t, new(big.Int).Mul(u, mustPrime(t)), "ehr") // shares nothing

	month := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	fsA := scanSet(t, st, serving(month, map[string][]byte{"10.20.3.31:443": pumpA, "10.20.3.40:443": other}), nil)
	if got := byRule(fsA, "key-factorable"); len(got) != 0 {
		t.Fatalf("scan A alone: %d key-factorable findings", len(got))
	}
	fsB := scanSet(t, st, serving(month.AddDate(0, 1, 0), map[string][]byte{"10.20.3.32:443": pumpB, "10.20.3.40:443": other}), nil)
	got := byRule(fsB, "key-factorable")
	if len(got) != 1 || got[0].Host != "10.20.3.32" || got[0].Severity != findings.Critical {
		t.Fatalf("scan B: key-factorable findings %+v", got)
	}
	with := got[0].Evidence["shares_prime_with"].([]string)
	want := spkiOf(t, pumpA) + " on 10.20.3.31:443 (scan 1)"
	if !slices.Equal(with, []string{want}) {
		t.Errorf("shares_prime_with = %v, want [%s]", with, want)
	}
	if !strings.Contains(got[0].Message, "shares a prime with 1 other key") {
		t.Errorf("message %q", got[0].Message)
	}
	// Nothing secret in what is kept: no prime in the evidence or the message.
	for _, f := range fsB {
		text := f.Message + strings.Join(with, " ")
		for _, x := range []*big.Int{p, q, s} {
			if strings.Contains(text, x.String()) || strings.Contains(text, x.Text(16)) {
				t.Fatal("a prime factor reached a finding")
			}
		}
	}
	// A third scan seeing pump A again names pump B, from scan 2, as its partner.
	fsC := scanSet(t, st, serving(month.AddDate(0, 2, 0), map[string][]byte{"10.20.3.31:443": pumpA}), nil)
	gotC := byRule(fsC, "key-factorable")
	if len(gotC) != 1 || !strings.Contains(strings.Join(gotC[0].Evidence["shares_prime_with"].([]string), " "), "10.20.3.32:443 (scan 2)") {
		t.Errorf("scan C: %+v", gotC)
	}
}

func TestCheckKeysWithinScan(t *testing.T) {
	// Without a store, the set's keys are compared among themselves, and a partner
	// seen in the same scan is named with "(this scan)".
	p, q, s := mustPrime(t), mustPrime(t), mustPrime(t)
	a := modulusCert(t, new(big.Int).Mul(p, q), "a")
	b := modulusCert(t, new(big.Int).Mul(p, s), "b")
	set := serving(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), map[string][]byte{"10.0.0.1:443": a, "10.0.0.2:443": b})
	lint.Examine(set)
	bl, err := lint.ParseBlocklist(strings.NewReader(spkiOf(t, b)+"\n"), "bl.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckKeys(context.Background(), nil, set, bl); err != nil {
		t.Fatal(err)
	}
	for _, c := range set.Certificates {
		f := c.Facts
		if !f.Factorable || f.FactorMethod != lint.FactorSharedPrime || len(f.SharedPrimeWith) != 1 ||
			!strings.HasSuffix(f.SharedPrimeWith[0], "(this scan)") {
			t.Errorf("%s: %+v", f.Subject, f)
		}
		if blocked := slices.Contains(f.KeyFlaws, lint.FlawBlocklisted); blocked != (f.Subject == "CN=b") {
			t.Errorf("%s: blocklisted = %v", f.Subject, blocked)
		}
	}
	if err := CheckKeys(context.Background(), nil, nil, nil); err != nil {
		t.Error(err)
	}
}

func TestCheckKeysStoreFailureIsAProblem(t *testing.T) {
	st := openStore(t)
	p, q := mustPrime(t), mustPrime(t)
	set := serving(time.Now(), map[string][]byte{"10.0.0.1:443": modulusCert(t, new(big.Int).Mul(p, q), "a")})
	lint.Examine(set)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	checkKeys(ctx, st, set, nil)
	if len(set.Problems) != 1 || !strings.HasPrefix(set.Problems[0].Message, "key check: ") || set.Problems[0].Fatal {
		t.Errorf("problems = %+v", set.Problems)
	}
	// A live scan checks again at its checkpoints: the set holds the latest outcome only.
	checkKeys(ctx, st, set, nil)
	if len(set.Problems) != 1 {
		t.Errorf("after a second failed check: problems = %+v", set.Problems)
	}
	checkKeys(context.Background(), st, set, nil)
	if len(set.Problems) != 0 {
		t.Errorf("after a check that succeeded: problems = %+v", set.Problems)
	}
}

func mustPrime(t *testing.T) *big.Int {
	t.Helper()
	p, err := rand.Prime(rand.Reader, 512)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSharedPrimesKept holds the batch GCD kept in the store to the one computed over
// the whole set, whichever way sharedPrimes takes: the kept answer for the same set (a
// planted pair shows it is read), the added moduli compared with the rest through the
// kept product (the planted pair stands, as kept pairs do), and the whole computation
// when a modulus left the set or too many added ones share a prime (the planted pair
// goes). The kept product is always the set's.
func TestSharedPrimesKept(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	p, q, s, u, v := mustPrime(t), mustPrime(t), mustPrime(t), mustPrime(t), mustPrime(t)
	mul := func(a, b *big.Int) *big.Int { return new(big.Int).Mul(a, b) }
	pq, ps, uv := mul(p, q), mul(p, s), mul(u, v)
	pairsOf := func(m map[int][]int) map[[2]int]bool {
		out := map[[2]int]bool{}
		for i, js := range m {
			for _, j := range js {
				out[[2]int{min(i, j), max(i, j)}] = true
			}
		}
		return out
	}
	// check runs sharedPrimes and compares it with BatchGCD, but for the pair planted.
	check := func(what string, moduli []*big.Int, planted *[2]int) {
		t.Helper()
		got, want := pairsOf(sharedPrimes(ctx, st, moduli)), pairsOf(lint.BatchGCD(moduli, 0))
		if planted != nil {
			want[*planted] = true
		}
		if !maps.Equal(got, want) {
			var extra, missing int
			for pr := range got {
				if !want[pr] {
					extra++
				}
			}
			for pr := range want {
				if !got[pr] {
					missing++
				}
			}
			t.Errorf("%s: %d pairs, %d of them not the whole set's, %d of its missing", what, len(got), extra, missing)
		}
		kept, err := st.SharedPrimes(ctx)
		if err != nil || kept == nil {
			t.Fatalf("%s: nothing kept (%v)", what, err)
		}
		distinct := map[string]*big.Int{}
		for _, n := range moduli {
			distinct[n.String()] = n
		}
		product := big.NewInt(1)
		for _, n := range distinct {
			product.Mul(product, n)
		}
		if new(big.Int).SetBytes(kept.Product).Cmp(product) != 0 || len(kept.Moduli) != len(distinct) {
			t.Errorf("%s: kept product or moduli not the set's", what)
		}
	}
	// plant adds a pair of moduli i and j, which share nothing, to the kept answer.
	plant := func(moduli []*big.Int, i, j int) *[2]int {
		t.Helper()
		kept, err := st.SharedPrimes(ctx)
		if err != nil || kept == nil {
			t.Fatal(err)
		}
		_, names, _ := moduliNames(moduli)
		kept.Pairs = append(kept.Pairs, [2]string{names[i], names[j]})
		if err := st.KeepSharedPrimes(ctx, kept); err != nil {
			t.Fatal(err)
		}
		return &[2]int{i, j}
	}

	// Enough moduli besides that a few added are compared alone (addedShare), and many
	// sharing are more than maxAddedShared.
	small := func() *big.Int { // a modulus of two small primes: only the arithmetic matters here
		a, err1 := rand.Prime(rand.Reader, 96)
		b, err2 := rand.Prime(rand.Reader, 96)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		return mul(a, b)
	}
	fillers := make([]*big.Int, addedShare*(maxAddedShared+2))
	for i := range fillers {
		fillers[i] = small()
	}
	first := append([]*big.Int{uv, pq, ps, new(big.Int).Set(pq)}, fillers...)
	check("computed", first, nil)
	check("the same set, planted", first, plant(first, 0, 1))
	check("the same set, another order", append([]*big.Int{ps, uv, pq}, fillers...), &[2]int{1, 2}) // the plant: uv and pq
	// Three added: one sharing with an old modulus, one with another added, one alone.
	w := mustPrime(t)
	added := append(slices.Clone(first), mul(s, w), mul(w, mustPrime(t)), mul(mustPrime(t), mustPrime(t)))
	check("added", added, &[2]int{0, 1})
	// As many added as the set holds: computed whole, the plant gone.
	plant(added, 1, 6)
	half := slices.Clone(added)
	for range len(added) {
		half = append(half, small())
	}
	check("many added", half, nil)
	// A modulus gone from the store: computed whole, the plant (of two that stay) gone.
	check("added again", added, nil)
	plant(added, 1, 5)
	check("one gone", added[1:], nil)
	// More added moduli sharing a prime than maxAddedShared: computed whole.
	base := slices.Clone(added[1:])
	check("again", base, nil)
	plant(base, 0, 5)
	many := slices.Clone(base)
	for range maxAddedShared + 1 {
		many = append(many, mul(q, mustPrime(t)))
	}
	check("many sharing", many, nil)
}
