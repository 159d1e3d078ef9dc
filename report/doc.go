// Package report renders a scan, as read back from the store (findings.Report), in one
// format per writer behind one interface: a terminal table, JSON (with its JSON Schema in
// schema/), HTML, SARIF 2.1.0 and CSV (findings, and the inventory as csv-assets), each in
// a file of its own that registers itself, so that adding a format is adding a file.
//
// Invariants: writers read nothing but the Report they are given (no store, no clock,
// no environment), so the same Report renders to the same bytes every time; the golden
// tests hold them to that. Nothing a scan learned that weakens its conclusions is left
// out: an incomplete scan says INCOMPLETE with its problems, non-zero drop counters are
// listed, and TLS sessions whose certificates could not be observed are counted. Text
// that came off the network is stripped of control characters before it reaches a
// terminal.
package report
