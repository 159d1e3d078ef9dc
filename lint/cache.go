package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	zl "github.com/zmap/zlint/v3/lint"

	"github.com/medscan/medscan/observe"
)

// The lint cache keeps what examining a certificate found, so that a scheduled scan of
// the same hospital (nearly every certificate seen before) or a lint run over stored
// certificates does not parse and lint again what an earlier run did with the same
// linter. What is kept, and why it is safe to reuse:
//
//   - The facts that are a function of the DER alone (derFacts: names, validity, key,
//     signature, extensions, self-signature, parse error), with what the role decision
//     reads of zcrypto's view (roleHints), whether zcrypto parsed it, and the public
//     root it names. They are keyed by the certificate's SHA-256 and CacheVersion.
//   - zlint's results, which depend on the DER and on the role, the PKI (public WebPKI
//     or not) and the self-signature they were chosen by: kept under those too, so a
//     certificate served by a server today that was read from a file last week (another
//     role) is linted again. Results of a registry holding a lint that reads the clock
//     (clockLints) are never kept, nor an error of zlint.
//
// Never kept, always computed afresh by every run: the role and its reasons (from
// every sighting of this run), whether the certificate is public WebPKI and why (its
// chains in this run, and the policy's webpki key), and the key checks
// (ExamineKeys, and the batch GCD over every key of the set and the store, which must
// stay computed over the whole set of keys and is never cached per certificate).
// Nothing kept is secret or patient data: the record holds what the certificate's DER
// says (which the store keeps anyway) and zlint's words about it.

// cacheCode is medscan's own part of CacheVersion. It MUST be bumped by hand with any
// change to this package that can change a certificate's facts, role hints or public
// root, or zlint's results for a given role and PKI (der.go, facts.go, name.go, md2.go,
// the lint sources and exclusions of zlint.go, the fields of observe.CertFacts that
// derFacts copies): otherwise a store keeps giving the old answers to a build that
// names itself by the same version. (A local build is named by its executable's digest
// too, and a release by its version, so a missed bump is caught there.) Version changes of
// zlint, zcrypto or any other module, of Go, and of the embedded root list, the lint
// lists of zlint.go and zlint's registry change CacheVersion on their own.
const cacheCode = "1"

// CacheVersion names the linter that produced a cached result: "" when it cannot be
// told (no build information, as in a test binary, which records no modules; or zlint,
// zcrypto or publicsuffix-go built from a local directory), and then no result is
// cached or read. Entries of another version are never read. A medscan built without a
// version of its own (a local build: "(devel)") is named by the SHA-256 of its
// executable too, so that a developer's change to the lint code that forgot to bump
// cacheCode never reads the answers of the build before it; a released medscan is named
// by its version.
func CacheVersion() string { return cacheVersion() }

var cacheVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	build := ""
	if v := bi.Main.Version; v == "" || v == "(devel)" {
		var err error
		if build, err = executableDigest(); err != nil {
			return "" // a build that cannot be told from another caches nothing
		}
	}
	return versionFrom(bi, runtime.Version(), build)
})

// executableDigest is the SHA-256 (hex) of the running executable's file.
func executableDigest() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// versionFrom is CacheVersion for a binary's build information, Go version and, for a
// local build, its executable's digest ("" for a released one).
func versionFrom(bi *debug.BuildInfo, goVersion, build string) string {
	versionOf := func(m *debug.Module) string {
		if m.Replace != nil {
			m = m.Replace
		}
		if m.Version == "" || m.Version == "(devel)" {
			return ""
		}
		return m.Path + "@" + m.Version
	}
	var mods []string
	zlintVersion := ""
	for _, m := range bi.Deps {
		v := versionOf(m)
		switch {
		case m.Path == "github.com/zmap/zlint/v3":
			if v == "" {
				return ""
			}
			zlintVersion = v[strings.LastIndexByte(v, '@')+1:]
		case v == "" && (m.Path == "github.com/zmap/zcrypto" || strings.HasPrefix(m.Path, "github.com/weppos/publicsuffix-go")):
			// Parsing and public-suffix answers built from a local tree: unknowable.
			return ""
		}
		mods = append(mods, m.Path+" "+v)
	}
	if zlintVersion == "" {
		return ""
	}
	slices.Sort(mods)
	h := sha256.New()
	write := func(parts ...string) {
		for _, p := range parts {
			fmt.Fprintf(h, "%d:%s\n", len(p), p)
		}
	}
	write(cacheCode, goVersion, bi.Main.Version, build, webpkiRootsText)
	write(mods...)
	for _, l := range [][]string{alwaysExcluded, privateExcluded, selfSignedExcluded, clockLints} {
		write(strings.Join(l, ","))
	}
	for _, l := range []zl.SourceList{baseSources, webSources} {
		for _, s := range l {
			write(string(s))
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range compromisedCALints {
			if !yield(k) {
				return
			}
		}
	}) {
		write(name, strings.Join(compromisedCALints[name], ","))
	}
	write(zl.GlobalRegistry().Names()...)
	sum := h.Sum(nil)
	return "medscan-lint/" + cacheCode + " zlint/" + zlintVersion + " " + hex.EncodeToString(sum[:8])
}

