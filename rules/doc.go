// Package rules turns observations into findings: it owns the rule catalog, the policy
// (thresholds, severity overrides, disabled rules) and the engine that runs the rules.
//
// Structure:
//
//   - rules.go: the registry (Register, Catalog, Lookup), Context and Emit, and Evaluate,
//     which runs every enabled rule in ID order and deduplicates by fingerprint.
//   - present.go: certificate presentations (who served which certificate, at which chain
//     position, when), the shared view that certificate and key rules judge.
//   - policy.go: the YAML policy, its validation and its commented example.
//   - suppress.go: suppressions (.medscanignore.yaml and the policy's section), their
//     expiry and matching.
//   - rules/<domain>/: the rules themselves, one per file, each registered from init() and
//     paired with a table test holding a firing, a quiet and a not-applicable case:
//     tlsrules, certrules, keyrules and cleartext. rules/all imports every domain, and is
//     what the pipeline imports.
//
// Invariants: a rule is a pure function of the observation set and the policy. It reads
// no flags, globals or wall clock (time comes from the observations), so the same input
// gives the same findings, byte for byte. Findings about a TLS server are keyed by the
// server's address and port; a certificate finding carries the certificate's SHA-256 as
// its Subject, so one host serving two bad certificates gets two findings. Certificates
// in TLS 1.3 sessions are not observable and rules conclude nothing about them. Secrets
// never reach a finding: credential evidence is the kind, user name, masked preview and
// keyed hash only. This package does not talk to SQLite.
package rules
