// Package rules turns observations into findings: it owns the rule catalog, the policy
// (thresholds, severity overrides, disabled rules, suppressions) and the engine that runs
// the rules.
//
// Every rule declares, in its catalog entry (Meta, which is the finding model's
// findings.RuleInfo), what it covers: its domain, its tags, what a later scan must have
// seen on a finding's target for the rule to have been assessed there again, and the
// lightest probe profile that assesses it (findings.Coverage). The history (store.Diff)
// and SARIF read those declarations; nothing anywhere reads meaning into a rule's ID. A
// guard test fails for a rule whose declaration is missing or unknown.
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
//     tlsrules, certrules, keyrules, cleartext and intercept (signs of a man in the
//     middle). rules/all imports every domain, and is what the pipeline imports.
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
