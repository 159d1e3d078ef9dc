package capture

import (
	"errors"
	"strconv"
)

// SourceError is a problem that stopped the reading of one capture source. Everything
// decoded before it stays in the engine.
type SourceError struct {
	File   string // the file name, "-" for stdin
	Offset int64  // byte offset in the (decompressed) capture stream, -1 when not applicable
	Err    error
}

// Error renders the one-line message the CLI prints: "capture: FILE: offset N: what".
func (e *SourceError) Error() string {
	if e.Offset < 0 {
		return "capture: " + e.File + ": " + e.Err.Error()
	}
	return "capture: " + e.File + ": offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Err.Error()
}

// Unwrap returns the underlying error, so callers can test it with errors.Is.
func (e *SourceError) Unwrap() error { return e.Err }

// Sentinel errors wrapped by SourceError, for callers that branch on the kind of problem.
var (
	// ErrTruncated means the capture ended in the middle of a header or record.
	ErrTruncated = errors.New("truncated")
	// ErrNotCapture means the input is neither pcap, pcapng nor gzip.
	ErrNotCapture = errors.New("not a capture file")
	// ErrLinkType means a link type this engine does not decode.
	ErrLinkType = errors.New("unsupported link type")
	// ErrAbsurdLength means a length field no sane capture holds.
	ErrAbsurdLength = errors.New("absurd length")
	// ErrMalformed means a header that contradicts itself.
	ErrMalformed = errors.New("malformed")
	// ErrInterrupted means the reading was cancelled (a signal) before the input ended.
	ErrInterrupted = errors.New("not read to its end: scan interrupted")
)
