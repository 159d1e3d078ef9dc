package store

import (
	"encoding/json"
	"fmt"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// The observations of a scan are kept in one table, one row per element of the report
// document: its kind, its place in the document's list, and the element itself as JSON,
// in the document's own field names. A fact added to an observation type (package observe) is therefore kept
// and read back without a schema change. The kinds below are the document's lists.

// kind is one list of the report document kept in the observations table.
type kind struct {
	name string
	// rows returns the list's elements (pointers into it) for saving.
	rows func(r *findings.Report) []any
	// decoder decodes n stored rows onto the list, on the decoders of pool.
	decoder func(pool *decoders, n int) listDecoder
}

// listKind describes a list of the document, T its element type.
func listKind[T any](name string, list func(r *findings.Report) *[]T) kind {
	return kind{
		name: name,
		rows: func(r *findings.Report) []any {
			l := *list(r)
			out := make([]any, len(l))
			for i := range l {
				out[i] = &l[i]
			}
			return out
		},
		decoder: func(pool *decoders, n int) listDecoder {
			return &kindBatches[T, T]{list: list, batches: newBatches(pool, n, func(data []byte, into *T) error {
				if err := json.Unmarshal(data, into); err != nil {
					return fmt.Errorf("bad %s row %.60q in store: %w", name, data, err)
				}
				return nil
			}), add: func(l []T, items []T) []T { return append(l, items...) }}
		},
	}
}

// chunkKind describes a list of the document kept n elements to a row, each row a JSON
// array of them: for a list of many small elements (quiet hosts: a sweep of a /16 has
// 65,536), whose rows would cost the store more than the elements themselves.
func chunkKind[T any](name string, n int, list func(r *findings.Report) *[]T) kind {
	return kind{
		name: name,
		rows: func(r *findings.Report) []any {
			l := *list(r)
			out := make([]any, 0, (len(l)+n-1)/n)
			for i := 0; i < len(l); i += n {
				out = append(out, l[i:min(i+n, len(l))])
			}
			return out
		},
		decoder: func(pool *decoders, rows int) listDecoder {
			return &kindBatches[T, []T]{list: list, batches: newBatches(pool, rows, func(data []byte, into *[]T) error {
				if err := json.Unmarshal(data, into); err != nil {
					return fmt.Errorf("bad %s row %.60q in store: %w", name, data, err)
				}
				return nil
			}), add: func(l []T, chunks [][]T) []T {
				for _, c := range chunks {
					l = append(l, c...)
				}
				return l
			}}
		},
	}
}

// listDecoder decodes the stored rows of one list (decode.go) onto the document.
type listDecoder interface {
	// row hands over one stored row, in the list's order.
	row(data []byte)
	// flush hands over the rows not yet handed over.
	flush()
	// done appends the decoded elements to the document's list, once the decoders are
	// done; the error is the first row's that could not be decoded.
	done(r *findings.Report) error
}

// kindBatches is the listDecoder of a kind whose list holds T, a row R (a T, or a chunk
// of them).
type kindBatches[T, R any] struct {
	*batches[R]
	list func(r *findings.Report) *[]T
	add  func(l []T, rows []R) []T
}

func (k *kindBatches[T, R]) done(r *findings.Report) error {
	rows, err := k.all()
	if err != nil {
		return err
	}
	l := k.list(r)
	if *l == nil {
		if items, ok := any(rows).([]T); ok {
			*l = items // the decoded list itself, not a copy
			return nil
		}
	}
	*l = k.add(*l, rows)
	return nil
}

// quietHostsPerRow is how many quiet hosts one observations row holds (about 150 bytes
// of JSON each).
const quietHostsPerRow = 512

// kinds are the document's observation lists, by the name the table keeps them under.
var kinds = []kind{
	listKind("service", func(r *findings.Report) *[]findings.Service { return &r.Services }),
	listKind("tls", func(r *findings.Report) *[]findings.TLSSession { return &r.TLSSessions }),
	listKind("credential", func(r *findings.Report) *[]findings.Credential { return &r.Credentials }),
	listKind("http", func(r *findings.Report) *[]findings.HTTPRequest { return &r.HTTP }),
	listKind("mqtt", func(r *findings.Report) *[]findings.MQTTConnect { return &r.MQTT }),
	listKind("hl7", func(r *findings.Report) *[]findings.HL7Message { return &r.HL7 }),
	listKind("dicom", func(r *findings.Report) *[]findings.DICOMAssociation { return &r.DICOM }),
	listKind("name", func(r *findings.Report) *[]findings.HostName { return &r.HostNames }),
	listKind("dhcp", func(r *findings.Report) *[]findings.DHCPLease { return &r.DHCPLeases }),
	listKind("transfer", func(r *findings.Report) *[]findings.FileTransfer { return &r.Transfers }),
	listKind("probe", func(r *findings.Report) *[]findings.ProbeEndpoint { return &r.Probes }),
	listKind("probe_host", func(r *findings.Report) *[]findings.ProbeHost { return &r.ProbeHosts }),
	listKind("key_file", func(r *findings.Report) *[]findings.KeyFile { return &r.KeyFiles }),
	listKind("update", func(r *findings.Report) *[]findings.UpdateImage { return &r.Updates }),
	listKind("sensor_path", func(r *findings.Report) *[]observe.SensorPath { return &r.SensorPaths }),
	listKind("arp_claim", func(r *findings.Report) *[]observe.ARPClaim { return &r.ARPClaims }),
	listKind("dhcp_reply", func(r *findings.Report) *[]observe.DHCPReply { return &r.DHCPReplies }),
	listKind("starttls_greeting", func(r *findings.Report) *[]findings.StartTLSGreeting { return &r.StartTLSGreetings }),
	listKind("flow", func(r *findings.Report) *[]findings.Flow { return &r.Flows }),
	chunkKind("quiet_hosts", quietHostsPerRow, func(r *findings.Report) *[]findings.QuietHost { return &r.QuietHosts }),
}

// kindByName finds a kind; the table may hold kinds a newer medscan wrote, which an
// older one skips.
func kindByName(name string) (kind, bool) {
	for _, k := range kinds {
		if k.name == name {
			return k, true
		}
	}
	return kind{}, false
}
