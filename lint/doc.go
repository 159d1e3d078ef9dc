// Package lint examines certificates and keys: it turns the DER of every certificate a
// scan saw into the facts (observe.CertFacts) that rules judge.
//
// Parsing is lenient on purpose. Medical devices present certificates that Go's
// crypto/x509 refuses (negative serials, odd encodings, MD2 signatures, 512-bit keys),
// and those are exactly the ones a scanner must report on. zcrypto's x509 is the parser
// of record: a certificate it refuses gets ParseError. The facts themselves are read by a
// small DER reader in this package (der.go), so that a certificate zcrypto refuses still
// gets a subject, issuer, validity, key and signature algorithm, and so that names are
// rendered exactly as RFC 4514 strings (Python cryptography's rfc4514_string, which is what
// the corpus oracle uses) rather than in zcrypto's own format.
//
// Conventions, chosen once and relied on by rules:
//
//   - Subject and Issuer list RDNs last-to-first (RFC 4514), multi-valued RDNs joined by
//     "+", attribute types CN, L, ST, O, OU, C, STREET, DC and UID by name and every other
//     type by dotted OID, values escaped per RFC 4514 §2.4.
//   - ValidityDays is the whole number of days from NotBefore to NotAfter, rounded down
//     (Python's timedelta.days): 2014-11-08T00:00:00 to 2019-11-07T23:59:59 is 1825.
//   - SignatureHash is "md2", "md5", "sha1", "sha224", "sha256", "sha384" or "sha512";
//     "none" for Ed25519, whose signature covers the message itself with no separate
//     digest to collide; "" when the algorithm is unknown.
//   - SelfSigned means the subject equals the issuer (byte for byte, or as rendered
//     names) and the signature verifies with the certificate's own key. A certificate
//     whose subject equals its issuer but whose signature does not verify is self-issued
//     (for example a CA's key-rollover certificate), not self-signed, and is reported as
//     SelfSigned == false. MD2 signatures and keys below 1024 bits are verified here by
//     hand, since standard libraries refuse them.
//
// zlint by role: each certificate gets the lints of its role and PKI (zlint.go). The
// IETF profiles and zlint's community lints apply to every certificate; the CA/Browser
// Forum and root-programme rulebooks only to a certificate judged public WebPKI (a chain
// naming a public root, or the policy's webpki key) in a role they govern, never to a
// device identity or a private PKI's certificate; the lints that look for one CA's
// compromised keys (eight P-384 signature checks each) only when the issuer names that
// CA. The filtered registries are built once per kind and shared.
//
// Speed: ExamineWith parses and lints each distinct certificate (by SHA-256) once,
// however many files, chains or sessions held it (counted as certificates_examined),
// on GOMAXPROCS goroutines; each certificate's facts are written by the goroutine that
// examined it, so they do not depend on the number of workers. ExamineKeys checks
// distinct keys the same way. docs/performance.md has the figures.
//
// The lint cache (cache.go): with Options.Cache (the store's lint_cache table, migration
// 0011, through internal/scan), ExamineWith takes from an earlier run of the same linter
// what is a function of the certificate's DER alone (the facts, what the role decision
// reads of zcrypto's view, the public root it names) and zlint's results for the role,
// PKI and self-signature decided in this run, and keeps what it examines afresh. The key
// is the certificate's SHA-256, CacheVersion (a constant of this package, cacheCode,
// which MUST be bumped by hand with any change to what the facts or the lints of a role
// are; medscan's version, or for a local build the SHA-256 of its executable, so that a
// forgotten bump cannot serve one build's answers to another; Go's, zlint's and every
// module's version; the lint lists of zlint.go; zlint's registry; the embedded root
// list), the role, whether it is public WebPKI and whether
// it is self-signed. Never cached, always decided afresh: the role and its reasons (from
// this run's sightings), the PKI and its reason (this run's chains and the policy), the
// key checks and the batch GCD (over the whole set's and store's keys), and the results
// of a registry holding a lint that reads the clock (clockLints) or of a zlint that
// failed. A scan's facts and outputs are the same, byte for byte, with or without the
// cache; a test binary records no module versions, so there CacheVersion is "" and
// nothing is cached unless a test names a version.
//
// Invariants: Facts never panics on any input, allocates only in proportion to the input,
// and never reads the network or the clock.
//
// Keys: ExamineKeys checks each distinct key (by SPKI SHA-256) once for the ROCA
// fingerprint, small factors, Fermat-close primes and the user's blocklist; BatchGCD finds
// RSA moduli sharing a prime (product tree, then a remainder tree modulo each node). Only
// verdicts are kept, never a factor.
package lint
