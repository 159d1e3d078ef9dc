package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/medscan/medscan/findings"
)

func init() {
	Scan.register("json", func(Options) Writer[*findings.Report] {
		return WriterFunc[*findings.Report](func(w io.Writer, r *findings.Report) error {
			if r == nil {
				return fmt.Errorf("report: json: no report")
			}
			return writeJSON(w, r)
		})
	})
}

// writeJSON encodes a (tidy: see Registry.New) document as medscan's JSON: two-space
// indentation, a trailing newline. The document's field names are the contract with everything that reads
// medscan's output.
func writeJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Subjects, URLs and messages stay readable: the document is not meant to be pasted
	// into HTML, and the HTML writer escapes for itself.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}
