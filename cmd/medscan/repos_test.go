package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/medscan/medscan/findings"
)

// TestSARIFRepos finds each file's path from the root of its repository: a capture in a
// repository (a .git directory), a policy in a worktree (a .git file), a certificate
// file a finding names, and nothing for a file outside any repository or a source that
// is not a file.
func TestSARIFRepos(t *testing.T) {
	dir := t.TempDir()
	repo, tree, outside := filepath.Join(dir, "repo"), filepath.Join(dir, "tree"), filepath.Join(dir, "loose")
	for _, d := range []string{filepath.Join(repo, ".git"), filepath.Join(repo, "caps", "ward"), tree, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(repo, "caps", "ward", "a.pcapng"): "x", filepath.Join(repo, "certs.pem"): "x",
		filepath.Join(tree, ".git"): "gitdir: /elsewhere\n", filepath.Join(tree, "policy.yaml"): "version: 1\n",
		filepath.Join(outside, "b.pcap"): "x",
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := &findings.Report{Scan: findings.ScanInfo{
		Sources: []string{filepath.Join(repo, "caps", "ward", "a.pcapng"), filepath.Join(outside, "b.pcap"), "eth1", "10.20.0.0/24"},
		Policy:  "file " + filepath.Join(tree, "policy.yaml") + " sha256:0011223344556677"},
		Findings: []findings.Finding{{File: filepath.Join(repo, "certs.pem") + "#2"}}}
	got := sarifRepos(r)
	want := map[string]string{
		filepath.Join(repo, "caps", "ward", "a.pcapng"): "caps/ward/a.pcapng",
		filepath.Join(tree, "policy.yaml"):              "policy.yaml",
		filepath.Join(repo, "certs.pem"):                "certs.pem",
	}
	if len(got) != len(want) {
		t.Errorf("got %v; want %v", got, want)
	}
	for p, rel := range want {
		if got[p] != rel {
			t.Errorf("%s: %q; want %q", p, got[p], rel)
		}
	}
}
