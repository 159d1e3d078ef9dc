// Package findings is medscan's finding model: severities, findings and their
// fingerprints, what each rule declares about itself (RuleInfo, with what it covers), and
// the documents that every output renders: one scan (Report), an inventory, a list of
// scans, a comparison of two scans (Change).
//
// It is a small leaf: it imports only package observe (and its OUI registry), knows
// nothing of packets, SQL or formats, and is imported by rules, store, report and the
// CLI alike. The name is the design card's: the package holds what a finding is, and the
// store that keeps findings is package store, beside it.
//
// # The report document
//
// A Report embeds the observation types of package observe rather than copying them: an
// HTTPRequest element is the observed observe.HTTPRequest plus the client, host and port
// it was seen between; a Certificate is the certificate's observe.CertFacts plus where it
// was seen. A fact added to an observation type is therefore in the document, the JSON
// output and the store without being written anywhere else. What the document derives
// for readers (a suite's name from its number, a MAC's registrant) is computed in one
// place, Report.Derive, whether the document was built from a scan just run
// (NewReport) or read back from the store (Normalize).
//
// Invariants, once a document is normalized (Report.Normalize, which the store applies to
// every document it reads): lists are in a stable order (Report.Sort: findings by
// severity, most severe first, then rule, host in numeric address order, port and
// subject; certificates by subject then SHA-256; the other lists by their own keys,
// mostly address then port, then by their whole JSON) and never nil (Tidy), and every
// string has been through observe.Clean (Tidy), so that two
// renders of one scan are byte-identical and nothing in the document can drive a
// terminal, a browser or a spreadsheet. The JSON field names are a contract
// (ReportSchemaVersion).
package findings
