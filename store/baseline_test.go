package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/medscan/medscan/findings"
)

// TestBaselineOfAnOlderMedscan reads a JSON report an older medscan wrote, whose
// cleartext-update and credential-shared findings had other subjects: they come back
// identified as this medscan raises them, so that a CI gate does not call them new.
func TestBaselineOfAnOlderMedscan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.json")
	doc := `{"schema_version": 1, "scan": {"id": 4}, "findings": [
		{"rule": "cleartext-update", "severity": "high", "host": "10.0.0.40", "port": 80, "subject": "/fw/WRD4471902.bin",
		 "message": "firmware", "fingerprint": "old1"},
		{"rule": "credential-shared", "severity": "high", "host": "10.20.0.40", "port": 8080,
		 "subject": "api-key-header@10.20.0.40:8080,10.20.0.41:8080", "message": "shared", "fingerprint": "old2"},
		{"rule": "cleartext-hl7", "severity": "high", "host": "10.0.0.7", "port": 6661, "message": "hl7"}]}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := LoadBaseline(context.Background(), path, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cleartext-update": "/fw/{id}.bin", "credential-shared": "api-key-header", "cleartext-hl7": ""}
	for _, f := range r.Findings {
		if f.Subject != want[f.Rule] {
			t.Errorf("%s subject %q, want %q", f.Rule, f.Subject, want[f.Rule])
		}
		if f.Rule != "cleartext-hl7" && f.Identity() != findings.ComputeFingerprint(f.Rule, f.Host, f.Port, want[f.Rule]) {
			t.Errorf("%s fingerprint %s is not the one this medscan computes", f.Rule, f.Identity())
		}
	}
	if len(r.Findings) != 3 {
		t.Fatalf("findings %+v", r.Findings)
	}
}
