package lint

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
)

// memCache is Cache in memory, with the store's semantics: rows by version and
// certificate, a key kept twice keeps its first record.
type memCache struct {
	rows  map[string]map[observe.CertRef][]CacheEntry
	loads int
}

func newMemCache() *memCache { return &memCache{rows: map[string]map[observe.CertRef][]CacheEntry{}} }

func (m *memCache) Load(version string, certs []observe.CertRef) ([]CacheEntry, error) {
	m.loads++
	var out []CacheEntry
	for _, c := range certs {
		for _, e := range m.rows[version][c] {
			e.Record = slices.Clone(e.Record)
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memCache) Keep(version string, entries []CacheEntry) error {
	if m.rows[version] == nil {
		m.rows[version] = map[observe.CertRef][]CacheEntry{}
	}
	for _, e := range entries {
		have := m.rows[version][e.Cert]
		if !slices.ContainsFunc(have, func(o CacheEntry) bool {
			return o.Role == e.Role && o.WebPKI == e.WebPKI && o.SelfSigned == e.SelfSigned
		}) {
			m.rows[version][e.Cert] = append(have, e)
		}
	}
	return nil
}

// cacheCorpus is zlint's own test certificates (hostile on purpose: unparseable ones,
// public WebPKI ones whose lints read the clock) and medscan's, each seen once in a way
// that gives the corpus every role: from a file, served, sent by a client, sent above a
// leaf.
func cacheCorpus(t *testing.T) [][]byte {
	t.Helper()
	var ders [][]byte
	for _, c := range []linttest.Spec{{CN: "pump.ward.internal", EKU: nil}, {CN: "root", IsCA: true}} {
		ders = append(ders, linttest.New(t, c).DER)
	}
	if data, err := os.ReadFile(filepath.Join("testdata", "ward-pump-0013.pem")); err == nil {
		got, _ := ReadCerts(data)
		ders = append(ders, got...)
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Logf("go env: %v: zlint's test certificates left out", err)
		return ders
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "zmap", "zlint", "v3@v3.7.3", "testdata")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := ReadCerts(data)
		ders = append(ders, got...)
	}
	return ders
}

func corpusSet(ders [][]byte) *observe.Set {
	set := observe.NewSet()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, der := range ders {
		s := observe.CertSighting{Time: at}
		switch i % 4 {
		case 0:
			s.Source, s.File = observe.SourceFile, fmt.Sprintf("f%d.pem", i)
		case 1:
			s.Role = "server"
		case 2:
			s.Role = "client"
		case 3:
			s.Role, s.Position = "server", 1
		}
		set.AddCertificate(der, s)
	}
	return set
}

// mapOrderLints are zlint v3.7.3's lints whose answer on a certificate with two faults
// depends on the order of a map's iteration (which fault is reported first, even fatal
// or error): two runs without any cache disagree on them, so their status and details
// are left out of the comparison. The cache keeps one run's answer.
var mapOrderLints = []string{"e_ext_cannot_be_empty_sequence", "e_ext_tor_service_descriptor_hash_invalid"}

// factsJSON is every certificate's facts and the set's counters, as JSON: what a
// report is made of.
func factsJSON(t *testing.T, set *observe.Set) []byte {
	t.Helper()
	m := map[string]*observe.CertFacts{}
	for ref, c := range set.Certificates {
		f := *c.Facts
		f.Lints = slices.Clone(f.Lints)
		for i, l := range f.Lints {
			if slices.Contains(mapOrderLints, l.Name) {
				f.Lints[i].Status, f.Lints[i].Details = "", ""
			}
		}
		m[ref.String()] = &f
	}
	b, err := json.Marshal(struct {
		Facts    map[string]*observe.CertFacts
		Counters []observe.Counter
	}{m, set.Counters})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCacheSameAnswers: examined with an empty cache, then with the cache that run
// filled, every certificate gets the facts it gets with no cache, byte for byte, under
// each webpki setting; the second run takes every certificate's facts from the cache,
// and zlint's results for all but those it must not keep.
func TestCacheSameAnswers(t *testing.T) {
	ders := cacheCorpus(t)
	for _, mode := range []WebPKI{WebPKIAuto, WebPKIAlways, WebPKINever} {
		t.Run(string(mode), func(t *testing.T) {
			use := ders
			if mode != WebPKIAuto && len(use) > 300 {
				use = use[:300]
			}
			plain := corpusSet(use)
			ExamineWith(plain, Options{WebPKI: mode})
			want := factsJSON(t, plain)

			c := newMemCache()
			var first, second CacheStats
			one := corpusSet(use)
			ExamineWith(one, Options{WebPKI: mode, Cache: c, Stats: &first, CacheVersion: "v"})
			if got := factsJSON(t, one); !bytes.Equal(got, want) {
				t.Fatal("an empty cache changes the facts")
			}
			n := len(plain.Certificates)
			if first.FactsCached != 0 || first.Kept != n || first.Err != nil {
				t.Fatalf("first run %+v; want nothing cached and %d kept", first, n)
			}
			two := corpusSet(use)
			ExamineWith(two, Options{WebPKI: mode, Cache: c, Stats: &second, CacheVersion: "v"})
			if got := factsJSON(t, two); !bytes.Equal(got, want) {
				t.Fatal("the cache changes the facts")
			}
			kept := 0
			for _, es := range c.rows["v"] {
				rec, ok := decodeRecord(es[0].Record)
				if !ok {
					t.Fatal("a record kept does not decode")
				}
				if rec.LintsKept {
					kept++
				}
			}
			if second.FactsCached != n || second.LintsCached != kept || second.Kept != 0 || c.loads != 2 {
				t.Fatalf("second run %+v, %d loads; want all %d facts cached, %d lints, one load each", second, c.loads, n, kept)
			}
			if mode != WebPKIAlways && kept < n/2 {
				t.Errorf("only %d of %d certificates' lints kept", kept, n)
			}
			t.Logf("%d certificates, %d with their lints kept", n, kept)
		})
	}
}

// TestCacheVersionMisses: entries of another linter version are never read.
func TestCacheVersionMisses(t *testing.T) {
	ders := [][]byte{linttest.New(t, linttest.Spec{CN: "a.ward.internal"}).DER}
	c := newMemCache()
	ExamineWith(corpusSet(ders), Options{Cache: c, CacheVersion: "old"})
	var st CacheStats
	ExamineWith(corpusSet(ders), Options{Cache: c, CacheVersion: "new", Stats: &st})
	if st.FactsCached != 0 || st.LintsCached != 0 || st.Kept != 1 {
		t.Fatalf("another version: %+v; want a miss, and the new version kept", st)
	}
	st = CacheStats{}
	ExamineWith(corpusSet(ders), Options{Cache: c, CacheVersion: "new", Stats: &st})
	if st.FactsCached != 1 || st.LintsCached != 1 {
		t.Fatalf("the same version again: %+v; want a hit", st)
	}
}

// TestVersionFrom: the version names zlint's and changes with any module's version, a
// replacement, Go's version; it is "" when zlint's cannot be told (a test binary, a
// local directory), so that nothing is cached then.
func TestVersionFrom(t *testing.T) {
	bi := func(zlint, zcrypto, other string, replace *debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/medscan/medscan", Version: "(devel)"}, Deps: []*debug.Module{
			{Path: "github.com/zmap/zlint/v3", Version: zlint},
			{Path: "github.com/zmap/zcrypto", Version: zcrypto, Replace: replace},
			{Path: "github.com/spf13/cobra", Version: other},
		}}
	}
	base := versionFrom(bi("v3.7.3", "v0.1", "v1.0", nil), "go1.26", "")
	if !strings.HasPrefix(base, "medscan-lint/"+cacheCode+" zlint/v3.7.3 ") {
		t.Fatalf("version %q", base)
	}
	for name, v := range map[string]string{
		"zlint":    versionFrom(bi("v3.7.4", "v0.1", "v1.0", nil), "go1.26", ""),
		"zcrypto":  versionFrom(bi("v3.7.3", "v0.2", "v1.0", nil), "go1.26", ""),
		"another":  versionFrom(bi("v3.7.3", "v0.1", "v1.1", nil), "go1.26", ""),
		"replaced": versionFrom(bi("v3.7.3", "v0.1", "v1.0", &debug.Module{Path: "github.com/fork/zcrypto", Version: "v0.1"}), "go1.26", ""),
		"go":       versionFrom(bi("v3.7.3", "v0.1", "v1.0", nil), "go1.27", ""),
		"build":    versionFrom(bi("v3.7.3", "v0.1", "v1.0", nil), "go1.26", "another executable's digest"),
	} {
		if v == base || v == "" {
			t.Errorf("a change of %s: version %q, the same as before or none", name, v)
		}
	}
	for name, v := range map[string]string{
		"no zlint":      versionFrom(&debug.BuildInfo{}, "go1.26", ""),
		"zlint local":   versionFrom(bi("(devel)", "v0.1", "v1.0", nil), "go1.26", ""),
		"zcrypto local": versionFrom(bi("v3.7.3", "v0.1", "v1.0", &debug.Module{Path: "../zcrypto"}), "go1.26", ""),
	} {
		if v != "" {
			t.Errorf("%s: version %q; want none", name, v)
		}
	}
	if v := CacheVersion(); v != "" {
		t.Logf("this test binary records modules: CacheVersion() = %q", v)
	}
}

