package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/medscan/medscan/findings"
)

// TestReadPreviousSameChange holds the change a scan's report gets from the previous
// scan read during its save (ReadPrevious, then AttachChangeFrom) to the change
// AttachChange computes after it: the same, byte for byte, though the earlier findings
// that persist are read as their identities alone; and when another comparable scan is
// stored between the read and the save, the comparison is with that one.
func TestReadPreviousSameChange(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	info := testInfo()
	info.Complete = true
	if pre, err := s.ReadPrevious(ctx, info, testFindings()); err != nil || pre != nil {
		t.Fatalf("ReadPrevious of an empty store = %v, %v; want nil", pre, err)
	}
	first := mustSave(t, s, info, fullSet(), testFindings())

	// The later scan: tls-weak-cipher fixed, cleartext-hl7 persisting with other
	// evidence, one new finding.
	later := testFindings()[1:]
	later[1].Evidence = map[string]any{"patient_segments": 5}
	added := findings.Finding{Rule: "tls-legacy-version", Severity: findings.High, Host: "10.0.0.11", Port: 443,
		Message: "TLS 1.0", Time: t0, Source: "passive"}
	added.SetFingerprint()
	later = append(later, added)

	changeOf := func(between bool) (got, want *findings.Change, pre *findings.Report) {
		t.Helper()
		rep := findings.NewReport(info, fullSet(), later)
		pre, err := s.ReadPrevious(ctx, rep.Scan, rep.Findings)
		if err != nil || pre == nil {
			t.Fatalf("ReadPrevious = %v, %v", pre, err)
		}
		if between {
			mustSave(t, s, info, fullSet(), testFindings()[:2])
		}
		if _, err := s.SaveAsStored(ctx, rep); err != nil {
			t.Fatal(err)
		}
		if err := s.AttachChangeFrom(ctx, rep, catalog(), pre); err != nil {
			t.Fatal(err)
		}
		again := mustLoad(t, s, rep.Scan.ID)
		if err := s.AttachChange(ctx, again, catalog()); err != nil {
			t.Fatal(err)
		}
		return rep.Change, again.Change, pre
	}

	got, want, pre := changeOf(false)
	if want == nil || want.PreviousScan != first || want.Counts.Fixed != 1 || want.Counts.New != 1 {
		t.Fatalf("AttachChange = %+v; want against scan %d, one fixed and one new", want, first)
	}
	sameJSON(t, "change from the scan read during the save", got, want)
	for _, f := range pre.Findings {
		whole := f.Rule == "tls-weak-cipher" // the only one the later scan lacks
		if whole != (f.Rule != "") || whole && f.Message == "" {
			t.Errorf("ReadPrevious kept %+v; want the fixed finding whole and the others as identities", f)
		}
	}

	got, want, _ = changeOf(true)
	if want == nil || want.PreviousScan == first || want.PreviousScan != got.PreviousScan {
		t.Fatalf("with a scan stored in between: change against %v, AttachChange against %v; want the scan in between",
			got, want)
	}
	sameJSON(t, "change with a scan stored in between", got, want)
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}
