package cleartext

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func flow(client, server string) observe.Flow {
	return observe.Flow{Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server)}
}

func TestHL7(t *testing.T) {
	msg := func(client string, typ, event string, patient int) observe.HL7Message {
		return observe.HL7Message{Flow: flow(client, "10.0.0.126:6661"), FirstSeen: rulestest.T0, MessageType: typ,
			TriggerEvent: event, SendingApp: "LAB", ReceivingApp: "EHR", Version: "2.5", PatientSegments: patient}
	}
	tests := []struct {
		name string
		msgs []observe.HL7Message
		want []string
	}{
		{"results with patient segments: critical", []observe.HL7Message{msg("10.0.0.5:40000", "ORU", "R01", 3)},
			[]string{"critical 10.0.0.126:6661"}},
		{"acks only: high", []observe.HL7Message{msg("10.0.0.5:40000", "ACK", "A01", 0)}, []string{"high 10.0.0.126:6661"}},
		{"two senders to one server: one finding", []observe.HL7Message{
			msg("10.0.0.5:40000", "ADT", "A01", 2), msg("10.0.0.6:40000", "ACK", "", 0)},
			[]string{"critical 10.0.0.126:6661"}},
		{"devices listed", []observe.HL7Message{
			func() observe.HL7Message {
				m := msg("10.0.0.5:40000", "ORU", "R01", 0)
				m.Devices = []string{"PUMP7^BBRAUN", "MON01"}
				return m
			}(),
			func() observe.HL7Message {
				m := msg("10.0.0.6:40000", "ORU", "R01", 0)
				m.Devices = []string{"MON01"}
				return m
			}()},
			[]string{"high 10.0.0.126:6661"}},
		{"no HL7 seen: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, m := range tc.msgs {
				set.AddHL7(m)
			}
			fs := rulestest.Run(t, hl7{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if len(fs) > 0 {
				// The HL7 device identities (PRT-16, OBX-18), never null: a ward's pumps
				// need not name themselves in their messages.
				want := []string{}
				if strings.HasPrefix(tc.name, "devices") {
					want = []string{"MON01", "PUMP7^BBRAUN"}
				}
				if d, ok := fs[0].Evidence["hl7_device_ids"].([]string); !ok || d == nil || !slices.Equal(d, want) {
					t.Errorf("hl7_device_ids %#v, want %v", fs[0].Evidence["hl7_device_ids"], want)
				}
			}
			if len(tc.msgs) == 2 && !strings.HasPrefix(tc.name, "devices") {
				if c := fs[0].Evidence["clients"].([]string); len(c) != 2 {
					t.Errorf("clients %v", c)
				}
			}
		})
	}
}
