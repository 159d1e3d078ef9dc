package main

// This file builds the command tree (spf13/cobra): one definition of every command and
// flag, from which the help, the shell completions, the man pages and docs/cli.md are
// all generated, so that none of them can drift from what medscan accepts.

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/medscan/medscan/internal/suggest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// app is what every command runs with: the context that signals cancel, the standard
// streams, and the flags every command has.
type app struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	quiet          bool     // -q: nothing on stderr but errors
	verbose        bool     // -v: internal counters and detail in text reports
	noColor        bool     // --no-color
	configPath     string   // --config
	args           []string // the command line after "medscan", for the audit trail
}

// warn is where a command's warnings go: stderr, or nowhere under -q.
func (a *app) warn() io.Writer {
	if a.quiet {
		return io.Discard
	}
	return a.stderr
}

const rootLong = `medscan: network and certificate posture for clinical networks.

It finds cleartext clinical traffic (HL7, DICOM, MQTT, FHIR, HTTP), weak TLS, devices
that never authenticate, shared and weak keys, and long-lived certificates: passively
from captures and live traffic, actively by gentle TLS probing, and from certificate
files. Everything it learns is kept in a store (SQLite by default) and can be rendered
again, compared between scans and gated in CI.

Every flag can also be set in a configuration file (medscan.yaml in the working
directory, $XDG_CONFIG_HOME/medscan/config.yaml, or --config FILE) and in the
environment as MEDSCAN_<FLAG> (--fail-on: MEDSCAN_FAIL_ON). A flag on the command line
wins over the environment, which wins over the file. See docs/cli.md.

Exit codes: 0 clean, 1 error or incomplete scan, 2 usage, 3 findings at or above
--fail-on (with --fail-on-new, only new ones). SIGINT or SIGTERM stops a scan within a
second: what was read is stored and reported, marked incomplete (exit 1); a second
signal exits at once (130, 143).`

// newRoot builds the whole command tree for one run.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "medscan",
		Short:         "network and certificate posture for clinical networks",
		Long:          rootLong,
		Version:       versionLine(),
		SilenceErrors: true, // exitCode prints every error once, in one shape
		SilenceUsage:  true, // a usage error points at --help instead of printing it
		// With no command, the overview goes to stderr and the exit code is 2, as for
		// any other usage error.
		RunE: func(c *cobra.Command, args []string) error {
			c.SetOut(a.stderr)
			_ = c.Help()
			return codeError{exitUsage}
		},
		PersistentPreRunE: func(c *cobra.Command, args []string) error {
			return a.applyDefaults(c)
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	groupedUsage(root)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	pf := root.PersistentFlags()
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "print nothing on stderr but errors")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "show internal counters and detail in text reports")
	pf.BoolVar(&a.noColor, "no-color", false, "never colour the output (also: NO_COLOR set, or TERM=dumb)")
	pf.StringVar(&a.configPath, "config", "", "read flag defaults from `FILE` (default ./medscan.yaml, else $XDG_CONFIG_HOME/medscan/config.yaml)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{msg: c.Name() + ": " + err.Error() + suggestFlag(c, err.Error())}
	})
	root.SuggestionsMinimumDistance = 2
	root.AddCommand(
		scanCommand(a), reportCommand(a), lintCommand(a), verifyCommand(a), scansCommand(a), inventoryCommand(a), flowsCommand(a),
		diffCommand(a), syncCommand(a), rulesCommand(a), certsCommand(a), auditCommand(a), versionCommand(a), manCommand(a),
	)
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(root.FlagErrorFunc())
	}
	return root
}

// argsNone refuses positional arguments with a message naming the first one.
func argsNone(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{msg: fmt.Sprintf("%s: unexpected argument %q", c.Name(), args[0])}
	}
	return nil
}

// suggestFlag adds "did you mean --x?" to pflag's "unknown flag: --y" when a flag of
// the command is close to it.
func suggestFlag(c *cobra.Command, msg string) string {
	const prefix = "unknown flag: --"
	if !strings.HasPrefix(msg, prefix) {
		return ""
	}
	typed := strings.TrimPrefix(msg, prefix)
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if best := suggest.Closest(typed, names); best != "" {
		return fmt.Sprintf(" (did you mean --%s?)", best)
	}
	return ""
}
