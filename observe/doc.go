// Package observe holds the facts medscan learns about a network, before any judgement.
//
// It is the leaf of the dependency graph: capture (passive) and probe (active) produce
// observations, lint enriches certificates with parsed facts, rules turn observations into
// findings, and findings stores them. Nothing here decides severity or talks to SQLite.
//
// Invariants: a secret is never held in clear (a Credential carries a masked preview and a
// keyed hash only), and patient data is counted, never copied. Observations are aggregated
// as they arrive (one TLSSession per distinct handshake shape, one Certificate per DER), so
// memory grows with the variety of a network, not with the length of a capture.
package observe
