package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCommand writes a man page for medscan and each command, generated from the same
// definitions as the help, so they cannot disagree.
func manCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "man DIR",
		Short:   "write the man pages (medscan.1, medscan-scan.1, …) into DIR",
		Example: `  medscan man /usr/local/share/man/man1 && man medscan-scan`,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{msg: "man: give the directory to write the man pages into"}
			}
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			root := c.Root()
			root.DisableAutoGenTag = true // the pages stay the same from build to build
			header := &doc.GenManHeader{Title: "MEDSCAN", Section: "1", Source: "medscan " + readBuildInfo().Version,
				Manual: "medscan manual"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			if !a.quiet {
				fmt.Fprintf(a.stderr, "medscan: man pages written to %s\n", dir)
			}
			return nil
		},
	}
}
