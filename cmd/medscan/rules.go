package main

import (
	"github.com/spf13/cobra"

	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all" // registers every rule
)

func rulesCommand(a *app) *cobra.Command {
	var (
		out     outputFlags
		example bool
	)
	c := &cobra.Command{
		Use:   "rules [--example-policy] [flags]",
		Short: "list the rule catalog, or print a policy file to start from",
		Args:  argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			if example {
				_, err := a.stdout.Write(rules.ExamplePolicy())
				return err
			}
			if err := out.check(c.Flags(), "rules"); err != nil {
				return err
			}
			return write(&out, report.Catalog, rules.Catalog())
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.Catalog)
	fs.BoolVar(&example, "example-policy", false, "print the default policy as a commented YAML file to start from")
	completeFlags(c, report.Catalog)
	return c
}
