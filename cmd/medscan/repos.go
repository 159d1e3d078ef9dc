package main

import (
	"os"
	"path/filepath"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/report"
)

// maxRepoFiles bounds the files whose repository is looked for: SARIF names one capture
// per result, and a scan of a quarter of a million one-frame captures must not cost a
// walk up the tree for each.
const maxRepoFiles = 64

// maxRepoDepth bounds each walk up the tree.
const maxRepoDepth = 64

// sarifRepos finds, for the files a scan's SARIF names (its capture sources, its policy
// file, the files its findings were read from), each one's path from the root of the git
// repository it lies in (report.Options.Repos): the root is the nearest directory above
// it holding .git, a directory or (in a worktree or submodule) a file. The report writers may not look at the file
// system; this is the CLI doing it for them.
func sarifRepos(r *findings.Report) map[string]string {
	var paths []string
	paths = append(paths, r.Scan.Sources...)
	if p := report.PolicyFile(r.Scan.Policy); p != "" {
		paths = append(paths, p)
	}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if f.File == "" {
			continue
		}
		if p, _, _ := findings.ParseFileRef(f.File); p != "" && !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	out := map[string]string{}
	for i, p := range paths {
		if i == maxRepoFiles {
			break
		}
		if rel := repoPath(p); rel != "" {
			out[p] = rel
		}
	}
	return out
}

// repoPath is path from the root of the git repository it lies in, with forward
// slashes, or "" when path is not a regular file or lies in none. A relative path is
// taken from the working directory, as the scan took it.
func repoPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	if fi, err := os.Stat(abs); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	dir := filepath.Dir(abs)
	for range maxRepoDepth {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			rel, err := filepath.Rel(dir, abs)
			if err != nil || !filepath.IsLocal(rel) {
				return ""
			}
			return filepath.ToSlash(rel)
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
	return ""
}
