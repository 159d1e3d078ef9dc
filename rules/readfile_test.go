package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBoundedReads checks that a policy naming an endless file as its trust anchors,
// or an endless policy or suppression file, is refused instead of read forever.
func TestBoundedReads(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	policy := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(policy, []byte("version: 1\ntrust_anchors: /dev/zero\n"), 0o644)
	if _, err := LoadPolicy(policy); err == nil || !strings.Contains(err.Error(), "longer than 64 MiB") {
		t.Errorf("trust anchors /dev/zero: %v", err)
	}
	if _, err := LoadPolicy("/dev/zero"); err == nil || !strings.Contains(err.Error(), "/dev/zero: longer than 4 MiB") {
		t.Errorf("policy /dev/zero: %v", err)
	}
	if _, err := LoadSuppressions("/dev/zero"); err == nil || !strings.Contains(err.Error(), "longer than 4 MiB") {
		t.Errorf("suppressions /dev/zero: %v", err)
	}
}
