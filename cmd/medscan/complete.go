package main

import (
	"github.com/spf13/cobra"

	"github.com/medscan/medscan/findings"
)

// fixed completes a flag's value from a fixed list, never with file names.
func fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// completeFlags teaches the shell completion the values of the flags a command
// shares with others: --format (the command's own formats), --severity, --fail-on.
func completeFlags(c *cobra.Command, formats formatSet) {
	sevs := make([]string, 0, len(findings.Severities))
	for i := len(findings.Severities) - 1; i >= 0; i-- {
		sevs = append(sevs, findings.Severities[i].String())
	}
	fs := c.Flags()
	if fs.Lookup("format") != nil {
		_ = c.RegisterFlagCompletionFunc("format", fixed(formats.Formats()...))
	}
	for _, name := range []string{"severity", "fail-on"} {
		if fs.Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, fixed(sevs...))
		}
	}
	if fs.Lookup("kind") != nil && fs.Lookup("kind").DefValue == findings.KindNetwork {
		_ = c.RegisterFlagCompletionFunc("kind", fixed(findings.KindNetwork, findings.KindLint, findings.KindVerify))
	}
}
