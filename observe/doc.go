// Package observe holds the facts medscan learns about a network, before any judgement.
//
// It is the leaf of the dependency graph: capture (passive) and probe (active) produce
// observations, lint enriches certificates with parsed facts, inventory classifies
// hosts, rules turn observations into findings, and the finding model (package findings)
// embeds the observation types in its report document. Nothing here decides severity or
// talks to SQLite. Its subpackage oui names the maker of a MAC address.
//
// What else lives here, because every stage must do it the same way:
//   - The JSON form of every observation type (json tags): how the store keeps them and
//     how reports show them, so a fact added here is stored and reported without being
//     copied. Flows and endpoints are left out of it and shown as client, host and port.
//   - The one sanitizer for text from the wire (text.go: Clean, Text): control
//     characters, bidirectional overrides and invalid UTF-8 are shown as escapes, never
//     obeyed. Dissectors apply it as text enters an observation; certificate names keep
//     their exact RFC 4514 rendering (package lint), which other tools are compared
//     with; and every output starts from it (package findings' Tidy) before its own
//     escaping, so that nothing reaches a reader unsanitized whatever its producer did.
//   - What an HTTP request was and what of its path may be kept (httpapi.go, urlpath.go):
//     the HTTP dissector classifies each request once (AsEmitted: FHIR or another API by
//     ClassifyHTTP, a login, a device description; which body fields are credentials,
//     IsSecretBodyKey) and replaces its path by a template in which every identifier is "{id}" (PathTemplate), so that no
//     patient's identifier ever leaves the dissector. FTP and TFTP file names are
//     templated the same way.
//   - What other sites' scans saw of this scan's keys, secrets and clinical peers
//     (fleet.go: Fleet), which the store fills before judgement so that sharing is judged
//     across a health system's sites; a Set judged alone has none.
//   - The generic Index that groups observations (order kept, capped), and Widen, the
//     one way first-seen and last-seen spans are merged: the Set keeps its lists of
//     observations in Indexes (and its hosts, services and certificates in capped maps),
//     and rules group what they judge with one.
//
// Invariants: a secret is never held in clear (a Credential carries a masked preview and a
// keyed hash only), patient data is counted, never copied, and a URL path is held only as
// its template. Observations are aggregated as they arrive (one TLSSession per distinct
// handshake shape, one Certificate per DER), and every kind is capped, so memory grows
// with the variety of a network, not with the length of a capture.
package observe