// TestCacheRoleMisses: zlint's results kept for one role are never given to another,
// nor for one PKI to another: a record made to say something no linter said (as if the
// role were not in the key) shows only where its key matches.
func TestCacheRoleMisses(t *testing.T) {
	der := linttest.New(t, linttest.Spec{CN: "dev.ward.internal", EKU: []x509.ExtKeyUsage{}}).DER
	fromFile := func() *observe.Set {
		set := observe.NewSet()
		set.AddCertificate(der, observe.CertSighting{Source: observe.SourceFile, File: "a.pem"})
		return set
	}
	served := func() *observe.Set {
		set := observe.NewSet()
		set.AddCertificate(der, observe.CertSighting{Role: "server"})
		return set
	}
	c := newMemCache()
	a := fromFile()
	ExamineWith(a, Options{Cache: c, CacheVersion: "v"})
	ref := observe.CertRef(sha256.Sum256(der))
	if role := a.Certificates[ref].Facts.Role; role != RoleOther {
		t.Fatalf("from a file: role %q; the test needs %q", role, RoleOther)
	}
	// Poison the one record: a lint no linter gave.
	e := &c.rows["v"][ref][0]
	rec, _ := decodeRecord(e.Record)
	rec.Lints = append(rec.Lints, observe.CertLint{Name: "e_poisoned", Status: "error"})
	e.Record, _ = encodeRecord(&rec)

	plain := served()
	ExamineWith(plain, Options{})
	b := served()
	var st CacheStats
	ExamineWith(b, Options{Cache: c, CacheVersion: "v", Stats: &st})
	if got, want := b.Certificates[ref].Facts, plain.Certificates[ref].Facts; !reflect.DeepEqual(got, want) || got.Role != RoleTLSServer {
		t.Fatalf("served: %+v\nwant %+v", got, want)
	}
	if st.FactsCached != 1 || st.LintsCached != 0 || st.Kept != 1 {
		t.Fatalf("served after a file: %+v; want the facts cached, the lints run and kept", st)
	}
	// webpki: always is another PKI for the same role: a miss too.
	st = CacheStats{}
	ExamineWith(fromFile(), Options{Cache: c, CacheVersion: "v", WebPKI: WebPKIAlways, Stats: &st})
	if st.LintsCached != 0 || st.Kept != 1 {
		t.Fatalf("another PKI: %+v; want the lints run and kept", st)
	}
	// The poisoned record is read where its key matches: the cache is read at all.
	d := fromFile()
	ExamineWith(d, Options{Cache: c, CacheVersion: "v"})
	if l := d.Certificates[ref].Facts.Lints; !slices.ContainsFunc(l, func(x observe.CertLint) bool { return x.Name == "e_poisoned" }) {
		t.Fatalf("the file's own key: lints %v; want the record's", l)
	}
}

