// Package report writes medscan's documents (package findings) for people and tools: it
// is the one output path. Each document has a Registry of writers, one per format, each
// format in a file of its own that registers itself, so that adding a format is adding a
// file:
//   - Scan (findings.Report): table, json (with its JSON Schema in schema/), html, sarif
//     (SARIF 2.1.0), csv (findings), csv-assets (the inventory with its services), and
//     the exports for other tools' databases: ocsf (OCSF 1.3.0 finding events in JSON
//     Lines, for SIEMs) and defectdojo (DefectDojo's Generic Findings Import). Both file
//     each finding with its lifecycle from the history (export.go: opened, updated,
//     closed, or not assessed and left as it was), computed in one place for both.
//     The terminal table is scan_table.go; the HTML page is built by section: the
//     executive summary's risks and the remediation plan by owner (html_summary.go,
//     from each rule's catalog Owner and Risk), the data-flow map (package flowmap),
//     findings (html_findings.go, their evidence labelled in html_evidence.go), assets,
//     certificates, shared keys and credentials, traffic. SARIF points each result at
//     the capture file it came from, relative to its git repository's root, which the
//     CLI finds and hands over in Options.Repos.
//   - Inventory (medscan inventory): table, json, csv.
//   - ScanList (medscan scans): table, json.
//   - Audit (medscan audit): table, json.
//   - Certs (medscan certs): table, json, csv.
//   - Comparison (medscan diff): table, json.
//   - Catalog (medscan rules): table, json.
//
// The CLI chooses a registry and a format and hands over the document; it renders
// nothing itself.
//
// Large scans: JSON is written as a stream, object field by field and list element by
// element, in the bytes encoding/json writes for the whole (scan_json.go): each value
// encoded compact by encoding/json and indented by a pass that needs no scanner
// (indentJSON), a finding written indented in one pass where it can be
// (appendFinding, finding_json.go: no reflection, tests and a fuzz target hold it to
// the general way), a long list in chunks on every core written in order, their buffers
// reused; above
// Options.GroupAbove findings (DefaultGroupAbove, 200), the table and the HTML page show
// one row per rule and severity with counts and the first places, and say where every
// row is (group.go); above the same number of certificates, services or assets the
// table groups those sections too (by issuer, key and signature; by protocol, TLS
// version and suite; by kind and maker). Every other format, and Verbose, lists every
// finding.
//
// A scan read from the store for json, csv, the table, sarif, ocsf, defectdojo, html or
// svg (StreamsFindings) may carry its findings as a stream (findings.Report.Stream,
// store.StreamWith) rather than a list: the JSON, CSV, OCSF and DefectDojo writers write
// each finding as it is read, in the same bytes (JSON writes the change section list
// by list too; DefectDojo writes its document a finding at a time in MarshalIndent's
// bytes); SARIF writes the log without its results as go-sarif does, cut at the
// results, each result encoded in place, its rules' descriptors from the store's
// groups (a rule the catalog lacks makes it read the findings into a list); the table
// takes the groups the store counted, or reads the findings into a list when it lists
// them one by one. HTML reads the findings once and folds each into every section that
// reads them (html_fold.go: the findings by rule, risks, plan, certificate posture,
// shared keys and credentials, the assets' counts), keeping only what the page shows:
// grouped, a rule's counts and first places per severity; listed, every finding's view.
// The svg format (the data-flow map) counts each flow's findings again, keeping of each
// streamed finding only its rule, severity, host and port.
// RendersFlows names the formats that render the data-flow map; the others may be handed
// a scan without it (store.StreamOptions), and a test holds them to the same bytes
// either way.
//
// Invariants: writers read nothing but the document they are given (no store, no clock,
// no environment), so the same document renders to the same bytes every time; the golden
// tests hold them to that. Every writer first tidies the document, in place
// (Registry.New wraps each: findings.Tidy, every string through observe.Clean, the one
// sanitizer), then applies only its own format's
// escaping (escape.go: HTML by html/template, CSV formula defusing, SARIF's link
// brackets). Nothing a scan learned that weakens its conclusions is left out: an
// incomplete scan says INCOMPLETE with its problems, non-zero drop counters are listed,
// and TLS sessions whose certificates could not be observed are counted. Panels that
// summarise a judgement (the shared keys and credentials of the HTML report) render the
// rules' findings; they compute nothing of their own.
package report