// Cache keeps examinations between runs; the store implements it (internal/scan
// adapts store.LintCache). ExamineWith calls Load once with every certificate it is
// about to examine and Keep once with what it examined afresh.
type Cache interface {
	// Load returns the entries kept under version for these certificates, any order.
	Load(version string, certs []observe.CertRef) ([]CacheEntry, error)
	// Keep adds entries under version; an entry whose key is already kept is left as
	// it is (every entry of one key holds the same answer).
	Keep(version string, entries []CacheEntry) error
}

// CacheEntry is one certificate's examination as the cache keeps it: its key beyond
// the version (the certificate, and the role, PKI and self-signature its zlint results
// were chosen by) and the record, JSON that only this package reads.
type CacheEntry struct {
	Cert       observe.CertRef
	Role       string
	WebPKI     bool
	SelfSigned bool
	Record     []byte
}

// CacheStats says what the cache saved a run: certificates whose facts came from it,
// those whose zlint results came from it too, entries kept for later runs, and the
// first error of the cache (a run whose cache failed examines afresh and is otherwise
// the same).
type CacheStats struct {
	FactsCached int
	LintsCached int
	Kept        int
	Err         error
}

// maxRecord bounds a record read back from the cache: a certificate's facts and lints
// take a few kilobytes; a larger record is not one this package wrote, and is ignored.
const maxRecord = 1 << 20

// cacheRecord is the Record of a CacheEntry.
type cacheRecord struct {
	// Facts holds only derFacts: the facts of the DER alone.
	Facts       observe.CertFacts `json:"facts"`
	Parsed      bool              `json:"parsed"` // zcrypto parsed the DER, so zlint can run
	KeyCertSign bool              `json:"key_cert_sign"`
	HWModule    bool              `json:"hw_module"`
	PublicRoot  string            `json:"public_root"` // publicName's answer
	// LintsKept is false when zlint's results were not kept (not parsed, zlint failed,
	// or a lint reads the clock): the facts are reused and zlint runs again.
	LintsKept bool               `json:"lints_kept"`
	Lints     []observe.CertLint `json:"lints"`
}

// derFacts copies the facts that are a function of the certificate's DER alone; every
// other field (role, WebPKI, key checks, lints) is left zero. TestDerFactsCoverEveryField
// fails when observe.CertFacts gains a field that is in neither list.
func derFacts(f *observe.CertFacts) observe.CertFacts {
	return observe.CertFacts{
		SPKISHA256:         f.SPKISHA256,
		Subject:            f.Subject,
		Issuer:             f.Issuer,
		SerialHex:          f.SerialHex,
		NotBefore:          f.NotBefore,
		NotAfter:           f.NotAfter,
		ValidityDays:       f.ValidityDays,
		KeyType:            f.KeyType,
		KeyBits:            f.KeyBits,
		RSAExponent:        f.RSAExponent,
		Curve:              f.Curve,
		SignatureAlgorithm: f.SignatureAlgorithm,
		SignatureHash:      f.SignatureHash,
		IsCA:               f.IsCA,
		SelfSigned:         f.SelfSigned,
		DNSNames:           f.DNSNames,
		IPAddresses:        f.IPAddresses,
		ExtKeyUsage:        f.ExtKeyUsage,
		ParseError:         f.ParseError,
	}
}

// encodeRecord writes a record; ok is false when it cannot be kept (a time JSON cannot
// write), and the certificate is then simply not cached.
func encodeRecord(r *cacheRecord) ([]byte, bool) {
	b, err := json.Marshal(r)
	return b, err == nil
}

// decodeRecord reads a record back, keeping only derFacts of its facts; ok is false
// for anything this package did not write, which is then examined afresh.
func decodeRecord(b []byte) (cacheRecord, bool) {
	var r cacheRecord
	if len(b) == 0 || len(b) > maxRecord || json.Unmarshal(b, &r) != nil {
		return cacheRecord{}, false
	}
	r.Facts = derFacts(&r.Facts)
	if !r.LintsKept {
		r.Lints = nil
	}
	return r, true
}
