package main

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all" // registers every rule
)

func cmdRules(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("rules", pflag.ContinueOnError)
	var out outputFlags
	out.register(fs, report.Catalog)
	example := fs.Bool("example-policy", false, "print the default policy as a commented YAML file to start from")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if *example {
		_, err := stdout.Write(rules.ExamplePolicy())
		return err
	}
	if err := out.check("rules"); err != nil {
		return err
	}
	return write(&out, report.Catalog, rules.Catalog(), stdout)
}
