package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/pflag"

	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all" // registers every rule
)

func cmdRules(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("rules", pflag.ContinueOnError)
	example := fs.Bool("example-policy", false, "print the default policy as a commented YAML file to start from")
	format := fs.String("format", "table", "catalog format: table or json")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if *example {
		_, err := stdout.Write(rules.ExamplePolicy())
		return err
	}
	cat := rules.Catalog()
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cat)
	case "table":
		t := tablewriter.NewTable(stdout)
		t.Header("ID", "Default", "Title")
		for _, m := range cat {
			if err := t.Append(m.ID, m.Default.String(), m.Title); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d rules. 'medscan rules --format json' adds rationale, remediation and references.\n", len(cat))
		return nil
	default:
		return usageError{"rules: --format: want table or json, not " + strings.TrimSpace(*format)}
	}
}
