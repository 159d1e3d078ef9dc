package observe

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestPathTemplate(t *testing.T) {
	tests := []struct{ in, want string }{
		// The identifiers the privacy review planted, and their kind.
		{"/fhir/Patient/WRD4471902", "/fhir/Patient/{id}"},
		{"/api/patients/QUILLFEATHER%5EMARGERY/vitals", "/api/patients/{id}/vitals"},
		{"/ehr/api/v2/patient/name/HOLLOWAY/record", "/ehr/api/v2/patient/name/{id}/record"},
		{"/fhir/Patient/smith-john", "/fhir/Patient/{id}"},
		{"/api/patients/holloway/vitals", "/api/patients/{id}/vitals"},
		{"/api/patient/Holloway", "/api/patient/{id}"},
		{"/orders/ACC^12345", "/orders/{id}"},
		{"/users/nurse@example.org", "/users/{id}"},
		{"/export/SMITH_JOHN_20260101.dcm", "/export/{id}"},
		{"/mrn/key", "/mrn/{id}"}, // after an identifier word, even a word is an identifier
		// Words, versions, FHIR segments and extensions are kept.
		{"/fhir/metadata", "/fhir/metadata"},
		{"/baseR4/Observation/_search", "/baseR4/Observation/_search"},
		{"/fhir/Patient/123/_history/2", "/fhir/Patient/{id}/_history/{id}"},
		{"/fhir/Patient/123/$everything", "/fhir/Patient/{id}/$everything"},
		{"/api/v1/vitals", "/api/v1/vitals"},
		{"/api/v2.1/device-status", "/api/v2.1/device-status"},
		{"/api/deviceStatus", "/api/deviceStatus"},
		{"/.well-known/smart-configuration", "/.well-known/smart-configuration"},
		{"/status.xml", "/status.xml"},
		{"/firmware/pump-fw-4.2.1.bin", "/firmware/{id}.bin"}, // a dotted number may be a date of birth
		{"/api/patients/12.03.80", "/api/patients/{id}"},
		{"/api/_quillfeather", "/api/{id}"}, // '_' in front of a name does not make it a word
		{"/fhir/Patient/$holloway", "/fhir/Patient/{id}"},
		{"/fhir/Patient/123/$validate-code", "/fhir/Patient/{id}/$validate-code"},
		{"/api/Ward/7", "/api/{id}/{id}"}, // a surname that is also a word is not in the vocabulary
		{"/pages/Page", "/pages/{id}"},
		{"/api/STATUS", "/api/{id}"}, // capitals are an acronym's or a name's
		{"/Portal/Login", "/Portal/Login"},
		{"/Account/Login", "/Account/{id}"}, // after a resource type, even a word is an identifier
		{"/Health/Status", "/Health/Status"},
		{"/export/WRD4471902.zip", "/export/{id}.zip"},
		{"/firmware/Device/pump.bin", "/firmware/Device/{id}.bin"}, // forced to {id}, the extension still told
		{"/records/12345678", "/records/{id}"},
		{"/dicom/1.2.840.10008.5.1.4.1.1.2", "/dicom/{id}"}, // a UID is no version
		{"/fw/infusion.img", "/fw/infusion.img"},
		{"/Service.asmx", "/Service.asmx"},
		{"/Holloway.asmx", "/{id}.asmx"},
		{"/api/" + "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq", "/api/{id}"},
		{"/", "/"},
		{"", "/"},
		{"/api//vitals/", "/api//vitals/"},
	}
	for _, tc := range tests {
		if got := PathTemplate(tc.in); got != tc.want {
			t.Errorf("PathTemplate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPathTemplateBoundsSegments(t *testing.T) {
	long := ""
	for range 40 {
		long += "/api"
	}
	if got := PathTemplate(long); len(got) > 5*maxTemplateSegments+8 {
		t.Errorf("template of 40 segments is %d bytes: %q", len(got), got)
	}
}

func FuzzPathTemplate(f *testing.F) {
	for _, s := range []string{"/fhir/Patient/1", "/a/b/c", "%%%", "/\x00/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := PathTemplate(s)
		if PathTemplate(out) != out && out != "/" {
			// A template's own segments are words or {id}: templating it again changes nothing.
			t.Fatalf("PathTemplate(%q) = %q, not stable: %q", s, out, PathTemplate(out))
		}
	})
}

func TestQueryKeyTemplate(t *testing.T) {
	got := QueryKeysTemplate([]string{"HOLLOWAY", "page", "_count", "subject:Patient", "patient.identifier",
		"Password", "WRD4471902", "family", "x", "auth"})
	want := []string{"{id}", "page", "_count", "subject:Patient", "patient.identifier", "Password", "family", "auth"}
	if !slices.Equal(got, want) {
		t.Errorf("QueryKeysTemplate = %q, want %q", got, want)
	}
}

func FuzzQueryKeyTemplate(f *testing.F) {
	for _, s := range []string{"page", "HOLLOWAY", "a:b:c", "_count", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := QueryKeyTemplate(s)
		if out != s && out != PathTemplateID {
			t.Fatalf("QueryKeyTemplate(%q) = %q", s, out)
		}
		// A kept name is made of words: nothing an escaped or free-text identifier holds.
		if out == s && strings.IndexFunc(s, func(r rune) bool {
			return !(r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-._~$:", r)))
		}) >= 0 {
			t.Fatalf("QueryKeyTemplate(%q) kept a name that is not made of words", s)
		}
	})
}

// TestNoNameIsAWord runs common surnames and given names of many countries through the
// word test, in every capitalisation: a name in a path is never kept.
func TestNoNameIsAWord(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "names.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, name := range strings.Fields(line) {
			n++
			for _, v := range []string{name, strings.ToLower(name), strings.ToUpper(name)} {
				if knownSegment(v) {
					t.Errorf("%q is a word a template keeps", v)
				}
				if got := PathTemplate("/api/patients/" + v + "/chart"); got != "/api/patients/{id}/chart" {
					t.Errorf("template of a path naming %q = %q", v, got)
				}
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d names read", n)
	}
}
