package observe

import (
	"slices"
	"testing"
	"time"
)

func TestIndex(t *testing.T) {
	x := NewIndex[string, *int](2)
	made, dropped := 0, 0
	fresh := func() *int { made++; v := 0; return &v }
	for _, k := range []string{"a", "b", "a", "c", "b", "d"} {
		v, _, ok := x.Add(k, fresh)
		if ok {
			*v++
		} else {
			dropped++
		}
	}
	if x.Len() != 2 || made != 2 || dropped != 2 {
		t.Fatalf("len %d made %d dropped %d; want 2, 2, 2", x.Len(), made, dropped)
	}
	var got []int
	for _, v := range x.Items() {
		got = append(got, *v)
	}
	if !slices.Equal(got, []int{2, 2}) {
		t.Errorf("counts in order of arrival = %v", got)
	}
	if v, ok := x.Get("c"); ok || v != nil {
		t.Error("a dropped key is kept")
	}
	sorted := x.Sorted(func(a, b *int) int { return 0 })
	if len(sorted) != 2 || &sorted[0] == &x.Items()[0] {
		t.Error("Sorted must copy")
	}
}

func TestWidenAndSpan(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var s Span
	s.Add(time.Time{}, t0.Add(time.Hour), t0, time.Time{}, t0.Add(30*time.Minute))
	if !s.First.Equal(t0) || !s.Last.Equal(t0.Add(time.Hour)) {
		t.Errorf("span %v .. %v", s.First, s.Last)
	}
}

// TestSetCapsEveryKind fills each kind past its cap and checks the drop is counted.
func TestSetCapsEveryKind(t *testing.T) {
	s := NewSet()
	s.mqtt.Max, s.hl7.Max, s.dicom.Max, s.creds.Max = 1, 1, 1, 1
	for i := range 3 {
		f := flowFrom("10.20.1.21:" + []string{"1", "2", "3"}[i])
		s.AddMQTT(MQTTConnect{Flow: f, ClientID: string(rune('a' + i))})
		s.AddHL7(HL7Message{Flow: f, MessageType: string(rune('A' + i))})
		s.AddDICOM(DICOMAssociation{Flow: f, CallingAE: string(rune('a' + i))})
		s.AddCredential(Credential{Flow: f, Kind: "k", Hash: string(rune('a' + i))})
	}
	if len(s.MQTT) != 1 || len(s.HL7) != 1 || len(s.DICOM) != 1 || len(s.Credentials) != 1 {
		t.Fatalf("caps not applied: %d %d %d %d", len(s.MQTT), len(s.HL7), len(s.DICOM), len(s.Credentials))
	}
	want := map[string]uint64{"mqtt_not_kept": 2, "hl7_not_kept": 2, "dicom_not_kept": 2, "credentials_not_kept": 2}
	for _, c := range s.Counters {
		if w, ok := want[c.Name]; ok && c.Value != w {
			t.Errorf("%s = %d, want %d", c.Name, c.Value, w)
		}
		delete(want, c.Name)
	}
	if len(want) > 0 {
		t.Errorf("drops not counted: %v", want)
	}
}
