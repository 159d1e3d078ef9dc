// Package keyrules holds the rules about public keys in the certificates hosts present.
//
// A weak or factorable key (key-weak, key-factorable) is reported at every chain
// position, not only on the leaf: a host's authentication is only as strong as the
// weakest key on the path to the anchor its clients trust (a factorable intermediate or
// root key lets an attacker mint a leaf for that host), and the fix is the host
// operator's to make by moving to a chain without it. The evidence names the position and
// chain role, so a reader can tell a server's own key from its CA's. Those findings are
// keyed by host, port and certificate.
//
// A shared key (key-shared) is judged on leaves only, since a CA's key travels in the
// chains of every server it issued for by design; its findings are keyed by host, port
// and the key's SPKI SHA-256, one per endpoint that presents it, so each affected device
// shows up. It tells identities apart by subject and subjectAltNames: different
// identities on one key (or one device certificate on several clients) are high, one
// identity served by several hosts (one service's front ends) low, under the same
// fingerprint, so a key re-judged keeps its history. Hosts of other sites of the store
// that present the key as their own (observe.Fleet, read before the rules run) count as
// holders and are named with their site ("10.24.0.50:443 (site west)"), evidence sites
// listing every site involved; only this scan's holders get findings, under the same
// fingerprints as when one site is judged alone. key-factorable names the sites of a
// shared prime's partners likewise (Fleet.FactorSites).
//
// The rules judge verdicts that package lint and the scan pipeline leave in the facts
// (KeyFlaws, Factorable, FactorMethod, SharedPrimeWith); they never see a modulus, and
// no factor exists anywhere to be shown. The codes are lint's, copied here because rules
// do not import lint; a test keeps the copies equal.
package keyrules
