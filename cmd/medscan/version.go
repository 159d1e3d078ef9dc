package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…"; when it is not, the
// module version from the build information is used (a `go install …@v1.2.3` build).
var version = "0.1.0-dev"

// buildInfo is what a binary knows of how it was built: what `medscan version` prints
// and a bug report needs.
type buildInfo struct {
	Version   string `json:"version"`
	Module    string `json:"module,omitempty"`
	Commit    string `json:"commit,omitempty"`
	Time      string `json:"commit_time,omitempty"`
	Modified  bool   `json:"modified,omitempty"` // built from a work tree with uncommitted changes
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// readBuildInfo reads the module version, the VCS commit and time, and the Go version
// the binary was built with (runtime/debug), falling back to what is known without them.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Module = info.Main.Path
	// A release tag is the version; a pseudo-version ("v0.0.0-20261206…-1d99d28+dirty")
	// only repeats the commit, shown apart.
	if v := info.Main.Version; version == "0.1.0-dev" && v != "" && v != "(devel)" && !pseudoVersion.MatchString(v) {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// pseudoVersion matches the versions Go makes up for untagged commits.
var pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}|\+dirty$`)

// versionLine is the one-line form: `medscan 0.1.0-dev (commit 1d99d28, 2026-12-06T…,
// go1.26.8 linux/amd64)`.
func versionLine() string {
	b := readBuildInfo()
	s := "medscan " + b.Version + " ("
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += "+modified"
		}
		s += "commit " + c + ", " + b.Time + ", "
	}
	return s + b.GoVersion + " " + b.Platform + ")"
}

func versionCommand(a *app) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "version",
		Short: "print the version, the commit it was built from and the Go version",
		Args:  argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			switch format {
			case "text", "table":
				fmt.Fprintln(a.stdout, versionLine())
				return nil
			case "json":
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(readBuildInfo())
			}
			return usageError{msg: fmt.Sprintf("version: --format: unknown format %q (want text or json)", format)}
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "text", "output `FORMAT`: text or json")
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}
