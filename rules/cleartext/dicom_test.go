package cleartext

import (
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestDICOM(t *testing.T) {
	assoc := func(server, result string) observe.DICOMAssociation {
		return observe.DICOMAssociation{Flow: flow("127.0.0.1:50000", server), FirstSeen: rulestest.T0,
			CallingAE: "testclient", CalledAE: "testserver", Result: result}
	}
	tests := []struct {
		name  string
		assoc []observe.DICOMAssociation
		want  []string
	}{
		{"request without an answer fires", []observe.DICOMAssociation{assoc("127.0.0.1:104", "")}, []string{"high 127.0.0.1:104"}},
		{"accepted and rejected on one server: one finding", []observe.DICOMAssociation{
			assoc("192.0.2.5:11112", "accepted"), assoc("192.0.2.5:11112", "rejected")}, []string{"high 192.0.2.5:11112"}},
		{"two servers", []observe.DICOMAssociation{assoc("192.0.2.5:11112", "accepted"), assoc("192.0.2.6:104", "accepted")},
			[]string{"high 192.0.2.5:11112", "high 192.0.2.6:104"}},
		{"patient attributes in the data sets: still high, counted, SOP classes named", []observe.DICOMAssociation{
			func() observe.DICOMAssociation {
				a := assoc("192.0.2.7:104", "released")
				a.AbstractSyntaxNames, a.PatientAttributes = []string{"CT Image Storage", "Verification"}, 3
				return a
			}()}, []string{"high 192.0.2.7:104"}},
		{"no DICOM seen: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, a := range tc.assoc {
				set.AddDICOM(a)
			}
			fs := rulestest.Run(t, dicom{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if f.Host == "192.0.2.7" && (f.Evidence["patient_attributes"] != 3 ||
					!slices.Equal(f.Evidence["sop_classes"].([]string), []string{"CT Image Storage", "Verification"}) ||
					!strings.Contains(f.Message, "3 patient attributes")) {
					t.Errorf("evidence %v, message %q", f.Evidence, f.Message)
				}
				if !strings.Contains(f.Message, "testclient") || !strings.Contains(f.Message, "testserver") {
					t.Errorf("message %q does not name the AEs", f.Message)
				}
			}
		})
	}
}
