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
	// add decodes one stored element onto the list.
	add func(r *findings.Report, data []byte) error
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
		add: func(r *findings.Report, data []byte) error {
			var v T
			if err := json.Unmarshal(data, &v); err != nil {
				return fmt.Errorf("bad %s row %.60q in store: %w", name, data, err)
			}
			l := list(r)
			*l = append(*l, v)
			return nil
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
		add: func(r *findings.Report, data []byte) error {
			var v []T
			if err := json.Unmarshal(data, &v); err != nil {
				return fmt.Errorf("bad %s row %.60q in store: %w", name, data, err)
			}
			l := list(r)
			*l = append(*l, v...)
			return nil
		},
	}
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