// TestDerFactsCoverEveryField: every field of observe.CertFacts is either a function of
// the DER alone (kept in the cache: derFacts copies it) or decided afresh by every run.
// A new field fails here until it is put in one list, and derFacts with it.
func TestDerFactsCoverEveryField(t *testing.T) {
	ofDER := []string{"SPKISHA256", "Subject", "Issuer", "SerialHex", "NotBefore", "NotAfter", "ValidityDays",
		"KeyType", "KeyBits", "RSAExponent", "Curve", "SignatureAlgorithm", "SignatureHash", "IsCA", "SelfSigned",
		"DNSNames", "IPAddresses", "ExtKeyUsage", "ParseError"}
	afresh := []string{"KeyFlaws", "Factorable", "FactorMethod", "SharedPrimeWith", "Role", "RoleReasons",
		"WebPKI", "WebPKIReason", "Lints", "LintError"}
	typ := reflect.TypeFor[observe.CertFacts]()
	full := observe.CertFacts{}
	v := reflect.ValueOf(&full).Elem()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if slices.Contains(ofDER, name) == slices.Contains(afresh, name) {
			t.Errorf("CertFacts.%s: say whether it is a function of the DER (derFacts) or decided by every run", name)
		}
		// A value that is not zero in every field.
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String:
			fv.SetString("x")
		case reflect.Int:
			fv.SetInt(7)
		case reflect.Bool:
			fv.SetBool(true)
		case reflect.Slice:
			fv.Set(reflect.MakeSlice(fv.Type(), 1, 1))
		case reflect.Struct:
			fv.Set(reflect.ValueOf(time.Unix(1, 0).UTC()))
		}
	}
	got := derFacts(&full)
	gv := reflect.ValueOf(got)
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if copied := !gv.Field(i).IsZero(); copied != slices.Contains(ofDER, name) {
			t.Errorf("derFacts copies CertFacts.%s: %v; want %v", name, copied, !copied)
		}
	}
}

