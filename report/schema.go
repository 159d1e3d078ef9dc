package report

import _ "embed"

// reportSchema is the JSON Schema (draft 2020-12) of the JSON document, schema_version 1.
//
//go:embed schema/medscan-report-v1.schema.json
var reportSchema []byte

// JSONSchema returns the JSON Schema of the JSON document the "json" format writes
// (findings.ReportSchemaVersion 1), so that a tool or a test can validate a report
// without a copy of the repository. The caller gets its own copy.
func JSONSchema() []byte {
	return append([]byte(nil), reportSchema...)
}
