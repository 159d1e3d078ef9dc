// Package probe is medscan's active prober: it owns the targets a user names, the scope and
// exclusions derived from them, pacing, connection handling, and service and TLS
// enumeration with zcrypto. It reports what it sees as observe values and never judges.
//
// The invariant everything else rests on: nothing outside the Scope is ever contacted. No
// byte goes to an address the user did not name, and an exclusion always wins over an
// inclusion. Every ambiguity resolves towards contacting less:
//
//   - IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are unmapped before any comparison, so
//     writing an address in its mapped form is no way around an exclusion. An inclusion
//     that is an IPv6 CIDR or range covering the mapped block (::/64, say) does not thereby
//     include IPv4 hosts; an exclusion covering it does exclude them.
//   - A host name is in scope as a name: the addresses its resolution returns are in scope
//     for that name only (Scope.AllowsName), never for the bare address (Scope.Allows), and
//     an excluded address stays excluded whatever name resolves to it.
//   - A host name given as an exclusion keeps the whole scope closed until Scope.Resolve
//     has found its addresses, because until then no one knows which addresses to avoid.
//   - A malformed exclusion handed to NewScope closes the scope rather than being skipped.
//
// Enumeration includes every address of a CIDR, network and broadcast addresses too (as
// nmap does): the prefix a user writes is not necessarily the subnet's own, so probe
// cannot know which addresses are the subnet's network and broadcast addresses, and
// silently narrowing a written /24 to 254 addresses would surprise more than it protects.
//
// This release holds the scope only: target, port and exclusion parsing, and the Scope
// itself with its lazy enumeration. Pacing, connections and TLS enumeration come next, and
// will take every address they touch from a Scope.
package probe