// TestClockLints: every zlint lint whose source reads the clock is in clockLints, so
// that its results are never kept for another day.
func TestClockLints(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "zmap", "zlint", "v3@v3.7.3", "lints")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("zlint's source not in the module cache (%v)", err)
	}
	name := regexp.MustCompile(`Name:\s*"([a-z0-9_]+)"`)
	found := 0
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(src, []byte("time.Now")) && !bytes.Contains(src, []byte("time.Since")) && !bytes.Contains(src, []byte("time.Until")) {
			return nil
		}
		for _, m := range name.FindAllSubmatch(src, -1) {
			found++
			if !slices.Contains(clockLints, string(m[1])) {
				t.Errorf("%s reads the clock: add %s to clockLints", filepath.Base(p), m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != len(clockLints) {
		t.Errorf("found %d lints that read the clock; clockLints lists %d", found, len(clockLints))
	}
}

// FuzzCacheRecord: whatever the DER, a record of its facts reads back as the same facts,
// and a record the cache did not write never panics the reader.
func FuzzCacheRecord(f *testing.F) {
	f.Add(linttest.New(f, linttest.Spec{CN: "seed", Key: linttest.RSAKey(f, 1024)}).DER, []byte(`{"facts":{}}`))
	f.Add(linttest.New(f, linttest.Spec{CN: "seed-ec", DNSNames: []string{"a.example"}}).DER, []byte(`{"lints_kept":true,"lints":null}`))
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00}, []byte(`{"facts":{"not_before":"10000-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, der, junk []byte) {
		decodeRecord(junk)
		fa, _, zc := facts(der)
		rec := cacheRecord{Facts: derFacts(fa), Parsed: zc != nil, LintsKept: true, Lints: []observe.CertLint{}}
		b, ok := encodeRecord(&rec)
		if !ok {
			return // not kept: examined afresh each time
		}
		back, ok := decodeRecord(b)
		if !ok {
			t.Fatalf("a record written does not read back: %s", b)
		}
		want := derFacts(fa)
		if !reflect.DeepEqual(back.Facts, want) || back.Parsed != rec.Parsed || back.Lints == nil {
			t.Fatalf("read back %+v\nwant %+v", back.Facts, want)
		}
		j1, _ := json.Marshal(back.Facts)
		j2, _ := json.Marshal(want)
		if !bytes.Equal(j1, j2) {
			t.Fatalf("facts write otherwise after the cache:\n%s\n%s", j1, j2)
		}
	})
}
