package store

import (
	"encoding/json"
	"fmt"

	"github.com/medscan/medscan/findings"
)

// The observations of a scan are kept in one table, one row per element of the report
// document: its kind, its place in the document's order, the host and port it is about
// (for queries across scans), and the element itself as JSON, in the document's own
// field names. A fact added to an observation type (package observe) is therefore kept
// and read back without a schema change. The kinds below are the document's lists.

// kind is one list of the report document kept in the observations table.
type kind struct {
	name string
	// rows returns the list's elements as (host, port, element) for saving.
	rows func(r *findings.Report) []row
	// add decodes one stored element onto the list.
	add func(r *findings.Report, data []byte) error
}

// row is one element to store.
type row struct {
	host string
	port int
	v    any
}

// listKind describes a list of the document, T its element type.
func listKind[T any](name string, list func(r *findings.Report) *[]T, where func(*T) (string, int)) kind {
	return kind{
		name: name,
		rows: func(r *findings.Report) []row {
			l := *list(r)
			out := make([]row, len(l))
			for i := range l {
				h, p := where(&l[i])
				out[i] = row{h, p, &l[i]}
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

func conv(c findings.Conversation) (string, int) { return c.Host, c.Port }

// kinds are the document's observation lists, by the name the table keeps them under.
var kinds = []kind{
	listKind("service", func(r *findings.Report) *[]findings.Service { return &r.Services },
		func(v *findings.Service) (string, int) { return v.Host, v.Port }),
	listKind("tls", func(r *findings.Report) *[]findings.TLSSession { return &r.TLSSessions },
		func(v *findings.TLSSession) (string, int) { return conv(v.Conversation) }),
	listKind("credential", func(r *findings.Report) *[]findings.Credential { return &r.Credentials },
		func(v *findings.Credential) (string, int) { return conv(v.Conversation) }),
	listKind("http", func(r *findings.Report) *[]findings.HTTPRequest { return &r.HTTP },
		func(v *findings.HTTPRequest) (string, int) { return conv(v.Conversation) }),
	listKind("mqtt", func(r *findings.Report) *[]findings.MQTTConnect { return &r.MQTT },
		func(v *findings.MQTTConnect) (string, int) { return conv(v.Conversation) }),
	listKind("hl7", func(r *findings.Report) *[]findings.HL7Message { return &r.HL7 },
		func(v *findings.HL7Message) (string, int) { return conv(v.Conversation) }),
	listKind("dicom", func(r *findings.Report) *[]findings.DICOMAssociation { return &r.DICOM },
		func(v *findings.DICOMAssociation) (string, int) { return conv(v.Conversation) }),
	listKind("name", func(r *findings.Report) *[]findings.HostName { return &r.HostNames },
		func(v *findings.HostName) (string, int) { return findings.AddrText(v.Addr), 0 }),
	listKind("dhcp", func(r *findings.Report) *[]findings.DHCPLease { return &r.DHCPLeases },
		func(v *findings.DHCPLease) (string, int) { return findings.AddrText(v.Addr), 0 }),
	listKind("transfer", func(r *findings.Report) *[]findings.FileTransfer { return &r.Transfers },
		func(v *findings.FileTransfer) (string, int) { return conv(v.Conversation) }),
	listKind("probe", func(r *findings.Report) *[]findings.ProbeEndpoint { return &r.Probes },
		func(v *findings.ProbeEndpoint) (string, int) { return v.Host, v.Port }),
	listKind("probe_host", func(r *findings.Report) *[]findings.ProbeHost { return &r.ProbeHosts },
		func(v *findings.ProbeHost) (string, int) { return findings.AddrText(v.Addr), 0 }),
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
