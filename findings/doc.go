// Package findings owns the finding model (severities, fingerprints), the SQLite store
// with its embedded, versioned migrations, and the read API that reports render from.
//
// It knows nothing of packets. It stores observations (package observe, the leaf of the
// graph) as facts beside the findings so that a report can be rendered again from the
// store alone, long after the capture is gone.
package findings
