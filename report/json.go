package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/medscan/medscan/findings"
)

func init() { register("json", func(Options) Writer { return jsonWriter{} }) }

// jsonWriter encodes the Report as is: it is the JSON document, and its field names
// are the contract with everything that reads medscan's output.
type jsonWriter struct{}

// Write encodes r with two-space indentation and a trailing newline. Nil lists in r are
// filled with empty ones first (findings.Report.Normalize), so JSON never says null
// where a list is expected.
func (jsonWriter) Write(w io.Writer, r *findings.Report) error {
	if r == nil {
		return fmt.Errorf("report: json: no report")
	}
	r.Normalize()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Subjects, URLs and messages stay readable: the document is not meant to be pasted
	// into HTML, and the HTML writer escapes for itself.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}
